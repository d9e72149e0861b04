//! Fundraising's books: gifts that arrived outside the site, one donor's whole history, the
//! accounting export (one row per movement of money) and resending a receipt. Each is audited
//! in the transaction that does it.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::domain::EmailAddress;
use crate::error::AppError;
use crate::mail::outbox;
use crate::staff::audit::{self, Entry};
use crate::staff::{ui, Staff};
use crate::state::AppState;
use crate::web::csv;
use crate::web::json::ApiJson;

use super::super::accounting::{self, Adjustment};
use super::super::model::{plain_amount, Frequency, Status};
use super::super::offline::{self, OfflineGift, OfflineGiftPatch, OfflineGiftRequest};
use super::super::recovery;
use super::super::service::{self, Ctx};
use super::super::statements;
use super::super::store::{self, Donation, Payment};
use super::{ReportQuery, StaffDonation, StaffDonationDetail, StaffPayment};

/// Most rows of each kind (payments; refunds and disputes) in one accounting export.
const LEDGER_MAX: i64 = 200_000;

fn today(state: &AppState) -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&state.settings.site.tz())
        .date_naive()
}

/// Records money that arrived outside the site (bank transfer, cheque, cash) as a paid gift
/// with one payment: a receipt number from the shared sequence, and the receipt email when
/// `send_receipt` is true. Audited.
#[utoipa::path(post, path = "/api/v1/staff/donations/offline", tag = "staff",
    request_body = OfflineGiftRequest,
    responses((status = 201, body = StaffDonationDetail), (status = 401), (status = 403),
              (status = 422, description = "names every failing field")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn record_offline_json(
    state: web::Data<AppState>,
    staff: Staff,
    body: ApiJson<OfflineGiftRequest>,
) -> Result<HttpResponse, AppError> {
    let (donation, payment) = record_offline(&state, &staff, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(StaffDonationDetail {
        donation: donation.into(),
        payments: vec![StaffPayment::from(payment)],
    }))
}

/// Checks and records an offline gift (and wakes the mailer for its receipt). Audited.
pub(super) async fn record_offline(
    state: &AppState,
    staff: &Staff,
    request: OfflineGiftRequest,
) -> Result<(Donation, Payment), AppError> {
    let gift = OfflineGift::parse(request, &state.settings, today(state))?;
    let ctx = Ctx::from_state(state);
    let actor = staff.actor();
    let recorded = state
        .db
        .write(move |conn| offline::record(conn, &ctx, &actor, gift))
        .await?;
    state.mailer.wake();
    Ok(recorded)
}

/// Corrects a gift staff recorded by hand (name, amount, day, method, reference, campaign);
/// its receipt number stays. 409 for other gifts and for a refunded one. Audited with the
/// values before and after.
#[utoipa::path(patch, path = "/api/v1/staff/donations/{id}/offline", tag = "staff",
    params(("id" = String, Path)), request_body = OfflineGiftPatch,
    responses((status = 200, body = StaffDonationDetail), (status = 401), (status = 403),
              (status = 404), (status = 409, description = "not recorded by staff, or refunded"),
              (status = 422, description = "names every failing field")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn correct_offline_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: ApiJson<OfflineGiftPatch>,
) -> Result<HttpResponse, AppError> {
    let (id, patch, today) = (path.into_inner(), body.into_inner(), today(&state));
    let actor = staff.actor();
    let (donation, payment) = state
        .db
        .write(move |conn| offline::correct(conn, &actor, &id, patch, today))
        .await?;
    Ok(HttpResponse::Ok().json(StaffDonationDetail {
        donation: donation.into(),
        payments: vec![StaffPayment::from(payment)],
    }))
}

/// Queues the receipt of one payment again (to the donor's address as stored). Audited.
#[utoipa::path(post, path = "/api/v1/staff/donation-payments/{id}/resend-receipt", tag = "staff",
    params(("id" = String, Path, description = "a payment id")),
    responses((status = 202, description = "the receipt is queued"), (status = 401),
              (status = 403), (status = 404),
              (status = 409, description = "the donor's address was erased")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn resend_receipt_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    resend_receipt(&state, &staff, path.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(json!({"status": "queued"})))
}

/// Queues a payment's receipt again; answers the gift's id.
pub(super) async fn resend_receipt(
    state: &AppState,
    staff: &Staff,
    id: String,
) -> Result<String, AppError> {
    let ctx = Ctx::from_state(state);
    let actor = staff.actor();
    let donation_id = state
        .db
        .write(move |conn| {
            let payment = store::find_payment(conn, &id)?;
            let donation = store::find_donation(conn, &payment.donation_id)?;
            if donation.email.is_empty() {
                return Err(AppError::Conflict(
                    "The donor's address was erased; there is nobody to send it to.".into(),
                ));
            }
            let receipt = service::receipt_email(conn, &ctx, &donation, &payment)?;
            outbox::enqueue(conn, &[receipt])?;
            audit::record(
                conn,
                &actor,
                Entry::new("donation.receipt_resent")
                    .target("donation", &donation.id)
                    .details(json!({"payment_id": payment.id,
                                    "receipt_number": payment.receipt_number})),
            )?;
            Ok(donation.id)
        })
        .await?;
    state.mailer.wake();
    Ok(donation_id)
}

/// `POST /api/v1/staff/donors/statement`: one donor's statement of one year, again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementAgainRequest {
    #[schema(schema_with = crate::domain::EmailAddress::schema)]
    pub email: String,
    #[serde(deserialize_with = "crate::web::json::whole_i32")]
    #[schema(minimum = 2000, maximum = 9998)]
    pub year: i32,
}

/// Sends one donor their statement of a fiscal year again (whether or not it went before).
/// 404 when the address gave nothing that year. Audited (by the address's keyed hash).
#[utoipa::path(post, path = "/api/v1/staff/donors/statement", tag = "staff",
    request_body = StatementAgainRequest,
    responses((status = 202, description = "the statement is queued"), (status = 401),
              (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn statement_again_json(
    state: web::Data<AppState>,
    staff: Staff,
    body: ApiJson<StatementAgainRequest>,
) -> Result<HttpResponse, AppError> {
    let StatementAgainRequest { email, year } = body.into_inner();
    statement_again(&state, &staff, &email, year).await?;
    Ok(HttpResponse::Accepted().json(json!({"status": "queued"})))
}

pub(super) async fn statement_again(
    state: &AppState,
    staff: &Staff,
    email: &str,
    year: i32,
) -> Result<(), AppError> {
    let email = EmailAddress::parse(email).map_err(|m| AppError::field("email", m))?;
    let normalized = email.normalized();
    let (ctx, actor, keys) = (Ctx::from_state(state), staff.actor(), state.keys.clone());
    state
        .db
        .write(move |conn| {
            if !statements::send_again(conn, &ctx, year, &normalized)? {
                return Err(AppError::NotFound);
            }
            audit::record(
                conn,
                &actor,
                Entry::new("donation.statement_resent")
                    .target("person", &keys.address_hash(&normalized))
                    .details(json!({ "year": year })),
            )?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
    Ok(())
}

/// The accounting export: one row per payment received and per refund or dispute, each on
/// the day it happened, for a date range. Refunds and disputes are negative `gross`; `fee` is
/// the processor's when known and `net` is empty when it is not. The payments' gross less the
/// refunds equals the reports' net for the same range when the refunds fall in it. Audited.
#[utoipa::path(get, path = "/api/v1/staff/donations/accounting.csv", tag = "staff",
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD or RFC 3339"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD (inclusive) or RFC 3339")),
    responses((status = 200, content_type = "text/csv", description = "an attachment, `donations-accounting.csv`"),
              (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn accounting_csv(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let (from, to) = query.range()?;
    let actor = staff.actor();
    let details = json!({"from": query.from, "to": query.to});
    let rows = state
        .db
        .write(move |conn| {
            let rows = accounting::rows(conn, from, to, LEDGER_MAX)?;
            let mut details = details;
            details["rows"] = json!(rows.len());
            audit::record(
                conn,
                &actor,
                Entry::new("donation.accounting_exported").details(details),
            )?;
            Ok(rows)
        })
        .await?;
    let mut out = csv::row(&[
        "date",
        "type",
        "donation_id",
        "payment_id",
        "donor_email",
        "donor_name",
        "gross",
        "fee",
        "net",
        "currency",
        "receipt_number",
        "method",
        "campaign",
        "article",
    ]);
    for r in rows {
        let money = |minor: i64| plain_amount(minor, &r.currency);
        // gross, fee and net are numbers: a refund's negative gross must stay summable.
        out.push_str(&csv::row_with_numbers(
            &[
                ui::rfc3339_seconds(r.at),
                r.movement.as_str().to_string(),
                r.donation_id.clone(),
                r.payment_id.clone(),
                r.email.clone(),
                r.name.clone().unwrap_or_default(),
                money(r.gross_minor),
                r.fee_minor.map(money).unwrap_or_default(),
                match (r.movement, r.fee_minor) {
                    (accounting::Movement::Payment, Some(fee)) => money(r.gross_minor - fee),
                    (accounting::Movement::Payment, None) => String::new(),
                    _ => money(r.gross_minor),
                },
                r.currency.clone(),
                r.receipt_number.clone(),
                r.method.as_str().to_string(),
                r.campaign.clone().unwrap_or_default(),
                r.source_url.clone().unwrap_or_default(),
            ],
            &[6, 7, 8],
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"donations-accounting.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DonorQuery {
    /// The donor's address.
    #[param(required = true)]
    pub email: Option<String>,
}

/// What one donor gave in one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DonorTotal {
    pub currency: String,
    pub payments: i64,
    pub gross_minor: i64,
    pub refunded_minor: i64,
    /// Gross less refunds.
    pub net_minor: i64,
}

/// A refund or dispute of one of the donor's payments.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DonorAdjustment {
    pub payment_id: String,
    /// `refund` or `dispute`.
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
    pub occurred_at: String,
}

impl From<Adjustment> for DonorAdjustment {
    fn from(a: Adjustment) -> Self {
        DonorAdjustment {
            payment_id: a.payment_id,
            kind: a.kind.as_str().to_string(),
            amount_minor: a.amount_minor,
            currency: a.currency,
            occurred_at: ui::rfc3339(a.occurred_at),
        }
    }
}

/// Everything one address gave: lifetime totals, first and last gift, monthly standing, and
/// every gift with its payments, refunds and disputes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DonorView {
    pub email: String,
    pub lifetime: Vec<DonorTotal>,
    pub first_gift_at: Option<String>,
    pub last_gift_at: Option<String>,
    /// The donor's monthly gifts that are paid and active.
    pub active_monthly: Vec<StaffDonation>,
    pub gifts: Vec<StaffDonationDetail>,
    pub adjustments: Vec<DonorAdjustment>,
    /// Years (fiscal, by `donations.fiscal_year_start_month`) with a payment: each has a
    /// statement.
    pub statement_years: Vec<i32>,
}

pub(super) async fn donor(
    state: &AppState,
    staff: &Staff,
    query: &DonorQuery,
) -> Result<DonorView, AppError> {
    let email = EmailAddress::parse(query.email.as_deref().unwrap_or_default())
        .map_err(|m| AppError::field("email", m))?;
    let normalized = email.normalized();
    let actor = staff.actor();
    let keys = state.keys.clone();
    let (gifts, adjustments, pauses) = state
        .db
        .write(move |conn| {
            let donations = store::donations_for_email(conn, &normalized)?;
            let gift_ids: Vec<String> = donations.iter().map(|d| d.id.clone()).collect();
            let pauses = store::pauses(conn, &gift_ids)?;
            let mut gifts = Vec::with_capacity(donations.len());
            for d in donations {
                let payments = store::payments_for(conn, &d.id)?;
                gifts.push((d, payments));
            }
            let ids: Vec<String> = gifts
                .iter()
                .flat_map(|(_, ps)| ps.iter().map(|p| p.id.clone()))
                .collect();
            let adjustments = accounting::adjustments_for(conn, &ids)?;
            audit::record(
                conn,
                &actor,
                Entry::new("donation.donor_viewed")
                    .target("person", &keys.address_hash(&normalized)),
            )?;
            Ok((gifts, adjustments, pauses))
        })
        .await?;
    let start_month = state.settings.donations.fiscal_year_start_month;
    let mut totals: BTreeMap<String, DonorTotal> = BTreeMap::new();
    let mut years = std::collections::BTreeSet::new();
    let (mut first, mut last) = (None, None);
    for p in gifts.iter().flat_map(|(_, ps)| ps) {
        let t = totals
            .entry(p.currency.clone())
            .or_insert_with(|| DonorTotal {
                currency: p.currency.clone(),
                payments: 0,
                gross_minor: 0,
                refunded_minor: 0,
                net_minor: 0,
            });
        t.payments += 1;
        t.gross_minor += p.amount_minor;
        t.refunded_minor += p.refunded_minor;
        t.net_minor = t.gross_minor - t.refunded_minor;
        years.insert(super::super::donor::fiscal_year_of(p.paid_at, start_month));
        first = Some(first.map_or(p.paid_at, |f: chrono::NaiveDateTime| f.min(p.paid_at)));
        last = Some(last.map_or(p.paid_at, |l: chrono::NaiveDateTime| l.max(p.paid_at)));
    }
    let active_monthly = gifts
        .iter()
        .filter(|(d, _)| {
            d.frequency == Frequency::Monthly
                && d.status == Status::Paid
                && d.recurring_status.as_deref() == Some(super::super::model::RECURRING_ACTIVE)
        })
        .map(|(d, _)| StaffDonation::from(d.clone()).paused(pauses.get(&d.id).copied()))
        .collect();
    Ok(DonorView {
        email: email.as_str().to_string(),
        lifetime: totals.into_values().collect(),
        first_gift_at: first.map(ui::rfc3339),
        last_gift_at: last.map(ui::rfc3339),
        active_monthly,
        gifts: gifts
            .into_iter()
            .map(|(d, ps)| StaffDonationDetail {
                donation: {
                    let paused = pauses.get(&d.id).copied();
                    StaffDonation::from(d).paused(paused)
                },
                payments: ps.into_iter().map(StaffPayment::from).collect(),
            })
            .collect(),
        adjustments: adjustments.into_iter().map(DonorAdjustment::from).collect(),
        statement_years: years.into_iter().rev().collect(),
    })
}

/// One donor's history, by address. Audited (by the address's keyed hash).
#[utoipa::path(get, path = "/api/v1/staff/donors", tag = "staff", params(DonorQuery),
    responses((status = 200, body = DonorView), (status = 401), (status = 403),
              (status = 422, description = "`email` is missing or not an address")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn donor_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<DonorQuery>,
) -> Result<HttpResponse, AppError> {
    let view = donor(&state, &staff, &query).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(view))
}

/// A monthly gift whose payment is failing, as staff follow it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailingGift {
    pub donation: StaffDonation,
    pub failed_at: String,
    pub amount_minor: i64,
    pub currency: String,
    pub reminders_sent: i32,
    /// When the next reminder goes out; null after the last.
    pub next_reminder_at: Option<String>,
}

/// What failed-payment follow-up brought back in one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecoveredRevenue {
    pub currency: String,
    pub gifts: i64,
    pub amount_minor: i64,
}

/// Monthly gifts whose payment is failing, and what follow-up recovered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recoveries {
    /// Oldest failure first.
    pub failing: Vec<FailingGift>,
    /// Episodes that ended with a payment in the last `days` days.
    pub recovered: Vec<RecoveredRevenue>,
    /// Episodes that ended without one (the processor gave up, or the donor cancelled).
    pub lost: i64,
    pub days: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecoveriesQuery {
    /// The period of the recovered and lost figures, in days (1–3660, default 30); empty is
    /// the default.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 3660)]
    pub days: Option<String>,
}

/// Monthly donors whose payment is failing (with their reminders), and the revenue that
/// follow-up recovered. Audited.
#[utoipa::path(get, path = "/api/v1/staff/donations/recoveries", tag = "staff",
    params(RecoveriesQuery),
    responses((status = 200, body = Recoveries), (status = 401), (status = 403),
              (status = 422, description = "`days` out of range")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn recoveries_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<RecoveriesQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(recoveries(&state, &staff, &query).await?))
}

/// The failing monthly gifts and the recovered revenue over `days` (422 naming `days`).
/// Audited.
pub(super) async fn recoveries(
    state: &AppState,
    staff: &Staff,
    query: &RecoveriesQuery,
) -> Result<Recoveries, AppError> {
    let days = match ui::present(&query.days) {
        None => 30,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=3660).contains(d))
            .ok_or_else(|| AppError::field("days", "Use 1 to 3660 days."))?,
    };
    let since = crate::db::now() - chrono::TimeDelta::days(days);
    let actor = staff.actor();
    let overview = state
        .db
        .write(move |conn| {
            let overview = recovery::overview(conn, since)?;
            audit::record(
                conn,
                &actor,
                Entry::new("donation.recoveries_viewed")
                    .details(json!({"failing": overview.open.len()})),
            )?;
            Ok(overview)
        })
        .await?;
    Ok(Recoveries {
        failing: overview
            .open
            .into_iter()
            .map(|(r, d)| FailingGift {
                donation: d.into(),
                failed_at: ui::rfc3339(r.failed_at),
                amount_minor: r.amount_minor,
                currency: r.currency,
                reminders_sent: r.followups_sent,
                next_reminder_at: r.next_followup_at.map(ui::rfc3339),
            })
            .collect(),
        recovered: overview
            .recovered
            .into_iter()
            .map(|(currency, gifts, amount_minor)| RecoveredRevenue {
                currency,
                gifts,
                amount_minor,
            })
            .collect(),
        lost: overview.lost,
        days,
    })
}

/// `POST /api/v1/staff/donations/statements`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementsRequest {
    /// The fiscal year (named by the calendar year it starts in).
    #[serde(deserialize_with = "crate::web::json::whole_i32")]
    #[schema(minimum = 2000, maximum = 9998)]
    pub year: i32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementsQuery {
    /// The fiscal year (named by the calendar year it starts in).
    #[param(required = true, value_type = i32, minimum = 2000, maximum = 9998)]
    pub year: Option<String>,
}

/// Sends every donor of a fiscal year their statement (one email each, through the outbox),
/// in the background: the answer is the progress when it started; `GET` follows it. Sending
/// again resumes where an interrupted run stopped and never sends a donor a second statement
/// for the year. Audited.
#[utoipa::path(post, path = "/api/v1/staff/donations/statements", tag = "staff",
    request_body = StatementsRequest,
    responses((status = 202, body = statements::Progress), (status = 401), (status = 403),
              (status = 422, description = "`year` out of range")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn send_statements_json(
    state: web::Data<AppState>,
    staff: Staff,
    body: ApiJson<StatementsRequest>,
) -> Result<HttpResponse, AppError> {
    let progress = start_statements(&state, &staff, body.into_inner().year).await?;
    Ok(HttpResponse::Accepted().json(progress))
}

/// Starts (or resumes) sending a year's statements in the background; answers the progress
/// when it started. Audited.
pub(super) async fn start_statements(
    state: &AppState,
    staff: &Staff,
    year: i32,
) -> Result<statements::Progress, AppError> {
    let ctx = Ctx::from_state(state);
    let progress = statements::progress(&state.db, &ctx, year).await?;
    let actor = staff.actor();
    state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &actor,
                Entry::new("donation.statements_sent").details(json!({
                    "year": year, "donors": progress.donors, "already_sent": progress.sent,
                })),
            )?;
            Ok(())
        })
        .await?;
    let db = state.db.clone();
    tokio::spawn(async move {
        let result = statements::send_all(&db, &ctx, year, |p| {
            tracing::info!(
                year = p.year,
                sent = p.sent,
                donors = p.donors,
                "statements"
            );
        })
        .await;
        if let Err(e) = result {
            tracing::error!(error = ?e, year, "statements stopped; sending again resumes");
        }
    });
    Ok(progress)
}

/// How far a year's statements are: donors of the year, and those whose statement is queued.
#[utoipa::path(get, path = "/api/v1/staff/donations/statements", tag = "staff",
    params(StatementsQuery),
    responses((status = 200, body = statements::Progress), (status = 401), (status = 403),
              (status = 422, description = "`year` missing or out of range")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn statements_json(
    state: web::Data<AppState>,
    _staff: Staff,
    query: web::Query<StatementsQuery>,
) -> Result<HttpResponse, AppError> {
    let year = ui::present(&query.year)
        .and_then(|y| y.parse::<i32>().ok())
        .ok_or_else(|| AppError::field("year", "Give the fiscal year, e.g. 2026."))?;
    let ctx = Ctx::from_state(&state);
    Ok(HttpResponse::Ok().json(statements::progress(&state.db, &ctx, year).await?))
}
