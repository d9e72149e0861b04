//! Readers' pending "delete my data" requests: a single-use token, stored as its SHA-256,
//! that expires.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::people_erasure_requests as requests;
use crate::db::DbConnection;

/// Stores a request for `email` (normalised) under the hash of its token.
pub fn insert_request(
    conn: &mut DbConnection,
    token_hash: &str,
    email: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(requests::table)
        .values((
            requests::token_hash.eq(token_hash),
            requests::email.eq(email),
            requests::created_at.eq(now),
            requests::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether a request for `email` was made after `since` (one email per interval at most).
pub fn requested_since(
    conn: &mut DbConnection,
    email: &str,
    since: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        requests::table
            .filter(requests::email.eq(email))
            .filter(requests::created_at.gt(since)),
    ))
    .get_result(conn)
}

/// The address of an unused, unexpired request (changes nothing).
pub fn pending_request(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    requests::table
        .find(token_hash)
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
    let email = pending_request(conn, token_hash, now)?;
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
