//! The emails an application causes, rendered before the transaction that queues them:
//! the applicant's acknowledgement, the hiring contacts' notification (a link to the staff
//! area, never the CV) and, from the staff side, the rejection.

use lettre::message::Mailbox;
use serde_json::json;

use super::model::{ApplicationInput, Posting};
use super::store::{ApplicationDetail, REF_KIND};
use crate::config::Settings;
use crate::error::AppError;
use crate::mail::{mask_email, Email, Mailer, NewOutboxEmail};

fn public_url(settings: &Settings) -> String {
    settings
        .server
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_string()
}

/// Where staff review one application.
pub fn review_url(settings: &Settings, slug: &str, application_id: &str) -> String {
    format!(
        "{}/staff/jobs/{slug}/applications/{application_id}",
        public_url(settings)
    )
}

/// The acknowledgement to the applicant.
pub fn acknowledgement(
    mailer: &Mailer,
    settings: &Settings,
    posting: &Posting,
    input: &ApplicationInput,
    application_id: &str,
) -> Result<NewOutboxEmail, AppError> {
    let to = Mailbox::new(
        Some(input.name.as_str().to_string()),
        input.email.address().clone(),
    );
    mailer.compose(
        Email::new(
            "job_application_received",
            to,
            json!({
                "name": input.name.as_str(),
                "title": posting.title,
                "posting_url": format!("{}/jobs/{}", public_url(settings), posting.slug),
                "reference": application_id,
                "keep_on_file": input.keep_on_file,
            }),
        )
        .reference(REF_KIND, application_id),
    )
}

/// One notification per hiring contact, or one to `mail.staff_inbox` when the posting has none.
pub fn notifications(
    mailer: &Mailer,
    settings: &Settings,
    posting: &Posting,
    input: &ApplicationInput,
    application_id: &str,
    contacts: &[String],
) -> Result<Vec<NewOutboxEmail>, AppError> {
    let mut recipients: Vec<Mailbox> = contacts
        .iter()
        .filter_map(|c| match c.parse::<lettre::Address>() {
            Ok(address) => Some(Mailbox::new(None, address)),
            Err(_) => {
                tracing::warn!(contact = %mask_email(c), "a hiring contact is not a valid address");
                None
            }
        })
        .collect();
    if recipients.is_empty() {
        recipients.push(settings.mail.staff_inbox.parse::<Mailbox>().map_err(|e| {
            AppError::unexpected(anyhow::anyhow!("mail.staff_inbox is not a mailbox: {e}"))
        })?);
    }
    let context = json!({
        "name": input.name.as_str(),
        "title": posting.title,
        "review_url": review_url(settings, &posting.slug, application_id),
        "answered_questions": input.answers.len(),
    });
    recipients
        .into_iter()
        .map(|to| {
            mailer.compose(
                Email::new("job_application_notification", to, context.clone())
                    .reference(REF_KIND, application_id),
            )
        })
        .collect()
}

/// *Staff*: the rejection email for [`super::store::set_stage`]. `message`, when given, is
/// the staff-edited text that replaces the template's standard paragraph.
pub fn rejection(
    mailer: &Mailer,
    application: &ApplicationDetail,
    message: Option<&str>,
) -> Result<NewOutboxEmail, AppError> {
    if application.anonymised_at.is_some() {
        return Err(AppError::Conflict(
            "This applicant's data was erased; no email can be sent.".into(),
        ));
    }
    let address = application
        .email
        .parse::<lettre::Address>()
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("stored applicant address: {e}")))?;
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    let paragraphs: Vec<&str> = message
        .map(|m| {
            m.split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    mailer.compose(
        Email::new(
            "job_rejection",
            Mailbox::new(Some(application.name.clone()), address),
            json!({
                "name": application.name,
                "title": application.posting_title,
                "message": message,
                "paragraphs": paragraphs,
            }),
        )
        .reference(REF_KIND, &application.id),
    )
}
