//! Comments' part of one person's data: the comments sent with an address (spam and
//! sensitive ones included: the people view is for admins), their erasure, and the retention
//! of the spam folder.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::lower;
use crate::db::schema::comments;
use crate::db::DbConnection;
use crate::domain::Erasure;

use super::model::Status;
use super::store::{self, Comment};

/// How comments are named in the audit log and in the outbox.
pub const REF_KIND: &str = "comment";

/// One comment with the staff replies it got.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentRecord {
    pub id: String,
    /// The reference the reader was given, e.g. `K7QF2-MX9DA`.
    pub reference: String,
    pub name: String,
    pub email: String,
    pub subject: Option<String>,
    pub message: String,
    pub article_url: Option<String>,
    pub status: Status,
    /// A reader's tip: seen only by admins and editors.
    pub sensitive: bool,
    pub created_at: DateTime<Utc>,
    pub replies: Vec<ReplyRecord>,
    /// The staff page of the comment.
    pub staff_url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplyRecord {
    pub message: String,
    pub sent_at: DateTime<Utc>,
}

fn of_address(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<Comment>> {
    comments::table
        .filter(lower(comments::email).eq(email.to_lowercase()))
        .order(comments::id.asc())
        .select(Comment::as_select())
        .load(conn)
}

/// Every comment sent with `email` (compared lower-cased), oldest first.
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<CommentRecord>> {
    let mut out = Vec::new();
    for c in of_address(conn, email)? {
        let replies = store::replies(conn, &c.id)?
            .into_iter()
            .map(|r| ReplyRecord {
                message: r.message,
                sent_at: r.created_at.and_utc(),
            })
            .collect();
        out.push(CommentRecord {
            staff_url: format!("/staff/comments/{}", c.id),
            id: c.id,
            reference: c.reference,
            name: c.name,
            email: c.email,
            subject: c.subject,
            message: c.message,
            article_url: c.article_url,
            status: c.status,
            sensitive: c.sensitive,
            created_at: c.created_at.and_utc(),
            replies,
        });
    }
    Ok(out)
}

/// Erases the comments of `email` inside the caller's transaction: each comment is deleted
/// with its staff notes and replies (nothing of it is needed once the person asked for
/// erasure); the emails about it are erased by the caller through the returned refs.
pub fn erase_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Erasure> {
    let mut erasure = Erasure::default();
    let found = of_address(conn, email)?;
    for c in &found {
        erasure.needle(&c.name);
        erasure.needle(&c.email);
        erasure.refs.push((REF_KIND.to_string(), c.id.clone()));
    }
    let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
    // Notes and replies go with the comment (ON DELETE CASCADE).
    erasure.records =
        diesel::delete(comments::table.filter(comments::id.eq_any(&ids))).execute(conn)?;
    Ok(erasure)
}

/// Retention: deletes comments in the spam folder received before `before` (with their
/// notes). Idempotent.
pub fn delete_spam(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        comments::table
            .filter(comments::status.eq(Status::Spam))
            .filter(comments::created_at.lt(before)),
    )
    .execute(conn)
}
