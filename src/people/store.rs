//! Readers' pending "delete my data" and "download my data" requests: emailed links kept
//! with every other in [`crate::mail::links`] (a token stored as its SHA-256, that expires;
//! an erasure's is single use).

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::DbConnection;
use crate::mail::links;

pub use crate::mail::links::{
    delete_expired as delete_expired_requests, delete_for as delete_requests_for,
    insert as insert_request, pending as pending_request, requested_since, LinkKind,
};

/// Uses an erasure request: its address when it was still unused and unexpired, `None`
/// otherwise (two clicks racing: one wins). Call inside the erasure's transaction.
pub fn use_request(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    links::use_up(conn, token_hash, LinkKind::Erase, now)
}
