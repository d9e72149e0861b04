//! `EmailAddress`: a trimmed, lower-cased-domain, syntactically valid address.

use std::fmt;

/// An email address as the service stores it: trimmed, at most 254 characters, parsed by
/// lettre's RFC 5321 address parser, with the domain lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<EmailAddress, String> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err("Enter an email address.".into());
        }
        if trimmed.len() > 254 {
            return Err("An email address has at most 254 characters.".into());
        }
        if trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("An email address cannot hold spaces or control characters.".into());
        }
        let address: lettre::Address = trimmed
            .parse()
            .map_err(|_| "This is not a valid email address.".to_string())?;
        let (user, domain) = (address.user(), address.domain());
        if !domain.contains('.') && domain != "localhost" {
            return Err("The address needs a full domain, like example.org.".into());
        }
        Ok(EmailAddress(format!(
            "{user}@{}",
            domain.to_ascii_lowercase()
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to match one person across records: the whole address lower-cased.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
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
