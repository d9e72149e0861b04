//! The donor's own pages, opened from an emailed, expiring link (an opaque token, see
//! [`super::token`]): their gifts, cancelling a monthly gift, and a yearly statement
//! (printable HTML, or CSV). The link is the only key: no account, no cookie. Also the page
//! the processor's checkout returns to.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::json;

use crate::donations::model::Frequency;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::page::{self, render};

use super::model::{
    currency_and_amount, parse_major, plain_amount, RECURRING_ACTIVE, RECURRING_CANCELLED,
};
use super::payments::PaymentProvider;
use super::store::{self, Donation, Payment};
use super::token;
use super::Donations;
use crate::web::csv;

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    pub(super) token: Option<String>,
    cancelled: Option<String>,
    changed: Option<String>,
    paused: Option<String>,
    resumed: Option<String>,
    language: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct StatementQuery {
    token: Option<String>,
    year: Option<i32>,
    format: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    pub(super) donation_id: String,
}

#[derive(Debug, Deserialize)]
pub struct AmountForm {
    donation_id: String,
    /// In the gift's currency, as typed (`20`, `20.50`).
    amount: String,
}

/// The "link expired" page (also for a link used up or revoked).
fn link_expired(state: &AppState, req: &HttpRequest) -> Box<HttpResponse> {
    render(
        &state.templates,
        &state.settings,
        StatusCode::NOT_FOUND,
        "pages/donations/link_expired.html",
        json!({ "lang": page::lang(req, None) }),
    )
    .unwrap_or_else(|e| actix_web::ResponseError::error_response(&e))
    .into()
}

/// The address a link opens, or the "link expired" page.
pub(super) async fn donor(
    state: &AppState,
    req: &HttpRequest,
    token: Option<&str>,
) -> Result<String, Box<HttpResponse>> {
    let Some(token) = token.map(str::to_string) else {
        return Err(link_expired(state, req));
    };
    let found = state
        .db
        .run(move |conn| Ok(token::donor_of(conn, &token, crate::db::now())?))
        .await;
    match found {
        Ok(Some(email)) => Ok(email),
        Ok(None) => Err(link_expired(state, req)),
        Err(e) => Err(Box::new(actix_web::ResponseError::error_response(&e))),
    }
}

/// The fiscal year (named by the calendar year it starts in) that `at` falls in.
pub fn fiscal_year_of(at: NaiveDateTime, start_month: u32) -> i32 {
    if at.month() >= start_month {
        at.year()
    } else {
        at.year() - 1
    }
}

/// `[start, end)` of fiscal year `year`.
pub fn fiscal_year_range(year: i32, start_month: u32) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let start = NaiveDate::from_ymd_opt(year, start_month, 1)?.and_hms_opt(0, 0, 0)?;
    let end = NaiveDate::from_ymd_opt(year + 1, start_month, 1)?.and_hms_opt(0, 0, 0)?;
    Some((start, end))
}

pub fn year_label(year: i32, start_month: u32) -> String {
    if start_month == 1 {
        year.to_string()
    } else {
        format!("{year}/{:02}", (year + 1) % 100)
    }
}

fn gift_view(
    d: &Donation,
    paused_until: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> serde_json::Value {
    let active = d.frequency == Frequency::Monthly
        && d.recurring_status.as_deref() == Some(RECURRING_ACTIVE)
        && matches!(d.status.as_str(), "paid" | "pledged" | "pending");
    let paused = super::pause::is_paused(paused_until, now);
    json!({
        "id": d.id,
        "date": d.created_at.format("%Y-%m-%d").to_string(),
        "amount_minor": d.total_minor,
        "currency": d.currency,
        "monthly": d.frequency == Frequency::Monthly,
        "status": d.status,
        "recurring_status": d.recurring_status,
        "cancellable": active,
        // Paused until this day (a pause with no end chosen at the processor has none).
        "paused_until": paused_until.filter(|_| paused).map(|u| {
            if u.year() >= 9999 { String::new() } else { u.format("%Y-%m-%d").to_string() }
        }),
        "pausable": active && !paused,
        "max_pause_months": super::pause::MAX_PAUSE_MONTHS,
        // A monthly gift at the processor has a card the donor can update.
        "card": d.frequency == Frequency::Monthly
            && d.recurring_status.as_deref() == Some(RECURRING_ACTIVE)
            && d.provider_customer_id.is_some(),
    })
}

/// The donor's gifts, with a cancel button for active monthly gifts and statement links.
pub async fn manage_page(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let email = match donor(&state, &req, query.token.as_deref()).await {
        Ok(e) => e,
        Err(page) => return Ok(*page),
    };
    let lookup = email.clone();
    let (gifts, payments, pauses, stored) = state
        .db
        .run(move |conn| {
            let gifts = store::donations_for_email(conn, &lookup)?;
            let payments = all_payments(conn, &lookup)?;
            let ids: Vec<String> = gifts.iter().map(|g| g.id.clone()).collect();
            let pauses = store::pauses(conn, &ids)?;
            let stored = store::donor_lang(conn, &lookup)?;
            Ok((gifts, payments, pauses, stored))
        })
        .await?;
    let now = crate::db::now();
    let start_month = state.settings.donations.fiscal_year_start_month;
    let mut years: Vec<i32> = payments
        .iter()
        .map(|(p, _)| fiscal_year_of(p.paid_at, start_month))
        .collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    let years: Vec<_> = years
        .into_iter()
        .map(|y| json!({"year": y, "label": year_label(y, start_month)}))
        .collect();
    let mut response = render(
        &state.templates,
        &state.settings,
        StatusCode::OK,
        "pages/donations/manage.html",
        json!({
            "email": email,
            "token": query.token,
            "gifts": gifts
                .iter()
                .map(|g| gift_view(g, pauses.get(&g.id).copied(), now))
                .collect::<Vec<_>>(),
            "years": years,
            "cancelled": query.cancelled.is_some(),
            "changed": query.changed.is_some(),
            "paused": query.paused.is_some(),
            "resumed": query.resumed.is_some(),
            "language_changed": query.language.is_some(),
            "lang": page::lang(&req, stored.as_deref()),
            "languages": page::language_choices(&state.templates, &state.languages),
        }),
    )?;
    private(&mut response);
    Ok(response)
}

fn all_payments(
    conn: &mut crate::db::DbConnection,
    email: &str,
) -> Result<Vec<(Payment, Donation)>, AppError> {
    let from = NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(9999, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    Ok(store::payments_for_email_between(conn, email, from, to)?)
}

/// Pages for one donor: never cached, never sent on as a referrer (the link is the key).
fn private(response: &mut HttpResponse) {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
}

/// Cancels a monthly gift at the end of the period already paid (through the processor for
/// `stripe` gifts), then shows the gifts again. The link is used up: the page shown after
/// carries a fresh one (so the link in the email, or in a log, no longer opens anything).
pub async fn cancel(
    state: web::Data<AppState>,
    data: web::Data<Donations>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
    form: web::Form<CancelForm>,
) -> Result<HttpResponse, AppError> {
    let email = match donor(&state, &req, query.token.as_deref()).await {
        Ok(e) => e,
        Err(page) => return Ok(*page),
    };
    let id = form.into_inner().donation_id;
    let lookup = id.clone();
    let donation = state
        .db
        .run(move |conn| Ok(store::find_donation(conn, &lookup)?))
        .await?;
    if donation.email_normalized != email || donation.frequency != Frequency::Monthly {
        return Err(AppError::NotFound);
    }
    let active = donation.recurring_status.as_deref() == Some(RECURRING_ACTIVE);
    if active {
        data.payments
            .named(&donation.provider)?
            .cancel_recurring(&donation)
            .await?;
    }
    // The cancellation uses the link up; the page it returns to carries a fresh one.
    let used = query.token.clone().unwrap_or_default();
    let hours = state.settings.donations.manage_link_hours;
    let fresh = state
        .db
        .write(move |conn| {
            let now = crate::db::now();
            if active {
                store::set_recurring_status(conn, &id, RECURRING_CANCELLED)?;
                // The donor chose to stop: no reminder about a failed payment after this.
                super::recovery::close(conn, &id, super::recovery::RecoveryState::Lost, 0, now)?;
            }
            match token::use_up(conn, &used, now)? {
                Some(owner) if owner == email => Ok(Some(token::issue(conn, &email, now, hours)?)),
                // A concurrent request used or revoked the link first.
                _ => Ok(None),
            }
        })
        .await?;
    if active {
        tracing::info!(donation = %donation.id, "monthly gift cancelled by the donor");
    }
    let Some(fresh) = fresh else {
        return Ok(*link_expired(&state, &req));
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/donations/manage?token={fresh}&cancelled=1"),
        ))
        .finish())
}

/// The donor changes an active monthly gift's amount, from the next payment on (at the
/// processor first, then here). Within `donations.currencies`' bounds; 422 naming `amount`
/// otherwise. The link stays usable.
pub async fn change_amount(
    state: web::Data<AppState>,
    data: web::Data<Donations>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
    form: web::Form<AmountForm>,
) -> Result<HttpResponse, AppError> {
    let token = query.token.clone().unwrap_or_default();
    let email = match donor(&state, &req, Some(&token)).await {
        Ok(e) => e,
        Err(page) => return Ok(*page),
    };
    let AmountForm {
        donation_id,
        amount,
    } = form.into_inner();
    let lookup = donation_id.clone();
    let donation = state
        .db
        .run(move |conn| Ok(store::find_donation(conn, &lookup)?))
        .await?;
    let active = donation.recurring_status.as_deref() == Some(RECURRING_ACTIVE);
    if donation.email_normalized != email || donation.frequency != Frequency::Monthly || !active {
        return Err(AppError::NotFound);
    }
    let mut errors = Vec::new();
    let total = parse_major(&amount, &donation.currency);
    match total {
        Some(total) => {
            currency_and_amount(
                &mut errors,
                &state.settings,
                &donation.currency,
                total,
                true,
            );
        }
        None => errors.push(crate::error::FieldError::new(
            "amount",
            "Give an amount like 20 or 20.50.",
        )),
    }
    let Some(total) = total.filter(|_| errors.is_empty()) else {
        for e in &mut errors {
            e.field = "amount".into();
        }
        return Err(AppError::Validation(errors));
    };
    data.payments
        .named(&donation.provider)?
        .change_amount(&donation, total)
        .await?;
    state
        .db
        .write(move |conn| {
            store::set_amount(conn, &donation_id, total)?;
            // A late event from before this change must not undo it.
            Ok(store::set_subscription_synced(
                conn,
                &donation_id,
                super::pause::whole_second(crate::db::now()),
            )?)
        })
        .await?;
    tracing::info!(donation = %donation.id, "monthly amount changed by the donor");
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/donations/manage?token={token}&changed=1"),
        ))
        .finish())
}

#[derive(Debug, Deserialize)]
pub struct CardQuery {
    pub token: Option<String>,
    pub donation: Option<String>,
}

/// The one-step card link of the failed-payment emails (and the donor page's "Update card"):
/// checks the link and that the gift is the donor's monthly gift, then sends the donor to the
/// processor's page for updating the card, which returns to their donations. A gift without
/// a card at the processor goes to the donor page. The link stays usable (nothing changes
/// here; the processor's page does the change).
pub async fn card(
    state: web::Data<AppState>,
    data: web::Data<Donations>,
    query: web::Query<CardQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let token = query.token.clone().unwrap_or_default();
    let email = match donor(&state, &req, Some(&token)).await {
        Ok(e) => e,
        Err(page) => return Ok(*page),
    };
    let id = query.donation.clone().unwrap_or_default();
    let donation = state
        .db
        .run(move |conn| Ok(store::find_donation(conn, &id)?))
        .await?;
    if donation.email_normalized != email || donation.frequency != Frequency::Monthly {
        return Err(AppError::NotFound);
    }
    let back = format!(
        "{}/donations/manage?token={token}",
        state
            .settings
            .server
            .public_url
            .as_str()
            .trim_end_matches('/')
    );
    let page = data
        .payments
        .named(&donation.provider)?
        .card_page(&donation, &back)
        .await?;
    tracing::info!(donation = %donation.id, "donor sent to update their card");
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, page.unwrap_or(back)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// Every gift received in one fiscal year: a printable page, or CSV with `format=csv`.
pub async fn statement(
    state: web::Data<AppState>,
    query: web::Query<StatementQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let email = match donor(&state, &req, query.token.as_deref()).await {
        Ok(e) => e,
        Err(page) => return Ok(*page),
    };
    let start_month = state.settings.donations.fiscal_year_start_month;
    let year = query
        .year
        .unwrap_or_else(|| fiscal_year_of(crate::db::now(), start_month));
    let (from, to) = fiscal_year_range(year, start_month)
        .filter(|_| (1970..=9998).contains(&year))
        .ok_or_else(|| AppError::field("year", "Choose a year from the list."))?;
    let lookup = email.clone();
    let (rows, stored) = state
        .db
        .run(move |conn| {
            Ok((
                store::payments_for_email_between(conn, &lookup, from, to)?,
                store::donor_lang(conn, &lookup)?,
            ))
        })
        .await?;
    let mut totals: std::collections::BTreeMap<String, i64> = Default::default();
    for (p, _) in &rows {
        *totals.entry(p.currency.clone()).or_default() += p.amount_minor - p.refunded_minor;
    }
    let label = year_label(year, start_month);
    if query.format.as_deref() == Some("csv") {
        let mut out = csv::row(&[
            "receipt_number",
            "date",
            "amount",
            "refunded",
            "currency",
            "frequency",
            "status",
        ]);
        for (p, d) in &rows {
            out.push_str(&csv::row(&[
                p.receipt_number.clone(),
                p.paid_at.format("%Y-%m-%d").to_string(),
                plain_amount(p.amount_minor, &p.currency),
                plain_amount(p.refunded_minor, &p.currency),
                p.currency.clone(),
                d.frequency.as_str().into(),
                p.status.as_str().into(),
            ]));
        }
        let mut response = HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"donations-{}.csv\"",
                    label.replace('/', "-")
                ),
            ))
            .body(out);
        private(&mut response);
        return Ok(response);
    }
    let site = &state.settings.site;
    let mut response = render(
        &state.templates,
        &state.settings,
        StatusCode::OK,
        "pages/donations/statement.html",
        json!({
            "label": label,
            "email": email,
            "legal_name": site.legal_name,
            "tax_id": site.tax_id,
            "no_goods_or_services": state.settings.donations.no_goods_or_services,
            "from": from.format("%Y-%m-%d").to_string(),
            "to": (to - chrono::TimeDelta::days(1)).format("%Y-%m-%d").to_string(),
            "payments": rows.iter().map(|(p, d)| json!({
                "receipt_number": p.receipt_number,
                "date": p.paid_at.format("%Y-%m-%d").to_string(),
                "amount_minor": p.amount_minor,
                "currency": p.currency,
                "refunded_minor": (p.refunded_minor > 0).then_some(p.refunded_minor),
                "monthly": d.frequency == Frequency::Monthly,
                "status": p.status,
            })).collect::<Vec<_>>(),
            "totals": totals.iter().map(|(c, t)| json!({"currency": c, "minor": t})).collect::<Vec<_>>(),
            "lang": page::lang(&req, stored.as_deref()),
        }),
    )?;
    private(&mut response);
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct ThanksQuery {
    donation: Option<String>,
    cancelled: Option<String>,
}

/// Where the processor's checkout returns the donor.
pub async fn thanks(
    state: web::Data<AppState>,
    query: web::Query<ThanksQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let found = match query.donation.clone() {
        Some(id) => {
            state
                .db
                .run(move |conn| match store::find_donation(conn, &id) {
                    Ok(d) => Ok(Some(d)),
                    Err(diesel::result::Error::NotFound) => Ok(None),
                    Err(e) => Err(e.into()),
                })
                .await?
        }
        None => None,
    };
    render(
        &state.templates,
        &state.settings,
        StatusCode::OK,
        "pages/donations/thanks.html",
        json!({
            "found": found.is_some(),
            "cancelled": query.cancelled.is_some(),
            "amount_minor": found.as_ref().map(|d| d.total_minor),
            "currency": found.as_ref().map(|d| d.currency.as_str()),
            "monthly": found.as_ref().is_some_and(|d| d.frequency == Frequency::Monthly),
            "lang": page::lang(&req, found.as_ref().and_then(|d| d.lang.as_deref())),
        }),
    )
}

/// `POST /donations/manage/language?token=T`: the donor page's language form. Stores the
/// language with every gift of the address (every later donor email follows it) and answers
/// 303 back to the donor page; an unoffered tag is a 422 problem naming `lang`. The link
/// stays usable, as for changing the amount.
#[utoipa::path(post, path = "/donations/manage/language", tag = "donations", operation_id = "change_donor_language",
    params(("token" = String, Query, description = "the donor link's token")),
    request_body(content = page::LanguageForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Stored with every gift of the address; back to the donor page (`Location`), which says so"),
        (status = 404, description = "No token, or an unknown or expired one: the page's own \"link not valid\" page", content_type = "text/html", body = String),
        (status = 422, description = "`lang` is not an offered language", body = crate::error::Problem),
    ))]
pub async fn change_language(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
    form: web::Form<page::LanguageForm>,
) -> Result<HttpResponse, AppError> {
    let token = query.token.clone().unwrap_or_default();
    let email = match donor(&state, &req, Some(&token)).await {
        Ok(e) => e,
        Err(page) => return Ok(*page),
    };
    let lang = page::offered_lang(&state.languages, form.lang.as_deref())?;
    let tag = lang.to_string();
    state
        .db
        .write(move |conn| Ok(store::set_donor_lang(conn, &email, &tag)?))
        .await?;
    tracing::info!(lang = %lang, "donor changed their language");
    Ok(page::language_saved("/donations/manage", &token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("date")
    }

    #[test]
    fn fiscal_years_start_in_the_configured_month() {
        assert_eq!(fiscal_year_of(at(2026, 1, 1), 1), 2026);
        assert_eq!(fiscal_year_of(at(2026, 6, 30), 7), 2025);
        assert_eq!(fiscal_year_of(at(2026, 7, 1), 7), 2026);
        let (from, to) = fiscal_year_range(2025, 7).expect("range");
        assert_eq!(from, at(2025, 7, 1) - chrono::TimeDelta::hours(12));
        assert_eq!(to, at(2026, 7, 1) - chrono::TimeDelta::hours(12));
        assert_eq!(year_label(2025, 7), "2025/26");
        assert_eq!(year_label(2025, 1), "2025");
    }
}
