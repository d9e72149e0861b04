//! The staff side of donations (role `fundraising`, and `admin`): the list with filters and
//! totals, one gift with its payments, CSV export, marking a pledge paid, refunding a
//! processor payment, and reports. Every change and every view or export of donors' data is
//! audited in the same transaction.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::EmailAddress;
use crate::error::AppError;
use crate::staff::audit::{self, Entry};
use crate::staff::{NavItem, Role, Staff, StaffRoutes};
use crate::web::pagination::{Page, PageRequest};

use super::model::{article_url, format_amount, plain_amount, Frequency, Status};
use super::payments::PaymentProvider;
use super::service::{self, Ctx};
use super::store::{self, CurrencyTotal, Donation, Filter, Payment};
use super::Donations;
use crate::web::csv;

const FUNDRAISING: &[Role] = &[Role::Fundraising];
/// Most rows in one CSV export.
const EXPORT_MAX: i64 = 100_000;

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

/// List filters, as query parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub frequency: Option<String>,
    /// `YYYY-MM-DD` (inclusive) or RFC 3339.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (inclusive) or RFC 3339 (exclusive).
    pub to: Option<String>,
    pub campaign: Option<String>,
    pub email: Option<String>,
    pub source_url: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A date bound: a day (`to` days are inclusive) or an RFC 3339 instant.
fn bound(value: &str, end: bool) -> Option<NaiveDateTime> {
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let day = if end { day.succ_opt()? } else { day };
        return day.and_hms_opt(0, 0, 0);
    }
    chrono::DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.naive_utc())
}

impl ListQuery {
    fn filter(&self, settings: &crate::config::Settings) -> Result<Filter, AppError> {
        let mut errors = Vec::new();
        let status = present(&self.status).and_then(|s| {
            Status::parse(s).or_else(|| {
                errors.push(crate::error::FieldError::new(
                    "status",
                    "Use pending, pledged, paid, failed, refunded or disputed.",
                ));
                None
            })
        });
        let frequency = present(&self.frequency).and_then(|f| {
            Frequency::parse(f)
                .map(|f| f.as_str().to_string())
                .or_else(|| {
                    errors.push(crate::error::FieldError::new(
                        "frequency",
                        "Use one_time or monthly.",
                    ));
                    None
                })
        });
        let mut date = |name: &str, v: &Option<String>, end: bool| {
            present(v).and_then(|s| {
                bound(s, end).or_else(|| {
                    errors.push(crate::error::FieldError::new(
                        name,
                        "Use a date like 2026-11-28.",
                    ));
                    None
                })
            })
        };
        let from = date("from", &self.from, false);
        let to = date("to", &self.to, true);
        let email = present(&self.email).and_then(|e| match EmailAddress::parse(e) {
            Ok(e) => Some(e.normalized()),
            Err(m) => {
                errors.push(crate::error::FieldError::new("email", m));
                None
            }
        });
        let source_url = present(&self.source_url).and_then(|u| {
            article_url(u, &settings.site.article_hosts)
                .map_err(|m| errors.push(crate::error::FieldError::new("source_url", m)))
                .ok()
        });
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Filter {
            status,
            frequency,
            from,
            to,
            campaign: present(&self.campaign).map(String::from),
            email,
            source_url,
        })
    }

    /// The filters as they go back into links (without the cursor).
    fn echo(&self) -> serde_json::Value {
        json!({
            "status": self.status.clone().unwrap_or_default(),
            "frequency": self.frequency.clone().unwrap_or_default(),
            "from": self.from.clone().unwrap_or_default(),
            "to": self.to.clone().unwrap_or_default(),
            "campaign": self.campaign.clone().unwrap_or_default(),
            "email": self.email.clone().unwrap_or_default(),
            "source_url": self.source_url.clone().unwrap_or_default(),
        })
    }
}

/// A gift as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffDonation {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    /// The donor asked not to be named publicly.
    pub anonymous: bool,
    pub status: String,
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub total_minor: i64,
    pub currency: String,
    pub frequency: String,
    pub recurring_status: Option<String>,
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
            created_at: d.created_at.and_utc().to_rfc3339(),
        }
    }
}

/// A payment (one-time, or one monthly installment) as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffPayment {
    pub id: String,
    pub receipt_number: String,
    pub status: String,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub paid_at: String,
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
            paid_at: p.paid_at.and_utc().to_rfc3339(),
        }
    }
}

/// One gift with its payments.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffDonationDetail {
    #[serde(flatten)]
    pub donation: StaffDonation,
    pub payments: Vec<StaffPayment>,
}

async fn list_data(
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
#[utoipa::path(get, path = "/api/v1/staff/donations", tag = "staff",
    params(("status" = Option<String>, Query), ("frequency" = Option<String>, Query),
           ("from" = Option<String>, Query, description = "YYYY-MM-DD or RFC 3339"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD (inclusive) or RFC 3339"),
           ("campaign" = Option<String>, Query), ("email" = Option<String>, Query),
           ("source_url" = Option<String>, Query),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, description = "`{items: [StaffDonation], next_cursor}`"), (status = 401), (status = 403), (status = 422)),
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
#[utoipa::path(get, path = "/api/v1/staff/donations.csv", tag = "staff",
    params(("status" = Option<String>, Query), ("from" = Option<String>, Query), ("to" = Option<String>, Query),
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
            d.created_at.and_utc().to_rfc3339(),
            d.email.clone(),
            o(&d.name),
            d.anonymous.to_string(),
            d.status.clone(),
            d.frequency.clone(),
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

async fn detail(
    state: &AppState,
    staff: &Staff,
    id: String,
) -> Result<StaffDonationDetail, AppError> {
    let actor = staff.actor();
    let (donation, payments) = state
        .db
        .write(move |conn| {
            let donation = store::find_donation(conn, &id)?;
            let payments = store::payments_for(conn, &id)?;
            audit::record(
                conn,
                &actor,
                Entry::new("donation.viewed").target("donation", &id),
            )?;
            Ok((donation, payments))
        })
        .await?;
    Ok(StaffDonationDetail {
        donation: donation.into(),
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

async fn mark_paid(state: &AppState, staff: &Staff, id: String) -> Result<Payment, AppError> {
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

async fn refund(
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
    if payment.status != "paid" {
        return Err(AppError::Conflict(format!(
            "This payment is {}; only a paid payment is refunded.",
            payment.status
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
            store::set_payment_status(conn, &id, "refunded", Some(payment.amount_minor))?;
            if donation.frequency == "one_time" {
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

/// Report filters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
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

async fn reports_data(state: &AppState, query: &ReportQuery) -> Result<Reports, AppError> {
    let mut errors = Vec::new();
    let mut date = |name: &str, v: &Option<String>, end: bool| {
        present(v).and_then(|s| {
            bound(s, end).or_else(|| {
                errors.push(crate::error::FieldError::new(
                    name,
                    "Use a date like 2026-11-28.",
                ));
                None
            })
        })
    };
    let from = date("from", &query.from, false);
    let to = date("to", &query.to, true);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
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

// ---- pages ----

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn done_notice(req: &HttpRequest) -> Option<&'static str> {
    let q = web::Query::<Done>::from_query(req.query_string()).ok()?;
    Some(match q.done.as_deref()? {
        "marked_paid" => "The pledge is marked paid; the receipt is on its way.",
        "refunded" => "The payment was refunded.",
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
            return crate::staff::handlers::page(
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
    if let Some(notice) = done_notice(&req) {
        context["notice"] = json!(notice);
    }
    crate::staff::handlers::page(
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
                "can_refund": d.donation.provider == "stripe" && p.status == "paid",
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
    if let Some(notice) = done_notice(&req) {
        context["notice"] = json!(notice);
    }
    crate::staff::handlers::page(
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
fn can_mark_paid(provider: &str, status: &str, frequency: &str, recurring: Option<&str>) -> bool {
    provider == "manual"
        && (status == "pledged"
            || (status == "paid" && frequency == "monthly" && recurring == Some("active")))
}

fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

pub async fn mark_paid_page(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    mark_paid(&state, &staff, id.clone()).await?;
    Ok(see_other(format!("/staff/donations/{id}?done=marked_paid")))
}

pub async fn refund_page(
    state: web::Data<AppState>,
    data: web::Data<Donations>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let payment = refund(&state, &data, &staff, path.into_inner()).await?;
    Ok(see_other(format!(
        "/staff/donations/{}?done=refunded",
        payment.donation_id
    )))
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
    crate::staff::handlers::page(
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
