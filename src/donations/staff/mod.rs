//! The staff side of donations (role `fundraising`, and `admin`): the list with filters and
//! totals, one gift with its payments, CSV export, marking a pledge paid, refunding a
//! processor payment, and reports. Every change and every view or export of donors' data is
//! audited in the same transaction.

//!
//! `mod.rs` holds the navigation, the route table and the shapes staff see; `forms` reads the
//! filters, `api` does the work (and answers JSON), `pages` renders the same work as HTML.

mod api;
mod back_office;
mod forms;
mod ledger;
mod pages;

use actix_web::http::Method;
use serde::Serialize;
use utoipa::ToSchema;

use crate::staff::{ui, NavItem, Role, StaffRoutes};

use super::model::{Frequency, PaymentMethod, Status};
use super::store::{Donation, Payment};

// The JSON handlers are re-exported whole: the OpenAPI document in `donations` names them as
// `staff::list_json`, and utoipa looks for the hidden `__path_*` items next to each.
pub use api::*;
use back_office::{
    offline_form, record_offline_page, recoveries_page, send_statements_page, statements_page,
};
pub use forms::{ListQuery, ReportQuery};
pub use ledger::*;
use pages::{
    donor_page, list_page, mark_paid_page, refund_page, reports_page, resend_receipt_page,
    show_page, statement_again_page,
};

const FUNDRAISING: &[Role] = &[Role::Fundraising];

/// The donations section of the staff navigation.
pub fn staff_nav() -> Vec<NavItem> {
    vec![NavItem {
        key: "donations",
        label: "Donations",
        href: "/staff/donations",
        hint: "Gifts, pledges to confirm, refunds and reports",
        roles: FUNDRAISING,
    }]
}
/// Every staff route of this feature, each with the roles that may use it.
pub fn staff_routes(r: &mut StaffRoutes) {
    use Method as M;
    r.api(M::GET, "/donations", FUNDRAISING, list_json)
        .api(M::GET, "/donations.csv", FUNDRAISING, export_csv)
        .api(
            M::GET,
            "/donations/accounting.csv",
            FUNDRAISING,
            accounting_csv,
        )
        .api(
            M::POST,
            "/donations/offline",
            FUNDRAISING,
            record_offline_json,
        )
        .api(
            M::PATCH,
            "/donations/{id}/offline",
            FUNDRAISING,
            correct_offline_json,
        )
        .api(M::GET, "/donors", FUNDRAISING, donor_json)
        .api(
            M::GET,
            "/donations/recoveries",
            FUNDRAISING,
            recoveries_json,
        )
        .api(
            M::GET,
            "/donations/statements",
            FUNDRAISING,
            statements_json,
        )
        .api(
            M::POST,
            "/donations/statements",
            FUNDRAISING,
            send_statements_json,
        )
        .api(
            M::POST,
            "/donation-payments/{id}/resend-receipt",
            FUNDRAISING,
            resend_receipt_json,
        )
        .api(M::GET, "/donations/reports", FUNDRAISING, reports_json)
        .api(M::GET, "/donations/{id}", FUNDRAISING, show_json)
        .api(
            M::POST,
            "/donations/{id}/mark-paid",
            FUNDRAISING,
            mark_paid_json,
        )
        .api(
            M::POST,
            "/donation-payments/{id}/refund",
            FUNDRAISING,
            refund_json,
        )
        .api(
            M::POST,
            "/donors/statement",
            FUNDRAISING,
            statement_again_json,
        )
        .page(M::GET, "/donors", FUNDRAISING, donor_page)
        .page(
            M::POST,
            "/donors/statement",
            FUNDRAISING,
            statement_again_page,
        )
        .page(
            M::POST,
            "/donation-payments/{id}/resend-receipt",
            FUNDRAISING,
            resend_receipt_page,
        )
        .page(M::GET, "/donations/offline", FUNDRAISING, offline_form)
        .page(
            M::POST,
            "/donations/offline",
            FUNDRAISING,
            record_offline_page,
        )
        .page(
            M::GET,
            "/donations/recoveries",
            FUNDRAISING,
            recoveries_page,
        )
        .page(
            M::GET,
            "/donations/statements",
            FUNDRAISING,
            statements_page,
        )
        .page(
            M::POST,
            "/donations/statements",
            FUNDRAISING,
            send_statements_page,
        )
        .page(M::GET, "/donations", FUNDRAISING, list_page)
        .page(M::GET, "/donations/reports", FUNDRAISING, reports_page)
        .page(M::GET, "/donations/{id}", FUNDRAISING, show_page)
        .page(
            M::POST,
            "/donations/{id}/mark-paid",
            FUNDRAISING,
            mark_paid_page,
        )
        .page(
            M::POST,
            "/donation-payments/{id}/refund",
            FUNDRAISING,
            refund_page,
        );
}

/// A gift as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffDonation {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    /// The donor asked not to be named publicly.
    pub anonymous: bool,
    pub status: Status,
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub total_minor: i64,
    pub currency: String,
    pub frequency: Frequency,
    pub recurring_status: Option<String>,
    /// A paused monthly gift collects nothing before this time (9999-12-31 for a pause
    /// without an end); null when not paused.
    pub paused_until: Option<String>,
    pub provider: String,
    pub campaign: Option<String>,
    pub source_url: Option<String>,
    pub dedication_kind: Option<String>,
    pub dedication_name: Option<String>,
    pub message: Option<String>,
    pub newsletter_opt_in: bool,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub created_at: String,
}

impl From<Donation> for StaffDonation {
    fn from(d: Donation) -> Self {
        StaffDonation {
            id: d.id,
            email: d.email,
            name: d.name,
            anonymous: d.anonymous,
            status: d.status,
            amount_minor: d.amount_minor,
            fee_minor: d.fee_minor,
            total_minor: d.total_minor,
            currency: d.currency,
            frequency: d.frequency,
            recurring_status: d.recurring_status,
            // Filled in where a gift is shown with its subscription's state.
            paused_until: None,
            provider: d.provider,
            campaign: d.campaign,
            source_url: d.source_url,
            dedication_kind: d.dedication_kind,
            dedication_name: d.dedication_name,
            message: d.message,
            newsletter_opt_in: d.newsletter_opt_in,
            utm_source: d.utm_source,
            utm_medium: d.utm_medium,
            utm_campaign: d.utm_campaign,
            utm_term: d.utm_term,
            utm_content: d.utm_content,
            created_at: ui::rfc3339(d.created_at),
        }
    }
}

/// A payment (one-time, or one monthly installment) as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffPayment {
    pub id: String,
    pub receipt_number: String,
    pub status: Status,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub paid_at: String,
    pub method: PaymentMethod,
    /// Staff's reference for money recorded by hand (a cheque number, a bank reference).
    pub reference: Option<String>,
}

impl From<Payment> for StaffPayment {
    fn from(p: Payment) -> Self {
        StaffPayment {
            id: p.id,
            receipt_number: p.receipt_number,
            status: p.status,
            amount_minor: p.amount_minor,
            refunded_minor: p.refunded_minor,
            currency: p.currency,
            paid_at: ui::rfc3339(p.paid_at),
            method: p.method,
            reference: p.reference,
        }
    }
}

impl StaffDonation {
    /// The gift with its pause, when one is on.
    pub fn paused(mut self, until: Option<chrono::NaiveDateTime>) -> Self {
        self.paused_until = until.filter(|u| *u > crate::db::now()).map(ui::rfc3339);
        self
    }
}

/// One gift with its payments.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffDonationDetail {
    #[serde(flatten)]
    pub donation: StaffDonation,
    pub payments: Vec<StaffPayment>,
}
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportLine {
    /// The month (`YYYY-MM`), campaign or article URL; null for gifts without one.
    pub key: Option<String>,
    pub currency: String,
    pub payments: i64,
    /// Received, net of refunds.
    pub amount_minor: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecurringRevenue {
    pub currency: String,
    pub donors: i64,
    pub monthly_minor: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reports {
    pub by_month: Vec<ReportLine>,
    pub by_campaign: Vec<ReportLine>,
    pub by_article: Vec<ReportLine>,
    /// Distinct addresses with an active, paid monthly gift.
    pub recurring_donors: i64,
    pub recurring: Vec<RecurringRevenue>,
}
