//! The newsletter: double opt-in subscriptions with per-list membership, consent records,
//! one-click unsubscribe (RFC 8058) and a preferences page, suppression of bounced and
//! complaining addresses, and the sending engine that queues one email per recipient
//! through the outbox, restart-safe.
//!
//! Links in emails:
//! - confirmation: `/newsletter/confirm?token=T`, T 256 random bits, stored as its SHA-256,
//!   single use, valid `newsletter.confirm_token_days`;
//! - unsubscribe / preferences: `/newsletter/unsubscribe?token=ID.SIG`, where SIG is the
//!   service key's HMAC of the subscriber id. Nothing is stored; the link works as long as
//!   the subscriber exists and the key (`security.secret_key`) is unchanged.

pub mod csv_io;
pub mod dispatch;
pub mod figures;
mod handlers;
mod links;
pub mod model;
pub mod privacy;
pub mod render;
pub mod search;
pub mod staff;
pub mod store;
mod webhook;

use actix_web::web;
use utoipa::OpenApi;

use crate::web::api_routes::ApiRoutes;

pub use dispatch::{render_preview, send_test, DispatchReport, Dispatcher, Preview};
pub use handlers::{request_subscription, AddressLimiter};
pub use links::{unsubscribe_token, verify_unsubscribe_token};

/// The public JSON API (registered inside `/api/v1`).
pub fn routes(r: &mut ApiRoutes) {
    r.post("/newsletter/subscriptions", handlers::subscribe)
        .get("/newsletter/lists", handlers::public_lists)
        .post("/webhooks/mail/{provider}", webhook::mail_webhook);
}

/// The reader's pages: confirm and unsubscribe/preferences (registered at the top level).
pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/newsletter/confirm")
            .route(web::get().to(handlers::confirm_page))
            .route(web::post().to(handlers::confirm)),
    )
    .service(
        web::resource("/newsletter/unsubscribe")
            .route(web::get().to(handlers::unsubscribe_page))
            .route(web::post().to(handlers::unsubscribe)),
    )
    .service(
        web::resource(crate::web::page::NEWSLETTER_LANGUAGE_FORM)
            .wrap(actix_web::middleware::from_fn(
                crate::web::problem_lang::localize,
            ))
            .route(web::post().to(handlers::change_language)),
    );
}

#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::subscribe,
        handlers::public_lists,
        webhook::mail_webhook,
        handlers::change_language
    ),
    components(schemas(
        crate::web::page::LanguageForm,
        model::SubscriptionRequest,
        handlers::SubscriptionAccepted,
        handlers::PublicList,
        webhook::GenericMailEvent,
        webhook::WebhookAnswer,
        store::MailEvent,
        store::EventOutcome,
    )),
    tags((name = "newsletter", description = "Subscriptions with double opt-in, lists, bounce and complaint webhooks"))
)]
pub struct ApiDoc;

/// The staff endpoints (merged into the document next to [`ApiDoc`]).
#[derive(OpenApi)]
#[openapi(
    paths(
        staff::subscribers_json,
        staff::subscribers_csv,
        staff::import_json,
        staff::subscriber_json,
        staff::lists_json,
        staff::create_list_json,
        staff::issues_json,
        staff::create_json,
        staff::update_json,
        staff::issue_json,
        staff::test_json,
        staff::send_json,
        staff::pause_json,
        staff::resume_json,
        staff::cancel_json,
        staff::retry_failed_json,
    ),
    components(schemas(
        staff::StaffSubscriber,
        staff::SubscriberPage,
        staff::SubscriberDetail,
        staff::StaffMembership,
        staff::StaffConsent,
        staff::StaffList,
        staff::ListRequest,
        staff::IssueSummary,
        staff::IssueDetail,
        staff::IssuePage,
        staff::IssueRequest,
        staff::TestRequest,
        staff::TestQueued,
        staff::SendRequest,
        model::IssueStatus,
        model::SubscriberStatus,
    )),
    modifiers(&Links)
)]
pub struct StaffApiDoc;

/// From a new issue to the operations that take its id.
struct Links;

impl utoipa::Modify for Links {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        crate::web::openapi::link(
            doc,
            ("post", "/api/v1/staff/newsletters"),
            "201",
            "id",
            "id",
            &[
                ("get", "/api/v1/staff/newsletters/{id}"),
                ("put", "/api/v1/staff/newsletters/{id}"),
                ("post", "/api/v1/staff/newsletters/{id}/test"),
                ("post", "/api/v1/staff/newsletters/{id}/send"),
                ("post", "/api/v1/staff/newsletters/{id}/pause"),
                ("post", "/api/v1/staff/newsletters/{id}/resume"),
                ("post", "/api/v1/staff/newsletters/{id}/cancel"),
                ("post", "/api/v1/staff/newsletters/{id}/retry-failed"),
            ],
        );
    }
}
