//! `EmailAddress`: a trimmed, lower-cased-domain, syntactically valid address; and how one
//! person's address is found in other records: parsed and compared whole, never as a
//! substring (erasing `ann@gmail.com` must not touch `jo.ann@gmail.com`).

use std::fmt;
use std::ops::Range;

/// An email address as the service stores it: trimmed, at most 254 characters, parsed by
/// lettre's RFC 5321 address parser, with the domain lower-cased. It converts to lettre's
/// typed `Address`, so headers are never built from strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(lettre::Address);

impl EmailAddress {
    /// The longest address, in bytes (RFC 5321's path limit less the angle brackets).
    pub const MAX_LEN: usize = 254;

    pub fn parse(input: &str) -> Result<EmailAddress, String> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err("Enter an email address.".into());
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(format!(
                "An email address has at most {} characters.",
                Self::MAX_LEN
            ));
        }
        if trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("An email address cannot hold spaces or control characters.".into());
        }
        let address: lettre::Address = trimmed
            .parse()
            .map_err(|_| "This is not a valid email address.".to_string())?;
        let domain = address.domain().to_ascii_lowercase();
        if !domain.contains('.') && domain != "localhost" {
            return Err("The address needs a full domain, like example.org.".into());
        }
        let address = lettre::Address::new(address.user(), domain)
            .map_err(|_| "This is not a valid email address.".to_string())?;
        Ok(EmailAddress(address))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    /// The OpenAPI schema of a field [`parse`](Self::parse) reads (`#[schema(schema_with = …)]`).
    pub fn schema() -> utoipa::openapi::Object {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Email,
            )))
            .max_length(Some(Self::MAX_LEN))
            .build()
    }

    /// The typed address, for mailboxes and envelopes.
    pub fn address(&self) -> &lettre::Address {
        &self.0
    }

    /// The form used to match one person across records: the whole address lower-cased.
    pub fn normalized(&self) -> String {
        self.as_str().to_lowercase()
    }

    pub fn into_inner(self) -> String {
        self.as_str().to_string()
    }

    /// Whether `other`, parsed as an address, is this one: compared whole in the
    /// [`normalized`](Self::normalized) form. Something that is not an address is not.
    pub fn same_as(&self, other: &str) -> bool {
        EmailAddress::parse(other).is_ok_and(|o| o.normalized() == self.normalized())
    }
}

/// A character an address's local part may hold (RFC 5321 `atext`, and the dot).
fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

/// A character a domain may hold.
fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '.'
}

/// Every address written in `text`, with the byte range it takes: around each `@`, the
/// longest run of characters an address may hold (a trailing full stop is punctuation), kept
/// when it parses as an [`EmailAddress`]. `jo.ann@gmail.com` is one address, never
/// `ann@gmail.com`; `ann@gmail.com.au` is not `ann@gmail.com` either.
pub fn addresses_in(text: &str) -> Vec<(Range<usize>, EmailAddress)> {
    let mut found = Vec::new();
    let mut from = 0;
    for (at, _) in text.match_indices('@') {
        if at < from {
            continue;
        }
        let local = &text[from..at];
        let start = local
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_local_char(*c))
            .last()
            .map_or(at, |(i, _)| from + i);
        let start = at - text[start..at].trim_start_matches('.').len();
        let domain = &text[at + 1..];
        let end = at
            + 1
            + domain
                .char_indices()
                .find(|(_, c)| !is_domain_char(*c))
                .map_or(domain.len(), |(i, _)| i);
        let end = at + 1 + text[at + 1..end].trim_end_matches(['.', '-']).len();
        if start == at || end == at + 1 {
            continue;
        }
        if let Ok(address) = EmailAddress::parse(&text[start..end]) {
            found.push((start..end, address));
            from = end;
        }
    }
    found
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sent as the address string, as it is stored.
impl serde::Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        let e = EmailAddress::parse("  Jane.Doe@Example.ORG ").expect("valid");
        assert_eq!(e.as_str(), "Jane.Doe@example.org");
        assert_eq!(e.normalized(), "jane.doe@example.org");
        assert!(EmailAddress::parse("newsroom@localhost").is_ok());
    }

    #[test]
    fn addresses_are_compared_whole() {
        let ann = EmailAddress::parse("ann@gmail.com").expect("valid");
        assert!(ann.same_as("Ann@GMAIL.com"));
        assert!(!ann.same_as("jo.ann@gmail.com"));
        assert!(!ann.same_as("ann@gmail.com.au"));
        assert!(!ann.same_as("Ann <ann@gmail.com>"));
        let found = |text: &str| -> Vec<(String, String)> {
            addresses_in(text)
                .into_iter()
                .map(|(r, a)| (text[r].to_string(), a.normalized()))
                .collect()
        };
        assert_eq!(
            found("Jo <jo.ann@gmail.com>, ann@gmail.com. And ANN@Gmail.Com.au!"),
            vec![
                ("jo.ann@gmail.com".into(), "jo.ann@gmail.com".into()),
                ("ann@gmail.com".into(), "ann@gmail.com".into()),
                ("ANN@Gmail.Com.au".into(), "ann@gmail.com.au".into()),
            ]
        );
        assert_eq!(
            found("mailto:x+y@example.org?subject=hi and zoë@example.org"),
            vec![
                ("x+y@example.org".into(), "x+y@example.org".into()),
                ("zoë@example.org".into(), "zoë@example.org".into()),
            ]
        );
        assert!(found("@ann, a@b, no address here, a@@b.org").is_empty());
    }

    #[test]
    fn refuses_bad_input() {
        for bad in [
            "",
            "plainaddress",
            "a@b",
            "eve@example.org\r\nBcc: x@evil.test",
            "a b@example.org",
            "<a@example.org>",
            &format!("{}@example.org", "x".repeat(250)),
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
