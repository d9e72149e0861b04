//! Staff views of subscribers: the filtered, cursor-paginated list behind the staff page,
//! API and CSV export, and bulk creation of confirmed subscribers.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::dialect::on_backend;
use crate::db::lower_nullable;
use crate::db::schema::newsletter_lists as lists;
use crate::db::schema::newsletter_memberships as members;
use crate::db::schema::newsletter_subscribers as subs;
use crate::db::{DbConnection, MultiBackend};

use super::subscribers::Subscriber;
use super::{Page, MEMBER_CONFIRMED, MEMBER_UNSUBSCRIBED};
use crate::newsletter::model::{EmailAddress, ListSlug, SubscriberStatus};

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
    pub status: SubscriberStatus,
    /// Slugs of the lists where the subscriber is pending or confirmed.
    pub lists: Vec<String>,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
}

/// The subscribers `filter` names (its cursor and limit aside).
fn filtered_subscribers<'a>(filter: &SubscriberFilter) -> subs::BoxedQuery<'a, MultiBackend> {
    let mut query = subs::table.into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(subs::status.eq(status));
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
                    subs::status.eq(SubscriberStatus::Confirmed),
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
                .filter(subs::status.eq(SubscriberStatus::Confirmed))
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
