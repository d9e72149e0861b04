//! Feedback's part of one person's data. Votes are stored without any address: the voter is
//! a keyed hash of a random cookie, or of IP and User-Agent under a key deleted after its day.
//! A vote can be tied to an address only when the reader wrote the address into the
//! comment left with it; those are the votes found, exported and erased here. Also the
//! retention of past days' voter keys.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{feedback_notes, feedback_voter_keys, feedback_votes as fv};
use crate::db::DbConnection;
use crate::db::{contains_pattern, lower_nullable};
use crate::domain::{addresses_in, EmailAddress, Erasure};

/// How votes are named in the audit log.
pub const REF_KIND: &str = "feedback_vote";

/// A vote whose comment names the address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VoteRecord {
    pub id: String,
    pub article_url: String,
    pub helpful: bool,
    pub reason: Option<String>,
    pub comment: Option<String>,
    pub comment_status: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The staff queue of comments left with votes.
    pub staff_url: String,
}

type VoteRow = (
    String,
    String,
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
);

fn tied_votes(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<VoteRow>> {
    let rows: Vec<VoteRow> = fv::table
        .filter(
            lower_nullable(fv::comment)
                .like(contains_pattern(&email.to_lowercase()))
                .escape('\\'),
        )
        .order(fv::created_at.asc())
        .select((
            fv::id,
            fv::article_url,
            fv::helpful,
            fv::reason,
            fv::comment,
            fv::comment_status,
            fv::created_at,
            fv::updated_at,
        ))
        .load(conn)?;
    // The SQL filter only narrows: a comment names the address when an address written in
    // it is that one, whole (`jo.ann@gmail.com` does not name `ann@gmail.com`).
    let Ok(address) = EmailAddress::parse(email) else {
        return Ok(Vec::new());
    };
    Ok(rows
        .into_iter()
        .filter(|r| {
            r.4.as_deref().is_some_and(|c| {
                addresses_in(c)
                    .iter()
                    .any(|(_, a)| a.normalized() == address.normalized())
            })
        })
        .collect())
}

/// The votes whose comment names `email` (normalised, lower-case).
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<VoteRecord>> {
    Ok(tied_votes(conn, email)?
        .into_iter()
        .map(
            |(id, article_url, helpful, reason, comment, comment_status, created, updated)| {
                VoteRecord {
                    id,
                    article_url,
                    helpful,
                    reason,
                    comment,
                    comment_status,
                    created_at: created.and_utc(),
                    updated_at: updated.and_utc(),
                    staff_url: "/staff/feedback/comments".into(),
                }
            },
        )
        .collect())
}

/// Erases the votes tied to `email` inside the caller's transaction: the reason, the comment
/// and the staff notes about it are removed; the anonymous helpful/not-helpful count stays.
pub fn erase_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Erasure> {
    let mut erasure = Erasure::default();
    let ids: Vec<String> = tied_votes(conn, email)?.into_iter().map(|r| r.0).collect();
    if ids.is_empty() {
        return Ok(erasure);
    }
    diesel::delete(feedback_notes::table.filter(feedback_notes::vote_id.eq_any(&ids)))
        .execute(conn)?;
    erasure.records = diesel::update(fv::table.filter(fv::id.eq_any(&ids)))
        .set((
            fv::reason.eq(None::<String>),
            fv::comment.eq(None::<String>),
            fv::comment_status.eq(None::<String>),
            fv::comment_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    erasure.refs = ids
        .into_iter()
        .map(|id| (REF_KIND.to_string(), id))
        .collect();
    Ok(erasure)
}

/// Retention: deletes the voter keys of days before `keep_from` (so the hashes made with them
/// can no longer be linked to an IP address). Idempotent.
pub fn delete_voter_keys_before(
    conn: &mut DbConnection,
    keep_from: NaiveDate,
) -> QueryResult<usize> {
    let day = keep_from.format("%Y-%m-%d").to_string();
    diesel::delete(feedback_voter_keys::table.filter(feedback_voter_keys::day.lt(day)))
        .execute(conn)
}
