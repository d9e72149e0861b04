//! Fundraising's back-office pages, over the same work as the JSON API (`ledger`): recording
//! a gift that arrived outside the site, the failing monthly gifts with what follow-up
//! recovered, the yearly statements with their progress, and the accounting export's form.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{AppError, FieldError};
use crate::staff::handlers;
use crate::staff::{ui, Staff};
use crate::state::AppState;

use super::super::donor::fiscal_year_of;
use super::super::model::{format_amount, parse_major};
use super::super::offline::OfflineGiftRequest;
use super::super::service::Ctx;
use super::super::statements::{self, Progress};
use super::ledger::{record_offline, recoveries, start_statements, RecoveriesQuery};

/// The choices of the offline gift form: the configured currencies and the methods.
fn offline_form_context(state: &AppState, form: Value) -> Value {
    json!({
        "currencies": state.settings.donations.currencies.keys().collect::<Vec<_>>(),
        "methods": [["bank_transfer", "Bank transfer"], ["cheque", "Cheque"], ["cash", "Cash"]],
        "form": form,
        "errors": [],
    })
}

async fn offline_page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    context: Value,
) -> Result<HttpResponse, AppError> {
    handlers::page(
        req,
        state,
        Some(staff),
        "donations",
        "staff/donations/offline.html",
        status,
        context,
    )
}

/// The form for money that arrived outside the site.
pub async fn offline_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let today = chrono::Utc::now()
        .with_timezone(&state.settings.site.tz())
        .date_naive();
    let blank = json!({
        "email": "", "name": "", "amount": "", "currency": "", "received_on": today.to_string(),
        "method": "", "reference": "", "campaign": "", "send_receipt": false,
    });
    let context = offline_form_context(&state, blank);
    offline_page(&req, &state, &staff, StatusCode::OK, context).await
}

/// The offline gift form as typed: the amount in major units ("150.00").
#[derive(Debug, Deserialize)]
pub struct OfflineForm {
    email: String,
    name: Option<String>,
    amount: String,
    currency: String,
    received_on: String,
    method: String,
    reference: Option<String>,
    campaign: Option<String>,
    send_receipt: Option<String>,
}

/// Records the gift and opens it; the form comes back with its fields' errors (422).
pub async fn record_offline_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<OfflineForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let echo = json!({
        "email": form.email, "name": form.name, "amount": form.amount, "currency": form.currency,
        "received_on": form.received_on, "method": form.method, "reference": form.reference,
        "campaign": form.campaign, "send_receipt": form.send_receipt.is_some(),
    });
    let result = match parse_major(&form.amount, &form.currency) {
        Some(amount_minor) if amount_minor > 0 => {
            let request = OfflineGiftRequest {
                email: form.email,
                name: form.name.filter(|n| !n.trim().is_empty()),
                amount_minor,
                currency: form.currency,
                received_on: form.received_on,
                method: form.method,
                reference: form.reference.filter(|r| !r.trim().is_empty()),
                campaign: form.campaign.filter(|c| !c.trim().is_empty()),
                send_receipt: form.send_receipt.is_some(),
            };
            record_offline(&state, &staff, request)
                .await
                .map_err(|e| match e {
                    AppError::Validation(mut errors) => {
                        for e in &mut errors {
                            if e.field == "amount_minor" {
                                e.field = "amount".into();
                            }
                        }
                        AppError::Validation(errors)
                    }
                    other => other,
                })
        }
        _ => Err(AppError::Validation(vec![FieldError::new(
            "amount",
            "Give an amount like 150 or 150.50.",
        )])),
    };
    match result {
        Ok((donation, _)) => Ok(ui::redirect_with_notice(
            &format!("/staff/donations/{}", donation.id),
            "recorded",
        )),
        Err(AppError::Validation(errors)) => {
            let mut context = offline_form_context(&state, echo);
            context["errors"] = json!(errors);
            offline_page(
                &req,
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                context,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Monthly gifts whose payment is failing, oldest first, with their reminders, and what
/// follow-up recovered over `days`.
pub async fn recoveries_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<RecoveriesQuery>,
) -> Result<HttpResponse, AppError> {
    let view = recoveries(&state, &staff, &query).await?;
    let failing: Vec<_> = view
        .failing
        .iter()
        .map(|f| {
            json!({
                "id": f.donation.id, "email": f.donation.email, "name": f.donation.name,
                "failed_at": f.failed_at, "amount": format_amount(f.amount_minor, &f.currency),
                "reminders_sent": f.reminders_sent, "next_reminder_at": f.next_reminder_at,
            })
        })
        .collect();
    let recovered: Vec<_> = view
        .recovered
        .iter()
        .map(|r| json!({"gifts": r.gifts, "amount": format_amount(r.amount_minor, &r.currency)}))
        .collect();
    handlers::page(
        &req,
        &state,
        Some(&staff),
        "donations",
        "staff/donations/recoveries.html",
        StatusCode::OK,
        json!({"failing": failing, "recovered": recovered, "lost": view.lost, "days": view.days}),
    )
}

#[derive(Debug, Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

/// The fiscal year a form or link names; the last complete one when none.
fn year_of(state: &AppState, raw: &Option<String>) -> Result<i32, AppError> {
    match ui::present(raw) {
        None => {
            let start = state.settings.donations.fiscal_year_start_month;
            Ok(fiscal_year_of(crate::db::now(), start) - 1)
        }
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=9998).contains(y))
            .ok_or_else(|| AppError::field("year", "Give a year from 2000 on, e.g. 2026.")),
    }
}

/// The statements page for `progress` (`started`: sending was asked for just now).
fn statements_page_for(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    progress: Progress,
    started: bool,
) -> Result<HttpResponse, AppError> {
    let year = progress.year;
    let running = started || (progress.sent > 0 && progress.sent < progress.donors);
    handlers::page(
        req,
        state,
        Some(staff),
        "donations",
        "staff/donations/statements.html",
        StatusCode::OK,
        json!({
            "year": year, "donors": progress.donors, "sent": progress.sent,
            "percent": (progress.sent * 100).checked_div(progress.donors).unwrap_or(100),
            // Refreshes itself (no script) while statements are still being queued.
            "refresh": running && progress.sent < progress.donors,
        }),
    )
}

/// A year's statements: how many donors, how many sent, and the button to send the rest.
pub async fn statements_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<YearQuery>,
) -> Result<HttpResponse, AppError> {
    let year = year_of(&state, &query.year)?;
    let ctx = Ctx::from_state(&state);
    let progress = statements::progress(&state.db, &ctx, year).await?;
    statements_page_for(&req, &state, &staff, progress, false)
}

/// Sends (or resumes sending) a year's statements, then follows their progress.
pub async fn send_statements_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<YearQuery>,
) -> Result<HttpResponse, AppError> {
    let year = year_of(&state, &form.year)?;
    // The progress when sending started: the page refreshes itself to follow it.
    let progress = start_statements(&state, &staff, year).await?;
    statements_page_for(&req, &state, &staff, progress, true)
}
