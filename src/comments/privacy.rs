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
use crate::error::AppError;
use crate::sealed::TipsKey;

use super::confidential;
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
    /// A confidential tip: its content is here only in the reader's own verified export;
    /// elsewhere name, email, subject, message, article and replies are withheld.
    pub confidential: bool,
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

/// How [`find_by_email`] treats confidential tips.
#[derive(Clone, Copy)]
pub struct Tips<'a> {
    /// The tips key, to find the address's tips by their blind index (none: tips are not found).
    pub key: Option<&'a TipsKey>,
    /// Open them (the reader's own export, verified by email); otherwise they are withheld.
    pub open: bool,
}

impl Tips<'_> {
    /// Tips are neither found nor opened.
    pub const NONE: Tips<'static> = Tips {
        key: None,
        open: false,
    };
}

fn of_address(
    conn: &mut DbConnection,
    email: &str,
    key: Option<&TipsKey>,
) -> QueryResult<Vec<Comment>> {
    let index = key
        .map(|k| confidential::email_index(k, email))
        .unwrap_or_default();
    comments::table
        .filter(
            lower(comments::email)
                .eq(email.to_lowercase())
                .or(comments::email_index.assume_not_null().eq(index)),
        )
        .order(comments::id.asc())
        .select(Comment::as_select())
        .load(conn)
}

/// Every comment sent with `email` (compared lower-cased), oldest first; confidential tips
/// as `tips` says.
pub fn find_by_email(
    conn: &mut DbConnection,
    email: &str,
    tips: Tips<'_>,
) -> Result<Vec<CommentRecord>, AppError> {
    let mut out = Vec::new();
    for mut c in of_address(conn, email, tips.key)? {
        let opened = match (c.confidential, tips.open, tips.key) {
            (false, _, _) => true,
            (true, true, Some(key)) => {
                confidential::open(key, &mut c)?;
                true
            }
            _ => false,
        };
        let mut replies = Vec::new();
        for mut r in store::replies(conn, &c.id)? {
            if c.confidential {
                match (opened, tips.key) {
                    (true, Some(key)) => confidential::open_reply(key, &mut r)?,
                    _ => r.message = store::TIP_MESSAGE.into(),
                }
            }
            replies.push(ReplyRecord {
                message: r.message,
                sent_at: r.created_at.and_utc(),
            });
        }
        if !opened {
            c.name = store::TIP_NAME.into();
            c.email = email.to_string();
            c.subject = None;
            c.message = store::TIP_MESSAGE.into();
            c.article_url = None;
        }
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
            confidential: c.confidential,
            created_at: c.created_at.and_utc(),
            replies,
        });
    }
    Ok(out)
}

/// Erases the comments of `email` inside the caller's transaction: each comment is deleted
/// with its staff notes and replies (nothing of it is needed once the person asked for
/// erasure); the emails about it are erased by the caller through the returned refs.
/// Confidential tips are found by their blind index under `key` (their ciphertext goes with
/// the row; their replies' outbox rows are erased through the refs too).
pub fn erase_by_email(
    conn: &mut DbConnection,
    email: &str,
    key: Option<&TipsKey>,
) -> QueryResult<Erasure> {
    let mut erasure = Erasure::default();
    let found = of_address(conn, email, key)?;
    for c in &found {
        if !c.confidential {
            erasure.needle(&c.name);
            erasure.needle(&c.email);
        }
        erasure.refs.push((REF_KIND.to_string(), c.id.clone()));
        if c.confidential {
            for r in store::replies(conn, &c.id)? {
                erasure
                    .refs
                    .push((confidential::REPLY_REF_KIND.to_string(), r.id.clone()));
            }
        }
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
