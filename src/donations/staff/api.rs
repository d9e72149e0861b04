//! The work behind the staff side of donations, each piece audited in the same transaction,
//! and the JSON API over it (the pages in `pages` call the same functions).

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::donations::model::Frequency;
use crate::error::AppError;
use crate::staff::audit::{self, Entry};
use crate::staff::{ui, Staff};
use crate::state::AppState;
use crate::web::csv;
use crate::web::pagination::{Page, PageRequest};

use super::super::accounting;
use super::super::model::{plain_amount, Status};
use super::super::payments::PaymentProvider;
use super::super::service::{self, Ctx};
use super::super::store::{self, CurrencyTotal, Payment};
use super::super::Donations;
use super::{
    ListQuery, RecurringRevenue, ReportLine, ReportQuery, Reports, StaffDonation,
    StaffDonationDetail, StaffPayment,
};

/// Most rows in one CSV export.
const EXPORT_MAX: i64 = 100_000;

pub(super) async fn list_data(
    state: &AppState,
    staff: &Staff,
    query: &ListQuery,
    with_totals: bool,
) -> Result<(Page<StaffDonation>, Vec<CurrencyTotal>), AppError> {
    let request = PageRequest::parse(query.cursor.as_deref(), query.limit)?;
    let filter = query.filter(&state.settings)?;
    let actor = staff.actor();
    let details = query.echo();
    let (cursor, fetch) = (request.cursor.clone(), request.fetch());
    let (rows, totals) = state
        .db
        .write(move |conn| {
            let rows = store::list(conn, &filter, cursor.as_deref(), fetch)?;
            let totals = if with_totals {
                store::totals(conn, &filter)?
            } else {
                Vec::new()
            };
            audit::record(
                conn,
                &actor,
                Entry::new("donation.list_viewed").details(details),
            )?;
            Ok((rows, totals))
        })
        .await?;
    let items = rows.into_iter().map(StaffDonation::from).collect();
    Ok((Page::from_rows(items, &request, |d| d.id.clone()), totals))
}

/// Gifts, newest first, with filters.
#[utoipa::path(get, path = "/api/v1/staff/donations", operation_id = "list_donations", tag = "staff",
    params(("status" = Option<Status>, Query), ("frequency" = Option<super::super::model::Frequency>, Query),
           ("from" = Option<String>, Query, description = "YYYY-MM-DD or RFC 3339"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD (inclusive) or RFC 3339"),
           ("campaign" = Option<String>, Query), ("email" = Option<String>, Query),
           ("source_url" = Option<String>, Query, description = "an article on one of `site.article_hosts`"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, body = Page<StaffDonation>), (status = 422, description = "A filter, `limit` or `cursor` this list does not take")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let (page, _) = list_data(&state, &staff, &query, false).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The filtered gifts as CSV (cells that a spreadsheet would run as formulas are escaped).
#[utoipa::path(get, path = "/api/v1/staff/donations.csv", operation_id = "export_donations_csv", tag = "staff",
    params(("status" = Option<Status>, Query), ("from" = Option<String>, Query), ("to" = Option<String>, Query),
           ("campaign" = Option<String>, Query), ("email" = Option<String>, Query)),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn export_csv(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query.filter(&state.settings)?;
    let actor = staff.actor();
    let details = query.echo();
    let rows = state
        .db
        .write(move |conn| {
            let rows = store::export(conn, &filter, EXPORT_MAX)?;
            let mut details = details;
            details["rows"] = json!(rows.len());
            audit::record(
                conn,
                &actor,
                Entry::new("donation.exported").details(details),
            )?;
            Ok(rows)
        })
        .await?;
    let mut out = csv::row(&[
        "id",
        "created_at",
        "email",
        "name",
        "anonymous",
        "status",
        "frequency",
        "recurring_status",
        "amount",
        "fee",
        "total",
        "currency",
        "provider",
        "campaign",
        "source_url",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "dedication_kind",
        "dedication_name",
        "message",
        "newsletter_opt_in",
    ]);
    for d in rows {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        out.push_str(&csv::row(&[
            d.id.clone(),
            ui::rfc3339(d.created_at),
            d.email.clone(),
            o(&d.name),
            d.anonymous.to_string(),
            d.status.as_str().into(),
            d.frequency.as_str().into(),
            o(&d.recurring_status),
            plain_amount(d.amount_minor, &d.currency),
            plain_amount(d.fee_minor, &d.currency),
            plain_amount(d.total_minor, &d.currency),
            d.currency.clone(),
            d.provider.clone(),
            o(&d.campaign),
            o(&d.source_url),
            o(&d.utm_source),
            o(&d.utm_medium),
            o(&d.utm_campaign),
            o(&d.utm_term),
            o(&d.utm_content),
            o(&d.dedication_kind),
            o(&d.dedication_name),
            o(&d.message),
            d.newsletter_opt_in.to_string(),
        ]));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"donations.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}

pub(super) async fn detail(
    state: &AppState,
    staff: &Staff,
    id: String,
) -> Result<StaffDonationDetail, AppError> {
    let actor = staff.actor();
    let (donation, payments, subscription) = state
        .db
        .write(move |conn| {
            let donation = store::find_donation(conn, &id)?;
            let payments = store::payments_for(conn, &id)?;
            let subscription = store::subscription_state(conn, &id)?;
            audit::record(
                conn,
                &actor,
                Entry::new("donation.viewed").target("donation", &id),
            )?;
            Ok((donation, payments, subscription))
        })
        .await?;
    Ok(StaffDonationDetail {
        donation: StaffDonation::from(donation).paused(subscription.paused_until),
        payments: payments.into_iter().map(StaffPayment::from).collect(),
    })
}

/// One gift with its payments (each monthly installment is one).
#[utoipa::path(get, path = "/api/v1/staff/donations/{id}", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, body = StaffDonationDetail), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn show_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(detail(&state, &staff, path.into_inner()).await?))
}

pub(super) async fn mark_paid(
    state: &AppState,
    staff: &Staff,
    id: String,
) -> Result<Payment, AppError> {
    let ctx = Ctx::from_state(state);
    let actor = staff.actor();
    let payment = state
        .db
        .write(move |conn| service::mark_paid(conn, &ctx, &actor, &id))
        .await?;
    state.mailer.wake();
    Ok(payment)
}

/// The money of a pledge (manual provider) arrived: the gift is paid, one payment is stored
/// and its receipt sent. A second call: 409, nothing changes.
#[utoipa::path(post, path = "/api/v1/staff/donations/{id}/mark-paid", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, body = StaffPayment), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "not a pledge, or already paid")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn mark_paid_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let payment = mark_paid(&state, &staff, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(StaffPayment::from(payment)))
}

pub(super) async fn refund(
    state: &AppState,
    data: &Donations,
    staff: &Staff,
    id: String,
) -> Result<Payment, AppError> {
    let lookup = id.clone();
    let (payment, donation) = state
        .db
        .run(move |conn| {
            let payment = store::find_payment(conn, &lookup)?;
            let donation = store::find_donation(conn, &payment.donation_id)?;
            Ok((payment, donation))
        })
        .await?;
    if payment.status != Status::Paid {
        return Err(AppError::Conflict(format!(
            "This payment is {}; only a paid payment is refunded.",
            payment.status.as_str()
        )));
    }
    let refund_id = data
        .payments
        .named(&donation.provider)?
        .refund(&payment)
        .await?;
    let actor = staff.actor();
    let payment = state
        .db
        .write(move |conn| {
            store::set_payment_status(conn, &id, Status::Refunded)?;
            accounting::set_refunded(conn, &payment, payment.amount_minor, crate::db::now())?;
            if donation.frequency == Frequency::OneTime {
                store::transition(
                    conn,
                    &donation.id,
                    &[Status::Paid, Status::Disputed],
                    Status::Refunded,
                )?;
            }
            audit::record(
                conn,
                &actor,
                Entry::new("donation.refunded")
                    .target("donation", &donation.id)
                    .details(json!({
                        "payment_id": id,
                        "refund_id": refund_id,
                        "amount_minor": payment.amount_minor,
                        "currency": payment.currency,
                    })),
            )?;
            Ok(store::find_payment(conn, &id)?)
        })
        .await?;
    Ok(payment)
}

/// Refunds a processor payment in full (idempotent at the processor: the key is derived from
/// the payment id, so a repeated click refunds once).
#[utoipa::path(post, path = "/api/v1/staff/donation-payments/{id}/refund", tag = "staff",
    params(("id" = String, Path, description = "a payment id")),
    responses((status = 200, body = StaffPayment), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "not paid, or a pledge paid outside the processor")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn refund_json(
    state: web::Data<AppState>,
    data: web::Data<Donations>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let payment = refund(&state, &data, &staff, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(StaffPayment::from(payment)))
}

pub(super) async fn reports_data(
    state: &AppState,
    query: &ReportQuery,
) -> Result<Reports, AppError> {
    let (from, to) = query.range()?;
    let (payments, recurring) = state
        .db
        .run(move |conn| {
            Ok((
                store::report_payments(conn, from, to)?,
                store::active_recurring(conn)?,
            ))
        })
        .await?;
    type Key = (Option<String>, String);
    fn add(map: &mut BTreeMap<Key, (i64, i64)>, key: Option<String>, currency: &str, net: i64) {
        let e = map.entry((key, currency.to_string())).or_default();
        e.0 += 1;
        e.1 += net;
    }
    let (mut months, mut campaigns, mut articles) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for p in &payments {
        let net = p.amount_minor - p.refunded_minor;
        add(
            &mut months,
            Some(p.paid_at.format("%Y-%m").to_string()),
            &p.currency,
            net,
        );
        add(&mut campaigns, p.campaign.clone(), &p.currency, net);
        add(&mut articles, p.source_url.clone(), &p.currency, net);
    }
    let lines = |map: BTreeMap<Key, (i64, i64)>, biggest_first: bool| {
        let mut v: Vec<ReportLine> = map
            .into_iter()
            .map(|((key, currency), (payments, amount_minor))| ReportLine {
                key,
                currency,
                payments,
                amount_minor,
            })
            .collect();
        if biggest_first {
            v.sort_by_key(|l| std::cmp::Reverse(l.amount_minor));
        }
        v
    };
    let mut revenue: BTreeMap<String, (BTreeSet<String>, i64)> = BTreeMap::new();
    let mut donors = BTreeSet::new();
    for (email, currency, total) in recurring {
        let e = revenue.entry(currency).or_default();
        e.0.insert(email.clone());
        e.1 += total;
        donors.insert(email);
    }
    Ok(Reports {
        by_month: lines(months, false),
        by_campaign: lines(campaigns, true),
        by_article: lines(articles, true),
        recurring_donors: donors.len() as i64,
        recurring: revenue
            .into_iter()
            .map(|(currency, (d, monthly_minor))| RecurringRevenue {
                currency,
                donors: d.len() as i64,
                monthly_minor,
            })
            .collect(),
    })
}

/// Money received by month, campaign and article ("this investigation raised $X"), and
/// recurring donors with their monthly revenue. No personal data.
#[utoipa::path(get, path = "/api/v1/staff/donations/reports", tag = "staff",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = Reports), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn reports_json(
    state: web::Data<AppState>,
    _staff: Staff,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(reports_data(&state, &query).await?))
}
