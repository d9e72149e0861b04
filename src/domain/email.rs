//! `EmailAddress`: a trimmed, lower-cased-domain, syntactically valid address.

use std::fmt;

/// An email address as the service stores it: trimmed, at most 254 characters, parsed by
/// lettre's RFC 5321 address parser, with the domain lower-cased. It converts to lettre's
/// typed `Address`, so headers are never built from strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(lettre::Address);

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
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
