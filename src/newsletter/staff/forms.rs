//! The staff forms as posted, and the parsing of their fields (the compose form's repeated
//! `lists`, a `datetime-local` read in the newsroom's time zone).

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::error::FieldError;

/// The compose form, as posted (checkbox lists arrive as repeated `lists` fields).
#[derive(Debug, Clone, Default)]
pub(super) struct ComposeForm {
    pub(super) subject: String,
    pub(super) body_markdown: String,
    pub(super) lists: Vec<String>,
    pub(super) action: String,
}

impl ComposeForm {
    pub(super) fn parse(body: &[u8]) -> ComposeForm {
        let mut form = ComposeForm::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "subject" => form.subject = v.into_owned(),
                "body_markdown" => form.body_markdown = v.into_owned(),
                "lists" => form.lists.push(v.into_owned()),
                "action" => form.action = v.into_owned(),
                _ => {}
            }
        }
        form
    }
}

#[derive(Debug, Deserialize)]
pub struct TestForm {
    #[serde(default)]
    pub(super) email: String,
}

#[derive(Debug, Deserialize)]
pub struct SendForm {
    /// `datetime-local` in the newsroom's time zone; empty: now.
    #[serde(default)]
    pub(super) send_at: String,
}

/// A `datetime-local` value (`2026-12-01T08:00`, seconds optional) read in the newsroom's
/// time zone, as UTC. A time skipped by a clock change is refused; a repeated one (clocks
/// going back) means its first occurrence.
pub(super) fn parse_local(
    value: &str,
    tz: chrono_tz::Tz,
) -> Result<Option<NaiveDateTime>, FieldError> {
    use chrono::TimeZone;
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let local = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| FieldError::new("send_at", "Use a date and time like 2026-12-01T08:00."))?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| Some(t.naive_utc()))
        .ok_or_else(|| {
            FieldError::new(
                "send_at",
                format!(
                    "{value} does not exist in {} (the clocks skip it); choose another time.",
                    tz.name()
                ),
            )
        })
}

#[derive(Debug, Deserialize)]
pub struct ListForm {
    #[serde(default)]
    pub(super) slug: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) public: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::newsletter::staff::pages::in_zone;
    use crate::staff::ui::rfc3339_seconds as rfc3339;

    #[test]
    fn datetime_local_values_are_read_in_the_newsrooms_zone() {
        let utc = chrono_tz::UTC;
        let bogota = chrono_tz::America::Bogota;
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(parse_local(" ", utc).expect("empty"), None);
        let t = parse_local("2026-12-01T08:30", utc)
            .expect("valid")
            .expect("some");
        assert_eq!(rfc3339(t), "2026-12-01T08:30:00Z");
        let t = parse_local("2026-12-01T08:30", bogota)
            .expect("valid")
            .expect("some");
        assert_eq!(rfc3339(t), "2026-12-01T13:30:00Z");
        assert!(parse_local("2026-12-01T08:30:15", utc)
            .expect("valid")
            .is_some());
        assert!(parse_local("tomorrow", utc).is_err());
        // Skipped when clocks go forward; the first of the two when they go back.
        assert!(parse_local("2026-03-29T02:30", berlin).is_err());
        let t = parse_local("2026-10-25T02:30", berlin)
            .expect("valid")
            .expect("some");
        assert_eq!(rfc3339(t), "2026-10-25T00:30:00Z");
        assert_eq!(
            in_zone("2026-12-01T13:30:00Z", bogota).as_deref(),
            Some("2026-12-01T08:30")
        );
    }
}
