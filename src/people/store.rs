//! Readers' pending "delete my data" and "download my data" requests: a token stored as its
//! SHA-256, that expires (an erasure's is single use).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::people_erasure_requests as requests;
use crate::db::DbConnection;

/// What an emailed link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Erase,
    Export,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Erase => "erase",
            LinkKind::Export => "export",
        }
    }
}

/// Stores a request for `email` (normalised) under the hash of its token.
pub fn insert_request(
    conn: &mut DbConnection,
    token_hash: &str,
    email: &str,
    kind: LinkKind,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(requests::table)
        .values((
            requests::token_hash.eq(token_hash),
            requests::email.eq(email),
            requests::purpose.eq(kind.as_str()),
            requests::created_at.eq(now),
            requests::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether a request of this purpose for `email` was made after `since` (one email per
/// interval at most).
pub fn requested_since(
    conn: &mut DbConnection,
    email: &str,
    kind: LinkKind,
    since: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        requests::table
            .filter(requests::email.eq(email))
            .filter(requests::purpose.eq(kind.as_str()))
            .filter(requests::created_at.gt(since)),
    ))
    .get_result(conn)
}

/// The address of an unused, unexpired request of this purpose (changes nothing).
pub fn pending_request(
    conn: &mut DbConnection,
    token_hash: &str,
    kind: LinkKind,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    requests::table
        .find(token_hash)
        .filter(requests::purpose.eq(kind.as_str()))
        .filter(requests::used_at.is_null())
        .filter(requests::expires_at.gt(now))
        .select(requests::email)
        .first(conn)
        .optional()
}

/// Uses a request: its address when it was still unused and unexpired, `None` otherwise
/// (two clicks racing: one wins). Call inside the erasure's transaction.
pub fn use_request(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let email = pending_request(conn, token_hash, LinkKind::Erase, now)?;
    if email.is_some() {
        let used = diesel::update(
            requests::table
                .find(token_hash)
                .filter(requests::used_at.is_null()),
        )
        .set(requests::used_at.eq(Some(now)))
        .execute(conn)?;
        if used == 0 {
            return Ok(None);
        }
    }
    Ok(email)
}

/// Deletes every request for `email` (part of its erasure).
pub fn delete_requests_for(conn: &mut DbConnection, email: &str) -> QueryResult<usize> {
    diesel::delete(requests::table.filter(requests::email.eq(email))).execute(conn)
}

/// Retention: deletes requests expired before `now`. Idempotent.
pub fn delete_expired_requests(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(requests::table.filter(requests::expires_at.le(now))).execute(conn)
}
