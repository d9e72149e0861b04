//! The staff area's frame: accounts and roles, sign-in and sessions, API tokens, the access
//! middleware (authentication, per-route roles, CSRF), the audit log, and the staff pages of
//! the frame itself (dashboard, account, staff accounts, audit log, outbox).
//!
//! Features declare their staff pages and JSON endpoints, each with its roles, on the
//! [`StaffRoutes`] table; `staff` itself never imports a feature.

pub mod access;
pub mod audit;
pub mod devices;
pub mod handlers;
pub mod model;
pub mod password;
pub mod permissions;
pub mod recovery;
pub mod routes;
pub mod search;
pub mod service;
pub mod store;
pub mod two_factor;
pub mod ui;
pub mod user_agent;

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use serde::Serialize;

pub use access::{Staff, ADMIN, ANY_ROLE};
pub use model::Role;
pub use routes::{Area, Rule, StaffRoutes};

/// A section of the staff navigation.
#[derive(Debug, Clone, Serialize)]
pub struct NavItem {
    pub key: &'static str,
    pub label: &'static str,
    pub href: &'static str,
    pub hint: &'static str,
    #[serde(skip)]
    pub roles: &'static [Role],
}

/// Every section of the staff area (app data), filtered per role when shown.
#[derive(Debug, Clone, Default)]
pub struct StaffNav(pub Vec<NavItem>);

impl StaffNav {
    pub fn visible_to(&self, role: Role) -> Vec<NavItem> {
        self.0
            .iter()
            .filter(|i| role.permits(i.roles))
            .cloned()
            .collect()
    }
}

/// The frame's own sections.
pub fn nav() -> Vec<NavItem> {
    vec![NavItem {
        key: "dashboard",
        label: "Dashboard",
        href: "/staff/",
        hint: "Overview",
        roles: ANY_ROLE,
    }]
}

/// Sections only administrators see, listed after the features' sections.
pub fn admin_nav() -> Vec<NavItem> {
    vec![
        NavItem {
            key: "outbox",
            label: "Outbox",
            href: "/staff/outbox",
            hint: "Outgoing email, failures and retries",
            roles: ADMIN,
        },
        NavItem {
            key: "audit",
            label: "Audit log",
            href: "/staff/audit",
            hint: "Who did what, when",
            roles: ADMIN,
        },
        NavItem {
            key: "accounts",
            label: "Staff accounts",
            href: "/staff/accounts",
            hint: "Accounts and roles",
            roles: ADMIN,
        },
    ]
}

/// Pages reachable without signing in; register them before the `/staff` scope.
pub fn public_pages(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/staff/login")
            .route(web::get().to(handlers::login_form))
            .route(web::post().to(handlers::login)),
    )
    .service(
        web::resource("/staff/login/second-factor")
            .route(web::get().to(handlers::second_factor_form))
            .route(web::post().to(handlers::second_factor)),
    )
    .service(
        web::resource("/staff/login/second-factor/passkey/start")
            .route(web::post().to(handlers::passkey_second_step_start)),
    )
    .service(
        web::resource("/staff/login/second-factor/passkey/finish")
            .route(web::post().to(handlers::passkey_second_step_finish)),
    )
    .service(
        web::resource("/staff/login/passkey/start")
            .route(web::post().to(handlers::passkey_login_start)),
    )
    .service(
        web::resource("/staff/login/passkey/finish")
            .route(web::post().to(handlers::passkey_login_finish)),
    )
    .service(
        web::resource("/staff/setup")
            .route(web::get().to(handlers::setup_form))
            .route(web::post().to(handlers::setup)),
    )
    .service(
        web::resource("/staff/password/forgot")
            .route(web::get().to(handlers::forgot_form))
            .route(web::post().to(handlers::forgot)),
    )
    .service(
        web::resource("/staff/password/reset")
            .route(web::get().to(handlers::reset_form))
            .route(web::post().to(handlers::reset)),
    );
}

/// The frame's own staff routes: pages under `/staff`, JSON under `/api/v1/staff`.
pub fn routes(r: &mut StaffRoutes) {
    use handlers as h;
    use Method as M;
    r.page(M::GET, "", ANY_ROLE, || async {
        HttpResponse::PermanentRedirect()
            .insert_header(("location", "/staff/"))
            .finish()
    })
    .enrolment_page(M::POST, "/logout", ANY_ROLE, h::logout)
    .page(M::GET, "/account", ANY_ROLE, h::account)
    .page(M::POST, "/account/password", ANY_ROLE, h::change_password)
    .page(
        M::POST,
        "/account/sessions/{id}/revoke",
        ANY_ROLE,
        h::revoke_session,
    )
    .enrolment_page(M::GET, "/account/two-factor", ANY_ROLE, h::two_factor_page)
    .enrolment_page(
        M::POST,
        "/account/two-factor/totp",
        ANY_ROLE,
        h::two_factor_start,
    )
    .enrolment_page(
        M::POST,
        "/account/two-factor/totp/confirm",
        ANY_ROLE,
        h::two_factor_confirm,
    )
    .page(
        M::POST,
        "/account/two-factor/disable",
        ANY_ROLE,
        h::two_factor_disable,
    )
    .enrolment_page(
        M::POST,
        "/account/passkeys/register/start",
        ANY_ROLE,
        h::passkey_register_start,
    )
    .enrolment_page(
        M::POST,
        "/account/passkeys/register/finish",
        ANY_ROLE,
        h::passkey_register_finish,
    )
    .page(
        M::POST,
        "/account/passkeys/confirm/start",
        ANY_ROLE,
        h::passkey_confirm_start,
    )
    .page(
        M::POST,
        "/account/passkeys/confirm/finish",
        ANY_ROLE,
        h::passkey_confirm_finish,
    )
    .page(
        M::POST,
        "/account/passkeys/{id}/rename",
        ANY_ROLE,
        h::passkey_rename,
    )
    .page(
        M::POST,
        "/account/passkeys/{id}/remove",
        ANY_ROLE,
        h::passkey_remove,
    )
    .page(M::POST, "/account/tokens", ANY_ROLE, h::create_token)
    .page(
        M::POST,
        "/account/tokens/{id}/revoke",
        ANY_ROLE,
        h::revoke_token,
    )
    .page(M::GET, "/accounts", ADMIN, h::accounts)
    .page(M::POST, "/accounts", ADMIN, h::create_account)
    .page(M::POST, "/accounts/{id}/disable", ADMIN, h::disable_account)
    .page(M::POST, "/accounts/{id}/enable", ADMIN, h::enable_account)
    .page(M::POST, "/accounts/{id}/role", ADMIN, h::set_role)
    .page(
        M::POST,
        "/accounts/{id}/two-factor/reset",
        ADMIN,
        h::reset_two_factor,
    )
    .page(
        M::POST,
        "/accounts/{id}/password-reset",
        ADMIN,
        h::send_password_reset,
    )
    .page(
        M::POST,
        "/accounts/{id}/sessions/end",
        ADMIN,
        h::end_sessions,
    )
    .page(
        M::POST,
        "/accounts/{id}/tips",
        ADMIN,
        permissions::tips_form,
    )
    .api(
        M::PUT,
        "/accounts/{id}/permissions",
        ADMIN,
        permissions::permission_json,
    )
    .page(M::GET, "/audit", ADMIN, h::audit_page)
    .page(M::GET, "/outbox", ADMIN, h::outbox_page)
    .page(M::POST, "/outbox/{id}/retry", ADMIN, h::outbox_retry_page)
    .api(M::GET, "/me", ANY_ROLE, h::me_json)
    .api(M::GET, "/audit", ADMIN, h::audit_json)
    .api(M::GET, "/outbox", ADMIN, h::outbox_json)
    .api(M::POST, "/outbox/{id}/retry", ADMIN, h::outbox_retry_json);
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        handlers::audit_json,
        handlers::outbox_json,
        handlers::outbox_retry_json,
        handlers::me_json,
        permissions::permission_json
    ),
    components(schemas(
        model::StaffSummary,
        model::Role,
        handlers::OutboxItem,
        handlers::RetryQueued,
        handlers::AuditEntry,
        permissions::PermissionChange,
        permissions::PermissionState
    ))
)]
pub struct ApiDoc;
