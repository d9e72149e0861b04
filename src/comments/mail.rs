//! The emails a comment causes: the staff notification (From the newsroom, `Reply-To` the
//! reader, never the reader in `From`, which DMARC would refuse), the reader's
//! acknowledgement with the reference, and staff replies threaded on what the reader got.
//! Every mailbox is lettre's typed `Mailbox`; no header is built from strings. The reader's
//! address was typed by whoever sent the form, so what goes to it carries nothing a reader
//! wrote ([`Email::unverified`]): the reference, and a staff reply's own text.

use lettre::message::Mailbox;
use serde_json::json;

use crate::comments::model::{NewComment, ReplyText};
use crate::comments::store::Comment;
use crate::config::Settings;
use crate::error::AppError;
use crate::i18n::{Lang, Languages};
use crate::mail::{Email, ExtraHeader, Mailer, NewOutboxEmail, ServiceText, UnverifiedContext};

pub(crate) fn staff_inbox(settings: &Settings) -> Result<Mailbox, AppError> {
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
    lang: &Lang,
) -> Result<Vec<NewOutboxEmail>, AppError> {
    let inbox = staff_inbox(settings)?;
    let reader = comment.mailbox();
    // To the staff inbox: everything the reader sent.
    let context = json!({
        "reference": reference,
        "name": comment.name.as_str(),
        "email": comment.email.as_str(),
        "subject": comment.subject,
        "message": comment.message,
        "article_url": comment.article_url.as_ref().map(|u| u.as_str()),
    });
    let staff = mailer.compose(
        Email::new("comment_staff_notification", inbox.clone(), context)
            .reply_to(reader)
            .reference("comment", id),
    )?;
    let acknowledgement = mailer.compose(
        Email::unverified(
            "comment_acknowledgement",
            comment.email.address().clone(),
            UnverifiedContext::new().with("reference", ServiceText::new(reference)),
        )
        .reply_to(inbox)
        .header(ExtraHeader::AutoSubmitted, "auto-replied")
        .lang(lang)
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
    let mut email = Email::unverified(
        "comment_reply",
        address,
        UnverifiedContext::new()
            .with("reference", ServiceText::new(&comment.reference))
            // Written by staff.
            .with("reply", ServiceText::new(text.as_str())),
    )
    .reply_to(staff_inbox(settings)?)
    .lang(&Languages::from_settings(settings).stored(comment.lang.as_deref().unwrap_or_default()))
    .reference("comment", comment.id.clone());
    if let Some(last) = thread.last() {
        email = email
            .header(ExtraHeader::InReplyTo, last.clone())
            .header(ExtraHeader::References, thread.join(" "));
    }
    mailer.compose(email)
}
