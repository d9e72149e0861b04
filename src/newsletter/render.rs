//! Turning an issue into emails: Markdown to HTML with the styles written inline (mail
//! clients drop `<style>` blocks), rendered once through the real email template, then
//! copied per recipient with that recipient's unsubscribe link.
//!
//! Rendering the template once per batch and substituting the link is what makes queuing
//! 100,000 recipients cheap; the link goes in through a random placeholder of letters and
//! digits, which no escaping changes and no staff-written text can guess.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lettre::message::Mailbox;
use serde_json::json;

use crate::config::Settings;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::keys::Keys;
use crate::mail::outbox::OutboxRow;
use crate::mail::worker::Renderer;
use crate::mail::{Email, ExtraHeader, Mailer, NewOutboxEmail};

/// The email template of every issue.
pub const ISSUE_TEMPLATE: &str = "newsletter_issue";

/// Markdown to email-ready HTML: the one sanitiser's email flavour (raw HTML shown as text,
/// only http(s), mailto and same-site links, styles inline), see [`crate::domain::markdown`].
pub fn markdown_to_html(markdown: &str) -> String {
    crate::domain::markdown::email_html(markdown)
}

/// Escapes text for an HTML attribute or element.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            other => out.push(other),
        }
    }
    out
}

/// What an issue's email says.
#[derive(Debug, Clone)]
pub struct IssueContent<'a> {
    pub subject: &'a str,
    pub body_markdown: &'a str,
    /// The recipient's stored language, for the email's own words (footer, unsubscribe
    /// link); `None`: the site default.
    pub lang: Option<&'a str>,
}

/// An issue rendered once through the template, ready to be copied per recipient.
#[derive(Debug, Clone)]
pub struct IssueEmail {
    prototype: NewOutboxEmail,
    placeholder: String,
    message_id_domain: String,
    list_id: String,
}

impl IssueEmail {
    pub fn build(
        mailer: &Mailer,
        settings: &Settings,
        content: &IssueContent<'_>,
    ) -> Result<IssueEmail, AppError> {
        let placeholder =
            format!("FDUNSUBSCRIBE{}", crate::keys::random_token(18)).replace(['-', '_'], "Z");
        let recipient: Mailbox = "recipient@example.invalid"
            .parse()
            .map_err(|e| AppError::unexpected(anyhow::anyhow!("placeholder mailbox: {e}")))?;
        let host = settings.server.public_url.host_str().unwrap_or("localhost");
        let list_id = format!("<newsletter.{host}>");
        let prototype = mailer.compose(
            Email::new(
                ISSUE_TEMPLATE,
                recipient,
                json!({
                    "subject": content.subject,
                    "body_html": markdown_to_html(content.body_markdown),
                    "body_markdown": content.body_markdown,
                    "unsubscribe_url": placeholder,
                    "footer": settings.newsletter.footer,
                }),
            )
            .header(ExtraHeader::ListUnsubscribe, format!("<{placeholder}>"))
            .header(
                ExtraHeader::ListUnsubscribePost,
                "List-Unsubscribe=One-Click",
            )
            .header(ExtraHeader::ListId, list_id.clone())
            .lang(&mailer.stored_lang(content.lang)),
        )?;
        let message_id_domain = prototype
            .message_id
            .trim_end_matches('>')
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| host.to_string());
        Ok(IssueEmail {
            prototype,
            placeholder,
            message_id_domain,
            list_id,
        })
    }

    /// The subject and both parts as the template rendered them, with `unsubscribe_url` in
    /// place of the link (for previews).
    pub fn parts(&self, unsubscribe_url: &str) -> (String, String, String) {
        let row = self.for_recipient_row(
            "preview@example.invalid".into(),
            None,
            unsubscribe_url,
            String::new(),
        );
        (row.subject, row.body_text, row.body_html)
    }

    /// The outbox row for one recipient: its own id, `Message-ID` and unsubscribe link.
    pub fn for_recipient(
        &self,
        to_addr: &str,
        to_name: Option<&str>,
        unsubscribe_url: &str,
        delivery_id: &str,
    ) -> NewOutboxEmail {
        self.for_recipient_row(
            to_addr.to_string(),
            to_name.map(str::to_string),
            unsubscribe_url,
            delivery_id.to_string(),
        )
    }

    fn for_recipient_row(
        &self,
        to_addr: String,
        to_name: Option<String>,
        unsubscribe_url: &str,
        delivery_id: String,
    ) -> NewOutboxEmail {
        let mut row = self.deferred_row(to_addr, to_name, delivery_id);
        let (subject, body_text, body_html, headers) = self.personalised(unsubscribe_url);
        row.subject = subject;
        row.body_text = body_text;
        row.body_html = body_html;
        row.headers = headers;
        row
    }

    /// The outbox row for one recipient stored by reference: its own id and `Message-ID`,
    /// no bodies. The worker's [`DeliveryRenderer`] makes the email when it sends it.
    pub fn deferred_for_recipient(
        &self,
        to_addr: &str,
        to_name: Option<&str>,
        delivery_id: &str,
    ) -> NewOutboxEmail {
        self.deferred_row(
            to_addr.to_string(),
            to_name.map(str::to_string),
            delivery_id.to_string(),
        )
    }

    fn deferred_row(
        &self,
        to_addr: String,
        to_name: Option<String>,
        delivery_id: String,
    ) -> NewOutboxEmail {
        let id = crate::db::new_id();
        let p = &self.prototype;
        NewOutboxEmail {
            message_id: format!("<{id}@{}>", self.message_id_domain),
            id,
            template: p.template.clone(),
            to_addr,
            to_name,
            reply_to: p.reply_to.clone(),
            subject: p.subject.clone(),
            body_text: String::new(),
            body_html: String::new(),
            headers: "{}".into(),
            ref_kind: Some(DELIVERY_REF_KIND.into()),
            ref_id: Some(delivery_id),
        }
    }

    /// Subject, text, HTML and stored headers with one recipient's unsubscribe link.
    fn personalised(&self, unsubscribe_url: &str) -> (String, String, String, String) {
        let p = &self.prototype;
        let headers = json!({
            ExtraHeader::ListUnsubscribe.name(): format!("<{unsubscribe_url}>"),
            ExtraHeader::ListUnsubscribePost.name(): "List-Unsubscribe=One-Click",
            ExtraHeader::ListId.name(): self.list_id,
        });
        (
            p.subject.clone(),
            p.body_text.replace(&self.placeholder, unsubscribe_url),
            p.body_html
                .replace(&self.placeholder, &html_escape(unsubscribe_url)),
            headers.to_string(),
        )
    }

    /// Makes a row stored by reference into its recipient's email, keeping its
    /// `Message-ID`.
    pub fn fill(&self, row: &mut OutboxRow, unsubscribe_url: &str) {
        let (subject, body_text, body_html, headers) = self.personalised(unsubscribe_url);
        row.subject = subject;
        row.body_text = body_text;
        row.body_html = body_html;
        row.headers = headers;
    }
}

/// The `ref_kind` of newsletter emails: their `ref_id` is the delivery row.
pub const DELIVERY_REF_KIND: &str = "newsletter_delivery";

/// Renders newsletter emails at send time, for the outbox worker: finds each row's delivery
/// (issue and subscriber), renders each issue once through the template (cached while it
/// sends) and writes in the recipient's unsubscribe link.
pub struct DeliveryRenderer {
    mailer: Mailer,
    settings: Arc<Settings>,
    keys: Keys,
    issues: Mutex<HashMap<String, Arc<IssueEmail>>>,
}

/// Issues kept rendered at once; more are rendered again when needed.
const CACHED_ISSUES: usize = 16;

impl DeliveryRenderer {
    pub fn new(mailer: Mailer, settings: Arc<Settings>, keys: Keys) -> DeliveryRenderer {
        DeliveryRenderer {
            mailer,
            settings,
            keys,
            issues: Mutex::new(HashMap::new()),
        }
    }

    /// The issue rendered for a reader of `lang` (one cache entry per issue and language):
    /// its translation into `lang` when it has one and is in another language itself, else
    /// the issue as written, with the email's own words in `lang`.
    fn issue(
        &self,
        conn: &mut DbConnection,
        issue_id: &str,
        lang: &Lang,
    ) -> Result<Option<Arc<IssueEmail>>, AppError> {
        let key = format!("{issue_id} {lang}");
        let cached = self
            .issues
            .lock()
            .ok()
            .and_then(|cache| cache.get(&key).cloned());
        if let Some(email) = cached {
            return Ok(Some(email));
        }
        let issue = match super::store::find_issue(conn, issue_id) {
            Ok(issue) => issue,
            Err(diesel::result::Error::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let issue = match issue.lang.as_deref() {
            Some(written) if written != lang.as_str() => {
                super::store::translation_into(conn, issue_id, lang.as_str())?.unwrap_or(issue)
            }
            _ => issue,
        };
        let email = Arc::new(IssueEmail::build(
            &self.mailer,
            &self.settings,
            &IssueContent {
                subject: &issue.subject,
                body_markdown: &issue.body_markdown,
                lang: Some(lang.as_str()),
            },
        )?);
        if let Ok(mut cache) = self.issues.lock() {
            if cache.len() >= CACHED_ISSUES {
                cache.clear();
            }
            cache.insert(key, email.clone());
        }
        Ok(Some(email))
    }
}

impl Renderer for DeliveryRenderer {
    fn ref_kind(&self) -> &'static str {
        DELIVERY_REF_KIND
    }

    fn render(&self, conn: &mut DbConnection, rows: &mut [OutboxRow]) -> Result<(), AppError> {
        let ids: Vec<&str> = rows.iter().filter_map(|r| r.ref_id.as_deref()).collect();
        let targets: HashMap<String, (String, String)> =
            super::store::delivery_targets(conn, &ids)?
                .into_iter()
                .map(|(delivery, issue, subscriber)| (delivery, (issue, subscriber)))
                .collect();
        let subscriber_ids: Vec<&str> = targets.values().map(|(_, s)| s.as_str()).collect();
        let langs: HashMap<String, Option<String>> =
            super::store::subscriber_langs(conn, &subscriber_ids)?
                .into_iter()
                .collect();
        for row in rows.iter_mut() {
            let Some((issue_id, subscriber_id)) =
                row.ref_id.as_deref().and_then(|id| targets.get(id))
            else {
                continue;
            };
            // Each recipient reads the email's own words in their stored language.
            let lang = self
                .mailer
                .stored_lang(langs.get(subscriber_id).and_then(|l| l.as_deref()));
            if let Some(email) = self.issue(conn, issue_id, &lang)? {
                let url = super::links::unsubscribe_url(&self.settings, &self.keys, subscriber_id);
                email.fill(row, &url);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Templates;

    #[test]
    fn markdown_gets_inline_styles_and_no_raw_html() {
        let html = markdown_to_html(
            "# Title\n\nHello <script>alert(1)</script> [site](https://example.org) \
             [bad](javascript:alert(1))\n\n- one\n",
        );
        assert!(html.contains("<h1 style="), "{html}");
        assert!(html.contains("<p style="), "{html}");
        assert!(html.contains("<li style="), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("href=\"https://example.org\""), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<p>"), "every tag is styled: {html}");
    }

    #[test]
    fn each_recipient_gets_own_link_and_message_id() {
        let settings = Settings::default();
        let mailer = Mailer::new(&settings, Templates::embedded());
        let issue = IssueEmail::build(
            &mailer,
            &settings,
            &IssueContent {
                subject: "Weekly <news>",
                body_markdown: "Hello **readers**",
                lang: None,
            },
        )
        .expect("renders");
        let a = issue.for_recipient(
            "a@example.org",
            None,
            "http://x/newsletter/unsubscribe?token=a&b",
            "d1",
        );
        let b = issue.for_recipient("b@example.org", Some("B"), "http://x/u?token=b", "d2");
        assert_ne!(a.message_id, b.message_id);
        assert_eq!(a.subject, "Weekly <news>");
        assert!(a
            .body_text
            .contains("http://x/newsletter/unsubscribe?token=a&b"));
        assert!(a.body_html.contains("token=a&amp;b"), "{}", a.body_html);
        assert!(a.body_html.contains("<strong>readers</strong>"));
        assert!(!a.body_html.contains("FDUNSUBSCRIBE") && !a.body_text.contains("FDUNSUBSCRIBE"));
        assert!(b.body_text.contains("http://x/u?token=b"));
        let headers = crate::mail::stored_headers(&a.headers);
        assert!(headers.contains(&(
            ExtraHeader::ListUnsubscribe,
            "<http://x/newsletter/unsubscribe?token=a&b>".to_string()
        )));
        assert!(headers.contains(&(
            ExtraHeader::ListUnsubscribePost,
            "List-Unsubscribe=One-Click".to_string()
        )));
        assert_eq!(a.ref_id.as_deref(), Some("d1"));
    }

    #[test]
    fn deferred_row_holds_no_body_until_filled() {
        let settings = Settings::default();
        let mailer = Mailer::new(&settings, Templates::embedded());
        let issue = IssueEmail::build(
            &mailer,
            &settings,
            &IssueContent {
                subject: "Weekly",
                body_markdown: "Hello **readers**",
                lang: None,
            },
        )
        .expect("renders");
        let stored = issue.deferred_for_recipient("a@example.org", None, "d1");
        assert!(stored.body_text.is_empty() && stored.body_html.is_empty());
        assert_eq!(stored.ref_kind.as_deref(), Some(DELIVERY_REF_KIND));
        let mut row = crate::mail::outbox::OutboxRow {
            id: stored.id.clone(),
            template: stored.template.clone(),
            to_addr: stored.to_addr.clone(),
            to_name: None,
            reply_to: None,
            subject: stored.subject.clone(),
            body_text: String::new(),
            body_html: String::new(),
            headers: stored.headers.clone(),
            message_id: stored.message_id.clone(),
            state: "queued".into(),
            attempts: 1,
            next_attempt_at: crate::db::now(),
            lease_owner: None,
            lease_until: None,
            last_error: None,
            ref_kind: stored.ref_kind.clone(),
            ref_id: stored.ref_id.clone(),
            created_at: crate::db::now(),
            sent_at: None,
        };
        assert!(row.is_deferred());
        issue.fill(&mut row, "http://x/u?token=a");
        assert!(!row.is_deferred());
        assert_eq!(
            row.message_id, stored.message_id,
            "a retry is the same message"
        );
        assert!(row.body_text.contains("http://x/u?token=a"));
        assert!(row.body_html.contains("<strong>readers</strong>"));
        let headers = crate::mail::stored_headers(&row.headers);
        assert!(headers.contains(&(
            ExtraHeader::ListUnsubscribe,
            "<http://x/u?token=a>".to_string()
        )));
    }
}
