//! Builds the application from settings: pool, mailer, templates, each feature's routes, and
//! the in-process mail worker.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::keys::Keys;
use crate::mail::{Mailer, Templates};
use crate::metrics::Metrics;
use crate::staff::password::PasswordPool;
use crate::staff::{StaffNav, StaffRoutes};
pub use crate::state::AppState;
use crate::web::api_routes::ApiRoutes;
use crate::web::client_ip::TrustedProxies;
use crate::web::json::BodyLimit;
use crate::web::rate_limit::PublicLimiter;
use crate::web::{headers, LimitStore, RateLimiter};

/// How `serve` runs.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Apply pending migrations before serving.
    pub migrate: bool,
    /// Let actix stop gracefully on SIGTERM/SIGINT (off in tests: many servers, one process).
    pub handle_signals: bool,
    /// The clock second-factor checks read (tests pass one they can move forward).
    pub clock: Clock,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            migrate: true,
            handle_signals: true,
            clock: Clock::system(),
        }
    }
}

/// A built, listening application.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    background: Option<crate::background::Background>,
}

impl Application {
    pub async fn build(settings: Settings, options: BuildOptions) -> anyhow::Result<Application> {
        let settings = Arc::new(settings);
        let db = Db::connect(&settings.database)?;
        if options.migrate {
            let migrate_db = db.clone();
            let applied = tokio::task::spawn_blocking(move || migrate_db.migrate()).await??;
            if applied > 0 {
                tracing::info!(applied, "database migrations applied");
            }
        }
        let configured_key = settings
            .security
            .secret_key
            .as_ref()
            .map(|s| s.expose().to_string());
        let keys = db
            .run(move |conn| Ok(Keys::load(configured_key.as_deref(), conn)?))
            .await
            .map_err(|e| anyhow::anyhow!("cannot load the service key: {e:#}"))?;
        let tips = settings
            .security
            .load_tips_key()
            .map_err(|e| anyhow::anyhow!(e))?;
        let templates = Templates::for_settings(&settings, options.clock.clone());
        templates
            .catalogues()
            .check()
            .map_err(|e| anyhow::anyhow!("a message catalogue does not parse: {e}"))?;
        let mailer = Mailer::new(&settings, templates.clone());
        let metrics = Metrics::new();
        let limits = LimitStore::for_db(&db, &keys);
        let state = AppState {
            settings: settings.clone(),
            db: db.clone(),
            mailer: mailer.clone(),
            templates,
            keys,
            tips,
            passwords: PasswordPool::new(settings.staff.max_concurrent_hashes),
            login_limiter: limits
                .per_minute(settings.limits.enabled, settings.limits.login_per_minute),
            limits,
            clock: options.clock.clone(),
            languages: crate::i18n::Languages::from_settings(&settings),
        };

        let background = if settings.mail.worker_in_serve {
            Some(crate::background::start(
                settings.clone(),
                db.clone(),
                mailer.clone(),
                state.keys.clone(),
                metrics.clone(),
            )?)
        } else {
            None
        };

        let listener = TcpListener::bind(settings.server.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let server = server(listener, state.clone(), metrics, options)?;
        Ok(Application {
            port,
            server,
            state,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A handle that stops the HTTP server gracefully.
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server stops (signal or handle), then stops the worker after its
    /// message in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(background) = self.background {
            background.stop().await;
        }
        result
    }
}

fn server(
    listener: TcpListener,
    state: AppState,
    metrics: Metrics,
    options: BuildOptions,
) -> anyhow::Result<Server> {
    let settings = state.settings.clone();
    let (shutdown_timeout, workers) = (
        settings.server.shutdown_timeout_seconds,
        settings.server.workers,
    );
    let public_limiter = PublicLimiter(
        state
            .limits
            .per_minute(settings.limits.enabled, settings.limits.public_per_minute),
    );
    let donations = crate::donations::Donations::new(&settings, &state.limits)?;
    let mut limiters = vec![public_limiter.0.clone(), state.login_limiter.clone()];
    limiters.extend(donations.limiters());
    spawn_limiter_cleanup(state.limits.clone(), limiters);
    let donations = web::Data::new(donations);
    let feedback = web::Data::new(crate::feedback::Feedback::start(
        &settings,
        state.db.clone(),
    )?);
    spawn_session_cleanup(state.clone());
    let duplicates = staff_routes().duplicates();
    anyhow::ensure!(
        duplicates.is_empty(),
        "staff routes declared twice: {duplicates:?}"
    );
    let duplicates = api_routes().duplicates();
    anyhow::ensure!(
        duplicates.is_empty(),
        "API routes declared twice: {duplicates:?}"
    );
    let nav = web::Data::new(StaffNav(staff_nav()));
    let newsletter_limiter = web::Data::new(crate::newsletter::AddressLimiter::default());
    let data = web::Data::new(state);
    let metrics = web::Data::new(metrics);
    let api_document = web::Data::new(crate::ops::ApiDocument(openapi()));
    let body_limit = web::Data::new(BodyLimit(settings.server.max_body_bytes));
    let proxies = web::Data::new(TrustedProxies(settings.server.trusted_proxies.clone()));
    let public_limiter = web::Data::new(public_limiter);
    let languages = web::Data::new(data.languages.clone());
    let widget_messages = web::Data::new(crate::embed::WidgetMessages::build(
        &data.languages,
        &settings.site.wording,
    )?);
    let mut server = HttpServer::new(move || {
        let (machine_routes, reader_scope) = api_routes().into_services(&settings);
        App::new()
            .app_data(data.clone())
            .app_data(metrics.clone())
            .app_data(api_document.clone())
            .app_data(body_limit.clone())
            .app_data(proxies.clone())
            .app_data(public_limiter.clone())
            .app_data(nav.clone())
            .app_data(donations.clone())
            .app_data(feedback.clone())
            .app_data(newsletter_limiter.clone())
            .app_data(languages.clone())
            .app_data(widget_messages.clone())
            .app_data(
                web::FormConfig::default()
                    .limit(settings.server.max_body_bytes)
                    .error_handler(|e, _| {
                        crate::error::AppError::BadRequest(format!(
                            "The form could not be read: {e}"
                        ))
                        .into()
                    }),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                crate::error::AppError::BadRequest(format!("The query string is not valid: {e}"))
                    .into()
            }))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|_, _| crate::error::AppError::NotFound.into()),
            )
            .app_data(web::PayloadConfig::default().limit(settings.server.max_body_bytes))
            .configure(crate::ops::routes)
            .configure(crate::donations::pages)
            .configure(crate::jobs::pages)
            .configure(crate::newsletter::pages)
            .configure(crate::people::pages)
            .configure(crate::web::assets::routes)
            .configure(crate::staff::public_pages)
            .configure(crate::embed::routes)
            .service(machine_routes)
            .service(staff_routes().into_services())
            .service(reader_scope)
            .default_service(web::to(crate::error::not_found))
            .wrap(from_fn(crate::web::metrics::record))
            .wrap(headers::security_headers(&settings))
            .wrap(Compress::default())
            .wrap(from_fn(crate::web::request_id::echo))
            .wrap(TracingLogger::<crate::web::request_id::RequestSpan>::new())
    })
    .listen(listener)?
    .shutdown_timeout(shutdown_timeout);
    if workers > 0 {
        server = server.workers(workers);
    }
    if !options.handle_signals {
        server = server.disable_signals();
    }
    Ok(server.run())
}

/// Forgets rate-limit keys that are back to a full budget, once a minute: in memory, and in
/// the database when the limits are kept there.
fn spawn_limiter_cleanup(store: LimitStore, limiters: Vec<RateLimiter>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiters.iter().for_each(RateLimiter::shrink);
            if let Err(e) = store.sweep().await {
                tracing::warn!(error = %e, "expired rate-limit keys could not be deleted");
            }
        }
    });
}

/// Deletes expired staff sessions and old password reset links every ten minutes.
fn spawn_session_cleanup(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        let idle = chrono::TimeDelta::minutes(i64::from(state.settings.staff.session_idle_minutes));
        loop {
            tick.tick().await;
            let result = state
                .db
                .write(move |conn| {
                    let now = crate::db::now();
                    crate::staff::recovery::delete_expired(conn, now)?;
                    Ok(crate::staff::store::delete_expired_sessions(
                        conn, now, idle,
                    )?)
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "expired staff sessions could not be deleted");
            }
        }
    });
}

/// Every staff route with the roles that may use it: the frame's and each feature's.
pub fn staff_routes() -> StaffRoutes {
    let mut routes = StaffRoutes::default();
    crate::staff::routes(&mut routes);
    crate::dashboard::staff_routes(&mut routes);
    crate::search::staff_routes(&mut routes);
    crate::donations::staff_routes(&mut routes);
    crate::feedback::staff::staff_routes(&mut routes);
    crate::comments::staff::staff_routes(&mut routes);
    crate::jobs::staff::staff_routes(&mut routes);
    crate::newsletter::staff::staff_routes(&mut routes);
    crate::people::staff_routes(&mut routes);
    routes
}

/// Every public `/api/v1` route: each feature's, and the document's own.
pub fn api_routes() -> ApiRoutes {
    let mut routes = ApiRoutes::default();
    crate::ops::api_routes(&mut routes);
    crate::feedback::routes(&mut routes);
    crate::comments::routes(&mut routes);
    crate::newsletter::routes(&mut routes);
    crate::donations::routes(&mut routes);
    crate::jobs::routes(&mut routes);
    routes
}

/// The public API's route table, as tests and the OpenAPI document read it.
pub fn api_rules() -> Vec<crate::web::api_routes::ApiRoute> {
    api_routes().routes()
}

/// The staff route table, as tests and documentation read it.
pub fn access_rules() -> Vec<crate::staff::Rule> {
    staff_routes().rules()
}

/// The staff navigation: the dashboard, each feature's sections, then the admin sections.
fn staff_nav() -> Vec<crate::staff::NavItem> {
    let mut nav = crate::staff::nav();
    nav.extend(crate::donations::staff_nav());
    nav.extend(crate::feedback::staff::staff_nav());
    nav.extend(crate::comments::staff::staff_nav());
    nav.extend(crate::jobs::staff::staff_nav());
    nav.extend(crate::newsletter::staff::staff_nav());
    nav.extend(crate::people::staff_nav());
    nav.extend(crate::staff::admin_nav());
    nav
}

/// The whole OpenAPI document: every feature's paths merged, then completed with the
/// problem responses each route's guards can answer (`web::openapi`) and the staff API's
/// security scheme.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use crate::web::openapi::{Guards, Registered};
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

    let mut doc = crate::ops::ApiDoc::openapi();
    doc.merge(crate::staff::ApiDoc::openapi());
    doc.merge(crate::feedback::ApiDoc::openapi());
    doc.merge(crate::comments::ApiDoc::openapi());
    doc.merge(crate::donations::ApiDoc::openapi());
    doc.merge(crate::jobs::ApiDoc::openapi());
    doc.merge(crate::newsletter::ApiDoc::openapi());
    doc.merge(crate::newsletter::StaffApiDoc::openapi());
    doc.merge(crate::people::ApiDoc::openapi());
    doc.merge(crate::dashboard::ApiDoc::openapi());
    doc.merge(crate::search::ApiDoc::openapi());

    let staff = access_rules()
        .into_iter()
        .filter(|rule| rule.area == crate::staff::Area::Api)
        .map(|rule| Registered {
            method: rule.method.as_str().to_lowercase(),
            guards: Guards {
                authenticated: true,
                role_checked: rule.roles.len() < crate::staff::ANY_ROLE.len(),
                rate_limited: false,
                database: true,
            },
            path: rule.path,
        });
    let public = api_rules().into_iter().map(|route| Registered {
        method: route.method.as_str().to_lowercase(),
        guards: Guards {
            authenticated: false,
            role_checked: false,
            rate_limited: route.rate_limited(),
            database: route.database,
        },
        path: route.path,
    });
    let registered: Vec<Registered> = staff.chain(public).collect();
    crate::web::openapi::complete(&mut doc, &registered);
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A personal API token (`fd_…`), made with `frontdesk staff token` or on the staff account page.",
                    ))
                    .build(),
            ),
        );
    doc
}
