//! Newsletter domain types. Their constructors are the only way in: a value of one of these
//! types has been checked.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldError};

/// A subscriber's mailbox: a [`domain::EmailAddress`](crate::domain::EmailAddress) held in
/// its whole-address lower-cased form ([`normalized`](crate::domain::EmailAddress::normalized)),
/// because the list keeps one row (and one suppression hash) per mailbox whatever case the
/// reader typed; and with a full domain, since an issue is never sent to `localhost`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(crate::domain::EmailAddress);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<EmailAddress, String> {
        let typed = crate::domain::EmailAddress::parse(raw)?;
        if !typed.address().domain().contains('.') {
            return Err("The address needs a full domain, like example.org.".into());
        }
        crate::domain::EmailAddress::parse(&typed.normalized()).map(EmailAddress)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The keyed hash under which a suppression of this address is kept.
    pub fn suppression_hash(&self, keys: &crate::keys::Keys) -> String {
        keys.hash("newsletter-suppression", self.as_str().as_bytes())
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An optional display name: trimmed, at most 100 characters, no control characters or URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberName(String);

impl SubscriberName {
    pub fn parse(raw: &str) -> Result<Option<SubscriberName>, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Ok(None);
        }
        if name.chars().count() > 100 {
            return Err("A name has at most 100 characters.".into());
        }
        if name.chars().any(char::is_control) {
            return Err("A name cannot hold control characters or line breaks.".into());
        }
        let lower = name.to_lowercase();
        if lower.contains("http://") || lower.contains("https://") || lower.contains("www.") {
            return Err("A name cannot hold a web address.".into());
        }
        Ok(Some(SubscriberName(name.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A list's slug: 1..=64 of `a-z`, `0-9`, `-`, `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ListSlug(String);

impl ListSlug {
    pub fn parse(raw: &str) -> Result<ListSlug, String> {
        let slug = raw.trim();
        let ok = !slug.is_empty()
            && slug.len() <= 64
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(ListSlug(slug.to_string()))
        } else {
            Err("A list slug is 1 to 64 characters of a-z, 0-9, - and _.".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The OpenAPI schema of a field [`parse`](Self::parse) reads.
    pub fn schema() -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(r"^\s*[a-z0-9_-]{1,64}\s*$"))
            .build()
    }
}

/// Where a reader signed up: an absolute http(s) URL of at most 2,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceUrl(String);

impl SourceUrl {
    pub fn parse(raw: &str) -> Result<Option<SourceUrl>, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        if raw.len() > 2000 {
            return Err("A URL has at most 2,000 characters.".into());
        }
        match url::Url::parse(raw) {
            Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.has_host() => {
                Ok(Some(SourceUrl(u.to_string())))
            }
            _ => Err("An absolute http(s) URL is expected.".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The body of `POST /api/v1/newsletter/subscriptions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRequest {
    /// The reader's address.
    pub email: String,
    pub name: Option<String>,
    /// Slugs of public lists; none means every public list.
    pub lists: Option<Vec<String>>,
    /// The page the reader signed up on.
    pub source_url: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::web::openapi::lang_schema)]
    pub lang: Option<String>,
}

/// A checked subscription request. `lists` are slugs that still have to exist (the store
/// checks, and the handler reports unknown ones on `lists`).
#[derive(Debug, Clone)]
pub struct Subscription {
    pub email: EmailAddress,
    pub name: Option<SubscriberName>,
    pub lists: Option<Vec<ListSlug>>,
    pub source_url: Option<SourceUrl>,
}

impl TryFrom<SubscriptionRequest> for Subscription {
    type Error = AppError;

    fn try_from(req: SubscriptionRequest) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let email = EmailAddress::parse(&req.email)
            .map_err(|m| errors.push(FieldError::new("email", m)))
            .ok();
        let name = SubscriberName::parse(req.name.as_deref().unwrap_or(""))
            .map_err(|m| errors.push(FieldError::new("name", m)))
            .ok()
            .flatten();
        let lists = match req.lists {
            None => None,
            Some(raw) if raw.len() > 50 => {
                errors.push(FieldError::new("lists", "At most 50 lists."));
                None
            }
            Some(raw) => {
                let mut slugs = Vec::new();
                for (i, s) in raw.iter().enumerate() {
                    match ListSlug::parse(s) {
                        Ok(slug) if !slugs.contains(&slug) => slugs.push(slug),
                        Ok(_) => {}
                        Err(m) => errors.push(FieldError::new(format!("lists[{i}]"), m)),
                    }
                }
                Some(slugs)
            }
        };
        let source_url = SourceUrl::parse(req.source_url.as_deref().unwrap_or(""))
            .map_err(|m| errors.push(FieldError::new("source_url", m)))
            .ok()
            .flatten();
        match email {
            Some(email) if errors.is_empty() => Ok(Subscription {
                email,
                name,
                lists,
                source_url,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

crate::text_enum! {
    /// A subscriber's overall state.
    pub enum SubscriberStatus {
        Pending => "pending",
        Confirmed => "confirmed",
        Unsubscribed => "unsubscribed",
        /// A hard bounce, a complaint, repeated soft bounces, or staff: never mailed again.
        Suppressed => "suppressed",
    }
}

/// Why an address is suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    HardBounce,
    Complaint,
    SoftBounces,
    Erased,
    Manual,
}

impl SuppressionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::HardBounce => "hard_bounce",
            SuppressionReason::Complaint => "complaint",
            SuppressionReason::SoftBounces => "soft_bounces",
            SuppressionReason::Erased => "erased",
            SuppressionReason::Manual => "manual",
        }
    }
}

crate::text_enum! {
    /// An issue's state.
    pub enum IssueStatus {
        Draft => "draft",
        Scheduled => "scheduled",
        Sending => "sending",
        Paused => "paused",
        Sent => "sent",
        Cancelled => "cancelled",
    }
}

/// A new issue as staff write it: subject, Markdown body, target lists (none: every
/// confirmed subscriber).
#[derive(Debug, Clone)]
pub struct NewIssue {
    pub subject: String,
    pub body_markdown: String,
    pub lists: Vec<ListSlug>,
    /// The issue's language (a tag of site.languages, checked by the handler); `None`:
    /// written for everyone.
    pub lang: Option<String>,
    /// The issue this one translates (checked by the store).
    pub translation_of: Option<String>,
}

impl NewIssue {
    /// Checks the fields, naming every failing one: `subject` 1..=200 characters on one
    /// line, `body_markdown` 1..=200,000 characters, `lists` valid slugs.
    pub fn parse(
        subject: &str,
        body_markdown: &str,
        lists: &[String],
    ) -> Result<NewIssue, AppError> {
        let mut errors = Vec::new();
        let subject = subject.trim();
        if subject.is_empty() || subject.chars().count() > 200 {
            errors.push(FieldError::new(
                "subject",
                "A subject has 1 to 200 characters.",
            ));
        } else if subject.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "subject",
                "A subject is one line without control characters.",
            ));
        }
        let body = body_markdown.trim();
        if body.is_empty() || body.chars().count() > 200_000 {
            errors.push(FieldError::new(
                "body_markdown",
                "The body has 1 to 200,000 characters.",
            ));
        } else if body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            errors.push(FieldError::new(
                "body_markdown",
                "The body cannot hold control characters.",
            ));
        }
        let mut slugs = Vec::new();
        for (i, raw) in lists.iter().enumerate() {
            match ListSlug::parse(raw) {
                Ok(slug) if !slugs.contains(&slug) => slugs.push(slug),
                Ok(_) => {}
                Err(m) => errors.push(FieldError::new(format!("lists[{i}]"), m)),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(NewIssue {
            subject: subject.to_string(),
            body_markdown: body.replace("\r\n", "\n"),
            lists: slugs,
            lang: None,
            translation_of: None,
        })
    }
}

/// A new list as staff define it.
#[derive(Debug, Clone)]
pub struct NewList {
    pub slug: ListSlug,
    pub name: String,
    pub description: String,
    pub is_public: bool,
    /// The language of the list's issues (checked by the handler); `None`: any.
    pub lang: Option<String>,
}

impl NewList {
    /// The longest list name and description, in characters.
    pub const MAX_NAME_CHARS: usize = 100;
    pub const MAX_DESCRIPTION_CHARS: usize = 1000;

    pub fn parse(
        slug: &str,
        name: &str,
        description: &str,
        is_public: bool,
    ) -> Result<NewList, AppError> {
        let mut errors = Vec::new();
        let slug = ListSlug::parse(slug)
            .map_err(|m| errors.push(FieldError::new("slug", m)))
            .ok();
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > Self::MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            errors.push(FieldError::new(
                "name",
                "A name has 1 to 100 characters on one line.",
            ));
        }
        let description = description.trim();
        let description = crate::domain::text::clean_text(
            description,
            crate::domain::text::Lines::Many,
            Self::MAX_DESCRIPTION_CHARS,
        )
        .unwrap_or_else(|e| {
            errors.push(FieldError::new("description", e.to_string()));
            String::new()
        });
        match slug {
            Some(slug) if errors.is_empty() => Ok(NewList {
                slug,
                name: name.to_string(),
                description,
                is_public,
                lang: None,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            EmailAddress::parse("  Jane@Example.ORG ")
                .expect("valid")
                .as_str(),
            "jane@example.org"
        );
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.org",
            "jane@localhost",
            "ja ne@example.org",
            "jane@example..org",
            "jane@example.org\r\nBcc: x@y.z",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_refuse_urls_and_line_breaks() {
        assert!(SubscriberName::parse("  ").expect("empty ok").is_none());
        assert!(SubscriberName::parse("Jane Doe").expect("ok").is_some());
        assert!(SubscriberName::parse("Jane\nBcc").is_err());
        assert!(SubscriberName::parse("visit https://spam.example").is_err());
    }

    #[test]
    fn subscription_names_every_failing_field() {
        let err = Subscription::try_from(SubscriptionRequest {
            lang: None,
            email: "nope".into(),
            name: Some("a\u{7}".into()),
            lists: Some(vec!["ok".into(), "Not OK".into()]),
            source_url: Some("javascript:alert(1)".into()),
        })
        .expect_err("invalid");
        let AppError::Validation(errors) = err else {
            panic!("expected validation")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "name", "lists[1]", "source_url"]);
    }

    #[test]
    fn issue_and_list_checks() {
        assert!(NewIssue::parse("Hello", "Body", &["weekly".into()]).is_ok());
        let AppError::Validation(errors) =
            NewIssue::parse(" ", "", &["BAD".into()]).expect_err("invalid")
        else {
            panic!("expected validation")
        };
        assert_eq!(errors.len(), 3);
        assert!(NewList::parse("weekly", "Weekly", "", true).is_ok());
        assert!(NewList::parse("Weekly!", "", "", true).is_err());
    }
}
