//! Confidential tips: comments whose name, email, subject, message and article are sealed
//! with the tips key ([`crate::sealed`]) before they are stored, read only by staff holding
//! the tips permission (and, when a tip is restricted, named on it), each opening audited.
//!
//! What never holds a tip's content: the staff notification (it says that a tip arrived and
//! links to the staff area), the outbox (a reply is stored by reference and made by
//! [`ReplyRenderer`] when the worker sends it), log lines, lists and exports. Staff notes and
//! replies on a tip are sealed like the tip.

use std::sync::Arc;

use diesel::prelude::*;

use crate::comments::model::NewComment;
use crate::comments::store::{self, Comment, CommentNote, CommentReply};
use crate::config::Settings;
use crate::db::schema::{comment_notes, comment_readers, comment_replies, comments, staff_users};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::mail::outbox::OutboxRow;
use crate::mail::{Email, ExtraHeader, Mailer, NewOutboxEmail, ServiceText, UnverifiedContext};
use crate::sealed::{key_id_of, SealError, TipsKey};
use crate::staff::permissions::{self, Permission};

/// The `ref_kind` of a reply to a tip in the outbox (stored by reference).
pub const REPLY_REF_KIND: &str = "confidential_reply";
/// What the outbox row of a reply to a tip holds instead of the reader's address.
pub const WITHHELD: &str = "(confidential)";

/// The sealed fields of a new tip, and its blind indexes.
pub struct SealedTip {
    pub name: String,
    pub email: String,
    pub subject: Option<String>,
    pub message: String,
    pub article_url: Option<String>,
    pub email_index: String,
    pub message_hash: String,
}

/// The blind index of a reader's address (normalised), to find their tips.
pub fn email_index(key: &TipsKey, address: &str) -> String {
    key.index("email", &address.trim().to_lowercase())
}

/// Seals a new tip as record `id`. `folded` is the message as the duplicate-text rule folds it.
pub fn seal(
    key: &TipsKey,
    id: &str,
    comment: &NewComment,
    folded: &str,
) -> Result<SealedTip, SealError> {
    Ok(SealedTip {
        name: key.seal(id, "name", comment.name.as_str())?,
        email: key.seal(id, "email", comment.email.as_str())?,
        subject: key.seal_opt(id, "subject", comment.subject.as_deref())?,
        message: key.seal(id, "message", &comment.message)?,
        article_url: key.seal_opt(
            id,
            "article_url",
            comment.article_url.as_ref().map(|u| u.as_str()),
        )?,
        email_index: email_index(key, comment.email.as_str()),
        message_hash: key.index("message", folded),
    })
}

/// Opens a stored tip in place (a comment that is not one is left as it is).
pub fn open(key: &TipsKey, c: &mut Comment) -> Result<(), SealError> {
    if !c.confidential {
        return Ok(());
    }
    let id = c.id.clone();
    c.name = key.open(&id, "name", &c.name)?;
    c.email = key.open(&id, "email", &c.email)?;
    c.subject = key.open_opt(&id, "subject", c.subject.as_deref())?;
    c.message = key.open(&id, "message", &c.message)?;
    c.article_url = key.open_opt(&id, "article_url", c.article_url.as_deref())?;
    Ok(())
}

pub fn open_note(key: &TipsKey, n: &mut CommentNote) -> Result<(), SealError> {
    n.body = key.open(&n.id, "body", &n.body)?;
    Ok(())
}

pub fn open_reply(key: &TipsKey, r: &mut CommentReply) -> Result<(), SealError> {
    r.message = key.open(&r.id, "message", &r.message)?;
    Ok(())
}

/// The configured key, or a 500 saying none is configured (a tip cannot be read without it).
pub fn require(key: Option<&TipsKey>) -> Result<&TipsKey, AppError> {
    key.ok_or_else(|| {
        AppError::unexpected(anyhow::anyhow!(
            "a confidential tip needs the tips key, and none is configured (security.tips_key_file)"
        ))
    })
}

/// True when staff account `user_id` may open tip `comment_id`: it holds the tips permission
/// and, when the tip is restricted to named accounts, is one of them.
pub fn may_open(conn: &mut DbConnection, user_id: &str, comment_id: &str) -> QueryResult<bool> {
    if !permissions::has(conn, user_id, Permission::Tips)? {
        return Ok(false);
    }
    let named = readers(conn, comment_id)?;
    Ok(named.is_empty() || named.iter().any(|(id, _)| id == user_id))
}

/// The accounts a tip is restricted to (id, email); empty when every holder of the tips
/// permission may open it.
pub fn readers(conn: &mut DbConnection, comment_id: &str) -> QueryResult<Vec<(String, String)>> {
    comment_readers::table
        .inner_join(staff_users::table.on(staff_users::id.eq(comment_readers::user_id)))
        .filter(comment_readers::comment_id.eq(comment_id))
        .select((staff_users::id, staff_users::email))
        .order(staff_users::email)
        .load(conn)
}

/// Restricts a tip to `user_ids` (empty lifts the restriction).
pub fn set_readers(
    conn: &mut DbConnection,
    comment_id: &str,
    user_ids: &[String],
) -> QueryResult<()> {
    diesel::delete(comment_readers::table.filter(comment_readers::comment_id.eq(comment_id)))
        .execute(conn)?;
    for user_id in user_ids {
        diesel::insert_into(comment_readers::table)
            .values((
                comment_readers::comment_id.eq(comment_id),
                comment_readers::user_id.eq(user_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Keeps a tip past its retention period, or lets it go again.
pub fn set_kept(conn: &mut DbConnection, comment_id: &str, kept: bool) -> QueryResult<()> {
    let updated = diesel::update(
        comments::table
            .find(comment_id)
            .filter(comments::confidential.eq(true)),
    )
    .set((
        comments::kept.eq(kept),
        comments::updated_at.eq(crate::db::now()),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(diesel::result::Error::NotFound);
    }
    Ok(())
}

/// Retention: deletes tips received before `before` that nobody kept, with their notes,
/// replies and restrictions. Idempotent.
pub fn delete_expired(
    conn: &mut DbConnection,
    before: chrono::NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        comments::table
            .filter(comments::confidential.eq(true))
            .filter(comments::kept.eq(false))
            .filter(comments::created_at.lt(before)),
    )
    .execute(conn)
}

/// The staff notification of a tip: that one arrived, its reference and a link, nothing of
/// what it says or who sent it (no `Reply-To`).
pub fn notification(
    mailer: &Mailer,
    settings: &Settings,
    id: &str,
    reference: &str,
) -> Result<NewOutboxEmail, AppError> {
    let inbox = crate::comments::mail::staff_inbox(settings)?;
    mailer.compose(
        Email::new(
            "comment_tip_notification",
            inbox,
            serde_json::json!({ "reference": reference, "id": id }),
        )
        .reference("comment", id),
    )
}

/// A staff reply to a tip: the reply sealed for storage, and its outbox row stored by
/// reference (no address, no text; [`ReplyRenderer`] makes the email at send time).
pub fn reply_parts(
    mailer: &Mailer,
    key: &TipsKey,
    reply_id: &str,
    text: &str,
) -> Result<(String, NewOutboxEmail), AppError> {
    let sealed = key.seal(reply_id, "message", text)?;
    let row = mailer.deferred(
        "comment_reply",
        WITHHELD,
        WITHHELD,
        (REPLY_REF_KIND, reply_id),
    );
    Ok((sealed, row))
}

/// Makes replies to tips when the worker sends them: opens the reader's address and the
/// reply with the tips key, renders the `comment_reply` email and threads it on earlier
/// replies. Only the message in flight holds them; the outbox row stays without them.
pub struct ReplyRenderer {
    mailer: Mailer,
    settings: Arc<Settings>,
    key: Option<TipsKey>,
}

impl ReplyRenderer {
    pub fn new(mailer: Mailer, settings: Arc<Settings>, key: Option<TipsKey>) -> ReplyRenderer {
        ReplyRenderer {
            mailer,
            settings,
            key,
        }
    }

    fn make(&self, conn: &mut DbConnection, row: &mut OutboxRow) -> Result<(), AppError> {
        let key = require(self.key.as_ref())?;
        let reply_id = row.ref_id.clone().ok_or(AppError::NotFound)?;
        let mut reply: CommentReply = comment_replies::table
            .find(&reply_id)
            .select(CommentReply::as_select())
            .first(conn)?;
        let mut comment: Comment = comments::table
            .find(&reply.comment_id)
            .select(Comment::as_select())
            .first(conn)?;
        open(key, &mut comment)?;
        open_reply(key, &mut reply)?;
        let earlier: Vec<String> = store::replies(conn, &comment.id)?
            .into_iter()
            .filter(|r| {
                r.created_at < reply.created_at
                    || (r.created_at == reply.created_at && r.id < reply.id)
            })
            .map(|r| r.message_id)
            .collect();
        let address: lettre::Address = comment
            .email
            .parse()
            .map_err(|e| AppError::unexpected(anyhow::anyhow!("sealed address: {e}")))?;
        let mut email = Email::unverified(
            "comment_reply",
            address,
            UnverifiedContext::new()
                .with("reference", ServiceText::new(&comment.reference))
                .with("reply", ServiceText::new(&reply.message)),
        )
        .reply_to(crate::comments::mail::staff_inbox(&self.settings)?);
        if let Some(last) = earlier.last() {
            email = email
                .header(ExtraHeader::InReplyTo, last.clone())
                .header(ExtraHeader::References, earlier.join(" "));
        }
        let made = self.mailer.compose(email)?;
        row.to_addr = made.to_addr;
        row.to_name = made.to_name;
        row.reply_to = made.reply_to;
        row.subject = made.subject;
        row.body_text = made.body_text;
        row.body_html = made.body_html;
        row.headers = made.headers;
        Ok(())
    }
}

impl crate::mail::worker::Renderer for ReplyRenderer {
    fn ref_kind(&self) -> &'static str {
        REPLY_REF_KIND
    }

    /// A reply that cannot be made (tip erased, no key, wrong key) stays empty: the worker
    /// fails it, and the log line says why without the address.
    fn render(&self, conn: &mut DbConnection, rows: &mut [OutboxRow]) -> Result<(), AppError> {
        for row in rows.iter_mut() {
            if let Err(e) = self.make(conn, row) {
                tracing::error!(id = %row.id, error = %format!("{:#}", anyhow::Error::new(e)), "a reply to a confidential tip could not be made");
            }
        }
        Ok(())
    }
}

/// What a key rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rotation {
    pub tips: usize,
    pub notes: usize,
    pub replies: usize,
}

/// Opens a value with whichever of the two keys sealed it.
fn reopen(
    old: &TipsKey,
    new: &TipsKey,
    record: &str,
    field: &str,
    value: &str,
) -> Result<String, SealError> {
    let key = if key_id_of(value) == Some(new.id()) {
        new
    } else {
        old
    };
    key.open(record, field, value)
}

fn reseal(
    old: &TipsKey,
    new: &TipsKey,
    record: &str,
    field: &str,
    value: &str,
) -> Result<(String, String), SealError> {
    let plain = reopen(old, new, record, field, value)?;
    Ok((new.seal(record, field, &plain)?, plain))
}

/// Re-encrypts every tip, note and reply from `old` to `new` (values already under `new`
/// are opened with it, so a second run changes nothing readable), and recomputes the blind
/// indexes. Call inside one transaction: a value that fails to open aborts it all.
/// `progress(done, total)` is called after each tip.
pub fn rotate(
    conn: &mut DbConnection,
    old: &TipsKey,
    new: &TipsKey,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Rotation, AppError> {
    let tips: Vec<Comment> = comments::table
        .filter(comments::confidential.eq(true))
        .order(comments::id)
        .select(Comment::as_select())
        .load(conn)?;
    let total = tips.len();
    let mut done = Rotation::default();
    for c in tips {
        let id = c.id.as_str();
        let (name, _) = reseal(old, new, id, "name", &c.name)?;
        let (email, address) = reseal(old, new, id, "email", &c.email)?;
        let (message, plain) = reseal(old, new, id, "message", &c.message)?;
        let subject = match c.subject.as_deref() {
            Some(s) => Some(reseal(old, new, id, "subject", s)?.0),
            None => None,
        };
        let article_url = match c.article_url.as_deref() {
            Some(s) => Some(reseal(old, new, id, "article_url", s)?.0),
            None => None,
        };
        diesel::update(comments::table.find(id))
            .set((
                comments::name.eq(name),
                comments::email.eq(email),
                comments::subject.eq(subject),
                comments::message.eq(message),
                comments::article_url.eq(article_url),
                comments::email_index.eq(Some(email_index(new, &address))),
                comments::message_hash.eq(new.index("message", &fold(&plain))),
            ))
            .execute(conn)?;
        for n in store::notes(conn, id)? {
            let (body, _) = reseal(old, new, &n.id, "body", &n.body)?;
            diesel::update(comment_notes::table.find(&n.id))
                .set(comment_notes::body.eq(body))
                .execute(conn)?;
            done.notes += 1;
        }
        for r in store::replies(conn, id)? {
            let (message, _) = reseal(old, new, &r.id, "message", &r.message)?;
            diesel::update(comment_replies::table.find(&r.id))
                .set(comment_replies::message.eq(message))
                .execute(conn)?;
            done.replies += 1;
        }
        done.tips += 1;
        progress(done.tips, total);
    }
    Ok(done)
}

/// [`rotate`] in one transaction, with its audit entry (`tips.key_rotated`, by the command
/// line, naming both key ids).
pub async fn rotate_key(
    db: &crate::db::Db,
    old: TipsKey,
    new: TipsKey,
    mut progress: impl FnMut(usize, usize) + Send + 'static,
) -> Result<Rotation, AppError> {
    db.write(move |conn| {
        let done = rotate(conn, &old, &new, &mut progress)?;
        crate::staff::audit::record(
            conn,
            &crate::staff::audit::Actor::system("command line"),
            crate::staff::audit::Entry::new("tips.key_rotated").details(serde_json::json!({
                "from_key": old.id(),
                "to_key": new.id(),
                "tips": done.tips,
                "notes": done.notes,
                "replies": done.replies,
            })),
        )?;
        Ok(done)
    })
    .await
}

/// The message with case and spacing folded, as the duplicate-text rule compares it.
pub fn fold(message: &str) -> String {
    message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
