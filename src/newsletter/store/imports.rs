//! Imports: one CSV row at a time, new or existing subscriber, and the delivery targets the
//! renderer looks up.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::newsletter_deliveries as deliveries;
use crate::db::schema::newsletter_memberships as members;
use crate::db::schema::newsletter_subscribers as subs;
use crate::db::DbConnection;

use super::subscribers::{record_consent, set_membership, Change, Subscriber};
use super::{MEMBER_CONFIRMED, MEMBER_PENDING};
use crate::newsletter::model::{EmailAddress, SubscriberStatus};

/// when the file says the person consented, pending otherwise. No email is sent.
pub fn import_new_subscriber(
    conn: &mut DbConnection,
    email: &EmailAddress,
    name: Option<&crate::newsletter::model::SubscriberName>,
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
            subs::status.eq(status),
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
    if consent && subscriber.status == SubscriberStatus::Pending {
        diesel::update(subs::table.find(&subscriber.id))
            .set((
                subs::status.eq(SubscriberStatus::Confirmed),
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
/// The stored language of each of `ids` (subscribers).
pub fn subscriber_langs(
    conn: &mut DbConnection,
    ids: &[&str],
) -> QueryResult<Vec<(String, Option<String>)>> {
    use crate::db::schema::newsletter_subscribers as subs;
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            subs::table
                .filter(subs::id.eq_any(chunk))
                .select((subs::id, subs::lang))
                .load::<(String, Option<String>)>(conn)?,
        );
    }
    Ok(out)
}

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
