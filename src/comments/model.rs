//! Domain types of "What are your thoughts?": a reader's comment as it must be before it is
//! stored or put in an email header.

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::text::{self, Lines, TextError};
use crate::domain::{ArticleUrl, EmailAddress};
use crate::error::{AppError, FieldError};
use crate::web::openapi::or_null;

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_MESSAGE_CHARS: usize = 10_000;

fn name_schema() -> utoipa::openapi::Object {
    text::schema(Lines::One, MAX_NAME_CHARS, true)
}
fn email_schema() -> utoipa::openapi::Object {
    EmailAddress::schema()
}
fn message_schema() -> utoipa::openapi::Object {
    text::schema(Lines::Many, MAX_MESSAGE_CHARS, true)
}
fn subject_schema() -> utoipa::openapi::Object {
    or_null(text::schema(Lines::Many, MAX_SUBJECT_CHARS, false))
}
fn article_url_schema() -> utoipa::openapi::Object {
    or_null(ArticleUrl::schema(true))
}

/// `POST /api/v1/comments` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRequest {
    /// The reader's name: no line breaks, no web addresses.
    #[schema(schema_with = name_schema)]
    pub name: String,
    #[schema(schema_with = email_schema)]
    pub email: String,
    #[schema(schema_with = message_schema)]
    pub message: String,
    /// The article the comment is about, on one of the newsroom's hosts.
    #[schema(schema_with = article_url_schema)]
    pub article_url: Option<String>,
    #[schema(schema_with = subject_schema)]
    pub subject: Option<String>,
    /// Leave empty: a field hidden from people, which only robots fill in.
    pub website: Option<String>,
    /// The token from `GET /api/v1/comments/token`, fetched when the form was shown.
    pub form_token: Option<String>,
    /// A confidential tip (an extension of the contract): stored encrypted, read only by
    /// named staff, never emailed; no acknowledgement email is sent (the answer carries the
    /// reference). 422 naming this field when the service has no tips key.
    #[serde(default)]
    pub confidential: bool,
    #[serde(default)]
    #[schema(schema_with = crate::web::openapi::lang_schema)]
    pub lang: Option<String>,
}

/// The answer to a comment (the same for every comment, spam included).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommentReceived {
    /// Always `received`.
    pub status: String,
    /// A short reference the reader can quote, e.g. `K7QF2-MX9DA`.
    pub reference: String,
}

/// `GET /api/v1/comments/token` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FormTokenResponse {
    /// Send back as `form_token` with the comment.
    pub token: String,
    /// RFC 3339; a comment sent with the token after this time goes to the spam folder.
    pub expires_at: String,
    /// Whether the service takes confidential tips (`confidential: true`), an extension of
    /// the contract: the widget offers the option only then.
    pub confidential: bool,
    /// The newsroom's stronger channel for sources (`comments.secure_contact_note`), shown
    /// next to the confidential option.
    pub secure_contact_note: Option<String>,
}

/// A reader's name, safe for a `From`/`Reply-To` display name and a subject line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderName(String);

impl ReaderName {
    pub fn parse(input: &str) -> Result<ReaderName, String> {
        let name = input.trim();
        if name.is_empty() {
            return Err("Tell us your name.".into());
        }
        if name.contains(['\r', '\n']) {
            return Err("A name cannot hold line breaks.".into());
        }
        if name.chars().any(char::is_control) {
            return Err("A name cannot hold control characters.".into());
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("A name has at most {MAX_NAME_CHARS} characters."));
        }
        if looks_like_url(name) {
            return Err("A name cannot hold a web address.".into());
        }
        Ok(ReaderName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// True when `text` holds something a mail client would show as a link.
pub fn looks_like_url(text: &str) -> bool {
    const TLDS: &[&str] = &[
        "com", "net", "org", "info", "biz", "io", "co", "ru", "cn", "xyz", "top", "me", "ly",
        "link", "site", "online", "shop", "click", "app", "dev", "uk", "de", "us", "tk", "ml",
        "ga", "cf", "gq", "pw", "cc", "ws", "su", "win", "vip", "live", "store", "website",
    ];
    let lower = text.to_lowercase();
    if lower.contains("://")
        || lower.contains("www.")
        || lower.contains("http:")
        || lower.contains("https:")
    {
        return true;
    }
    lower
        .split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '<' | '>' | '"' | '\'')
        })
        .map(|word| word.trim_end_matches(['.', '!', '?', ':']))
        .any(|word| {
            let host = word.split(['/', '?', '#']).next().unwrap_or(word);
            match host.rsplit_once('.') {
                Some((label, tld)) => {
                    !label.is_empty()
                        && label
                            .chars()
                            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.'))
                        && TLDS.contains(&tld)
                }
                None => false,
            }
        })
}

/// Free text a reader or editor wrote, by the one rule ([`crate::domain::text::clean_text`]),
/// a refused length worded with `what` ("A message has at most 5000 characters.").
pub fn clean_text(input: &str, max_chars: usize, what: &str) -> Result<String, String> {
    text::clean_text(input, Lines::Many, max_chars).map_err(|e| match e {
        TextError::TooLong { max_chars } => format!("{what} has at most {max_chars} characters."),
        other => other.to_string(),
    })
}

/// A valid comment, as the reader wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComment {
    pub name: ReaderName,
    pub email: EmailAddress,
    pub message: String,
    pub subject: Option<String>,
    pub article_url: Option<ArticleUrl>,
}

impl NewComment {
    /// Checks every field and names each failing one. The honeypot and the form token are
    /// not checked here: they decide spam, not validity.
    pub fn parse(request: &CommentRequest, hosts: &[String]) -> Result<NewComment, AppError> {
        let mut errors = Vec::new();
        fn check<T>(
            errors: &mut Vec<FieldError>,
            field: &str,
            result: Result<T, String>,
        ) -> Option<T> {
            result
                .map_err(|m| errors.push(FieldError::new(field, m)))
                .ok()
        }
        let name = check(&mut errors, "name", ReaderName::parse(&request.name));
        let email = check(&mut errors, "email", EmailAddress::parse(&request.email));
        let message = check(
            &mut errors,
            "message",
            clean_text(&request.message, MAX_MESSAGE_CHARS, "A message").and_then(|m| {
                if m.is_empty() {
                    Err("Write a message.".to_string())
                } else {
                    Ok(m)
                }
            }),
        );
        let subject = check(
            &mut errors,
            "subject",
            match request.subject.as_deref() {
                None => Ok(None),
                Some(s) if s.contains(['\r', '\n']) => {
                    Err("A subject cannot hold line breaks.".to_string())
                }
                Some(s) => clean_text(s, MAX_SUBJECT_CHARS, "A subject")
                    .map(|s| Some(s).filter(|s| !s.is_empty())),
            },
        );
        let article_url = check(
            &mut errors,
            "article_url",
            match request.article_url.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(url) => ArticleUrl::parse(url, hosts).map(Some),
            },
        );
        match (name, email, message, subject, article_url) {
            (Some(name), Some(email), Some(message), Some(subject), Some(article_url))
                if errors.is_empty() =>
            {
                Ok(NewComment {
                    name,
                    email,
                    message,
                    subject,
                    article_url,
                })
            }
            _ => Err(AppError::Validation(errors)),
        }
    }

    /// The reader as a typed mailbox (`Reply-To` of the staff email).
    pub fn mailbox(&self) -> Mailbox {
        Mailbox::new(
            Some(self.name.as_str().to_string()),
            self.email.address().clone(),
        )
    }
}

crate::text_enum! {
    /// Where a comment is in the staff inbox.
    #[schema(as = CommentInboxStatus)]
    pub enum Status {
        New => "new",
        Read => "read",
        Replied => "replied",
        Archived => "archived",
        Spam => "spam",
    }
}

impl Status {
    /// Waiting for an answer from the newsroom.
    pub fn is_unanswered(self) -> bool {
        matches!(self, Status::New | Status::Read)
    }
}

/// Who may see comments flagged sensitive (a reader's tip): admins and editors only; they
/// never appear in exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clearance {
    /// Sees sensitive comments too.
    Sensitive,
    /// Sees only comments that are not sensitive.
    Standard,
}

impl Clearance {
    pub fn for_role(role: &str) -> Clearance {
        match role {
            "admin" | "editor" => Clearance::Sensitive,
            _ => Clearance::Standard,
        }
    }
}

/// A short reference a reader can quote: ten random characters of Crockford's base32 (no
/// I, L, O or U), grouped by five. Random, so it says nothing about how many comments exist.
pub fn new_reference() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    let chars: String = (0..10)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// A staff reply's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyText(String);

impl ReplyText {
    pub fn parse(input: &str) -> Result<ReplyText, AppError> {
        let text = clean_text(input, MAX_MESSAGE_CHARS, "A reply")
            .map_err(|m| AppError::field("message", m))?;
        if text.is_empty() {
            return Err(AppError::field("message", "Write a reply."));
        }
        Ok(ReplyText(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CommentRequest {
        CommentRequest {
            name: "Jane Reader".into(),
            email: "jane@Example.ORG".into(),
            message: "Thanks for the story.".into(),
            article_url: None,
            subject: None,
            website: None,
            form_token: None,
            confidential: false,
            lang: None,
        }
    }

    fn fields(e: AppError) -> Vec<String> {
        match e {
            AppError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_comment_is_normalised() {
        let c = NewComment::parse(
            &CommentRequest {
                message: "  Line one\r\nLine two  ".into(),
                subject: Some("  ".into()),
                article_url: Some("http://localhost/a/".into()),
                ..request()
            },
            &["localhost".into()],
        )
        .expect("valid");
        assert_eq!(c.email.as_str(), "jane@example.org");
        assert_eq!(c.message, "Line one\nLine two");
        assert_eq!(c.subject, None);
        assert_eq!(
            c.article_url.map(|u| u.into_inner()).as_deref(),
            Some("http://localhost/a")
        );
    }

    #[test]
    fn injection_and_urls_in_names_are_refused() {
        for bad in [
            "Eve\r\nBcc: x@evil.test",
            "Eve\nBcc: x@evil.test",
            "Eve\rX",
            "Visit http://spam.example",
            "www.spam.example",
            "cheap-pills.com",
            "Eve (buy at pills.xyz/now)",
            "",
        ] {
            assert!(ReaderName::parse(bad).is_err(), "{bad:?} should be refused");
        }
        for good in [
            "Jane Reader",
            "J. R. R. Tolkien",
            "Zoë O'Brien-Ñúñez",
            "Dr. No",
            "李雷",
        ] {
            assert!(ReaderName::parse(good).is_ok(), "{good:?} should pass");
        }
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let err = NewComment::parse(
            &CommentRequest {
                name: "Eve\r\nBcc: x@evil.test".into(),
                email: "Eve\r\nBcc: x@evil.test".into(),
                message: " ".into(),
                subject: Some("Eve\r\nBcc: x@evil.test".into()),
                article_url: Some("https://elsewhere.example/a".into()),
                ..request()
            },
            &["localhost".into()],
        )
        .expect_err("invalid");
        assert_eq!(
            fields(err),
            ["name", "email", "message", "subject", "article_url"]
        );
    }

    #[test]
    fn long_messages_are_refused() {
        let err = NewComment::parse(
            &CommentRequest {
                message: "x".repeat(MAX_MESSAGE_CHARS + 1),
                ..request()
            },
            &[],
        )
        .expect_err("too long");
        assert_eq!(fields(err), ["message"]);
        assert!(NewComment::parse(
            &CommentRequest {
                message: "x".repeat(MAX_MESSAGE_CHARS),
                ..request()
            },
            &[],
        )
        .is_ok());
    }

    #[test]
    fn references_are_short_random_and_unambiguous() {
        let a = new_reference();
        assert_eq!(a.len(), 11);
        assert_eq!(&a[5..6], "-");
        assert!(!a.contains(['I', 'L', 'O', 'U']));
        assert_ne!(a, new_reference());
    }

    #[test]
    fn clearance_follows_role() {
        assert_eq!(Clearance::for_role("admin"), Clearance::Sensitive);
        assert_eq!(Clearance::for_role("editor"), Clearance::Sensitive);
        assert_eq!(Clearance::for_role("fundraising"), Clearance::Standard);
        assert_eq!(Clearance::for_role("hiring"), Clearance::Standard);
    }
}
