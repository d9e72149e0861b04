//! Subscribers: double opt-in, per-list membership, consent records, unsubscribe and
//! preferences. The membership and consent helpers are shared with imports.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::newsletter_confirm_tokens as tokens;
use crate::db::schema::newsletter_consents as consents;
use crate::db::schema::newsletter_deliveries as deliveries;
use crate::db::schema::newsletter_lists as lists;
use crate::db::schema::newsletter_memberships as members;
use crate::db::schema::newsletter_subscribers as subs;
use crate::db::schema::newsletter_suppressions as suppressions;
use crate::db::schema::outbox;
use crate::db::DbConnection;
use crate::mail::outbox::{not_in_flight, OutboxState};

use super::lists::List;
use super::{MEMBER_CONFIRMED, MEMBER_PENDING, MEMBER_UNSUBSCRIBED};
use crate::newsletter::model::{EmailAddress, SubscriberStatus, Subscription};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = subs)]
pub struct Subscriber {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub status: SubscriberStatus,
    pub source: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub unsubscribed_at: Option<NaiveDateTime>,
    pub last_confirmation_sent_at: Option<NaiveDateTime>,
    /// The reader's language (a tag of site.languages); `None`: the site default.
    pub lang: Option<String>,
}

pub fn find_subscriber(conn: &mut DbConnection, id: &str) -> QueryResult<Subscriber> {
    subs::table
        .find(id)
        .select(Subscriber::as_select())
        .first(conn)
}

pub fn find_subscriber_by_email(
    conn: &mut DbConnection,
    email: &EmailAddress,
) -> QueryResult<Option<Subscriber>> {
    subs::table
        .filter(subs::email.eq(email.as_str()))
        .select(Subscriber::as_select())
        .first(conn)
        .optional()
}

pub fn is_suppressed(conn: &mut DbConnection, email_hash: &str) -> QueryResult<bool> {
    Ok(suppressions::table
        .find(email_hash)
        .select(suppressions::email_hash)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// A subscriber's memberships with their lists.
pub fn memberships(
    conn: &mut DbConnection,
    subscriber_id: &str,
) -> QueryResult<Vec<(List, String)>> {
    members::table
        .inner_join(lists::table)
        .filter(members::subscriber_id.eq(subscriber_id))
        .order(lists::name.asc())
        .select((List::as_select(), members::status))
        .load(conn)
}

/// How [`set_membership`] treats an existing membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Whatever it was, it becomes the status given.
    Set,
    /// Only pending may become confirmed; confirmed and unsubscribed ones are left alone
    /// (imports never re-add a list someone left).
    UpgradeOnly,
    /// A reader asks for the list: a missing or left membership becomes pending; pending and
    /// confirmed ones are left alone.
    Request,
}

/// Sets one membership's status, creating it when missing. Returns whether anything changed.
pub(super) fn set_membership(
    conn: &mut DbConnection,
    subscriber_id: &str,
    list_id: &str,
    status: &str,
    now: NaiveDateTime,
    change: Change,
) -> QueryResult<bool> {
    let current: Option<String> = members::table
        .find((subscriber_id, list_id))
        .select(members::status)
        .first(conn)
        .optional()?;
    let Some(current) = current else {
        diesel::insert_into(members::table)
            .values((
                members::subscriber_id.eq(subscriber_id),
                members::list_id.eq(list_id),
                members::status.eq(status),
                members::updated_at.eq(now),
            ))
            .execute(conn)?;
        return Ok(true);
    };
    let update = current != status
        && match change {
            Change::Set => true,
            Change::UpgradeOnly => current == MEMBER_PENDING && status == MEMBER_CONFIRMED,
            Change::Request => current == MEMBER_UNSUBSCRIBED,
        };
    if update {
        diesel::update(members::table.find((subscriber_id, list_id)))
            .set((members::status.eq(status), members::updated_at.eq(now)))
            .execute(conn)?;
    }
    Ok(update)
}

/// What a subscription request asks the store to do.
#[derive(Debug, Clone)]
pub struct SubscribeInput {
    pub subscription: Subscription,
    /// The lists asked for (already resolved).
    pub list_ids: Vec<String>,
    /// Hash of the new confirmation token (stored only when a confirmation is sent).
    pub token_hash: String,
    pub suppression_hash: String,
    pub wording_version: String,
    pub now: NaiveDateTime,
    pub token_valid_until: NaiveDateTime,
    /// No second confirmation email to one address within this interval.
    pub min_interval: chrono::TimeDelta,
    /// The language the reader asked in; kept for every later email.
    pub lang: crate::i18n::Lang,
}

/// What happened to a subscription request (never told to the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// Store the confirmation email for this subscriber.
    SendConfirmation { subscriber_id: String },
    /// Already confirmed: nothing is sent.
    AlreadyConfirmed,
    /// A confirmation went out less than the interval ago.
    RecentlyAsked,
    /// The address is suppressed.
    Suppressed,
}

/// Records a subscription request: a new address or an unsubscribed one becomes `pending`
/// and gets a confirmation token; a pending one gets a new token unless one was sent within
/// the interval; a confirmed one changes nothing but gains the lists asked for as `pending`.
#[tracing::instrument(skip_all)]
pub fn subscribe(conn: &mut DbConnection, input: &SubscribeInput) -> QueryResult<SubscribeOutcome> {
    let sub = &input.subscription;
    let now = input.now;
    if is_suppressed(conn, &input.suppression_hash)? {
        return Ok(SubscribeOutcome::Suppressed);
    }
    let existing = find_subscriber_by_email(conn, &sub.email)?;
    let subscriber_id = match &existing {
        None => {
            let id = crate::db::new_id();
            diesel::insert_into(subs::table)
                .values((
                    subs::id.eq(&id),
                    subs::email.eq(sub.email.as_str()),
                    subs::name.eq(sub.name.as_ref().map(|n| n.as_str())),
                    subs::status.eq(SubscriberStatus::Pending),
                    subs::source.eq("form"),
                    subs::lang.eq(Some(input.lang.as_str())),
                    subs::created_at.eq(now),
                    subs::updated_at.eq(now),
                ))
                .execute(conn)?;
            id
        }
        Some(s) => s.id.clone(),
    };
    let status = existing
        .as_ref()
        .map_or(SubscriberStatus::Pending, |s| s.status);
    if status == SubscriberStatus::Suppressed {
        return Ok(SubscribeOutcome::Suppressed);
    }
    for list_id in &input.list_ids {
        // A list the reader left is asked for again: pending until confirmed.
        set_membership(
            conn,
            &subscriber_id,
            list_id,
            MEMBER_PENDING,
            now,
            Change::Request,
        )?;
    }
    if status == SubscriberStatus::Confirmed {
        // Lists already confirmed stay confirmed; set_membership above only touched missing
        // or left ones, which wait for a confirmation from the preferences page.
        return Ok(SubscribeOutcome::AlreadyConfirmed);
    }
    // Pending or unsubscribed: one confirmation email per interval at most.
    let last_sent = existing.as_ref().and_then(|s| s.last_confirmation_sent_at);
    if last_sent.is_some_and(|sent| now - sent < input.min_interval) {
        return Ok(SubscribeOutcome::RecentlyAsked);
    }
    diesel::update(subs::table.find(&subscriber_id))
        .set((
            subs::status.eq(SubscriberStatus::Pending),
            subs::last_confirmation_sent_at.eq(Some(now)),
            subs::lang.eq(Some(input.lang.as_str())),
            subs::updated_at.eq(now),
        ))
        .execute(conn)?;
    if let Some(name) = &sub.name {
        diesel::update(subs::table.find(&subscriber_id))
            .set(subs::name.eq(Some(name.as_str())))
            .execute(conn)?;
    }
    diesel::insert_into(tokens::table)
        .values((
            tokens::token_hash.eq(&input.token_hash),
            tokens::subscriber_id.eq(&subscriber_id),
            tokens::source_url.eq(sub.source_url.as_ref().map(|u| u.as_str())),
            tokens::wording_version.eq(&input.wording_version),
            tokens::created_at.eq(now),
            tokens::expires_at.eq(input.token_valid_until),
        ))
        .execute(conn)?;
    Ok(SubscribeOutcome::SendConfirmation { subscriber_id })
}

/// A confirmation link as found by its token.
#[derive(Debug, Clone)]
pub enum TokenLookup {
    Valid {
        subscriber: Subscriber,
        lists: Vec<String>,
    },
    AlreadyUsed {
        subscriber: Subscriber,
    },
    NotFound,
}

/// Finds an unexpired confirmation token (changes nothing).
pub fn find_confirm_token(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<TokenLookup> {
    let row: Option<(String, NaiveDateTime, Option<NaiveDateTime>)> = tokens::table
        .find(token_hash)
        .select((tokens::subscriber_id, tokens::expires_at, tokens::used_at))
        .first(conn)
        .optional()?;
    let Some((subscriber_id, expires_at, used_at)) = row else {
        return Ok(TokenLookup::NotFound);
    };
    if expires_at < now {
        return Ok(TokenLookup::NotFound);
    }
    let subscriber = find_subscriber(conn, &subscriber_id)?;
    if subscriber.status == SubscriberStatus::Suppressed {
        return Ok(TokenLookup::NotFound);
    }
    if used_at.is_some() {
        return Ok(TokenLookup::AlreadyUsed { subscriber });
    }
    let lists = memberships(conn, &subscriber_id)?
        .into_iter()
        .filter(|(_, st)| st != MEMBER_UNSUBSCRIBED)
        .map(|(l, _)| l.name)
        .collect();
    Ok(TokenLookup::Valid { subscriber, lists })
}

/// Uses a confirmation token: the subscriber and its pending lists become confirmed, and
/// the consent is recorded. A used token changes nothing (`AlreadyUsed`).
#[tracing::instrument(skip_all)]
pub fn confirm(
    conn: &mut DbConnection,
    token_hash: &str,
    ip_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<TokenLookup> {
    let lookup = find_confirm_token(conn, token_hash, now)?;
    let TokenLookup::Valid { subscriber, .. } = &lookup else {
        return Ok(lookup);
    };
    let claimed = diesel::update(
        tokens::table
            .find(token_hash)
            .filter(tokens::used_at.is_null()),
    )
    .set(tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(TokenLookup::AlreadyUsed {
            subscriber: subscriber.clone(),
        });
    }
    let (source_url, wording_version): (Option<String>, String) = tokens::table
        .find(token_hash)
        .select((tokens::source_url, tokens::wording_version))
        .first(conn)?;
    diesel::update(subs::table.find(&subscriber.id))
        .set((
            subs::status.eq(SubscriberStatus::Confirmed),
            subs::confirmed_at.eq(Some(now)),
            subs::unsubscribed_at.eq(None::<NaiveDateTime>),
            subs::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(
        members::table
            .filter(members::subscriber_id.eq(&subscriber.id))
            .filter(members::status.eq(MEMBER_PENDING)),
    )
    .set((
        members::status.eq(MEMBER_CONFIRMED),
        members::updated_at.eq(now),
    ))
    .execute(conn)?;
    record_consent(
        conn,
        &subscriber.id,
        "confirmed",
        now,
        Some(ip_hash),
        source_url.as_deref(),
        Some(&wording_version),
    )?;
    let subscriber = find_subscriber(conn, &subscriber.id)?;
    Ok(TokenLookup::Valid {
        subscriber,
        lists: Vec::new(),
    })
}

pub(super) fn record_consent(
    conn: &mut DbConnection,
    subscriber_id: &str,
    kind: &str,
    now: NaiveDateTime,
    ip_hash: Option<&str>,
    source_url: Option<&str>,
    wording_version: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(consents::table)
        .values((
            consents::id.eq(crate::db::new_id()),
            consents::subscriber_id.eq(subscriber_id),
            consents::kind.eq(kind),
            consents::recorded_at.eq(now),
            consents::ip_hash.eq(ip_hash),
            consents::source_url.eq(source_url),
            consents::wording_version.eq(wording_version),
        ))
        .execute(conn)?;
    Ok(())
}

/// A consent record (staff view of one person).
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = consents)]
pub struct Consent {
    pub id: String,
    pub subscriber_id: String,
    pub kind: String,
    pub recorded_at: NaiveDateTime,
    pub ip_hash: Option<String>,
    pub source_url: Option<String>,
    pub wording_version: Option<String>,
}

pub fn consents_of(conn: &mut DbConnection, subscriber_id: &str) -> QueryResult<Vec<Consent>> {
    consents::table
        .filter(consents::subscriber_id.eq(subscriber_id))
        .order(consents::recorded_at.asc())
        .select(Consent::as_select())
        .load(conn)
}

/// Cancels the queued newsletter emails of one subscriber that no worker has claimed yet
/// (a claimed one is in flight and goes); they count as skipped in their issue's progress.
pub(super) fn cancel_queued_deliveries(
    conn: &mut DbConnection,
    subscriber_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let theirs = deliveries::table
        .filter(deliveries::subscriber_id.eq(subscriber_id))
        .filter(deliveries::outbox_id.is_not_null())
        .select(deliveries::outbox_id.assume_not_null());
    diesel::update(
        outbox::table
            .filter(outbox::state.eq(OutboxState::Queued.as_str()))
            .filter(not_in_flight(now))
            .filter(outbox::id.eq_any(theirs)),
    )
    .set((
        outbox::state.eq(OutboxState::Cancelled.as_str()),
        outbox::last_error.eq(Some("the recipient unsubscribed or was suppressed")),
    ))
    .execute(conn)
}

/// Unsubscribes from everything (idempotent). Queued newsletter emails to the address are
/// cancelled. Returns false when nothing changed.
#[tracing::instrument(skip_all)]
pub fn unsubscribe_all(
    conn: &mut DbConnection,
    subscriber_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    // The subscriber row first: a concurrent dispatch holding it FOR SHARE finishes first.
    let changed = diesel::update(
        subs::table.find(subscriber_id).filter(
            subs::status
                .eq(SubscriberStatus::Pending.as_str())
                .or(subs::status.eq(SubscriberStatus::Confirmed)),
        ),
    )
    .set((
        subs::status.eq(SubscriberStatus::Unsubscribed),
        subs::unsubscribed_at.eq(Some(now)),
        subs::updated_at.eq(now),
    ))
    .execute(conn)?;
    diesel::update(
        members::table
            .filter(members::subscriber_id.eq(subscriber_id))
            .filter(members::status.ne(MEMBER_UNSUBSCRIBED)),
    )
    .set((
        members::status.eq(MEMBER_UNSUBSCRIBED),
        members::updated_at.eq(now),
    ))
    .execute(conn)?;
    cancel_queued_deliveries(conn, subscriber_id, now)?;
    if changed > 0 {
        record_consent(conn, subscriber_id, "unsubscribed", now, None, None, None)?;
    }
    Ok(changed > 0)
}

/// The preferences page's "save my lists": the lists given are confirmed, every other
/// membership is left; none at all means unsubscribing from everything. A suppressed
/// address changes nothing. Returns the names of the lists kept.
#[tracing::instrument(skip_all)]
pub fn set_preferences(
    conn: &mut DbConnection,
    subscriber_id: &str,
    keep_list_ids: &[String],
    ip_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    if keep_list_ids.is_empty() {
        unsubscribe_all(conn, subscriber_id, now)?;
        return Ok(Vec::new());
    }
    let subscriber = find_subscriber(conn, subscriber_id)?;
    if subscriber.status == SubscriberStatus::Suppressed {
        return Ok(Vec::new());
    }
    diesel::update(subs::table.find(subscriber_id))
        .set((
            subs::status.eq(SubscriberStatus::Confirmed),
            subs::confirmed_at.eq(subscriber.confirmed_at.or(Some(now))),
            subs::unsubscribed_at.eq(None::<NaiveDateTime>),
            subs::updated_at.eq(now),
        ))
        .execute(conn)?;
    let mut kept = Vec::new();
    for (list, status) in memberships(conn, subscriber_id)? {
        if !keep_list_ids.contains(&list.id) && status != MEMBER_UNSUBSCRIBED {
            set_membership(
                conn,
                subscriber_id,
                &list.id,
                MEMBER_UNSUBSCRIBED,
                now,
                Change::Set,
            )?;
        }
    }
    for list_id in keep_list_ids {
        set_membership(
            conn,
            subscriber_id,
            list_id,
            MEMBER_CONFIRMED,
            now,
            Change::Set,
        )?;
    }
    for (list, status) in memberships(conn, subscriber_id)? {
        if status == MEMBER_CONFIRMED {
            kept.push(list.name);
        }
    }
    record_consent(
        conn,
        subscriber_id,
        "preferences",
        now,
        Some(ip_hash),
        None,
        None,
    )?;
    Ok(kept)
}

/// The language stored with a subscriber (`None`: the site default).
pub fn subscriber_lang(conn: &mut DbConnection, id: &str) -> QueryResult<Option<String>> {
    subs::table.find(id).select(subs::lang).first(conn)
}

/// Changes the language of every later email to the subscriber.
pub fn set_subscriber_lang(
    conn: &mut DbConnection,
    id: &str,
    lang: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(subs::table.find(id))
        .set((subs::lang.eq(Some(lang)), subs::updated_at.eq(now)))
        .execute(conn)
}
