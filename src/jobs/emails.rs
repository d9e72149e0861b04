//! The emails an application causes, rendered before the transaction that queues them:
//! the applicant's acknowledgement, the hiring contacts' notification (a link to the staff
//! area, never the CV) and, from the staff side, the rejection. The applicant's address was
//! typed into a form, so their emails carry nothing they wrote ([`Email::unverified`]).

use lettre::message::Mailbox;
use serde_json::json;

use super::model::{ApplicationInput, Posting};
use super::store::{ApplicationDetail, REF_KIND};
use crate::config::Settings;
use crate::error::AppError;
use crate::mail::{mask_email, Email, Mailer, NewOutboxEmail, ServiceText, UnverifiedContext};

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
    lang: &crate::i18n::Lang,
) -> Result<NewOutboxEmail, AppError> {
    mailer.compose(
        Email::unverified(
            "job_application_received",
            input.email.address().clone(),
            UnverifiedContext::new()
                .with("title", ServiceText::new(&posting.title))
                .with(
                    "posting_url",
                    ServiceText::new(format!("{}/jobs/{}", public_url(settings), posting.slug)),
                )
                .with("reference", ServiceText::new(application_id))
                .with("keep_on_file", input.keep_on_file),
        )
        .lang(lang)
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
    // The message is written by staff.
    let paragraphs: Vec<ServiceText> = message
        .map(|m| {
            m.split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(ServiceText::new)
                .collect()
        })
        .unwrap_or_default();
    mailer.compose(
        Email::unverified(
            "job_rejection",
            address,
            UnverifiedContext::new()
                .with("title", ServiceText::new(&application.posting_title))
                .with("message", message.map(ServiceText::new))
                .with("paragraphs", paragraphs),
        )
        .lang(&mailer.stored_lang(application.lang.as_deref()))
        .reference(REF_KIND, &application.id),
    )
}
