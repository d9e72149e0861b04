//! Newsletter storage: lists, subscribers and their per-list membership, double opt-in
//! tokens, consent records, suppressions, issues and their deliveries.
//!
//! Plain synchronous functions over a [`DbConnection`]; callers run them through
//! `Db::run` / `Db::write`. Functions that change several rows expect to run inside one
//! write transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::dialect::{load_for_share, on_backend};
use crate::db::lower_nullable;
use crate::db::schema::newsletter_confirm_tokens as tokens;
use crate::db::schema::newsletter_consents as consents;
use crate::db::schema::newsletter_deliveries as deliveries;
use crate::db::schema::newsletter_issue_lists as issue_lists;
use crate::db::schema::newsletter_issues as issues;
use crate::db::schema::newsletter_lists as lists;
use crate::db::schema::newsletter_memberships as members;
use crate::db::schema::newsletter_soft_bounces as soft_bounces;
use crate::db::schema::newsletter_subscribers as subs;
use crate::db::schema::newsletter_suppressions as suppressions;
use crate::db::schema::outbox;
use crate::db::{DbConnection, MultiBackend};
use crate::error::{AppError, FieldError};
use crate::mail::outbox::OutboxState;

use super::model::{
    EmailAddress, IssueStatus, ListSlug, NewIssue, NewList, SubscriberStatus, Subscription,
    SuppressionReason,
};

/// `next_attempt_at` of outbox rows held back while their issue is paused.
pub fn held_until() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(9000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(NaiveDateTime::MAX)
}

const MEMBER_PENDING: &str = "pending";
const MEMBER_CONFIRMED: &str = "confirmed";
const MEMBER_UNSUBSCRIBED: &str = "unsubscribed";

/// One page of a cursor-paginated list.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

// ----------------------------------------------------------------------------------------
// Lists

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = lists)]
pub struct List {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub is_public: bool,
    pub created_at: NaiveDateTime,
}

/// Creates a list (409 when the slug is taken).
pub fn create_list(conn: &mut DbConnection, new: &NewList) -> QueryResult<List> {
    let list = List {
        id: crate::db::new_id(),
        slug: new.slug.as_str().to_string(),
        name: new.name.clone(),
        description: new.description.clone(),
        is_public: new.is_public,
        created_at: crate::db::now(),
    };
    diesel::insert_into(lists::table)
        .values((
            lists::id.eq(&list.id),
            lists::slug.eq(&list.slug),
            lists::name.eq(&list.name),
            lists::description.eq(&list.description),
            lists::is_public.eq(list.is_public),
            lists::created_at.eq(list.created_at),
        ))
        .execute(conn)?;
    Ok(list)
}

/// Changes a list's slug, name, description and visibility.
pub fn update_list(conn: &mut DbConnection, slug: &str, new: &NewList) -> QueryResult<List> {
    let n = diesel::update(lists::table.filter(lists::slug.eq(slug)))
        .set((
            lists::slug.eq(new.slug.as_str()),
            lists::name.eq(&new.name),
            lists::description.eq(&new.description),
            lists::is_public.eq(new.is_public),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(diesel::result::Error::NotFound);
    }
    find_list(conn, new.slug.as_str())
}

pub fn find_list(conn: &mut DbConnection, slug: &str) -> QueryResult<List> {
    lists::table
        .filter(lists::slug.eq(slug))
        .select(List::as_select())
        .first(conn)
}

/// Every list, by name (staff).
pub fn all_lists(conn: &mut DbConnection) -> QueryResult<Vec<List>> {
    lists::table
        .order((lists::name.asc(), lists::slug.asc()))
        .select(List::as_select())
        .load(conn)
}

/// The lists readers may see and choose.
pub fn public_lists(conn: &mut DbConnection) -> QueryResult<Vec<List>> {
    lists::table
        .filter(lists::is_public.eq(true))
        .order((lists::name.asc(), lists::slug.asc()))
        .select(List::as_select())
        .load(conn)
}

/// Resolves slugs to lists, in the order given; unknown slugs (and, with `public_only`,
/// private ones) are a 422 naming `lists[i]` for each.
pub fn resolve_lists(
    conn: &mut DbConnection,
    slugs: &[ListSlug],
    public_only: bool,
) -> Result<Vec<List>, AppError> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = slugs.iter().map(ListSlug::as_str).collect();
    let mut query = lists::table
        .filter(lists::slug.eq_any(&names))
        .select(List::as_select())
        .into_boxed();
    if public_only {
        query = query.filter(lists::is_public.eq(true));
    }
    let found = query.load(conn)?;
    let mut ordered = Vec::with_capacity(slugs.len());
    let mut errors = Vec::new();
    for (i, slug) in slugs.iter().enumerate() {
        match found.iter().find(|l| l.slug == slug.as_str()) {
            Some(list) => ordered.push(list.clone()),
            None => errors.push(FieldError::new(
                format!("lists[{i}]"),
                format!("There is no list called {:?}.", slug.as_str()),
            )),
        }
    }
    if errors.is_empty() {
        Ok(ordered)
    } else {
        Err(AppError::Validation(errors))
    }
}

// ----------------------------------------------------------------------------------------
// Subscribers

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = subs)]
pub struct Subscriber {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub status: String,
    pub source: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub unsubscribed_at: Option<NaiveDateTime>,
    pub last_confirmation_sent_at: Option<NaiveDateTime>,
}

impl Subscriber {
    pub fn status(&self) -> SubscriberStatus {
        SubscriberStatus::parse(&self.status).unwrap_or(SubscriberStatus::Pending)
    }
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
enum Change {
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
fn set_membership(
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
                    subs::status.eq(SubscriberStatus::Pending.as_str()),
                    subs::source.eq("form"),
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
        .map_or(SubscriberStatus::Pending, Subscriber::status);
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
            subs::status.eq(SubscriberStatus::Pending.as_str()),
            subs::last_confirmation_sent_at.eq(Some(now)),
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
    if subscriber.status() == SubscriberStatus::Suppressed {
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
            subs::status.eq(SubscriberStatus::Confirmed.as_str()),
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

fn record_consent(
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
fn cancel_queued_deliveries(
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
            .filter(
                outbox::lease_until
                    .is_null()
                    .or(outbox::lease_until.lt(now)),
            )
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
                .or(subs::status.eq(SubscriberStatus::Confirmed.as_str())),
        ),
    )
    .set((
        subs::status.eq(SubscriberStatus::Unsubscribed.as_str()),
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
    if subscriber.status() == SubscriberStatus::Suppressed {
        return Ok(Vec::new());
    }
    diesel::update(subs::table.find(subscriber_id))
        .set((
            subs::status.eq(SubscriberStatus::Confirmed.as_str()),
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

// ----------------------------------------------------------------------------------------
// Suppressions and bounces

/// Suppresses an address for good (idempotent): its hash is kept, the subscriber (if any)
/// becomes `suppressed` and its queued newsletter emails are cancelled.
#[tracing::instrument(skip_all, fields(reason = reason.as_str()))]
pub fn suppress(
    conn: &mut DbConnection,
    email: &EmailAddress,
    email_hash: &str,
    reason: SuppressionReason,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if !is_suppressed(conn, email_hash)? {
        let inserted = diesel::insert_into(suppressions::table)
            .values((
                suppressions::email_hash.eq(email_hash),
                suppressions::reason.eq(reason.as_str()),
                suppressions::created_at.eq(now),
            ))
            .execute(conn);
        match inserted {
            Ok(_)
            | Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {}
            Err(e) => return Err(e),
        }
    }
    if let Some(subscriber) = find_subscriber_by_email(conn, email)? {
        diesel::update(subs::table.find(&subscriber.id))
            .set((
                subs::status.eq(SubscriberStatus::Suppressed.as_str()),
                subs::updated_at.eq(now),
            ))
            .execute(conn)?;
        cancel_queued_deliveries(conn, &subscriber.id, now)?;
    }
    Ok(())
}

/// Lifts a suppression (staff). The subscriber, if any, becomes `unsubscribed`: mail goes
/// to it again only after a new opt-in.
pub fn unsuppress(
    conn: &mut DbConnection,
    email: &EmailAddress,
    email_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::delete(suppressions::table.find(email_hash)).execute(conn)?;
    diesel::delete(soft_bounces::table.find(email_hash)).execute(conn)?;
    diesel::update(
        subs::table
            .filter(subs::email.eq(email.as_str()))
            .filter(subs::status.eq(SubscriberStatus::Suppressed.as_str())),
    )
    .set((
        subs::status.eq(SubscriberStatus::Unsubscribed.as_str()),
        subs::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// A report from a mail provider about one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailEvent {
    /// Permanent failure: suppressed at once.
    Hard,
    /// Temporary failure: suppressed after `newsletter.soft_bounce_limit` in a row.
    Soft,
    /// The reader marked a message as spam: suppressed at once.
    Complaint,
    /// Delivered: ends a run of soft bounces.
    Delivered,
}

/// What a mail event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    Suppressed,
    Recorded,
}

/// Applies a bounce, complaint or delivery report.
pub fn record_mail_event(
    conn: &mut DbConnection,
    email: &EmailAddress,
    email_hash: &str,
    event: MailEvent,
    soft_limit: u32,
    now: NaiveDateTime,
) -> QueryResult<EventOutcome> {
    match event {
        MailEvent::Hard => {
            suppress(conn, email, email_hash, SuppressionReason::HardBounce, now)?;
            Ok(EventOutcome::Suppressed)
        }
        MailEvent::Complaint => {
            suppress(conn, email, email_hash, SuppressionReason::Complaint, now)?;
            Ok(EventOutcome::Suppressed)
        }
        MailEvent::Delivered => {
            diesel::delete(soft_bounces::table.find(email_hash)).execute(conn)?;
            Ok(EventOutcome::Recorded)
        }
        MailEvent::Soft => {
            let current: Option<i32> = soft_bounces::table
                .find(email_hash)
                .select(soft_bounces::bounces)
                .first(conn)
                .optional()?;
            let count = current.unwrap_or(0) + 1;
            if current.is_some() {
                diesel::update(soft_bounces::table.find(email_hash))
                    .set((
                        soft_bounces::bounces.eq(count),
                        soft_bounces::last_at.eq(now),
                    ))
                    .execute(conn)?;
            } else {
                diesel::insert_into(soft_bounces::table)
                    .values((
                        soft_bounces::email_hash.eq(email_hash),
                        soft_bounces::bounces.eq(count),
                        soft_bounces::last_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            if count >= soft_limit.max(1) as i32 {
                suppress(conn, email, email_hash, SuppressionReason::SoftBounces, now)?;
                Ok(EventOutcome::Suppressed)
            } else {
                Ok(EventOutcome::Recorded)
            }
        }
    }
}

/// Erases a subscriber (the people endpoint): the address is suppressed by its hash, so it
/// is never mailed or imported again, and the subscriber with its memberships, tokens and
/// consent records is deleted (deliveries keep their counts without the person).
pub fn erase_subscriber(
    conn: &mut DbConnection,
    email: &EmailAddress,
    email_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    suppress(conn, email, email_hash, SuppressionReason::Erased, now)?;
    let n = diesel::delete(subs::table.filter(subs::email.eq(email.as_str()))).execute(conn)?;
    Ok(n > 0)
}

// ----------------------------------------------------------------------------------------
// Staff views of subscribers

/// Filters for the staff subscriber list and export.
#[derive(Debug, Clone, Default)]
pub struct SubscriberFilter {
    pub status: Option<SubscriberStatus>,
    /// Members of this list (pending or confirmed there).
    pub list: Option<ListSlug>,
    /// Exactly this address.
    pub email: Option<EmailAddress>,
    /// A part of the address or name, case-insensitive.
    pub search: Option<String>,
    /// The last id of the previous page.
    pub cursor: Option<String>,
    /// 1..=500.
    pub limit: i64,
}

/// One subscriber as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriberItem {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub status: String,
    /// Slugs of the lists where the subscriber is pending or confirmed.
    pub lists: Vec<String>,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
}

/// The subscribers `filter` names (its cursor and limit aside).
fn filtered_subscribers<'a>(filter: &SubscriberFilter) -> subs::BoxedQuery<'a, MultiBackend> {
    let mut query = subs::table.into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(subs::status.eq(status.as_str()));
    }
    if let Some(email) = &filter.email {
        query = query.filter(subs::email.eq(email.as_str().to_string()));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = crate::db::contains_pattern(&search.to_lowercase());
        query = query.filter(
            subs::email
                .like(pattern.clone())
                .escape('\\')
                .or(lower_nullable(subs::name).like(pattern).escape('\\')),
        );
    }
    if let Some(slug) = &filter.list {
        let in_list = members::table
            .inner_join(lists::table)
            .filter(lists::slug.eq(slug.as_str().to_string()))
            .filter(members::status.ne(MEMBER_UNSUBSCRIBED))
            .select(members::subscriber_id);
        query = query.filter(subs::id.eq_any(in_list));
    }
    query
}

/// How many subscribers `filter` names (its cursor and limit aside).
pub fn count_subscribers(conn: &mut DbConnection, filter: &SubscriberFilter) -> QueryResult<i64> {
    filtered_subscribers(filter).count().get_result(conn)
}

/// Subscribers, newest first, cursor-paginated.
pub fn list_subscribers(
    conn: &mut DbConnection,
    filter: &SubscriberFilter,
) -> QueryResult<Page<SubscriberItem>> {
    let limit = filter.limit.clamp(1, 500);
    let mut query = filtered_subscribers(filter).select(Subscriber::as_select());
    if let Some(cursor) = &filter.cursor {
        query = query.filter(subs::id.lt(cursor.clone()));
    }
    let mut rows: Vec<Subscriber> = query.order(subs::id.desc()).limit(limit + 1).load(conn)?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|s| s.id.clone())
    } else {
        None
    };
    let ids: Vec<&str> = rows.iter().map(|s| s.id.as_str()).collect();
    let mut list_rows: Vec<(String, String)> = Vec::new();
    for chunk in ids.chunks(500) {
        list_rows.extend(
            members::table
                .inner_join(lists::table)
                .filter(members::subscriber_id.eq_any(chunk))
                .filter(members::status.ne(MEMBER_UNSUBSCRIBED))
                .order(lists::slug.asc())
                .select((members::subscriber_id, lists::slug))
                .load::<(String, String)>(conn)?,
        );
    }
    let items = rows
        .into_iter()
        .map(|s| SubscriberItem {
            lists: list_rows
                .iter()
                .filter(|(id, _)| *id == s.id)
                .map(|(_, slug)| slug.clone())
                .collect(),
            id: s.id,
            email: s.email,
            name: s.name,
            status: s.status,
            created_at: s.created_at,
            confirmed_at: s.confirmed_at,
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// Creates subscribers straight away as confirmed (benchmarks, tests and staff tools): no
/// email, a consent record of kind `imported`. Existing addresses are left as they are.
pub fn insert_confirmed_subscribers(
    conn: &mut DbConnection,
    emails: &[EmailAddress],
    list_ids: &[String],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut created = 0;
    for chunk in emails.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|e| {
                (
                    subs::id.eq(crate::db::new_id()),
                    subs::email.eq(e.as_str()),
                    subs::status.eq(SubscriberStatus::Confirmed.as_str()),
                    subs::source.eq("import"),
                    subs::created_at.eq(now),
                    subs::updated_at.eq(now),
                    subs::confirmed_at.eq(Some(now)),
                )
            })
            .collect();
        created += on_backend!(conn, |c| diesel::insert_into(subs::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(c))?;
        if !list_ids.is_empty() {
            let addrs: Vec<&str> = chunk.iter().map(EmailAddress::as_str).collect();
            let ids: Vec<String> = subs::table
                .filter(subs::email.eq_any(&addrs))
                .filter(subs::status.eq(SubscriberStatus::Confirmed.as_str()))
                .select(subs::id)
                .load(conn)?;
            let memberships: Vec<_> = ids
                .iter()
                .flat_map(|sid| {
                    list_ids.iter().map(move |lid| {
                        (
                            members::subscriber_id.eq(sid.clone()),
                            members::list_id.eq(lid.clone()),
                            members::status.eq(MEMBER_CONFIRMED),
                            members::updated_at.eq(now),
                        )
                    })
                })
                .collect();
            for part in memberships.chunks(1000) {
                on_backend!(conn, |c| diesel::insert_into(members::table)
                    .values(part)
                    .on_conflict_do_nothing()
                    .execute(c))?;
            }
        }
    }
    Ok(created)
}

// ----------------------------------------------------------------------------------------
// Issues

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = issues)]
pub struct Issue {
    pub id: String,
    pub subject: String,
    pub body_markdown: String,
    pub status: String,
    pub send_at: Option<NaiveDateTime>,
    pub queue_cursor: Option<String>,
    pub queue_done: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

impl Issue {
    pub fn status(&self) -> IssueStatus {
        IssueStatus::parse(&self.status).unwrap_or(IssueStatus::Draft)
    }
}

/// Stores a draft issue. Its lists must exist (422 on `lists[i]` otherwise); none means
/// every confirmed subscriber.
pub fn create_issue(conn: &mut DbConnection, new: &NewIssue) -> Result<Issue, AppError> {
    let targets = resolve_lists(conn, &new.lists, false)?;
    let now = crate::db::now();
    let id = crate::db::new_id();
    diesel::insert_into(issues::table)
        .values((
            issues::id.eq(&id),
            issues::subject.eq(&new.subject),
            issues::body_markdown.eq(&new.body_markdown),
            issues::status.eq(IssueStatus::Draft.as_str()),
            issues::queue_done.eq(false),
            issues::created_at.eq(now),
            issues::updated_at.eq(now),
        ))
        .execute(conn)?;
    for list in &targets {
        diesel::insert_into(issue_lists::table)
            .values((
                issue_lists::issue_id.eq(&id),
                issue_lists::list_id.eq(&list.id),
            ))
            .execute(conn)?;
    }
    Ok(find_issue(conn, &id)?)
}

/// Rewrites a draft (409 once it is scheduled or sent).
pub fn update_issue(conn: &mut DbConnection, id: &str, new: &NewIssue) -> Result<Issue, AppError> {
    let issue = find_issue(conn, id)?;
    if issue.status() != IssueStatus::Draft {
        return Err(AppError::Conflict("Only a draft can be edited.".into()));
    }
    let targets = resolve_lists(conn, &new.lists, false)?;
    diesel::update(issues::table.find(id))
        .set((
            issues::subject.eq(&new.subject),
            issues::body_markdown.eq(&new.body_markdown),
            issues::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    diesel::delete(issue_lists::table.filter(issue_lists::issue_id.eq(id))).execute(conn)?;
    for list in &targets {
        diesel::insert_into(issue_lists::table)
            .values((
                issue_lists::issue_id.eq(id),
                issue_lists::list_id.eq(&list.id),
            ))
            .execute(conn)?;
    }
    Ok(find_issue(conn, id)?)
}

pub fn find_issue(conn: &mut DbConnection, id: &str) -> QueryResult<Issue> {
    issues::table
        .find(id)
        .select(Issue::as_select())
        .first(conn)
}

/// The lists an issue goes to (empty: every confirmed subscriber).
pub fn issue_lists(conn: &mut DbConnection, issue_id: &str) -> QueryResult<Vec<List>> {
    lists::table
        .filter(
            lists::id.eq_any(
                issue_lists::table
                    .filter(issue_lists::issue_id.eq(issue_id))
                    .select(issue_lists::list_id),
            ),
        )
        .order(lists::name.asc())
        .select(List::as_select())
        .load(conn)
}

/// Issues, newest first, cursor-paginated.
pub fn list_issues(
    conn: &mut DbConnection,
    status: Option<IssueStatus>,
    cursor: Option<&str>,
    limit: i64,
) -> QueryResult<Page<Issue>> {
    let limit = limit.clamp(1, 500);
    let mut query = issues::table.select(Issue::as_select()).into_boxed();
    if let Some(status) = status {
        query = query.filter(issues::status.eq(status.as_str()));
    }
    if let Some(cursor) = cursor {
        query = query.filter(issues::id.lt(cursor.to_string()));
    }
    let mut rows: Vec<Issue> = query.order(issues::id.desc()).limit(limit + 1).load(conn)?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|i| i.id.clone())
    } else {
        None
    };
    Ok(Page {
        items: rows,
        next_cursor,
    })
}

fn set_issue_status(
    conn: &mut DbConnection,
    id: &str,
    from: &[IssueStatus],
    to: IssueStatus,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    Ok(
        diesel::update(issues::table.find(id).filter(issues::status.eq_any(from)))
            .set((issues::status.eq(to.as_str()), issues::updated_at.eq(now)))
            .execute(conn)?,
    )
}

fn conflict_unless_changed(
    conn: &mut DbConnection,
    id: &str,
    changed: usize,
    what: &str,
) -> Result<Issue, AppError> {
    let issue = find_issue(conn, id)?;
    if changed == 0 {
        return Err(AppError::Conflict(format!(
            "An issue that is {} cannot be {what}.",
            issue.status
        )));
    }
    Ok(issue)
}

/// Sends a draft now (`send_at` None or past) or at `send_at` (UTC); a scheduled issue can
/// be moved. The dispatcher picks it up when due.
pub fn schedule_send(
    conn: &mut DbConnection,
    id: &str,
    send_at: Option<NaiveDateTime>,
) -> Result<Issue, AppError> {
    let now = crate::db::now();
    let changed = diesel::update(issues::table.find(id).filter(
        issues::status.eq_any([IssueStatus::Draft.as_str(), IssueStatus::Scheduled.as_str()]),
    ))
    .set((
        issues::status.eq(IssueStatus::Scheduled.as_str()),
        issues::send_at.eq(Some(send_at.unwrap_or(now))),
        issues::updated_at.eq(now),
    ))
    .execute(conn)?;
    conflict_unless_changed(conn, id, changed, "scheduled")
}

/// Holds an issue's queued emails (not the ones in flight) until it is resumed.
fn hold_queued(conn: &mut DbConnection, issue_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    let theirs = deliveries::table
        .filter(deliveries::issue_id.eq(issue_id))
        .filter(deliveries::outbox_id.is_not_null())
        .select(deliveries::outbox_id.assume_not_null());
    diesel::update(
        outbox::table
            .filter(outbox::state.eq(OutboxState::Queued.as_str()))
            .filter(outbox::next_attempt_at.lt(held_until()))
            .filter(
                outbox::lease_until
                    .is_null()
                    .or(outbox::lease_until.lt(now)),
            )
            .filter(outbox::id.eq_any(theirs)),
    )
    .set(outbox::next_attempt_at.eq(held_until()))
    .execute(conn)
}

/// Cancels an issue's queued emails (not the ones in flight).
fn cancel_queued(
    conn: &mut DbConnection,
    issue_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let theirs = deliveries::table
        .filter(deliveries::issue_id.eq(issue_id))
        .filter(deliveries::outbox_id.is_not_null())
        .select(deliveries::outbox_id.assume_not_null());
    diesel::update(
        outbox::table
            .filter(outbox::state.eq(OutboxState::Queued.as_str()))
            .filter(
                outbox::lease_until
                    .is_null()
                    .or(outbox::lease_until.lt(now)),
            )
            .filter(outbox::id.eq_any(theirs)),
    )
    .set((
        outbox::state.eq(OutboxState::Cancelled.as_str()),
        outbox::last_error.eq(Some("the issue was cancelled")),
    ))
    .execute(conn)
}

/// Pauses a scheduled or sending issue: no more recipients are queued and queued emails
/// are held. Emails a worker has already claimed (at most `mail.batch_size` per worker) are
/// in flight and still go out.
pub fn pause_issue(conn: &mut DbConnection, id: &str) -> Result<Issue, AppError> {
    let now = crate::db::now();
    let changed = set_issue_status(
        conn,
        id,
        &[IssueStatus::Scheduled, IssueStatus::Sending],
        IssueStatus::Paused,
        now,
    )?;
    if changed > 0 {
        hold_queued(conn, id, now)?;
    }
    conflict_unless_changed(conn, id, changed, "paused")
}

/// Resumes a paused issue where it stopped.
pub fn resume_issue(conn: &mut DbConnection, id: &str) -> Result<Issue, AppError> {
    let now = crate::db::now();
    let issue = find_issue(conn, id)?;
    let to = if issue.started_at.is_some() {
        IssueStatus::Sending
    } else {
        IssueStatus::Scheduled
    };
    let changed = set_issue_status(conn, id, &[IssueStatus::Paused], to, now)?;
    if changed > 0 {
        let theirs = deliveries::table
            .filter(deliveries::issue_id.eq(id))
            .filter(deliveries::outbox_id.is_not_null())
            .select(deliveries::outbox_id.assume_not_null());
        diesel::update(
            outbox::table
                .filter(outbox::state.eq(OutboxState::Queued.as_str()))
                .filter(outbox::next_attempt_at.ge(held_until()))
                .filter(outbox::id.eq_any(theirs)),
        )
        .set(outbox::next_attempt_at.eq(now))
        .execute(conn)?;
    }
    conflict_unless_changed(conn, id, changed, "resumed")
}

/// Cancels an issue: nothing more is queued, queued emails are cancelled (counted as
/// skipped); those already sent stay sent.
pub fn cancel_issue(conn: &mut DbConnection, id: &str) -> Result<Issue, AppError> {
    let now = crate::db::now();
    let changed = set_issue_status(
        conn,
        id,
        &[
            IssueStatus::Draft,
            IssueStatus::Scheduled,
            IssueStatus::Sending,
            IssueStatus::Paused,
        ],
        IssueStatus::Cancelled,
        now,
    )?;
    if changed > 0 {
        cancel_queued(conn, id, now)?;
        diesel::update(issues::table.find(id))
            .set(issues::finished_at.eq(Some(now)))
            .execute(conn)?;
    }
    conflict_unless_changed(conn, id, changed, "cancelled")
}

/// Queues the issue's failed emails again (same rows, same `Message-ID`s, a fresh attempt
/// budget); only recipients still confirmed are retried. Returns how many.
pub fn retry_failed(conn: &mut DbConnection, id: &str) -> Result<usize, AppError> {
    let now = crate::db::now();
    let issue = find_issue(conn, id)?;
    if !matches!(
        issue.status(),
        IssueStatus::Sending | IssueStatus::Sent | IssueStatus::Paused
    ) {
        return Err(AppError::Conflict(format!(
            "An issue that is {} has nothing to retry.",
            issue.status
        )));
    }
    let still_confirmed = subs::table
        .filter(subs::status.eq(SubscriberStatus::Confirmed.as_str()))
        .select(subs::id);
    let retryable = deliveries::table
        .filter(deliveries::issue_id.eq(id))
        .filter(deliveries::outbox_id.is_not_null())
        .filter(
            deliveries::subscriber_id
                .assume_not_null()
                .eq_any(still_confirmed),
        )
        .select(deliveries::outbox_id.assume_not_null());
    let next_attempt = if issue.status() == IssueStatus::Paused {
        held_until()
    } else {
        now
    };
    let n = diesel::update(
        outbox::table
            .filter(outbox::state.eq(OutboxState::Failed.as_str()))
            .filter(outbox::id.eq_any(retryable)),
    )
    .set((
        outbox::state.eq(OutboxState::Queued.as_str()),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(next_attempt),
    ))
    .execute(conn)?;
    if n > 0 && issue.status() == IssueStatus::Sent {
        diesel::update(issues::table.find(id))
            .set((
                issues::status.eq(IssueStatus::Sending.as_str()),
                issues::finished_at.eq(None::<NaiveDateTime>),
                issues::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(n)
}

/// Where an issue's sending stands. When it is done, `recipients = sent + failed + skipped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IssueProgress {
    pub status: IssueStatus,
    /// Every delivery row (one per subscriber the issue went to, or skipped).
    pub recipients: i64,
    pub sent: i64,
    /// Failed for good (retry with `retry_failed`).
    pub failed: i64,
    /// Queued or held, not yet sent.
    pub pending: i64,
    /// Not sent: unsubscribed or suppressed at send time, or cancelled.
    pub skipped: i64,
}

pub fn issue_progress(conn: &mut DbConnection, id: &str) -> QueryResult<IssueProgress> {
    use diesel::dsl::count_star;
    let issue = find_issue(conn, id)?;
    let recipients: i64 = deliveries::table
        .filter(deliveries::issue_id.eq(id))
        .count()
        .get_result(conn)?;
    let without_email: i64 = deliveries::table
        .filter(deliveries::issue_id.eq(id))
        .filter(deliveries::outbox_id.is_null())
        .count()
        .get_result(conn)?;
    let theirs = deliveries::table
        .filter(deliveries::issue_id.eq(id))
        .filter(deliveries::outbox_id.is_not_null())
        .select(deliveries::outbox_id.assume_not_null());
    let by_state: Vec<(String, i64)> = outbox::table
        .filter(outbox::id.eq_any(theirs))
        .group_by(outbox::state)
        .select((outbox::state, count_star()))
        .load(conn)?;
    let count = |st: OutboxState| {
        by_state
            .iter()
            .find(|(s, _)| s == st.as_str())
            .map_or(0, |(_, n)| *n)
    };
    let with_email: i64 = by_state.iter().map(|(_, n)| n).sum();
    Ok(IssueProgress {
        status: issue.status(),
        recipients,
        sent: count(OutboxState::Sent),
        failed: count(OutboxState::Failed),
        pending: count(OutboxState::Queued),
        // An outbox row purged by retention counts as skipped too.
        skipped: without_email
            + count(OutboxState::Cancelled)
            + (recipients - without_email - with_email),
    })
}

// ----------------------------------------------------------------------------------------
// Dispatch: queuing an issue's deliveries batch by batch

/// A recipient about to be queued.
#[derive(Debug, Clone, Queryable)]
pub struct Candidate {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
}

/// True when some issue needs the dispatcher: scheduled, sending, paused, or cancelled
/// within the last hour (its stragglers are cancelled). Lets an idle dispatcher skip its
/// write transaction.
pub fn has_open_issues(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<bool> {
    let open = [
        IssueStatus::Scheduled.as_str(),
        IssueStatus::Sending.as_str(),
        IssueStatus::Paused.as_str(),
    ];
    let found: Option<String> = issues::table
        .filter(
            issues::status.eq_any(open).or(issues::status
                .eq(IssueStatus::Cancelled.as_str())
                .and(issues::finished_at.gt(now - chrono::TimeDelta::hours(1)))),
        )
        .select(issues::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Moves scheduled issues whose time has come to `sending`.
pub fn start_due_issues(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        issues::table
            .filter(issues::status.eq(IssueStatus::Scheduled.as_str()))
            .filter(issues::send_at.le(now)),
    )
    .set((
        issues::status.eq(IssueStatus::Sending.as_str()),
        issues::started_at.eq(Some(now)),
        issues::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Issues still queuing recipients, oldest first.
pub fn issues_to_queue(conn: &mut DbConnection) -> QueryResult<Vec<Issue>> {
    issues::table
        .filter(issues::status.eq(IssueStatus::Sending.as_str()))
        .filter(issues::queue_done.eq(false))
        .order(issues::started_at.asc())
        .select(Issue::as_select())
        .load(conn)
}

/// Marks fully queued issues with nothing left in the outbox as `sent`; keeps paused and
/// cancelled issues' stragglers (emails in flight when they were paused or cancelled, then
/// deferred) held or cancelled.
pub fn settle_issues(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<()> {
    let open: Vec<Issue> = issues::table
        .filter(
            issues::status
                .eq(IssueStatus::Sending.as_str())
                .and(issues::queue_done.eq(true))
                .or(issues::status.eq(IssueStatus::Paused.as_str()))
                .or(issues::status
                    .eq(IssueStatus::Cancelled.as_str())
                    .and(issues::finished_at.gt(now - chrono::TimeDelta::hours(1)))),
        )
        .select(Issue::as_select())
        .load(conn)?;
    for issue in open {
        match issue.status() {
            IssueStatus::Paused => {
                hold_queued(conn, &issue.id, now)?;
            }
            IssueStatus::Cancelled => {
                cancel_queued(conn, &issue.id, now)?;
            }
            _ => {
                let progress = issue_progress(conn, &issue.id)?;
                if progress.pending == 0 {
                    diesel::update(
                        issues::table
                            .find(&issue.id)
                            .filter(issues::status.eq(IssueStatus::Sending.as_str())),
                    )
                    .set((
                        issues::status.eq(IssueStatus::Sent.as_str()),
                        issues::finished_at.eq(Some(now)),
                        issues::updated_at.eq(now),
                    ))
                    .execute(conn)?;
                }
            }
        }
    }
    Ok(())
}

/// The next recipients of an issue after `cursor`: confirmed subscribers, confirmed on one
/// of the target lists (any confirmed subscriber when the issue has no lists), in id order.
pub fn next_candidates(
    conn: &mut DbConnection,
    issue_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<Candidate>> {
    let list_ids: Vec<String> = issue_lists::table
        .filter(issue_lists::issue_id.eq(issue_id))
        .select(issue_lists::list_id)
        .load(conn)?;
    let mut query = subs::table
        .filter(subs::status.eq(SubscriberStatus::Confirmed.as_str()))
        .select((subs::id, subs::email, subs::name))
        .into_boxed();
    if let Some(cursor) = cursor {
        query = query.filter(subs::id.gt(cursor.to_string()));
    }
    if !list_ids.is_empty() {
        let on_lists = members::table
            .filter(members::list_id.eq_any(list_ids))
            .filter(members::status.eq(MEMBER_CONFIRMED))
            .select(members::subscriber_id);
        query = query.filter(subs::id.eq_any(on_lists));
    }
    query.order(subs::id.asc()).limit(limit).load(conn)
}

/// Which of these hashes are suppressed.
pub fn suppressed_among(conn: &mut DbConnection, hashes: &[String]) -> QueryResult<Vec<String>> {
    let mut found = Vec::new();
    for chunk in hashes.chunks(500) {
        found.extend(
            suppressions::table
                .filter(suppressions::email_hash.eq_any(chunk))
                .select(suppressions::email_hash)
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

/// A prepared delivery: the recipient and, unless skipped, the email to queue.
#[derive(Debug, Clone)]
pub struct PreparedDelivery {
    pub delivery_id: String,
    pub subscriber_id: String,
    pub email: Option<crate::mail::NewOutboxEmail>,
    pub skipped_reason: Option<&'static str>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = deliveries)]
struct NewDelivery<'a> {
    id: &'a str,
    issue_id: &'a str,
    subscriber_id: Option<&'a str>,
    outbox_id: Option<&'a str>,
    skipped_reason: Option<&'a str>,
    created_at: NaiveDateTime,
}

/// Result of queuing one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// Emails queued.
    pub queued: usize,
    /// Recipients skipped (unsubscribed or suppressed since the batch was read).
    pub skipped: usize,
    /// False when another dispatcher (or a pause) got there first: nothing was written.
    pub applied: bool,
}

/// Queues one batch of an issue in the caller's write transaction: moves the cursor from
/// `expected_cursor` to `new_cursor` (compare-and-set, so two dispatchers never queue the
/// same batch), re-checks that each recipient is still confirmed, inserts the delivery rows
/// (`ON CONFLICT DO NOTHING` on `(issue_id, subscriber_id)`) and queues one email for each
/// delivery row that was inserted.
#[tracing::instrument(skip_all, fields(issue_id, batch = batch.len()))]
pub fn queue_batch(
    conn: &mut DbConnection,
    issue_id: &str,
    expected_cursor: Option<&str>,
    new_cursor: &str,
    batch: Vec<PreparedDelivery>,
    now: NaiveDateTime,
) -> QueryResult<BatchOutcome> {
    let target = issues::table
        .find(issue_id)
        .filter(issues::status.eq(IssueStatus::Sending.as_str()))
        .filter(issues::queue_done.eq(false));
    let moved = match expected_cursor {
        Some(c) => diesel::update(target.filter(issues::queue_cursor.eq(c)))
            .set((
                issues::queue_cursor.eq(Some(new_cursor)),
                issues::updated_at.eq(now),
            ))
            .execute(conn)?,
        None => diesel::update(target.filter(issues::queue_cursor.is_null()))
            .set((
                issues::queue_cursor.eq(Some(new_cursor)),
                issues::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    if moved == 0 {
        return Ok(BatchOutcome::default());
    }
    // Still confirmed? (Locked FOR SHARE on PostgreSQL, so an unsubscribe waits for this
    // transaction and then cancels what it queued.)
    let ids: Vec<&str> = batch.iter().map(|d| d.subscriber_id.as_str()).collect();
    let mut confirmed: Vec<String> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let q = subs::table
            .filter(subs::id.eq_any(chunk))
            .filter(subs::status.eq(SubscriberStatus::Confirmed.as_str()))
            .select(subs::id);
        let rows: Vec<String> = load_for_share!(conn, q)?;
        confirmed.extend(rows);
    }
    let confirmed: std::collections::HashSet<String> = confirmed.into_iter().collect();
    let mut batch = batch;
    for d in &mut batch {
        if d.email.is_some() && !confirmed.contains(&d.subscriber_id) {
            d.email = None;
            d.skipped_reason = Some("not confirmed at send time");
        }
    }
    let rows: Vec<NewDelivery<'_>> = batch
        .iter()
        .map(|d| NewDelivery {
            id: &d.delivery_id,
            issue_id,
            subscriber_id: Some(&d.subscriber_id),
            outbox_id: d.email.as_ref().map(|e| e.id.as_str()),
            skipped_reason: d.skipped_reason,
            created_at: now,
        })
        .collect();
    let mut inserted: std::collections::HashSet<String> = std::collections::HashSet::new();
    for chunk in rows.chunks(500) {
        // ON CONFLICT DO NOTHING on `(issue_id, subscriber_id)`; RETURNING names only the
        // rows actually inserted, so a recipient another dispatcher already queued gets no
        // second email.
        inserted.extend(on_backend!(conn, |c| diesel::insert_into(deliveries::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .returning(deliveries::id)
            .get_results::<String>(c))?);
    }
    let mut outcome = BatchOutcome {
        applied: true,
        ..BatchOutcome::default()
    };
    let mut emails = Vec::with_capacity(batch.len());
    for d in batch {
        if !inserted.contains(&d.delivery_id) {
            continue;
        }
        match d.email {
            Some(email) => emails.push(email),
            None => outcome.skipped += 1,
        }
    }
    outcome.queued = emails.len();
    crate::mail::outbox::enqueue(conn, &emails)?;
    Ok(outcome)
}

/// Marks an issue fully queued, if its cursor is still `expected_cursor`.
pub fn finish_queuing(
    conn: &mut DbConnection,
    issue_id: &str,
    expected_cursor: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let target = issues::table
        .find(issue_id)
        .filter(issues::status.eq(IssueStatus::Sending.as_str()))
        .filter(issues::queue_done.eq(false));
    let n = match expected_cursor {
        Some(c) => diesel::update(target.filter(issues::queue_cursor.eq(c)))
            .set((issues::queue_done.eq(true), issues::updated_at.eq(now)))
            .execute(conn)?,
        None => diesel::update(target.filter(issues::queue_cursor.is_null()))
            .set((issues::queue_done.eq(true), issues::updated_at.eq(now)))
            .execute(conn)?,
    };
    Ok(n > 0)
}

// ----------------------------------------------------------------------------------------
// Imports

/// Creates an imported subscriber: confirmed (with a consent record of kind `imported`)
/// when the file says the person consented, pending otherwise. No email is sent.
pub fn import_new_subscriber(
    conn: &mut DbConnection,
    email: &EmailAddress,
    name: Option<&super::model::SubscriberName>,
    list_ids: &[String],
    consent: bool,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let id = crate::db::new_id();
    let status = if consent {
        SubscriberStatus::Confirmed
    } else {
        SubscriberStatus::Pending
    };
    diesel::insert_into(subs::table)
        .values((
            subs::id.eq(&id),
            subs::email.eq(email.as_str()),
            subs::name.eq(name.map(|n| n.as_str())),
            subs::status.eq(status.as_str()),
            subs::source.eq("import"),
            subs::created_at.eq(now),
            subs::updated_at.eq(now),
            subs::confirmed_at.eq(consent.then_some(now)),
        ))
        .execute(conn)?;
    let member_status = if consent {
        MEMBER_CONFIRMED
    } else {
        MEMBER_PENDING
    };
    for list_id in list_ids {
        set_membership(conn, &id, list_id, member_status, now, Change::Set)?;
    }
    if consent {
        record_consent(conn, &id, "imported", now, None, None, None)?;
    }
    Ok(id)
}

/// Applies an import row to a pending or confirmed subscriber: with consent, a pending
/// subscriber is confirmed and the lists are confirmed; without, missing lists are added as
/// pending. A list the person left is never re-added. Returns whether anything changed.
pub fn import_existing_subscriber(
    conn: &mut DbConnection,
    subscriber: &Subscriber,
    list_ids: &[String],
    consent: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let mut changed = false;
    if consent && subscriber.status() == SubscriberStatus::Pending {
        diesel::update(subs::table.find(&subscriber.id))
            .set((
                subs::status.eq(SubscriberStatus::Confirmed.as_str()),
                subs::confirmed_at.eq(Some(now)),
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
        record_consent(conn, &subscriber.id, "imported", now, None, None, None)?;
        changed = true;
    }
    let member_status = if consent {
        MEMBER_CONFIRMED
    } else {
        MEMBER_PENDING
    };
    for list_id in list_ids {
        changed |= set_membership(
            conn,
            &subscriber.id,
            list_id,
            member_status,
            now,
            Change::UpgradeOnly,
        )?;
    }
    Ok(changed)
}

/// `(delivery, issue, subscriber)` of the given deliveries that still name a subscriber: what
/// the outbox worker needs to make each newsletter email at send time.
pub fn delivery_targets(
    conn: &mut DbConnection,
    ids: &[&str],
) -> QueryResult<Vec<(String, String, String)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            deliveries::table
                .filter(deliveries::id.eq_any(chunk))
                .filter(deliveries::subscriber_id.is_not_null())
                .select((
                    deliveries::id,
                    deliveries::issue_id,
                    deliveries::subscriber_id.assume_not_null(),
                ))
                .load::<(String, String, String)>(conn)?,
        );
    }
    Ok(out)
}
