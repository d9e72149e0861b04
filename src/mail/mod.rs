//! Every email Frontdesk sends goes through here: a feature composes an [`Email`], the
//! [`Mailer`] renders it, [`outbox::enqueue`] stores it in the caller's transaction, and the
//! [`worker`] delivers it later, with retries, through a [`transport::Transport`].

pub mod backoff;
pub mod heartbeat;
pub mod links;
pub mod outbox;
pub mod send_rate;
pub mod transport;
pub mod unverified;
pub mod worker;

use std::sync::Arc;

use lettre::message::Mailbox;
use serde_json::{Map, Value};
use tokio::sync::Notify;

use crate::config::Settings;
use crate::error::AppError;
use crate::i18n::{Lang, Languages};
pub use crate::templates::{Rendered, Templates};
pub use outbox::NewOutboxEmail;
pub use unverified::{ServiceRecord, ServiceText, UnverifiedContext};

/// Extra headers an email may carry. Values are built by the service, never taken raw from
/// readers, and CR/LF is refused in any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraHeader {
    ListUnsubscribe,
    ListUnsubscribePost,
    InReplyTo,
    References,
    AutoSubmitted,
    ListId,
    Precedence,
}

impl ExtraHeader {
    pub fn name(self) -> &'static str {
        match self {
            ExtraHeader::ListUnsubscribe => "List-Unsubscribe",
            ExtraHeader::ListUnsubscribePost => "List-Unsubscribe-Post",
            ExtraHeader::InReplyTo => "In-Reply-To",
            ExtraHeader::References => "References",
            ExtraHeader::AutoSubmitted => "Auto-Submitted",
            ExtraHeader::ListId => "List-Id",
            ExtraHeader::Precedence => "Precedence",
        }
    }

    fn from_name(name: &str) -> Option<ExtraHeader> {
        [
            ExtraHeader::ListUnsubscribe,
            ExtraHeader::ListUnsubscribePost,
            ExtraHeader::InReplyTo,
            ExtraHeader::References,
            ExtraHeader::AutoSubmitted,
            ExtraHeader::ListId,
            ExtraHeader::Precedence,
        ]
        .into_iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))
    }
}

/// An email a feature wants sent. Its fields are set only through the constructors, which
/// decide what it may carry by who receives it.
#[derive(Debug, Clone)]
pub struct Email {
    /// Folder under `templates/email/`.
    template: &'static str,
    to: Mailbox,
    reply_to: Option<Mailbox>,
    /// Template variables; `site_name` and `public_url` are added.
    context: Value,
    headers: Vec<(ExtraHeader, String)>,
    /// The record that caused it, e.g. `("comment", id)`: for staff views and erasure.
    reference: Option<(&'static str, String)>,
    /// The reader's language; the site default when unset (staff emails).
    lang: Option<Lang>,
}

impl Email {
    /// An email to staff, or to an address its owner proved is theirs (a confirmed
    /// newsletter subscriber): the context may carry anything. To any other address (one a
    /// reader typed into a form) use [`Email::unverified`].
    pub fn new(template: &'static str, to: Mailbox, context: Value) -> Self {
        Email {
            template,
            to,
            reply_to: None,
            context,
            headers: Vec::new(),
            reference: None,
            lang: None,
        }
    }

    /// An email to an address nobody has verified: addressed without a display name, and
    /// its context carries nothing a reader wrote (see [`unverified`]).
    pub fn unverified(
        template: &'static str,
        to: lettre::Address,
        context: UnverifiedContext,
    ) -> Self {
        Email::new(template, Mailbox::new(None, to), context.into_value())
    }

    pub fn reply_to(mut self, mailbox: Mailbox) -> Self {
        self.reply_to = Some(mailbox);
        self
    }

    pub fn header(mut self, header: ExtraHeader, value: impl Into<String>) -> Self {
        self.headers.push((header, value.into()));
        self
    }

    pub fn reference(mut self, kind: &'static str, id: impl Into<String>) -> Self {
        self.reference = Some((kind, id.into()));
        self
    }

    /// Renders the email in `lang` (its messages, subject and site wording).
    pub fn lang(mut self, lang: &Lang) -> Self {
        self.lang = Some(lang.clone());
        self
    }
}

/// Renders emails into outbox rows and wakes the local worker after a commit.
#[derive(Clone)]
pub struct Mailer {
    templates: Templates,
    site_name: String,
    public_url: String,
    message_id_domain: String,
    default_lang: String,
    languages: Languages,
    wake: Arc<Notify>,
}

impl Mailer {
    pub fn new(settings: &Settings, templates: Templates) -> Self {
        Mailer {
            templates,
            site_name: settings.site.name.clone(),
            default_lang: settings.site.default_language.clone(),
            languages: Languages::from_settings(settings),
            public_url: settings
                .server
                .public_url
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            message_id_domain: settings
                .server
                .public_url
                .host_str()
                .unwrap_or("localhost")
                .to_string(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The language a person's stored `lang` names (`None`, or a language since removed from
    /// the settings: the site default), for [`Email::lang`].
    pub fn stored_lang(&self, raw: Option<&str>) -> Lang {
        raw.map_or_else(
            || self.languages.default_lang().clone(),
            |l| self.languages.stored(l),
        )
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// A row stored by reference, with no bodies: the worker's renderer of `ref_kind` makes
    /// the email (bodies, headers, recipient) when it sends it (see [`worker::Renderer`]).
    pub fn deferred(
        &self,
        template: &str,
        to_addr: &str,
        subject: &str,
        reference: (&str, &str),
    ) -> NewOutboxEmail {
        let id = crate::db::new_id();
        NewOutboxEmail {
            message_id: format!("<{id}@{}>", self.message_id_domain),
            id,
            template: template.to_string(),
            to_addr: to_addr.to_string(),
            to_name: None,
            reply_to: None,
            subject: subject.to_string(),
            body_text: String::new(),
            body_html: String::new(),
            headers: "{}".into(),
            ref_kind: Some(reference.0.to_string()),
            ref_id: Some(reference.1.to_string()),
        }
    }

    /// Renders `email` into a row for [`outbox::enqueue`]. Rendering happens before the
    /// transaction, so no template work runs while a write lock is held.
    pub fn compose(&self, email: Email) -> Result<NewOutboxEmail, AppError> {
        let mut context = match email.context {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(AppError::unexpected(anyhow::anyhow!(
                    "email context must be an object, got {other}"
                )))
            }
        };
        context
            .entry("site_name")
            .or_insert_with(|| Value::String(self.site_name.clone()));
        context
            .entry("public_url")
            .or_insert_with(|| Value::String(self.public_url.clone()));
        let lang = email
            .lang
            .map_or_else(|| self.default_lang.clone(), |l| l.to_string());
        context.insert("lang".into(), Value::String(lang));
        let rendered = self
            .templates
            .render_email(email.template, Value::Object(context))
            .map_err(|e| {
                AppError::unexpected(
                    anyhow::Error::new(e).context(format!("rendering email {}", email.template)),
                )
            })?;
        let mut headers = Map::new();
        for (header, value) in email.headers {
            if value.contains(['\r', '\n']) {
                return Err(AppError::unexpected(anyhow::anyhow!(
                    "header {} holds a line break",
                    header.name()
                )));
            }
            headers.insert(header.name().to_string(), Value::String(value));
        }
        let id = crate::db::new_id();
        Ok(NewOutboxEmail {
            message_id: format!("<{id}@{}>", self.message_id_domain),
            id,
            template: email.template.to_string(),
            to_addr: email.to.email.to_string(),
            to_name: email.to.name.clone(),
            reply_to: email.reply_to.map(|m| m.to_string()),
            subject: rendered.subject,
            body_text: rendered.text,
            body_html: rendered.html,
            headers: Value::Object(headers).to_string(),
            ref_kind: email.reference.as_ref().map(|(k, _)| k.to_string()),
            ref_id: email.reference.map(|(_, id)| id),
        })
    }

    /// Wakes the in-process worker; call after the transaction that queued mail committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

/// `j***@example.org`: how an address appears in logs.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Parses the stored extra headers back (unknown names are dropped, never sent).
pub(crate) fn stored_headers(json: &str) -> Vec<(ExtraHeader, String)> {
    serde_json::from_str::<Map<String, Value>>(json)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((ExtraHeader::from_name(&k)?, v.as_str()?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_addresses() {
        assert_eq!(mask_email("jane@example.org"), "j***@example.org");
        assert_eq!(mask_email("nonsense"), "***");
    }

    #[test]
    fn compose_refuses_header_injection() {
        let mailer = Mailer::new(&Settings::default(), Templates::embedded());
        let email = Email::new(
            "smtp_check",
            "a@example.org".parse().expect("mailbox"),
            serde_json::json!({"requested_by": "t"}),
        )
        .header(ExtraHeader::References, "<a@b>\r\nBcc: x@evil.test");
        assert!(mailer.compose(email).is_err());
    }

    #[test]
    fn compose_fixes_message_id_and_headers() {
        let mailer = Mailer::new(&Settings::default(), Templates::embedded());
        let email = Email::new(
            "smtp_check",
            "Jane <jane@example.org>".parse().expect("mailbox"),
            serde_json::json!({"requested_by": "t"}),
        )
        .header(
            ExtraHeader::ListUnsubscribePost,
            "List-Unsubscribe=One-Click",
        );
        let row = mailer.compose(email).expect("composes");
        assert!(row.message_id.starts_with('<') && row.message_id.ends_with("@127.0.0.1>"));
        assert_eq!(row.to_addr, "jane@example.org");
        assert_eq!(row.to_name.as_deref(), Some("Jane"));
        assert_eq!(
            stored_headers(&row.headers),
            vec![(
                ExtraHeader::ListUnsubscribePost,
                "List-Unsubscribe=One-Click".to_string()
            )]
        );
    }
}
