//! Links emailed to an address that act for it: an opaque random token (see
//! [`crate::keys::random_token`]) in the URL, stored only as its SHA-256
//! ([`crate::keys::token_hash`]) with the address, what the link does and when it expires.
//! A link is used up (or revoked) by setting `used_at`; a used, revoked or expired link opens
//! nothing. Every feature that emails such a link keeps it here (one table, `email_links`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::email_links as links;
use crate::db::DbConnection;

/// What an emailed link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// The reader's "delete my data" confirmation (single use).
    Erase,
    /// The reader's "download my data" link.
    Export,
    /// The donor's self-service page (used up by a cancellation, revoked by a new link).
    Donor,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Erase => "erase",
            LinkKind::Export => "export",
            LinkKind::Donor => "donor",
        }
    }
}

/// Stores a link for `email` (normalised) under the hash of its token.
pub fn insert(
    conn: &mut DbConnection,
    token_hash: &str,
    email: &str,
    kind: LinkKind,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(links::table)
        .values((
            links::token_hash.eq(token_hash),
            links::email.eq(email),
            links::purpose.eq(kind.as_str()),
            links::created_at.eq(now),
            links::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whether a link of this kind for `email` was made after `since` (one email per interval at
/// most).
pub fn requested_since(
    conn: &mut DbConnection,
    email: &str,
    kind: LinkKind,
    since: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        links::table
            .filter(links::email.eq(email))
            .filter(links::purpose.eq(kind.as_str()))
            .filter(links::created_at.gt(since)),
    ))
    .get_result(conn)
}

/// The address of an unused, unexpired link of this kind (changes nothing).
pub fn pending(
    conn: &mut DbConnection,
    token_hash: &str,
    kind: LinkKind,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    links::table
        .find(token_hash)
        .filter(links::purpose.eq(kind.as_str()))
        .filter(links::used_at.is_null())
        .filter(links::expires_at.gt(now))
        .select(links::email)
        .first(conn)
        .optional()
}

/// Uses a link up: its address when it was still unused and unexpired, `None` otherwise
/// (two clicks racing: one wins). Call inside the transaction of what the link does.
pub fn use_up(
    conn: &mut DbConnection,
    token_hash: &str,
    kind: LinkKind,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let email = pending(conn, token_hash, kind, now)?;
    if email.is_some() {
        let used = diesel::update(
            links::table
                .find(token_hash)
                .filter(links::used_at.is_null()),
        )
        .set(links::used_at.eq(Some(now)))
        .execute(conn)?;
        if used == 0 {
            return Ok(None);
        }
    }
    Ok(email)
}

/// Revokes every unused link of this kind for `email`; returns how many.
pub fn revoke(
    conn: &mut DbConnection,
    email: &str,
    kind: LinkKind,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        links::table
            .filter(links::email.eq(email))
            .filter(links::purpose.eq(kind.as_str()))
            .filter(links::used_at.is_null()),
    )
    .set(links::used_at.eq(Some(now)))
    .execute(conn)
}

/// Deletes every link for `email` (part of its erasure).
pub fn delete_for(conn: &mut DbConnection, email: &str) -> QueryResult<usize> {
    diesel::delete(links::table.filter(links::email.eq(email))).execute(conn)
}

/// Retention: deletes links expired before `now`. Idempotent.
pub fn delete_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(links::table.filter(links::expires_at.le(now))).execute(conn)
}
