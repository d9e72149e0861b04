//! The staff area's frame: accounts and roles, sign-in and sessions, API tokens, the access
//! middleware (authentication, per-route roles, CSRF), the audit log, and the staff pages of
//! the frame itself (dashboard, account, staff accounts, audit log, outbox).
//!
//! Features plug their staff pages and JSON endpoints into the guarded scopes and declare a
//! [`Rule`] for each route; `staff` itself never imports a feature.

pub mod access;
pub mod audit;
pub mod handlers;
pub mod model;
pub mod password;
pub mod service;
pub mod store;

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use serde::Serialize;

pub use access::{rule, AccessPolicy, Rule, Staff, ADMIN, ANY_ROLE};
pub use model::Role;

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
        web::resource("/staff/setup")
            .route(web::get().to(handlers::setup_form))
            .route(web::post().to(handlers::setup)),
    );
}

/// The frame's pages inside the guarded `/staff` scope.
pub fn pages(cfg: &mut web::ServiceConfig) {
    use handlers as h;
    cfg.route(
        "",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("location", "/staff/"))
                .finish()
        }),
    )
    .route("/", web::get().to(h::dashboard))
    .route("/logout", web::post().to(h::logout))
    .route("/account", web::get().to(h::account))
    .route("/account/password", web::post().to(h::change_password))
    .route(
        "/account/sessions/{id}/revoke",
        web::post().to(h::revoke_session),
    )
    .route("/account/tokens", web::post().to(h::create_token))
    .route(
        "/account/tokens/{id}/revoke",
        web::post().to(h::revoke_token),
    )
    .route("/accounts", web::get().to(h::accounts))
    .route("/accounts", web::post().to(h::create_account))
    .route("/accounts/{id}/disable", web::post().to(h::disable_account))
    .route("/accounts/{id}/enable", web::post().to(h::enable_account))
    .route("/accounts/{id}/role", web::post().to(h::set_role))
    .route("/audit", web::get().to(h::audit_page))
    .route("/outbox", web::get().to(h::outbox_page))
    .route("/outbox/{id}/retry", web::post().to(h::outbox_retry_page));
}

/// The frame's JSON endpoints inside the guarded `/api/v1/staff` scope.
pub fn api(cfg: &mut web::ServiceConfig) {
    use handlers as h;
    cfg.route("/me", web::get().to(h::me_json))
        .route("/audit", web::get().to(h::audit_json))
        .route("/outbox", web::get().to(h::outbox_json))
        .route("/outbox/{id}/retry", web::post().to(h::outbox_retry_json));
}

/// Who may use each of the frame's routes.
pub fn rules() -> Vec<Rule> {
    vec![
        rule(Method::GET, "/staff/", ANY_ROLE),
        rule(Method::POST, "/staff/logout", ANY_ROLE),
        rule(Method::GET, "/staff/account", ANY_ROLE),
        rule(Method::POST, "/staff/account/password", ANY_ROLE),
        rule(
            Method::POST,
            "/staff/account/sessions/{id}/revoke",
            ANY_ROLE,
        ),
        rule(Method::POST, "/staff/account/tokens", ANY_ROLE),
        rule(Method::POST, "/staff/account/tokens/{id}/revoke", ANY_ROLE),
        rule(Method::GET, "/staff/accounts", ADMIN),
        rule(Method::POST, "/staff/accounts", ADMIN),
        rule(Method::POST, "/staff/accounts/{id}/disable", ADMIN),
        rule(Method::POST, "/staff/accounts/{id}/enable", ADMIN),
        rule(Method::POST, "/staff/accounts/{id}/role", ADMIN),
        rule(Method::GET, "/staff/audit", ADMIN),
        rule(Method::GET, "/staff/outbox", ADMIN),
        rule(Method::POST, "/staff/outbox/{id}/retry", ADMIN),
        rule(Method::GET, "/api/v1/staff/me", ANY_ROLE),
        rule(Method::GET, "/api/v1/staff/audit", ADMIN),
        rule(Method::GET, "/api/v1/staff/outbox", ADMIN),
        rule(Method::POST, "/api/v1/staff/outbox/{id}/retry", ADMIN),
    ]
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        handlers::audit_json,
        handlers::outbox_json,
        handlers::outbox_retry_json,
        handlers::me_json
    ),
    components(schemas(
        model::StaffSummary,
        model::Role,
        handlers::OutboxItem,
        audit::AuditRow
    ))
)]
pub struct ApiDoc;
