//! Pausing a monthly gift from the donor's page: for one to three months (at the processor
//! first, with `pause_collection`, then here), or resuming it early. A paused gift stays
//! active: it resumes by itself when the pause ends, and the donor can still change its
//! amount or cancel it meanwhile. With the manual provider a pause means no reminder to
//! transfer until it ends.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Months, NaiveDateTime, Timelike};
use serde::Deserialize;

use crate::error::AppError;
use crate::state::AppState;

use super::donor::{donor, CancelForm, TokenQuery};
use super::model::{Frequency, RECURRING_ACTIVE};
use super::payments::PaymentProvider;
use super::store::{self, Donation};
use super::Donations;

/// The longest pause a donor can choose on their page.
pub const MAX_PAUSE_MONTHS: u32 = 3;

/// Whether a pause is on at `now` (a pause that has run out is over).
pub fn is_paused(paused_until: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    paused_until.is_some_and(|until| until > now)
}

/// The pause's end for `months` chosen on the page: a whole number from 1 to
/// [`MAX_PAUSE_MONTHS`].
pub fn pause_end(months: &str, now: NaiveDateTime) -> Result<NaiveDateTime, AppError> {
    months
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|m| (1..=MAX_PAUSE_MONTHS).contains(m))
        .and_then(|m| now.checked_add_months(Months::new(m)))
        .ok_or_else(|| {
            AppError::field(
                "months",
                format!("Choose a pause of 1 to {MAX_PAUSE_MONTHS} months."),
            )
        })
}

/// `now` to the whole second: the processor's events carry whole seconds, and one from the
/// same second as a change made here describes that change.
pub fn whole_second(now: NaiveDateTime) -> NaiveDateTime {
    now.with_nanosecond(0).unwrap_or(now)
}

#[derive(Debug, Deserialize)]
pub struct PauseForm {
    donation_id: String,
    months: String,
}

/// The donor's active monthly gift named by the form, or 404 (someone else's, one-time or
/// cancelled gifts are not theirs to pause).
async fn own_active_gift(state: &AppState, email: &str, id: String) -> Result<Donation, AppError> {
    let donation = state
        .db
        .run(move |conn| Ok(store::find_donation(conn, &id)?))
        .await?;
    let active = donation.recurring_status.as_deref() == Some(RECURRING_ACTIVE);
    if donation.email_normalized != email || donation.frequency != Frequency::Monthly || !active {
        return Err(AppError::NotFound);
    }
    Ok(donation)
}

/// Back to the donor's page with a notice; the link stays usable.
fn back(token: &str, notice: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/donations/manage?token={token}&{notice}=1"),
        ))
        .finish()
}

/// Pauses an active monthly gift for the months chosen (422 naming `months` otherwise).
pub async fn pause(
    state: web::Data<AppState>,
    data: web::Data<Donations>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
    form: web::Form<PauseForm>,
) -> Result<HttpResponse, AppError> {
    let token = query.token.clone().unwrap_or_default();
    let email = match donor(&state, &req, Some(&token)).await {
        Ok(e) => e,
        Err(page) => return Ok(*page),
    };
    let PauseForm {
        donation_id,
        months,
    } = form.into_inner();
    let donation = own_active_gift(&state, &email, donation_id).await?;
    let until = pause_end(&months, crate::db::now())?;
    data.payments
        .named(&donation.provider)?
        .pause(&donation, Some(until))
        .await?;
    let id = donation.id.clone();
    state
        .db
        .write(move |conn| {
            store::set_paused(conn, &id, Some(until))?;
            Ok(store::set_subscription_synced(
                conn,
                &id,
                whole_second(crate::db::now()),
            )?)
        })
        .await?;
    tracing::info!(donation = %donation.id, %until, "monthly gift paused by the donor");
    Ok(back(&token, "paused"))
}

/// Resumes a paused monthly gift now.
pub async fn resume(
    state: web::Data<AppState>,
    data: web::Data<Donations>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
    form: web::Form<CancelForm>,
) -> Result<HttpResponse, AppError> {
    let token = query.token.clone().unwrap_or_default();
    let email = match donor(&state, &req, Some(&token)).await {
        Ok(e) => e,
        Err(page) => return Ok(*page),
    };
    let donation = own_active_gift(&state, &email, form.into_inner().donation_id).await?;
    let id = donation.id.clone();
    let current = state
        .db
        .run(move |conn| Ok(store::subscription_state(conn, &id)?))
        .await?;
    if !is_paused(current.paused_until, crate::db::now()) {
        return Err(AppError::Conflict(
            "This monthly gift is not paused.".into(),
        ));
    }
    data.payments
        .named(&donation.provider)?
        .pause(&donation, None)
        .await?;
    let id = donation.id.clone();
    state
        .db
        .write(move |conn| {
            store::set_paused(conn, &id, None)?;
            Ok(store::set_subscription_synced(
                conn,
                &id,
                whole_second(crate::db::now()),
            )?)
        })
        .await?;
    tracing::info!(donation = %donation.id, "monthly gift resumed by the donor");
    Ok(back(&token, "resumed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time")
    }

    #[test]
    fn a_pause_lasts_whole_months_within_the_limit() {
        let now = at("2026-01-31 10:00");
        assert_eq!(pause_end("1", now).ok(), Some(at("2026-02-28 10:00")));
        assert_eq!(pause_end(" 3 ", now).ok(), Some(at("2026-04-30 10:00")));
        for bad in ["0", "4", "-1", "1.5", "", "two"] {
            assert!(pause_end(bad, now).is_err(), "{bad:?} accepted");
        }
    }
}
