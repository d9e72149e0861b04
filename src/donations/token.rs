//! Links to a donor's self-service page: an opaque random token (32 bytes, URL-safe base64)
//! that names nothing, kept as an emailed link ([`crate::mail::links`], stored as its SHA-256
//! with the address and its expiry). A cancellation uses the link up (the page it returns to
//! carries a fresh one), and asking for a new link revokes every older one.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::QueryResult;

use crate::db::DbConnection;
use crate::keys::{random_token, token_hash};
use crate::mail::links::{self, LinkKind};

/// Issues a link for `email` (normalised) valid `hours` from `now`; returns its token.
pub fn issue(
    conn: &mut DbConnection,
    email: &str,
    now: NaiveDateTime,
    hours: u32,
) -> QueryResult<String> {
    let token = random_token(32);
    let expires = now + TimeDelta::hours(i64::from(hours));
    links::insert(
        conn,
        &token_hash(&token),
        email,
        LinkKind::Donor,
        now,
        expires,
    )?;
    Ok(token)
}

/// The address an unused, unexpired token opens (changes nothing).
pub fn donor_of(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    links::pending(conn, &token_hash(token), LinkKind::Donor, now)
}

/// Uses a token up (a destructive action was taken with it): its address when it was still
/// good, `None` otherwise. Call inside the action's transaction.
pub fn use_up(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    links::use_up(conn, &token_hash(token.trim()), LinkKind::Donor, now)
}

/// Revokes every unused link of `email` (normalised), before a new one is sent.
pub fn revoke_all(conn: &mut DbConnection, email: &str, now: NaiveDateTime) -> QueryResult<usize> {
    links::revoke(conn, email, LinkKind::Donor, now)
}
