//! Storage of reader comments (spam included), their notes and replies, and the queries
//! behind the staff inbox and exports.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::comments::model::{Clearance, Status};
use crate::db::lower;
use crate::db::schema::{comment_notes, comment_replies, comments};
use crate::db::{DbConnection, MultiBackend};

/// A comment as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: String,
    pub reference: String,
    pub name: String,
    pub email: String,
    pub subject: Option<String>,
    pub message: String,
    #[serde(skip)]
    pub message_hash: String,
    pub article_url: Option<String>,
    pub status: Status,
    pub spam_verdict: String,
    pub spam_rule: Option<String>,
    pub spam_score: i32,
    pub spam_signals: String,
    #[serde(skip)]
    pub ip_hash: String,
    pub sensitive: bool,
    pub assigned_to: Option<String>,
    /// `Message-ID` of the staff notification.
    pub staff_message_id: Option<String>,
    /// `Message-ID` of the reader's acknowledgement.
    pub ack_message_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub replied_at: Option<NaiveDateTime>,
    /// A confidential tip: name, email, subject, message and article are sealed
    /// ([`crate::comments::confidential`]).
    pub confidential: bool,
    /// A tip's blind index of the reader's address (never the address).
    #[serde(skip)]
    pub email_index: Option<String>,
    /// A tip kept past `retention.confidential_tip_days` by a staff member.
    pub kept: bool,
    /// The reader's language (a tag of site.languages); `None`: the site default.
    pub lang: Option<String>,
}

/// Inserts a comment. Call inside the transaction that also queues its emails.
pub fn insert(conn: &mut DbConnection, comment: &Comment) -> QueryResult<()> {
    diesel::insert_into(comments::table)
        .values(comment)
        .execute(conn)?;
    Ok(())
}

/// Recent comments like one about to be stored, for the spam rules.
/// `email_index` is the address's blind index under the tips key (when one is configured),
/// so that tips from the address count too.
pub fn recent(
    conn: &mut DbConnection,
    ip_hash: &str,
    email: &str,
    email_index: Option<&str>,
    message_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<crate::comments::spam::Recent> {
    let hour_ago = now - chrono::Duration::hours(1);
    let day_ago = now - chrono::Duration::hours(24);
    let from_ip = comments::table
        .filter(comments::ip_hash.eq(ip_hash))
        .filter(comments::created_at.ge(hour_ago))
        .count()
        .get_result(conn)?;
    // A NULL index never equals: plain comments count by their address only.
    let index = email_index.unwrap_or_default().to_string();
    let same_address = lower(comments::email)
        .eq(email.to_lowercase())
        .or(comments::email_index.assume_not_null().eq(index));
    let from_address = comments::table
        .filter(same_address)
        .filter(comments::created_at.ge(day_ago))
        .count()
        .get_result(conn)?;
    let same_text = comments::table
        .filter(comments::message_hash.eq(message_hash))
        .filter(comments::created_at.ge(day_ago))
        .count()
        .get_result(conn)?;
    Ok(crate::comments::spam::Recent {
        from_ip,
        from_address,
        same_text,
    })
}

/// One comment; `NotFound` when unknown or, without clearance, sensitive.
pub fn get(conn: &mut DbConnection, id: &str, clearance: Clearance) -> QueryResult<Comment> {
    let mut query = comments::table
        .find(id)
        .select(Comment::as_select())
        .into_boxed();
    if clearance == Clearance::Standard {
        query = query.filter(comments::sensitive.eq(false));
    }
    query.first(conn)
}

/// Finds a comment by the reference the reader quotes.
pub fn find_by_reference(
    conn: &mut DbConnection,
    reference: &str,
    clearance: Clearance,
) -> QueryResult<Comment> {
    let mut query = comments::table
        .filter(comments::reference.eq(reference.trim().to_ascii_uppercase()))
        .select(Comment::as_select())
        .into_boxed();
    if clearance == Clearance::Standard {
        query = query.filter(comments::sensitive.eq(false));
    }
    query.first(conn)
}

/// Filters of the staff inbox.
#[derive(Debug, Clone, Default)]
pub struct CommentFilter {
    pub status: Option<Status>,
    /// Exact address (compared lower-cased).
    pub email: Option<String>,
    pub assigned_to: Option<String>,
}

/// A comment as the staff inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentListItem {
    pub id: String,
    pub reference: String,
    pub name: String,
    pub email: String,
    pub subject: Option<String>,
    pub message: String,
    pub article_url: Option<String>,
    pub status: Status,
    pub spam_rule: Option<String>,
    pub sensitive: bool,
    /// A confidential tip: the list never holds its content (see [`CommentListItem::from_comment`]).
    pub confidential: bool,
    pub assigned_to: Option<String>,
    pub created_at: NaiveDateTime,
    pub replied_at: Option<NaiveDateTime>,
    /// Seconds the comment has waited for an answer (new or read only).
    pub unanswered_seconds: Option<i64>,
}

/// What a list shows instead of a tip's name and message.
pub const TIP_NAME: &str = "Confidential tip";
pub const TIP_MESSAGE: &str = "(confidential: open the tip to read it; opening is recorded)";

impl CommentListItem {
    /// A list item; a confidential tip shows that it exists, never what it holds (the
    /// sealed values are not even passed on).
    fn from_comment(mut c: Comment, now: NaiveDateTime) -> Self {
        let unanswered_seconds = Some(c.status)
            .filter(|s| s.is_unanswered())
            .map(|_| (now - c.created_at).num_seconds().max(0));
        if c.confidential {
            c.name = TIP_NAME.into();
            c.email = String::new();
            c.subject = None;
            c.message = TIP_MESSAGE.into();
            c.article_url = None;
        }
        CommentListItem {
            id: c.id,
            reference: c.reference,
            name: c.name,
            email: c.email,
            subject: c.subject,
            message: c.message,
            article_url: c.article_url,
            status: c.status,
            spam_rule: c.spam_rule,
            sensitive: c.sensitive,
            confidential: c.confidential,
            assigned_to: c.assigned_to,
            created_at: c.created_at,
            replied_at: c.replied_at,
            unanswered_seconds,
        }
    }
}

/// The staff inbox, newest first: a page of `limit` after `cursor`, and the next cursor.
pub fn list(
    conn: &mut DbConnection,
    filter: &CommentFilter,
    clearance: Clearance,
    cursor: Option<&str>,
    limit: i64,
) -> QueryResult<(Vec<CommentListItem>, Option<String>)> {
    let limit = limit.max(1);
    let mut query = comments::table
        .select(Comment::as_select())
        .order(comments::id.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(comments::status.eq(status));
    }
    if let Some(email) = &filter.email {
        query = query.filter(lower(comments::email).eq(email.trim().to_lowercase()));
    }
    if let Some(who) = &filter.assigned_to {
        query = query.filter(comments::assigned_to.eq(who.clone()));
    }
    if clearance == Clearance::Standard {
        query = query.filter(comments::sensitive.eq(false));
    }
    if let Some(after) = cursor {
        query = query.filter(comments::id.lt(after.to_string()));
    }
    let mut rows = query.load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|c| c.id.clone())
    } else {
        None
    };
    let now = crate::db::now();
    Ok((
        rows.into_iter()
            .map(|c| CommentListItem::from_comment(c, now))
            .collect(),
        next,
    ))
}

/// The comments an export may hold: never a sensitive one (a reader's tip) nor a
/// confidential one, filtered.
fn exportable<'a>(filter: &CommentFilter) -> comments::BoxedQuery<'a, MultiBackend> {
    let mut query = comments::table
        .filter(comments::sensitive.eq(false))
        .filter(comments::confidential.eq(false))
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(comments::status.eq(status));
    }
    if let Some(email) = &filter.email {
        query = query.filter(lower(comments::email).eq(email.trim().to_lowercase()));
    }
    query
}

/// How many comments an export with `filter` holds.
pub fn export_count(conn: &mut DbConnection, filter: &CommentFilter) -> QueryResult<i64> {
    exportable(filter).count().get_result(conn)
}

/// One page of an export, oldest first: at most `limit` comments with an id after `after`.
pub fn export_page(
    conn: &mut DbConnection,
    filter: &CommentFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<CommentListItem>> {
    let mut query = exportable(filter)
        .select(Comment::as_select())
        .order(comments::id.asc())
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(comments::id.gt(after.to_string()));
    }
    let now = crate::db::now();
    Ok(query
        .load(conn)?
        .into_iter()
        .map(|c| CommentListItem::from_comment(c, now))
        .collect())
}

/// Moves a comment to `status`. Moving to `spam` records the staff verdict (rule `staff`);
/// moving out of `spam` records that staff found it is not spam. `NotFound` when unknown.
pub fn set_status(conn: &mut DbConnection, id: &str, status: Status) -> QueryResult<()> {
    let current: String = comments::table
        .find(id)
        .select(comments::status)
        .first(conn)?;
    let now = crate::db::now();
    let target = comments::table.find(id);
    if status == Status::Spam {
        diesel::update(target)
            .set((
                comments::status.eq(status),
                comments::spam_verdict.eq("spam"),
                comments::spam_rule.eq(Some("staff")),
                comments::updated_at.eq(now),
            ))
            .execute(conn)?;
    } else if current == Status::Spam.as_str() {
        diesel::update(target)
            .set((
                comments::status.eq(status),
                comments::spam_verdict.eq("ham"),
                comments::spam_rule.eq(Some("staff")),
                comments::updated_at.eq(now),
            ))
            .execute(conn)?;
    } else {
        diesel::update(target)
            .set((comments::status.eq(status), comments::updated_at.eq(now)))
            .execute(conn)?;
    }
    Ok(())
}

/// Marks a comment as spam (staff verdict).
pub fn mark_spam(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    set_status(conn, id, Status::Spam)
}

/// Takes a comment out of the spam folder (back to `new`), recording the staff verdict.
/// No email is sent for it afterwards: staff answer it with a reply.
pub fn mark_not_spam(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    set_status(conn, id, Status::New)
}

/// Assigns a comment to a colleague (`None` unassigns). `NotFound` when unknown.
pub fn assign(conn: &mut DbConnection, id: &str, assignee: Option<&str>) -> QueryResult<()> {
    let updated = diesel::update(comments::table.find(id))
        .set((
            comments::assigned_to.eq(assignee),
            comments::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    found(updated)
}

/// Flags or unflags a comment as sensitive (a reader's tip). `NotFound` when unknown.
pub fn set_sensitive(conn: &mut DbConnection, id: &str, sensitive: bool) -> QueryResult<()> {
    let updated = diesel::update(comments::table.find(id))
        .set((
            comments::sensitive.eq(sensitive),
            comments::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    found(updated)
}

fn found(updated: usize) -> QueryResult<()> {
    if updated == 0 {
        Err(diesel::result::Error::NotFound)
    } else {
        Ok(())
    }
}

/// An internal note on a comment.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = comment_notes)]
pub struct CommentNote {
    pub id: String,
    pub comment_id: String,
    pub author: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// Adds an internal note. `NotFound` for an unknown comment.
pub fn add_note(
    conn: &mut DbConnection,
    comment_id: &str,
    author: &str,
    body: &str,
) -> QueryResult<CommentNote> {
    let note = CommentNote {
        id: crate::db::new_id(),
        comment_id: comment_id.to_string(),
        author: author.to_string(),
        body: body.to_string(),
        created_at: crate::db::now(),
    };
    insert_note(conn, &note)?;
    Ok(note)
}

/// Stores a note made by the caller (a tip's note is sealed under its own id first).
/// `NotFound` for an unknown comment.
pub fn insert_note(conn: &mut DbConnection, note: &CommentNote) -> QueryResult<()> {
    comments::table
        .find(&note.comment_id)
        .select(comments::id)
        .first::<String>(conn)?;
    diesel::insert_into(comment_notes::table)
        .values(note)
        .execute(conn)?;
    Ok(())
}

/// A comment's notes, oldest first.
pub fn notes(conn: &mut DbConnection, comment_id: &str) -> QueryResult<Vec<CommentNote>> {
    comment_notes::table
        .filter(comment_notes::comment_id.eq(comment_id))
        .order((comment_notes::created_at, comment_notes::id))
        .select(CommentNote::as_select())
        .load(conn)
}

/// A staff reply, kept with the comment.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = comment_replies)]
pub struct CommentReply {
    pub id: String,
    pub comment_id: String,
    pub author: String,
    pub message: String,
    /// The reply email's `Message-ID`.
    pub message_id: String,
    /// Its outbox row (delivery state, retries).
    pub outbox_id: String,
    pub created_at: NaiveDateTime,
}

/// Stores a staff reply and marks the comment `replied`. Call inside the transaction that
/// queues the reply email.
pub fn record_reply(conn: &mut DbConnection, reply: &CommentReply) -> QueryResult<()> {
    diesel::insert_into(comment_replies::table)
        .values(reply)
        .execute(conn)?;
    let updated = diesel::update(comments::table.find(&reply.comment_id))
        .set((
            comments::status.eq(Status::Replied),
            comments::replied_at.eq(Some(reply.created_at)),
            comments::updated_at.eq(reply.created_at),
        ))
        .execute(conn)?;
    found(updated)
}

/// A comment's replies, oldest first.
pub fn replies(conn: &mut DbConnection, comment_id: &str) -> QueryResult<Vec<CommentReply>> {
    comment_replies::table
        .filter(comment_replies::comment_id.eq(comment_id))
        .order((comment_replies::created_at, comment_replies::id))
        .select(CommentReply::as_select())
        .load(conn)
}

/// The `Message-ID`s of the conversation with the reader so far, oldest first: the
/// acknowledgement they received, then every staff reply. A new reply is `In-Reply-To` the
/// last and `References` all of them.
pub fn thread(conn: &mut DbConnection, comment: &Comment) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = comment.ack_message_id.iter().cloned().collect();
    ids.extend(
        replies(conn, &comment.id)?
            .into_iter()
            .map(|r| r.message_id),
    );
    Ok(ids)
}
