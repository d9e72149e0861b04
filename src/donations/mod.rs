//! Donations: one-time and monthly gifts through a payment provider (`manual` pledges or
//! Stripe Checkout), exactly one receipt per payment, processor webhooks applied once each,
//! donor self-service by emailed link, and the staff side (lists, exports, mark paid, refunds,
//! reports).

pub mod accounting;
pub mod donor;
pub mod figures;
pub mod handlers;
pub mod search;

pub mod model;
pub mod offline;
pub mod pause;
pub mod payments;
pub mod privacy;
pub mod recovery;
pub mod reminders;
pub mod service;
pub mod signature;
pub mod staff;
pub mod statements;
pub mod store;
pub mod token;
pub mod webhook;

use actix_web::http::Method;
use actix_web::web;

use crate::config::Settings;
use crate::web::api_routes::ApiRoutes;
use crate::web::{LimitStore, RateLimiter};

pub use staff::{staff_nav, staff_routes};

/// What donation handlers share across workers (app data): payment providers and the
/// card-testing limits.
#[derive(Clone)]
pub struct Donations {
    pub payments: payments::Payments,
    /// Donation attempts per client IP.
    pub per_ip: RateLimiter,
    /// Donation attempts per donor address.
    pub per_email: RateLimiter,
    /// Self-service links per address.
    pub manage: RateLimiter,
}

impl Donations {
    pub fn new(settings: &Settings, limits: &LimitStore) -> anyhow::Result<Donations> {
        let enabled = settings.limits.enabled;
        Ok(Donations {
            payments: payments::Payments::from_settings(settings)?,
            per_ip: limits.per_minute(enabled, settings.donations.per_ip_per_minute),
            per_email: limits.per_minute(enabled, settings.donations.per_email_per_minute),
            manage: limits.per_minute(enabled, 1),
        })
    }

    /// The limiters, for the periodic clean-up.
    pub fn limiters(&self) -> Vec<RateLimiter> {
        vec![
            self.per_ip.clone(),
            self.per_email.clone(),
            self.manage.clone(),
        ]
    }
}

/// The public JSON API, and the processor's webhook, which is a machine's route: it is
/// authenticated by its signature and must not share the per-IP budget of readers' POSTs
/// (the processor delivers bursts from few addresses).
pub fn routes(r: &mut ApiRoutes) {
    r.post("/donations", handlers::create)
        .get("/donations/options", handlers::options)
        .without_database()
        .post("/donations/manage", handlers::manage)
        .get("/donations/{id}", handlers::show)
        .machine(Method::POST, "/webhooks/stripe", handlers::stripe_webhook);
}

/// The donor's pages, outside `/api/v1`.
pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/donations/manage", web::get().to(donor::manage_page))
        .route("/donations/manage/cancel", web::post().to(donor::cancel))
        .service(
            web::resource(crate::web::page::DONOR_LANGUAGE_FORM)
                .wrap(actix_web::middleware::from_fn(
                    crate::web::problem_lang::localize,
                ))
                .route(web::post().to(donor::change_language)),
        )
        .route("/donations/manage/card", web::get().to(donor::card))
        .route(
            "/donations/manage/amount",
            web::post().to(donor::change_amount),
        )
        .route("/donations/manage/pause", web::post().to(pause::pause))
        .route("/donations/manage/resume", web::post().to(pause::resume))
        .route(
            "/donations/manage/statement",
            web::get().to(donor::statement),
        )
        .route("/donate/thanks", web::get().to(donor::thanks));
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        handlers::create,
        handlers::options,
        handlers::show,
        handlers::stripe_webhook,
        handlers::manage,
        donor::change_language,
        staff::list_json,
        staff::export_csv,
        staff::reports_json,
        staff::show_json,
        staff::mark_paid_json,
        staff::refund_json,
        staff::record_offline_json,
        staff::correct_offline_json,
        staff::resend_receipt_json,
        staff::accounting_csv,
        staff::donor_json,
        staff::recoveries_json,
        staff::statements_json,
        staff::send_statements_json,
        staff::statement_again_json
    ),
    components(schemas(
        model::DonationRequest,
        model::DedicationRequest,
        model::UtmRequest,
        model::CreatedDonation,
        model::DonationOptions,
        model::CurrencyOptions,
        model::PresetAmounts,
        model::PublicDonation,
        model::ManageRequest,
        model::Status,
        model::Frequency,
        staff::StaffDonation,
        staff::StaffPayment,
        staff::StaffDonationDetail,
        staff::Reports,
        staff::ReportLine,
        staff::RecurringRevenue,
        store::CurrencyTotal,
        model::PaymentMethod,
        offline::OfflineGiftRequest,
        offline::OfflineGiftPatch,
        staff::DonorView,
        staff::DonorTotal,
        staff::DonorAdjustment,
        staff::Recoveries,
        staff::FailingGift,
        staff::RecoveredRevenue,
        staff::StatementsRequest,
        staff::StatementAgainRequest,
        statements::Progress
    )),
    modifiers(&Links)
)]
pub struct ApiDoc;

/// From a new donation (and a payment) to the operations that take its id.
struct Links;

impl utoipa::Modify for Links {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use crate::web::openapi::link;
        link(
            doc,
            ("post", "/api/v1/donations"),
            "201",
            "id",
            "id",
            &[
                ("get", "/api/v1/donations/{id}"),
                ("get", "/api/v1/staff/donations/{id}"),
                ("post", "/api/v1/staff/donations/{id}/mark-paid"),
            ],
        );
        link(
            doc,
            ("post", "/api/v1/staff/donations/{id}/mark-paid"),
            "200",
            "id",
            "id",
            &[("post", "/api/v1/staff/donation-payments/{id}/refund")],
        );
    }
}
