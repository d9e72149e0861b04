//! Suppressions and bounces: addresses never mailed again, and the mail events (bounce,
//! complaint) that put them there.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::newsletter_soft_bounces as soft_bounces;
use crate::db::schema::newsletter_subscribers as subs;
use crate::db::schema::newsletter_suppressions as suppressions;
use crate::db::DbConnection;

use super::subscribers::{cancel_queued_deliveries, find_subscriber_by_email, is_suppressed};
use crate::newsletter::model::{EmailAddress, SubscriberStatus, SuppressionReason};

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
                subs::status.eq(SubscriberStatus::Suppressed),
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
            .filter(subs::status.eq(SubscriberStatus::Suppressed)),
    )
    .set((
        subs::status.eq(SubscriberStatus::Unsubscribed),
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
