//! The newsletter's part of one person's data: what the people view shows and exports, its
//! erasure (the address stays blocked by its keyed hash), lifting that block, and the
//! retention of subscriptions never confirmed.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::newsletter_subscribers as subs;
use crate::db::schema::newsletter_suppressions as suppressions;
use crate::db::schema::{newsletter_deliveries as deliveries, newsletter_issues as issues};
use crate::db::DbConnection;
use crate::domain::Erasure;
use crate::keys::Keys;

use super::model::{EmailAddress, SubscriberStatus};
use super::store;

/// How subscribers are named in the audit log and staff links.
pub const REF_KIND: &str = "newsletter_subscriber";

/// Everything the newsletter holds about one address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewsletterRecord {
    /// The subscriber, when the address ever subscribed (and was not erased).
    pub subscriber: Option<SubscriberRecord>,
    /// Whether the address is blocked from the newsletter (a bounce, a complaint, an erasure
    /// or a staff decision), kept as a keyed hash of the address only.
    pub blocked: bool,
    /// Why it is blocked: `hard_bounce`, `complaint`, `soft_bounces`, `erased` or `manual`.
    pub block_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriberRecord {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub status: SubscriberStatus,
    /// `form` or `import`.
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
    pub lists: Vec<ListMembership>,
    pub consents: Vec<ConsentRecord>,
    /// Issues sent (or queued) to the address.
    pub issues_received: Vec<IssueReceived>,
    /// The staff page of the subscriber.
    pub staff_url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListMembership {
    pub slug: String,
    pub name: String,
    /// `pending`, `confirmed` or `unsubscribed`.
    pub status: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentRecord {
    pub id: String,
    /// `subscribed`, `confirmed`, `preferences`, `unsubscribed`, `imported`…
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    pub source_url: Option<String>,
    pub wording_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueReceived {
    pub issue_id: String,
    pub subject: String,
    pub queued_at: DateTime<Utc>,
}

fn parse(email: &str) -> Option<EmailAddress> {
    EmailAddress::parse(email).ok()
}

fn block_of(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<String>> {
    suppressions::table
        .find(hash)
        .select(suppressions::reason)
        .first(conn)
        .optional()
}

/// Everything stored about `email` (normalised, lower-case).
pub fn find_by_email(
    conn: &mut DbConnection,
    keys: &Keys,
    email: &str,
) -> QueryResult<NewsletterRecord> {
    let Some(address) = parse(email) else {
        return Ok(NewsletterRecord {
            subscriber: None,
            blocked: false,
            block_reason: None,
        });
    };
    let block_reason = block_of(conn, &address.suppression_hash(keys))?;
    let subscriber = match store::find_subscriber_by_email(conn, &address)? {
        None => None,
        Some(s) => {
            let lists = store::memberships(conn, &s.id)?
                .into_iter()
                .map(|(list, status)| ListMembership {
                    slug: list.slug,
                    name: list.name,
                    status,
                })
                .collect();
            let consents = store::consents_of(conn, &s.id)?
                .into_iter()
                .map(|c| ConsentRecord {
                    id: c.id,
                    kind: c.kind,
                    recorded_at: c.recorded_at.and_utc(),
                    source_url: c.source_url,
                    wording_version: c.wording_version,
                })
                .collect();
            let received: Vec<(String, String, NaiveDateTime)> = deliveries::table
                .inner_join(issues::table.on(issues::id.eq(deliveries::issue_id)))
                .filter(deliveries::subscriber_id.eq(&s.id))
                .filter(deliveries::outbox_id.is_not_null())
                .order(deliveries::created_at.asc())
                .select((issues::id, issues::subject, deliveries::created_at))
                .load(conn)?;
            Some(SubscriberRecord {
                staff_url: format!("/staff/subscribers/{}", s.id),
                id: s.id,
                email: s.email,
                name: s.name,
                status: s.status,
                source: s.source,
                created_at: s.created_at.and_utc(),
                confirmed_at: s.confirmed_at.map(|t| t.and_utc()),
                unsubscribed_at: s.unsubscribed_at.map(|t| t.and_utc()),
                lists,
                consents,
                issues_received: received
                    .into_iter()
                    .map(|(issue_id, subject, at)| IssueReceived {
                        issue_id,
                        subject,
                        queued_at: at.and_utc(),
                    })
                    .collect(),
            })
        }
    };
    Ok(NewsletterRecord {
        subscriber,
        blocked: block_reason.is_some(),
        block_reason,
    })
}

/// Erases `email` from the newsletter inside the caller's transaction: the address is
/// blocked by its keyed hash (so it is never mailed, imported or subscribed again until
/// staff lift the block), and the subscriber with its memberships, tokens and consent
/// records is deleted. Blocks the address even when it never subscribed.
pub fn erase_by_email(
    conn: &mut DbConnection,
    keys: &Keys,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<Erasure> {
    let mut erasure = Erasure::default();
    let Some(address) = parse(email) else {
        return Ok(erasure);
    };
    if let Some(s) = store::find_subscriber_by_email(conn, &address)? {
        if let Some(name) = &s.name {
            erasure.needle(name);
        }
        erasure.refs.push((REF_KIND.to_string(), s.id.clone()));
    }
    let hash = address.suppression_hash(keys);
    if store::erase_subscriber(conn, &address, &hash, now)? {
        erasure.records += 1;
    }
    Ok(erasure)
}

/// The address of a subscriber (the preferences page's token names the subscriber).
pub fn address_of_subscriber(conn: &mut DbConnection, id: &str) -> QueryResult<Option<String>> {
    subs::table
        .find(id)
        .select(subs::email)
        .first(conn)
        .optional()
}

/// Staff lift the block on `email` (after an erasure, a bounce or a complaint): a new
/// subscription is then accepted and confirmed as usual. Returns false when it was not blocked.
pub fn lift_block(
    conn: &mut DbConnection,
    keys: &Keys,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    match parse(email) {
        Some(address) => store::unsuppress(conn, &address, &address.suppression_hash(keys), now),
        None => Ok(false),
    }
}

/// Retention: deletes subscriptions never confirmed whose last confirmation email went out
/// before `before` (with their tokens, memberships and consent records). Idempotent.
pub fn delete_unconfirmed(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        subs::table
            .filter(subs::status.eq(SubscriberStatus::Pending))
            .filter(subs::confirmed_at.is_null())
            .filter(
                subs::last_confirmation_sent_at
                    .lt(before)
                    .or(subs::last_confirmation_sent_at
                        .is_null()
                        .and(subs::created_at.lt(before))),
            ),
    )
    .execute(conn)
}
