//! [`Secret`]: a configuration value that is never printed or logged.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A configuration secret: never printed, never logged.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// A printable form: URLs keep scheme, host and path with any password masked;
    /// anything else is fully masked.
    pub fn masked(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.has_host() || u.scheme() == "sqlite" => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("********"));
                }
                u.to_string()
            }
            _ => "********".into(),
        }
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}
