//! Emails to an address nobody has verified: anyone can type anyone's address into a form,
//! so such an email must never carry what a reader wrote (a name, a subject, a message, a
//! link), or the newsroom's own address would deliver a stranger's text: phishing with our
//! name on it.
//!
//! An email to such an address is built with [`super::Email::unverified`], which takes the
//! bare address (no display name, which a reader typed too) and an [`UnverifiedContext`]:
//! a context whose only values are flags, numbers and [`ServiceText`]. Every string in it
//! was marked as the newsroom's own (written by staff or configuration, or made by the
//! service) at the line that put it there, so a review finds each one with a search.

use serde_json::{Map, Value};

/// Text the newsroom wrote (staff, configuration) or the service made (a reference, an
/// amount, a link with a token), never a reader's. The only way a string gets into an
/// [`UnverifiedContext`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceText(String);

impl ServiceText {
    /// Marks `text` as not written by a reader.
    pub fn new(text: impl Into<String>) -> ServiceText {
        ServiceText(text.into())
    }
}

/// One value of an [`UnverifiedContext`].
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceValue(Value);

impl From<ServiceText> for ServiceValue {
    fn from(text: ServiceText) -> Self {
        ServiceValue(Value::String(text.0))
    }
}

impl From<bool> for ServiceValue {
    fn from(flag: bool) -> Self {
        ServiceValue(Value::Bool(flag))
    }
}

macro_rules! numbers {
    ($($t:ty),+) => {
        $(impl From<$t> for ServiceValue {
            fn from(n: $t) -> Self {
                ServiceValue(Value::from(n))
            }
        })+
    };
}
numbers!(u16, u32, u64, usize, i32, i64);

impl<T: Into<ServiceValue>> From<Option<T>> for ServiceValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(ServiceValue(Value::Null), Into::into)
    }
}

impl<T: Into<ServiceValue>> From<Vec<T>> for ServiceValue {
    fn from(values: Vec<T>) -> Self {
        ServiceValue(Value::Array(
            values.into_iter().map(|v| v.into().0).collect(),
        ))
    }
}

/// A group of [`ServiceValue`]s under names (one line of a list: a payment's date, receipt
/// and amount), built like an [`UnverifiedContext`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceRecord(Map<String, Value>);

impl ServiceRecord {
    pub fn new() -> ServiceRecord {
        ServiceRecord::default()
    }

    /// Sets one field.
    pub fn with(mut self, key: &'static str, value: impl Into<ServiceValue>) -> ServiceRecord {
        self.0.insert(key.to_string(), value.into().0);
        self
    }
}

impl From<ServiceRecord> for ServiceValue {
    fn from(record: ServiceRecord) -> Self {
        ServiceValue(Value::Object(record.0))
    }
}

/// The variables of an email to an unverified address (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnverifiedContext(Map<String, Value>);

impl UnverifiedContext {
    pub fn new() -> UnverifiedContext {
        UnverifiedContext::default()
    }

    /// Sets one variable.
    pub fn with(mut self, key: &'static str, value: impl Into<ServiceValue>) -> UnverifiedContext {
        self.0.insert(key.to_string(), value.into().0);
        self
    }

    pub(super) fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_only_what_was_put_in() {
        let ctx = UnverifiedContext::new()
            .with("reference", ServiceText::new("K7QF2-MX9DA"))
            .with("monthly", true)
            .with("hours", 24u32)
            .with("fee", None::<ServiceText>)
            .with("lists", vec![ServiceText::new("Daily")]);
        assert_eq!(
            ctx.into_value(),
            serde_json::json!({"reference": "K7QF2-MX9DA", "monthly": true, "hours": 24,
                "fee": null, "lists": ["Daily"]})
        );
    }
}
