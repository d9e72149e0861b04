//! The staff pages of donations: the same work as the JSON API (`api`), rendered in the staff
//! frame; forms answer with a 303 and a `?notice=` the page turns into a fixed text.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::error::AppError;
use crate::staff::handlers;
use crate::staff::{ui, Staff};
use crate::state::AppState;

use super::super::model::{format_amount, Frequency, Status, RECURRING_ACTIVE};
use super::super::Donations;
use super::api::{detail, list_data, mark_paid, refund, reports_data};
use super::ledger::{donor, resend_receipt, statement_again, DonorQuery};
use super::{ListQuery, ReportLine, ReportQuery};

/// The `?notice=` of a donations page.
#[derive(Debug, Deserialize)]
struct Notice {
    notice: Option<String>,
}

/// Donations' own notices, as fixed texts chosen by code (a link cannot put words on the page);
/// other codes fall through to the staff frame's texts.
fn notice(req: &HttpRequest) -> Option<&'static str> {
    let q = web::Query::<Notice>::from_query(req.query_string()).ok()?;
    Some(match q.notice.as_deref()? {
        "marked_paid" => "The pledge is marked paid; the receipt is on its way.",
        "refunded" => "The payment was refunded.",
        "receipt_sent" => "The receipt is on its way again.",
        "statement_sent" => "The statement is on its way.",
        "recorded" => "The gift is recorded with the next receipt number.",
        _ => return None,
    })
}

fn money(minor: i64, currency: &str) -> String {
    format_amount(minor, currency)
}

pub async fn list_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let (page, totals) = match list_data(&state, &staff, &query, true).await {
        Ok(found) => found,
        Err(AppError::Validation(errors)) => {
            return handlers::page(
                &req,
                &state,
                Some(&staff),
                "donations",
                "staff/donations/list.html",
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "items": [], "totals": [], "q": query.echo(), "errors": errors,
                        "export_query": "", "next_cursor": null,
                        "statuses": Status::ALL.map(Status::as_str) }),
            );
        }
        Err(e) => return Err(e),
    };
    let items: Vec<_> = page
        .items
        .iter()
        .map(|d| {
            json!({
                "id": d.id, "email": d.email, "name": d.name, "status": d.status,
                "frequency": d.frequency, "recurring_status": d.recurring_status,
                "total": money(d.total_minor, &d.currency), "campaign": d.campaign,
                "provider": d.provider, "created_at": d.created_at,
                "can_mark_paid": can_mark_paid(&d.provider, &d.status, &d.frequency, d.recurring_status.as_deref()),
            })
        })
        .collect();
    let totals: Vec<_> = totals
        .iter()
        .map(|t| json!({"count": t.count, "amount": money(t.amount_minor, &t.currency), "total": money(t.total_minor, &t.currency)}))
        .collect();
    let export_query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            query
                .echo()
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| {
                    v.as_str()
                        .filter(|s| !s.is_empty())
                        .map(|s| (k.clone(), s.to_string()))
                }),
        )
        .finish();
    let mut context = json!({
        "items": items, "next_cursor": page.next_cursor, "totals": totals,
        "q": query.echo(), "export_query": export_query,
        "statuses": Status::ALL.map(Status::as_str),
    });
    if let Some(notice) = notice(&req) {
        context["notice"] = json!(notice);
    }
    handlers::page(
        &req,
        &state,
        Some(&staff),
        "donations",
        "staff/donations/list.html",
        StatusCode::OK,
        context,
    )
}

pub async fn show_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let d = detail(&state, &staff, path.into_inner()).await?;
    let payments: Vec<_> = d
        .payments
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "receipt_number": p.receipt_number, "status": p.status,
                "amount": money(p.amount_minor, &p.currency),
                "refunded": (p.refunded_minor > 0).then(|| money(p.refunded_minor, &p.currency)),
                "paid_at": p.paid_at,
                "can_refund": d.donation.provider == "stripe" && p.status == Status::Paid,
                "method": p.method,
            })
        })
        .collect();
    let g = &d.donation;
    let mut context = json!({
        "d": g,
        "amount": money(g.amount_minor, &g.currency),
        "fee": money(g.fee_minor, &g.currency),
        "total": money(g.total_minor, &g.currency),
        "payments": payments,
        "can_mark_paid": can_mark_paid(&g.provider, &g.status, &g.frequency, g.recurring_status.as_deref()),
    });
    if let Some(notice) = notice(&req) {
        context["notice"] = json!(notice);
    }
    handlers::page(
        &req,
        &state,
        Some(&staff),
        "donations",
        "staff/donations/show.html",
        StatusCode::OK,
        context,
    )
}

/// A pledge, or an active monthly pledge already paid before (the next installment).
fn can_mark_paid(
    provider: &str,
    status: &Status,
    frequency: &Frequency,
    recurring: Option<&str>,
) -> bool {
    provider == "manual"
        && (*status == Status::Pledged
            || (*status == Status::Paid
                && *frequency == Frequency::Monthly
                && recurring == Some(RECURRING_ACTIVE)))
}

pub async fn mark_paid_page(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    mark_paid(&state, &staff, id.clone()).await?;
    Ok(ui::redirect_with_notice(
        &format!("/staff/donations/{id}"),
        "marked_paid",
    ))
}

pub async fn refund_page(
    state: web::Data<AppState>,
    data: web::Data<Donations>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let payment = refund(&state, &data, &staff, path.into_inner()).await?;
    Ok(ui::redirect_with_notice(
        &format!("/staff/donations/{}", payment.donation_id),
        "refunded",
    ))
}

pub async fn reports_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let reports = reports_data(&state, &query).await?;
    let view = |lines: &[ReportLine]| -> Vec<serde_json::Value> {
        lines
            .iter()
            .map(|l| json!({"key": l.key, "payments": l.payments, "amount": money(l.amount_minor, &l.currency)}))
            .collect()
    };
    handlers::page(
        &req,
        &state,
        Some(&staff),
        "donations",
        "staff/donations/reports.html",
        StatusCode::OK,
        json!({
            "by_month": view(&reports.by_month),
            "by_campaign": view(&reports.by_campaign),
            "by_article": view(&reports.by_article),
            "recurring_donors": reports.recurring_donors,
            "recurring": reports.recurring.iter().map(|r| json!({
                "donors": r.donors, "monthly": money(r.monthly_minor, &r.currency)
            })).collect::<Vec<_>>(),
            "from": query.from.clone().unwrap_or_default(),
            "to": query.to.clone().unwrap_or_default(),
        }),
    )
}

/// One donor's history as a page: totals, monthly standing, every gift and payment, with
/// buttons to send a receipt or a year's statement again.
pub async fn donor_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<DonorQuery>,
) -> Result<HttpResponse, AppError> {
    let view = donor(&state, &staff, &query).await?;
    let gifts: Vec<_> = view
        .gifts
        .iter()
        .map(|g| {
            json!({
                "id": g.donation.id,
                "created_at": g.donation.created_at,
                "total": money(g.donation.total_minor, &g.donation.currency),
                "frequency": g.donation.frequency,
                "status": g.donation.status,
                "recurring_status": g.donation.recurring_status,
                "paused_until": g.donation.paused_until.as_deref().map(|u| u.get(..10).unwrap_or(u)),
                "payments": g.payments.iter().map(|p| json!({
                    "id": p.id, "receipt_number": p.receipt_number, "paid_at": p.paid_at,
                    "amount": money(p.amount_minor, &p.currency), "method": p.method,
                    "refunded": (p.refunded_minor > 0).then(|| money(p.refunded_minor, &p.currency)),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut context = json!({
        "email": view.email,
        "lifetime": view.lifetime.iter().map(|t| json!({
            "payments": t.payments, "net": money(t.net_minor, &t.currency),
            "refunded": money(t.refunded_minor, &t.currency),
        })).collect::<Vec<_>>(),
        "first_gift_at": view.first_gift_at,
        "last_gift_at": view.last_gift_at,
        "monthly": view.active_monthly.iter().map(|d| money(d.total_minor, &d.currency)).collect::<Vec<_>>(),
        "gifts": gifts,
        "years": view.statement_years,
    });
    if let Some(notice) = notice(&req) {
        context["notice"] = json!(notice);
    }
    handlers::page(
        &req,
        &state,
        Some(&staff),
        "donations",
        "staff/donations/donor.html",
        StatusCode::OK,
        context,
    )
}

#[derive(Debug, Deserialize)]
pub struct StatementForm {
    email: String,
    year: i32,
}

pub async fn statement_again_page(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<StatementForm>,
) -> Result<HttpResponse, AppError> {
    let StatementForm { email, year } = form.into_inner();
    statement_again(&state, &staff, &email, year).await?;
    Ok(ui::redirect_with_notice(
        &format!("/staff/donors?email={}", urlencoding(&email)),
        "statement_sent",
    ))
}

pub async fn resend_receipt_page(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = resend_receipt(&state, &staff, path.into_inner()).await?;
    Ok(ui::redirect_with_notice(
        &format!("/staff/donations/{id}"),
        "receipt_sent",
    ))
}

fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
