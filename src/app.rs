//! Builds the application from settings: pool, mailer, templates, each feature's routes, and
//! the in-process mail worker.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;

use crate::config::Settings;
use crate::db::Db;
use crate::keys::Keys;
use crate::mail::transport::Transport;
use crate::mail::worker::Worker;
use crate::mail::{Mailer, Templates};
use crate::web::client_ip::TrustedProxies;
use crate::web::json::BodyLimit;
use crate::web::metrics::Metrics;
use crate::web::rate_limit::{limit_public_posts, PublicLimiter};
use crate::web::{headers, RateLimiter};

/// What every handler can reach (as `web::Data<AppState>`).
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub mailer: Mailer,
    pub templates: Templates,
    pub keys: Keys,
}

/// How `serve` runs.
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    /// Apply pending migrations before serving.
    pub migrate: bool,
    /// Let actix stop gracefully on SIGTERM/SIGINT (off in tests: many servers, one process).
    pub handle_signals: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            migrate: true,
            handle_signals: true,
        }
    }
}

/// A built, listening application.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    worker: Option<(watch::Sender<bool>, JoinHandle<()>)>,
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
        let templates = Templates::embedded();
        let mailer = Mailer::new(&settings, templates.clone());
        let metrics = Metrics::new();
        let state = AppState {
            settings: settings.clone(),
            db: db.clone(),
            mailer: mailer.clone(),
            templates,
            keys,
        };

        let worker = if settings.mail.worker_in_serve {
            let transport = Arc::new(Transport::from_settings(&settings.mail)?);
            let worker = Worker::new(
                db.clone(),
                transport,
                settings.mail.clone(),
                metrics.clone(),
                mailer.waker(),
            )?;
            let (tx, rx) = watch::channel(false);
            let dispatcher = crate::newsletter::Dispatcher::from_state(&state).run(rx.clone());
            let (mail, newsletter) = (tokio::spawn(worker.run(rx)), tokio::spawn(dispatcher));
            Some((
                tx,
                tokio::spawn(async move {
                    let _ = tokio::join!(mail, newsletter);
                }),
            ))
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
            worker,
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
        if let Some((stop, handle)) = self.worker {
            let _ = stop.send(true);
            let _ = handle.await;
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
    let public_limiter = PublicLimiter(RateLimiter::per_minute(
        settings.limits.enabled,
        settings.limits.public_per_minute,
    ));
    spawn_limiter_cleanup(public_limiter.0.clone());
    let data = web::Data::new(state);
    let metrics = web::Data::new(metrics);
    let body_limit = web::Data::new(BodyLimit(settings.server.max_body_bytes));
    let proxies = web::Data::new(TrustedProxies(settings.server.trusted_proxies.clone()));
    let public_limiter = web::Data::new(public_limiter);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(metrics.clone())
            .app_data(body_limit.clone())
            .app_data(proxies.clone())
            .app_data(public_limiter.clone())
            .app_data(web::FormConfig::default().limit(settings.server.max_body_bytes))
            .app_data(web::PayloadConfig::default().limit(settings.server.max_body_bytes))
            .configure(crate::ops::routes)
            .configure(crate::newsletter::pages)
            .configure(crate::web::assets::routes)
            .service(
                web::scope("/api/v1")
                    .configure(crate::newsletter::routes)
                    .wrap(from_fn(limit_public_posts))
                    .wrap(headers::public_cors(&settings)),
            )
            .default_service(web::to(crate::error::not_found))
            .wrap(from_fn(crate::web::metrics::record))
            .wrap(headers::security_headers(&settings))
            .wrap(Compress::default())
            .wrap(TracingLogger::default())
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

/// Forgets rate-limit keys that are back to a full budget, once a minute.
fn spawn_limiter_cleanup(limiter: RateLimiter) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.shrink();
        }
    });
}

/// The whole OpenAPI document: every feature's paths merged.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = crate::ops::ApiDoc::openapi();
    doc.merge(crate::newsletter::ApiDoc::openapi());
    doc
}
