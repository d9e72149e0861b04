//! Stripe events, applied once each. The event id goes into the ledger in the same
//! transaction as the event's effects, so a replay (Stripe retries for days, in any order)
//! finds it and changes nothing. Every event names its gift through metadata that Frontdesk
//! put on the session, payment intent and subscription, so events that overtake each other
//! still find their gift.

use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;

use crate::db::DbConnection;
use crate::donations::model::Frequency;
use crate::error::{AppError, FieldError};
use crate::mail::outbox;

use super::accounting;
use super::model::{AdjustmentKind, PaymentMethod, Status, RECURRING_CANCELLED};
use super::recovery::{self, RecoveryState};
use super::service::{self, Ctx, PaymentSpec};
use super::store::{self, Donation};

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Seen before: nothing changed.
    Duplicate,
    /// Not a kind we handle, or not about one of our gifts.
    Ignored,
    /// About one of our gifts, but what it refers to is not stored yet (an event that overtook
    /// the one creating it): not recorded, answered with an error so Stripe retries later.
    Retry,
}

/// A parsed event: `{"id", "type", "created", "data": {"object": {…}}}`.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub kind: String,
    pub created: Option<i64>,
    pub object: Value,
}

impl Event {
    pub fn parse(body: &[u8]) -> Result<Event, AppError> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| AppError::BadRequest(format!("The event is not valid JSON: {e}")))?;
        let id = v["id"].as_str().filter(|s| !s.is_empty() && s.len() <= 255);
        let kind = v["type"].as_str();
        match (id, kind) {
            (Some(id), Some(kind)) => Ok(Event {
                id: id.to_string(),
                kind: kind.to_string(),
                created: v["created"].as_i64(),
                object: v["data"]["object"].clone(),
            }),
            // Well-formed JSON of the wrong shape names its fields, as every JSON body does.
            (id, kind) => Err(AppError::Validation(
                [
                    id.is_none().then(|| {
                        FieldError::new("id", "An event id: a string of 1 to 255 characters.")
                    }),
                    kind.is_none()
                        .then(|| FieldError::new("type", "An event type: a string.")),
                ]
                .into_iter()
                .flatten()
                .collect(),
            )),
        }
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// An id field that may be a string or an expanded object with an `id`.
fn id_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(obj @ Value::Object(_)) => str_at(obj, &["id"]),
        _ => None,
    }
}

fn timestamp(secs: Option<i64>) -> NaiveDateTime {
    secs.and_then(|s| DateTime::from_timestamp(s, 0))
        .map(|t| t.naive_utc())
        .unwrap_or_else(crate::db::now)
}

/// The gift an object names: our metadata first, then the ids the processor gave us.
fn find_donation(
    conn: &mut DbConnection,
    object: &Value,
    subscription: Option<&str>,
) -> Result<Option<Donation>, AppError> {
    let named = str_at(object, &["metadata", "donation_id"])
        .or_else(|| str_at(object, &["client_reference_id"]))
        .or_else(|| str_at(object, &["subscription_details", "metadata", "donation_id"]))
        .or_else(|| {
            str_at(
                object,
                &["parent", "subscription_details", "metadata", "donation_id"],
            )
        });
    if let Some(id) = named {
        match store::find_donation(conn, id) {
            Ok(d) => return Ok(Some(d)),
            Err(diesel::result::Error::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(sub) = subscription {
        if let Some(d) = store::find_by_subscription(conn, sub)? {
            return Ok(Some(d));
        }
    }
    if str_at(object, &["object"]) == Some("checkout.session") {
        if let Some(id) = str_at(object, &["id"]) {
            return Ok(store::find_by_session(conn, id)?);
        }
    }
    Ok(None)
}

/// Applies one verified event inside the caller's write transaction.
pub fn apply(conn: &mut DbConnection, ctx: &Ctx, event: &Event) -> Result<Outcome, AppError> {
    if store::event_seen(conn, &event.id)? {
        return Ok(Outcome::Duplicate);
    }
    let o = &event.object;
    let subscription = id_at(o, "subscription")
        .or_else(|| str_at(o, &["parent", "subscription_details", "subscription"]));
    let handled = matches!(
        event.kind.as_str(),
        "checkout.session.completed"
            | "checkout.session.async_payment_succeeded"
            | "checkout.session.async_payment_failed"
            | "invoice.paid"
            | "invoice.payment_failed"
            | "charge.refunded"
            | "charge.dispute.created"
            | "customer.subscription.deleted"
            | "customer.subscription.updated"
    );
    if !handled {
        store::record_event(conn, &event.id, &event.kind, None)?;
        return Ok(Outcome::Ignored);
    }
    let subscription_for_lookup = if event.kind.starts_with("customer.subscription.") {
        str_at(o, &["id"])
    } else {
        subscription
    };
    // Charges of monthly installments carry no metadata of ours: find them by their payment.
    let by_payment = match event.kind.as_str() {
        "charge.refunded" => {
            store::find_payment_by_charge(conn, id_at(o, "payment_intent"), str_at(o, &["id"]))?
        }
        "charge.dispute.created" => {
            store::find_payment_by_charge(conn, id_at(o, "payment_intent"), id_at(o, "charge"))?
        }
        _ => None,
    };
    let donation = match by_payment {
        Some(p) => Some(store::find_donation(conn, &p.donation_id)?),
        None => find_donation(conn, o, subscription_for_lookup)?,
    };
    let Some(donation) = donation else {
        // A refund or dispute of a payment not stored yet (it overtook the payment's own
        // event, and carries none of our metadata): deliver it again later.
        if event.kind.starts_with("charge.") {
            return Err(RetryLater.into());
        }
        store::record_event(conn, &event.id, &event.kind, None)?;
        return Ok(Outcome::Ignored);
    };
    // The ledger row first: a concurrent delivery of the same event waits here and then fails
    // on the primary key, so its transaction changes nothing.
    store::record_event(conn, &event.id, &event.kind, Some(&donation.id))?;
    let outcome = match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            session_completed(conn, ctx, &donation, o, subscription)?
        }
        "checkout.session.async_payment_failed" => payment_failed(conn, ctx, &donation, true)?,
        "invoice.paid" => invoice_paid(conn, ctx, &donation, o, event, subscription)?,
        "invoice.payment_failed" if donation.status == Status::Pending => {
            payment_failed(conn, ctx, &donation, true)?
        }
        "invoice.payment_failed" => installment_failed(conn, ctx, &donation, o)?,
        "charge.refunded" => charge_refunded(conn, &donation, o)?,
        "charge.dispute.created" => dispute_created(conn, ctx, &donation, o)?,
        "customer.subscription.updated" => subscription_updated(conn, &donation, o, event.created)?,
        "customer.subscription.deleted" => {
            store::set_recurring_status(conn, &donation.id, RECURRING_CANCELLED)?;
            recovery::close(conn, &donation.id, RecoveryState::Lost, 0, crate::db::now())?;
            Outcome::Applied
        }
        _ => Outcome::Ignored,
    };
    if outcome == Outcome::Retry {
        // Undo the ledger row by failing the transaction.
        return Err(RetryLater.into());
    }
    Ok(outcome)
}

/// Raised to roll back an event that must be delivered again later.
#[derive(Debug, thiserror::Error)]
#[error("the event refers to a payment that is not stored yet")]
pub struct RetryLater;

impl From<RetryLater> for AppError {
    fn from(e: RetryLater) -> Self {
        AppError::Unprocessable(e.to_string())
    }
}

fn session_completed(
    conn: &mut DbConnection,
    ctx: &Ctx,
    donation: &Donation,
    o: &Value,
    subscription: Option<&str>,
) -> Result<Outcome, AppError> {
    store::set_provider_ids(conn, &donation.id, id_at(o, "customer"), subscription)?;
    if donation.provider_session_id.is_none() {
        if let Some(session) = str_at(o, &["id"]) {
            store::set_checkout(
                conn,
                &donation.id,
                session,
                donation.checkout_url.as_deref(),
            )?;
        }
    }
    // `unpaid` (a delayed method such as a bank debit): wait for async_payment_succeeded/failed.
    if str_at(o, &["payment_status"]) != Some("paid") {
        return Ok(Outcome::Applied);
    }
    store::transition(
        conn,
        &donation.id,
        &[Status::Pending, Status::Failed],
        Status::Paid,
    )?;
    // Subscriptions are paid by invoices, each its own payment (see invoice.paid).
    if str_at(o, &["mode"]) == Some("payment") {
        let session = str_at(o, &["id"]).unwrap_or(&donation.id);
        service::record_payment(
            conn,
            ctx,
            donation,
            PaymentSpec {
                provider_ref: session.to_string(),
                payment_intent: id_at(o, "payment_intent").map(String::from),
                charge: None,
                amount_minor: o["amount_total"].as_i64().unwrap_or(donation.total_minor),
                currency: str_at(o, &["currency"])
                    .map(str::to_ascii_uppercase)
                    .unwrap_or_else(|| donation.currency.clone()),
                paid_at: crate::db::now(),
                method: PaymentMethod::Card,
                reference: None,
                fee_minor: None,
                send_receipt: true,
            },
        )?;
    }
    Ok(Outcome::Applied)
}

fn invoice_paid(
    conn: &mut DbConnection,
    ctx: &Ctx,
    donation: &Donation,
    o: &Value,
    event: &Event,
    subscription: Option<&str>,
) -> Result<Outcome, AppError> {
    let Some(invoice) = str_at(o, &["id"]) else {
        return Ok(Outcome::Ignored);
    };
    let amount = o["amount_paid"].as_i64().unwrap_or(0);
    if amount <= 0 {
        return Ok(Outcome::Ignored);
    }
    store::set_provider_ids(conn, &donation.id, id_at(o, "customer"), subscription)?;
    store::transition(
        conn,
        &donation.id,
        &[Status::Pending, Status::Failed],
        Status::Paid,
    )?;
    let paid_at = o["status_transitions"]["paid_at"]
        .as_i64()
        .or(event.created);
    service::record_payment(
        conn,
        ctx,
        donation,
        PaymentSpec {
            provider_ref: invoice.to_string(),
            payment_intent: id_at(o, "payment_intent").map(String::from),
            charge: id_at(o, "charge").map(String::from),
            amount_minor: amount,
            currency: str_at(o, &["currency"])
                .map(str::to_ascii_uppercase)
                .unwrap_or_else(|| donation.currency.clone()),
            paid_at: timestamp(paid_at),
            method: PaymentMethod::Card,
            reference: None,
            fee_minor: None,
            send_receipt: true,
        },
    )?;
    // A payment after a failure ends the episode: no reminder goes out after this.
    recovery::close(
        conn,
        &donation.id,
        RecoveryState::Recovered,
        amount,
        crate::db::now(),
    )?;
    Ok(Outcome::Applied)
}

/// The donor changed the subscription at the processor (its portal): a new monthly amount
/// is stored; a cancellation at the period's end stops the gift (and its follow-up) now.
/// The subscription as the processor now has it (a new amount, a pause or its end, a
/// cancellation at the period's end). Events may arrive late and out of order: one older than
/// the state already applied (by an event, or by the donor here) changes nothing.
fn subscription_updated(
    conn: &mut DbConnection,
    donation: &Donation,
    o: &Value,
    created: Option<i64>,
) -> Result<Outcome, AppError> {
    let at = created
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .map(|t| t.naive_utc());
    let current = store::subscription_state(conn, &donation.id)?;
    if let (Some(at), Some(synced)) = (at, current.synced_at) {
        if at < synced {
            tracing::info!(donation = %donation.id, "an older subscription state arrived late: kept the newer one");
            return Ok(Outcome::Applied);
        }
    }
    if let Some(at) = at {
        store::set_subscription_synced(conn, &donation.id, at)?;
    }
    let item = &o["items"]["data"][0];
    let unit = item["price"]["unit_amount"].as_i64();
    let quantity = item["quantity"].as_i64().unwrap_or(1);
    if let Some(total) = unit.and_then(|u| u.checked_mul(quantity)) {
        if total > 0 && total != donation.total_minor {
            store::set_amount(conn, &donation.id, total)?;
        }
    }
    if let Some(pause) = o.get("pause_collection") {
        let until = paused_until(pause);
        if until != current.paused_until {
            store::set_paused(conn, &donation.id, until)?;
        }
    }
    if o["cancel_at_period_end"].as_bool() == Some(true) {
        store::set_recurring_status(conn, &donation.id, RECURRING_CANCELLED)?;
        recovery::close(conn, &donation.id, RecoveryState::Lost, 0, crate::db::now())?;
    }
    Ok(Outcome::Applied)
}

/// The end of a subscription's pause: `null` is no pause; a pause without `resumes_at` (set
/// in the processor's dashboard or portal) lasts until resumed, stored as 9999-12-31.
fn paused_until(pause: &Value) -> Option<NaiveDateTime> {
    if pause.is_null() {
        return None;
    }
    let until = pause["resumes_at"]
        .as_i64()
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .map(|t| t.naive_utc());
    until.or_else(|| {
        chrono::NaiveDate::from_ymd_opt(9999, 12, 31).and_then(|d| d.and_hms_opt(0, 0, 0))
    })
}

/// An installment of an active monthly gift failed: the first failure of an episode tells
/// the donor (with the one-step card link) and schedules the reminders; the processor's
/// retries inside the episode tell nobody again.
fn installment_failed(
    conn: &mut DbConnection,
    ctx: &Ctx,
    donation: &Donation,
    o: &Value,
) -> Result<Outcome, AppError> {
    let amount = o["amount_due"].as_i64().unwrap_or(donation.total_minor);
    if recovery::failed(conn, &ctx.settings, donation, amount, crate::db::now())? {
        let email = service::failed_payment_email(conn, ctx, donation)?;
        outbox::enqueue(conn, &[email])?;
    }
    Ok(Outcome::Applied)
}

/// A payment did not go through: a kind email to the donor; a gift that never got paid is
/// `failed` (which counts towards the card-testing cool-down and the staff alert).
fn payment_failed(
    conn: &mut DbConnection,
    ctx: &Ctx,
    donation: &Donation,
    fail_gift: bool,
) -> Result<Outcome, AppError> {
    if fail_gift && store::transition(conn, &donation.id, &[Status::Pending], Status::Failed)? > 0 {
        service::note_failure(conn, ctx)?;
    }
    let email = service::failed_payment_email(conn, ctx, donation)?;
    outbox::enqueue(conn, &[email])?;
    Ok(Outcome::Applied)
}

fn charge_refunded(
    conn: &mut DbConnection,
    donation: &Donation,
    o: &Value,
) -> Result<Outcome, AppError> {
    let Some(payment) =
        store::find_payment_by_charge(conn, id_at(o, "payment_intent"), str_at(o, &["id"]))?
    else {
        return Ok(Outcome::Retry);
    };
    let refunded = o["amount_refunded"]
        .as_i64()
        .unwrap_or(payment.amount_minor);
    let full = o["refunded"]
        .as_bool()
        .unwrap_or(refunded >= payment.amount_minor);
    let status = if full {
        Status::Refunded
    } else {
        payment.status
    };
    store::set_payment_status(conn, &payment.id, status)?;
    accounting::set_refunded(conn, &payment, refunded, crate::db::now())?;
    if full && donation.frequency == Frequency::OneTime {
        store::transition(
            conn,
            &donation.id,
            &[Status::Paid, Status::Disputed],
            Status::Refunded,
        )?;
    }
    Ok(Outcome::Applied)
}

fn dispute_created(
    conn: &mut DbConnection,
    ctx: &Ctx,
    donation: &Donation,
    o: &Value,
) -> Result<Outcome, AppError> {
    let Some(payment) =
        store::find_payment_by_charge(conn, id_at(o, "payment_intent"), id_at(o, "charge"))?
    else {
        return Ok(Outcome::Retry);
    };
    if payment.status != Status::Disputed {
        let amount = o["amount"].as_i64().unwrap_or(payment.amount_minor);
        accounting::insert_adjustment(
            conn,
            &payment,
            AdjustmentKind::Dispute,
            amount.min(payment.amount_minor),
            crate::db::now(),
        )?;
    }
    store::set_payment_status(conn, &payment.id, Status::Disputed)?;
    if donation.frequency == Frequency::OneTime {
        store::transition(conn, &donation.id, &[Status::Paid], Status::Disputed)?;
    }
    let note = service::dispute_email(ctx, donation, &payment)?;
    outbox::enqueue(conn, &[note])?;
    Ok(Outcome::Applied)
}
