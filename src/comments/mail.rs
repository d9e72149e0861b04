//! The emails a comment causes: the staff notification (From the newsroom, `Reply-To` the
//! reader, never the reader in `From`, which DMARC would refuse), the reader's
//! acknowledgement with the reference, and staff replies threaded on what the reader got.
//! Every mailbox is lettre's typed `Mailbox`; no header is built from strings.

use lettre::message::Mailbox;
use serde_json::json;

use crate::comments::model::{NewComment, ReplyText};
use crate::comments::store::Comment;
use crate::config::Settings;
use crate::error::AppError;
use crate::mail::{Email, ExtraHeader, Mailer, NewOutboxEmail};

fn staff_inbox(settings: &Settings) -> Result<Mailbox, AppError> {
    settings
        .mail
        .staff_inbox
        .parse::<Mailbox>()
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("mail.staff_inbox: {e}")))
}

/// The staff notification and the reader's acknowledgement for a comment that passed the
/// spam rules, in that order.
pub fn received_emails(
    mailer: &Mailer,
    settings: &Settings,
    comment: &NewComment,
    id: &str,
    reference: &str,
) -> Result<Vec<NewOutboxEmail>, AppError> {
    let inbox = staff_inbox(settings)?;
    let reader = comment.mailbox();
    let context = json!({
        "reference": reference,
        "name": comment.name.as_str(),
        "email": comment.email.as_str(),
        "subject": comment.subject,
        "message": comment.message,
        "article_url": comment.article_url.as_ref().map(|u| u.as_str()),
    });
    let staff = mailer.compose(
        Email::new("comment_staff_notification", inbox.clone(), context.clone())
            .reply_to(reader.clone())
            .reference("comment", id),
    )?;
    let acknowledgement = mailer.compose(
        Email::new("comment_acknowledgement", reader, context)
            .reply_to(inbox)
            .header(ExtraHeader::AutoSubmitted, "auto-replied")
            .reference("comment", id),
    )?;
    Ok(vec![staff, acknowledgement])
}

/// A staff reply to the reader: `In-Reply-To` the last message the reader got about this
/// comment and `References` all of them (`thread`, oldest first), so it lands in the same
/// conversation as the acknowledgement.
pub fn reply_email(
    mailer: &Mailer,
    settings: &Settings,
    comment: &Comment,
    thread: &[String],
    text: &ReplyText,
) -> Result<NewOutboxEmail, AppError> {
    let address: lettre::Address = comment
        .email
        .parse()
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("stored comment address: {e}")))?;
    let reader = Mailbox::new(Some(comment.name.clone()), address);
    let mut email = Email::new(
        "comment_reply",
        reader,
        json!({
            "reference": comment.reference,
            "name": comment.name,
            "subject": comment.subject,
            "message": comment.message,
            "reply": text.as_str(),
        }),
    )
    .reply_to(staff_inbox(settings)?)
    .reference("comment", comment.id.clone());
    if let Some(last) = thread.last() {
        email = email
            .header(ExtraHeader::InReplyTo, last.clone())
            .header(ExtraHeader::References, thread.join(" "));
    }
    mailer.compose(email)
}
