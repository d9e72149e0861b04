//! Donation storage: plain synchronous functions over one connection, called inside the
//! caller's transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{
    donation_counters, donation_idempotency, donation_payments, donation_subscriptions, donations,
    stripe_events,
};
use crate::db::{DbConnection, MultiBackend};

use super::model::{Frequency, PaymentMethod, Status};

/// A stored gift.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = donations)]
pub struct Donation {
    pub id: String,
    pub status: Status,
    pub provider: String,
    pub frequency: Frequency,
    pub recurring_status: Option<String>,
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub total_minor: i64,
    pub currency: String,
    pub email: String,
    pub email_normalized: String,
    pub name: Option<String>,
    pub anonymous: bool,
    pub dedication_kind: Option<String>,
    pub dedication_name: Option<String>,
    pub message: Option<String>,
    pub source_url: Option<String>,
    pub campaign: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub newsletter_opt_in: bool,
    #[serde(skip)]
    pub ip_hash: Option<String>,
    pub provider_session_id: Option<String>,
    pub provider_customer_id: Option<String>,
    pub provider_subscription_id: Option<String>,
    pub checkout_url: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The donor's language (a tag of site.languages); `None`: the site default.
    pub lang: Option<String>,
}

/// Money received for a gift: a one-time payment or one monthly installment.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = donation_payments)]
pub struct Payment {
    pub id: String,
    pub donation_id: String,
    pub receipt_number: String,
    pub provider_ref: String,
    pub provider_payment_intent: Option<String>,
    pub provider_charge: Option<String>,
    /// paid, refunded or disputed.
    pub status: Status,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub paid_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub method: PaymentMethod,
    /// Staff's reference for money recorded by hand (a cheque number, a bank reference).
    pub reference: Option<String>,
    /// The processor's fee, when known (`None` for processor payments until it says).
    pub fee_minor: Option<i64>,
}

/// A stored `Idempotency-Key`; `response` is `None` while the first request is in flight.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = donation_idempotency)]
pub struct IdempotencyRecord {
    pub key: String,
    pub request_hash: String,
    pub donation_id: Option<String>,
    pub response: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_donation(conn: &mut DbConnection, donation: &Donation) -> QueryResult<()> {
    diesel::insert_into(donations::table)
        .values(donation)
        .execute(conn)?;
    Ok(())
}

pub fn find_donation(conn: &mut DbConnection, id: &str) -> QueryResult<Donation> {
    donations::table
        .find(id)
        .select(Donation::as_select())
        .first(conn)
}

pub fn find_by_session(conn: &mut DbConnection, session: &str) -> QueryResult<Option<Donation>> {
    donations::table
        .filter(donations::provider_session_id.eq(session))
        .select(Donation::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_subscription(
    conn: &mut DbConnection,
    subscription: &str,
) -> QueryResult<Option<Donation>> {
    donations::table
        .filter(donations::provider_subscription_id.eq(subscription))
        .select(Donation::as_select())
        .first(conn)
        .optional()
}

/// Records the processor's checkout session of a gift.
pub fn set_checkout(
    conn: &mut DbConnection,
    id: &str,
    session: &str,
    url: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(donations::table.find(id))
        .set((
            donations::provider_session_id.eq(session),
            donations::checkout_url.eq(url),
            donations::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
}

pub fn set_status(conn: &mut DbConnection, id: &str, status: Status) -> QueryResult<usize> {
    diesel::update(donations::table.find(id))
        .set((
            donations::status.eq(status),
            donations::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
}

/// Moves a gift from one of `from` to `to`; returns 0 when it was in none of them.
pub fn transition(
    conn: &mut DbConnection,
    id: &str,
    from: &[Status],
    to: Status,
) -> QueryResult<usize> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    diesel::update(
        donations::table
            .find(id)
            .filter(donations::status.eq_any(from)),
    )
    .set((
        donations::status.eq(to),
        donations::updated_at.eq(crate::db::now()),
    ))
    .execute(conn)
}

pub fn set_recurring_status(
    conn: &mut DbConnection,
    id: &str,
    recurring: &str,
) -> QueryResult<usize> {
    diesel::update(donations::table.find(id))
        .set((
            donations::recurring_status.eq(recurring),
            donations::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
}

/// A monthly gift's new amount (the donor's choice, or the processor's report of it); covered
/// fees are not recomputed: the new amount is the total.
pub fn set_amount(conn: &mut DbConnection, id: &str, total_minor: i64) -> QueryResult<usize> {
    diesel::update(donations::table.find(id))
        .set((
            donations::amount_minor.eq(total_minor),
            donations::fee_minor.eq(0),
            donations::total_minor.eq(total_minor),
            donations::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
}

/// A monthly gift's subscription state kept beside it: its pause and the time of the newest
/// state applied (both `None` when it has none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscriptionState {
    pub paused_until: Option<NaiveDateTime>,
    pub synced_at: Option<NaiveDateTime>,
}

pub fn subscription_state(conn: &mut DbConnection, id: &str) -> QueryResult<SubscriptionState> {
    Ok(donation_subscriptions::table
        .find(id)
        .select((
            donation_subscriptions::paused_until,
            donation_subscriptions::synced_at,
        ))
        .first::<(Option<NaiveDateTime>, Option<NaiveDateTime>)>(conn)
        .optional()?
        .map(|(paused_until, synced_at)| SubscriptionState {
            paused_until,
            synced_at,
        })
        .unwrap_or_default())
}

/// The pauses of those of `ids` that have one (ended pauses included: compare with now).
pub fn pauses(
    conn: &mut DbConnection,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, NaiveDateTime>> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = donation_subscriptions::table
        .filter(donation_subscriptions::donation_id.eq_any(ids))
        .filter(donation_subscriptions::paused_until.is_not_null())
        .select((
            donation_subscriptions::donation_id,
            donation_subscriptions::paused_until,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, until)| until.map(|u| (id, u)))
        .collect())
}

/// Makes sure the gift has its subscription-state row.
fn ensure_subscription_row(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    crate::db::dialect::on_backend!(conn, |c| diesel::insert_into(donation_subscriptions::table)
        .values(donation_subscriptions::donation_id.eq(id))
        .on_conflict_do_nothing()
        .execute(c))
}

/// Pauses a monthly gift until `until`, or (with `None`) ends its pause.
pub fn set_paused(
    conn: &mut DbConnection,
    id: &str,
    until: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    ensure_subscription_row(conn, id)?;
    diesel::update(donation_subscriptions::table.find(id))
        .set(donation_subscriptions::paused_until.eq(until))
        .execute(conn)
}

/// Records that the gift's subscription state is as of `at` (an event's time, or now for a
/// change the donor made here).
pub fn set_subscription_synced(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    ensure_subscription_row(conn, id)?;
    diesel::update(donation_subscriptions::table.find(id))
        .set(donation_subscriptions::synced_at.eq(Some(at)))
        .execute(conn)
}

/// Remembers the processor's customer and subscription of a gift (each only when known).
pub fn set_provider_ids(
    conn: &mut DbConnection,
    id: &str,
    customer: Option<&str>,
    subscription: Option<&str>,
) -> QueryResult<()> {
    if let Some(customer) = customer {
        diesel::update(donations::table.find(id))
            .set(donations::provider_customer_id.eq(customer))
            .execute(conn)?;
    }
    if let Some(subscription) = subscription {
        diesel::update(
            donations::table
                .find(id)
                .filter(donations::provider_subscription_id.is_null()),
        )
        .set(donations::provider_subscription_id.eq(subscription))
        .execute(conn)?;
    }
    Ok(())
}

// ---- idempotency keys ----

pub fn find_idempotency(
    conn: &mut DbConnection,
    key: &str,
) -> QueryResult<Option<IdempotencyRecord>> {
    donation_idempotency::table
        .find(key)
        .select(IdempotencyRecord::as_select())
        .first(conn)
        .optional()
}

/// Claims a key for a request in flight.
pub fn insert_idempotency(
    conn: &mut DbConnection,
    key: &str,
    request_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(donation_idempotency::table)
        .values((
            donation_idempotency::key.eq(key),
            donation_idempotency::request_hash.eq(request_hash),
            donation_idempotency::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores the first answer for a key.
pub fn complete_idempotency(
    conn: &mut DbConnection,
    key: &str,
    donation_id: &str,
    response: &str,
) -> QueryResult<usize> {
    diesel::update(donation_idempotency::table.find(key))
        .set((
            donation_idempotency::donation_id.eq(donation_id),
            donation_idempotency::response.eq(response),
        ))
        .execute(conn)
}

pub fn delete_idempotency(conn: &mut DbConnection, key: &str) -> QueryResult<usize> {
    diesel::delete(donation_idempotency::table.find(key)).execute(conn)
}

/// Forgets keys older than `before`.
pub fn delete_expired_idempotency(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(donation_idempotency::table.filter(donation_idempotency::created_at.lt(before)))
        .execute(conn)
}

// ---- processor event ledger ----

pub fn event_seen(conn: &mut DbConnection, event_id: &str) -> QueryResult<bool> {
    Ok(stripe_events::table
        .find(event_id)
        .select(stripe_events::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// Records an applied event; a second insert of the same id is a unique violation.
pub fn record_event(
    conn: &mut DbConnection,
    event_id: &str,
    event_type: &str,
    donation_id: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(stripe_events::table)
        .values((
            stripe_events::id.eq(event_id),
            stripe_events::event_type.eq(event_type),
            stripe_events::donation_id.eq(donation_id),
            stripe_events::received_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

// ---- payments and receipts ----

pub fn insert_payment(conn: &mut DbConnection, payment: &Payment) -> QueryResult<()> {
    diesel::insert_into(donation_payments::table)
        .values(payment)
        .execute(conn)?;
    Ok(())
}

pub fn find_payment(conn: &mut DbConnection, id: &str) -> QueryResult<Payment> {
    donation_payments::table
        .find(id)
        .select(Payment::as_select())
        .first(conn)
}

pub fn find_payment_by_ref(
    conn: &mut DbConnection,
    provider_ref: &str,
) -> QueryResult<Option<Payment>> {
    donation_payments::table
        .filter(donation_payments::provider_ref.eq(provider_ref))
        .select(Payment::as_select())
        .first(conn)
        .optional()
}

/// The payment behind a processor charge: by payment intent, or by charge id.
pub fn find_payment_by_charge(
    conn: &mut DbConnection,
    payment_intent: Option<&str>,
    charge: Option<&str>,
) -> QueryResult<Option<Payment>> {
    if let Some(pi) = payment_intent {
        let found = donation_payments::table
            .filter(donation_payments::provider_payment_intent.eq(pi))
            .select(Payment::as_select())
            .first(conn)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    match charge {
        Some(ch) => donation_payments::table
            .filter(donation_payments::provider_charge.eq(ch))
            .select(Payment::as_select())
            .first(conn)
            .optional(),
        None => Ok(None),
    }
}

pub fn payments_for(conn: &mut DbConnection, donation_id: &str) -> QueryResult<Vec<Payment>> {
    donation_payments::table
        .filter(donation_payments::donation_id.eq(donation_id))
        .order(donation_payments::paid_at.asc())
        .select(Payment::as_select())
        .load(conn)
}

pub fn set_payment_status(conn: &mut DbConnection, id: &str, status: Status) -> QueryResult<usize> {
    diesel::update(donation_payments::table.find(id))
        .set(donation_payments::status.eq(status))
        .execute(conn)
}

/// The next receipt number of `year`, e.g. `2026-000042`. Call inside the transaction that
/// stores the payment: the counter row stays locked until it commits, so numbers are unique
/// and gapless.
pub fn next_receipt_number(conn: &mut DbConnection, year: i32) -> QueryResult<String> {
    let name = format!("receipt-{year}");
    let value = bump_counter(conn, &name)?;
    Ok(format!("{year}-{value:06}"))
}

/// Adds one to a named counter (created at 0) and returns the new value.
pub fn bump_counter(conn: &mut DbConnection, name: &str) -> QueryResult<i64> {
    ensure_counter(conn, name)?;
    diesel::update(donation_counters::table.find(name))
        .set(donation_counters::value.eq(donation_counters::value + 1))
        .execute(conn)?;
    donation_counters::table
        .find(name)
        .select(donation_counters::value)
        .first(conn)
}

pub fn get_counter(conn: &mut DbConnection, name: &str) -> QueryResult<Option<i64>> {
    donation_counters::table
        .find(name)
        .select(donation_counters::value)
        .first(conn)
        .optional()
}

pub fn set_counter(conn: &mut DbConnection, name: &str, value: i64) -> QueryResult<()> {
    ensure_counter(conn, name)?;
    diesel::update(donation_counters::table.find(name))
        .set(donation_counters::value.eq(value))
        .execute(conn)?;
    Ok(())
}

fn ensure_counter(conn: &mut DbConnection, name: &str) -> QueryResult<()> {
    use diesel::sql_types::Text;
    // The same statement on both backends; the upsert keeps concurrent creators apart.
    let sql =
        "INSERT INTO donation_counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING";
    crate::db::dialect::sql(conn, sql)
        .bind::<Text, _>(name)
        .execute(conn)?;
    Ok(())
}

// ---- card-testing defence ----

/// Failed gifts since `since` from this IP hash or this address.
pub fn failures_since(
    conn: &mut DbConnection,
    ip_hash: Option<&str>,
    email_normalized: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    let by_email: i64 = donations::table
        .filter(donations::status.eq(Status::Failed))
        .filter(donations::updated_at.ge(since))
        .filter(donations::email_normalized.eq(email_normalized))
        .count()
        .get_result(conn)?;
    let by_ip: i64 = match ip_hash {
        Some(ip) => donations::table
            .filter(donations::status.eq(Status::Failed))
            .filter(donations::updated_at.ge(since))
            .filter(donations::ip_hash.eq(ip))
            .count()
            .get_result(conn)?,
        None => 0,
    };
    Ok(by_email.max(by_ip))
}

/// Failed gifts since `since`, all donors.
pub fn all_failures_since(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<i64> {
    donations::table
        .filter(donations::status.eq(Status::Failed))
        .filter(donations::updated_at.ge(since))
        .count()
        .get_result(conn)
}

// ---- staff lists, exports, reports ----

/// Staff filters over gifts; every field optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub frequency: Option<String>,
    /// Created at or after.
    pub from: Option<NaiveDateTime>,
    /// Created before.
    pub to: Option<NaiveDateTime>,
    pub campaign: Option<String>,
    /// Normalised address (exact match).
    pub email: Option<String>,
    pub source_url: Option<String>,
}

fn filtered(filter: &Filter) -> donations::BoxedQuery<'static, MultiBackend> {
    let mut q = donations::table.into_boxed();
    if let Some(s) = filter.status {
        q = q.filter(donations::status.eq(s));
    }
    if let Some(f) = &filter.frequency {
        q = q.filter(donations::frequency.eq(f.clone()));
    }
    if let Some(from) = filter.from {
        q = q.filter(donations::created_at.ge(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(donations::created_at.lt(to));
    }
    if let Some(c) = &filter.campaign {
        q = q.filter(donations::campaign.eq(c.clone()));
    }
    if let Some(e) = &filter.email {
        q = q.filter(donations::email_normalized.eq(e.clone()));
    }
    if let Some(u) = &filter.source_url {
        q = q.filter(donations::source_url.eq(u.clone()));
    }
    q
}

/// Newest first; `before` is the cursor (a donation id: ids are time-ordered).
pub fn list(
    conn: &mut DbConnection,
    filter: &Filter,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Donation>> {
    let mut q = filtered(filter);
    if let Some(before) = before {
        q = q.filter(donations::id.lt(before.to_string()));
    }
    q.order(donations::id.desc())
        .limit(limit)
        .select(Donation::as_select())
        .load(conn)
}

/// Totals of the filtered gifts, per currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CurrencyTotal {
    pub currency: String,
    pub count: i64,
    /// Sum of the intended gifts.
    pub amount_minor: i64,
    /// Sum of what was charged (gifts plus covered fees).
    pub total_minor: i64,
}

pub fn totals(conn: &mut DbConnection, filter: &Filter) -> QueryResult<Vec<CurrencyTotal>> {
    let rows: Vec<(String, i64, i64)> = filtered(filter)
        .select((
            donations::currency,
            donations::amount_minor,
            donations::total_minor,
        ))
        .load(conn)?;
    let mut by: std::collections::BTreeMap<String, CurrencyTotal> = Default::default();
    for (currency, amount, total) in rows {
        let t = by.entry(currency.clone()).or_insert(CurrencyTotal {
            currency,
            count: 0,
            amount_minor: 0,
            total_minor: 0,
        });
        t.count += 1;
        t.amount_minor += amount;
        t.total_minor += total;
    }
    Ok(by.into_values().collect())
}

/// Every filtered gift, newest first, at most `max` (CSV export).
pub fn export(conn: &mut DbConnection, filter: &Filter, max: i64) -> QueryResult<Vec<Donation>> {
    filtered(filter)
        .order(donations::id.desc())
        .limit(max)
        .select(Donation::as_select())
        .load(conn)
}

/// Every gift of one address, newest first (donor self-service, staff people view).
pub fn donations_for_email(
    conn: &mut DbConnection,
    email_normalized: &str,
) -> QueryResult<Vec<Donation>> {
    donations::table
        .filter(donations::email_normalized.eq(email_normalized))
        .order(donations::id.desc())
        .select(Donation::as_select())
        .load(conn)
}

/// The language of an address's latest gift that has one (`None`: the site default).
pub fn donor_lang(conn: &mut DbConnection, email_normalized: &str) -> QueryResult<Option<String>> {
    Ok(donations::table
        .filter(donations::email_normalized.eq(email_normalized))
        .filter(donations::lang.is_not_null())
        .order(donations::id.desc())
        .select(donations::lang)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// The donor's language for every later email: stored with each of the address's gifts.
pub fn set_donor_lang(
    conn: &mut DbConnection,
    email_normalized: &str,
    lang: &str,
) -> QueryResult<usize> {
    diesel::update(donations::table.filter(donations::email_normalized.eq(email_normalized)))
        .set(donations::lang.eq(Some(lang)))
        .execute(conn)
}

/// Payments of one address received in `[from, to)`, oldest first, with their gifts.
pub fn payments_for_email_between(
    conn: &mut DbConnection,
    email_normalized: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(Payment, Donation)>> {
    donation_payments::table
        .inner_join(donations::table)
        .filter(donations::email_normalized.eq(email_normalized))
        .filter(donation_payments::paid_at.ge(from))
        .filter(donation_payments::paid_at.lt(to))
        .order(donation_payments::paid_at.asc())
        .select((Payment::as_select(), Donation::as_select()))
        .load(conn)
}

/// The columns behind [`ReportPayment`].
type ReportRow = (
    i64,
    i64,
    String,
    NaiveDateTime,
    Option<String>,
    Option<String>,
);

/// One payment with what reports group it by.
#[derive(Debug, Clone)]
pub struct ReportPayment {
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub paid_at: NaiveDateTime,
    pub campaign: Option<String>,
    pub source_url: Option<String>,
}

/// Payments received in `[from, to)` (all when unbounded), for reports.
pub fn report_payments(
    conn: &mut DbConnection,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
) -> QueryResult<Vec<ReportPayment>> {
    let mut q = donation_payments::table
        .inner_join(donations::table)
        .into_boxed();
    if let Some(from) = from {
        q = q.filter(donation_payments::paid_at.ge(from));
    }
    if let Some(to) = to {
        q = q.filter(donation_payments::paid_at.lt(to));
    }
    let rows: Vec<ReportRow> = q
        .select((
            donation_payments::amount_minor,
            donation_payments::refunded_minor,
            donation_payments::currency,
            donation_payments::paid_at,
            donations::campaign,
            donations::source_url,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(amount_minor, refunded_minor, currency, paid_at, campaign, source_url)| {
                ReportPayment {
                    amount_minor,
                    refunded_minor,
                    currency,
                    paid_at,
                    campaign,
                    source_url,
                }
            },
        )
        .collect())
}

/// Monthly gifts that are paid and still active: `(email, currency, total_minor)`.
pub fn active_recurring(conn: &mut DbConnection) -> QueryResult<Vec<(String, String, i64)>> {
    donations::table
        .filter(donations::frequency.eq("monthly"))
        .filter(donations::recurring_status.eq(super::model::RECURRING_ACTIVE))
        .filter(donations::status.eq(Status::Paid))
        .select((
            donations::email_normalized,
            donations::currency,
            donations::total_minor,
        ))
        .load(conn)
}

/// Removes a gift that never reached the processor (its checkout could not be started).
pub fn delete_donation(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(donations::table.find(id)).execute(conn)
}
