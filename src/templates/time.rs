//! Times in staff pages: a stored UTC time shown in `site.timezone` as "3 Dec 2026, 08:16"
//! inside `<time datetime="…Z">`, and ages ("3 days") measured from the injectable clock, so
//! a test that moves the clock sees the same words every run.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta};
use chrono_tz::Tz;
use minijinja::Value;

use crate::clock::Clock;

/// A time as templates receive it: RFC 3339 (`…+00:00`, `…Z`), a naive UTC time
/// (`2026-12-03T13:16:49.768694`, `2026-12-03 13:16:49`) or a date (`2026-12-03`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    At(NaiveDateTime),
    Day(NaiveDate),
}

impl Moment {
    pub fn parse(s: &str) -> Option<Moment> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(Moment::At(t.naive_utc()));
        }
        for format in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M UTC",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
                return Some(Moment::At(t));
            }
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(Moment::Day)
    }

    /// The value for `<time datetime>`: ISO 8601 UTC to the second, or the date.
    pub fn iso(self) -> String {
        match self {
            Moment::At(t) => t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            Moment::Day(d) => d.format("%Y-%m-%d").to_string(),
        }
    }

    /// The words people read: "3 Dec 2026, 08:16" in `tz`, or "3 Dec 2026" for a date.
    pub fn human(self, tz: Tz) -> String {
        match self {
            Moment::At(t) => t
                .and_utc()
                .with_timezone(&tz)
                .format("%-d %b %Y, %H:%M")
                .to_string(),
            Moment::Day(d) => d.format("%-d %b %Y").to_string(),
        }
    }

    /// The calendar day in `tz` (a date is its own day).
    pub fn local_date(self, tz: Tz) -> NaiveDate {
        match self {
            Moment::At(t) => t.and_utc().with_timezone(&tz).date_naive(),
            Moment::Day(d) => d,
        }
    }

    fn utc(self) -> NaiveDateTime {
        match self {
            Moment::At(t) => t,
            Moment::Day(d) => d.and_hms_opt(0, 0, 0).unwrap_or_default(),
        }
    }
}

/// How long ago `then` was, in the largest whole unit: "just now", "5 minutes", "3 days".
pub fn age(then: NaiveDateTime, now: NaiveDateTime) -> String {
    let d = now - then;
    if d < TimeDelta::minutes(1) {
        return "less than a minute".into();
    }
    let (n, unit) = if d < TimeDelta::hours(1) {
        (d.num_minutes(), "minute")
    } else if d < TimeDelta::days(1) {
        (d.num_hours(), "hour")
    } else if d < TimeDelta::days(60) {
        (d.num_days(), "day")
    } else if d < TimeDelta::days(730) {
        (d.num_days() / 30, "month")
    } else {
        (d.num_days() / 365, "year")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The `when` filter: `<time datetime="ISO">human</time>`; empty for none, and the text as it
/// was when it is not a time (so a page never loses a value).
pub fn when(tz: Tz, value: &Value) -> Value {
    let Some(text) = value.as_str() else {
        return if value.is_none() || value.is_undefined() {
            Value::from("")
        } else {
            value.clone()
        };
    };
    match Moment::parse(text) {
        Some(m) => Value::from_safe_string(format!(
            "<time datetime=\"{}\">{}</time>",
            m.iso(),
            minijinja::HtmlEscape(&m.human(tz))
        )),
        None => Value::from(text),
    }
}

/// The `ago` filter: the age of a time by the service's clock ("3 days"); empty when none.
pub fn ago(clock: &Clock, value: &Value) -> String {
    value
        .as_str()
        .and_then(Moment::parse)
        .map(|m| age(m.utc(), clock.now()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        match Moment::parse(s) {
            Some(Moment::At(t)) => t,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn every_stored_spelling_parses() {
        let t = at("2026-12-03T13:16:49.768694+00:00");
        assert_eq!(at("2026-12-03T13:16:49.768694"), t);
        assert_eq!(at("2026-12-03 13:16:49.768694"), t);
        assert_eq!(at("2026-12-03T13:16:49Z"), at("2026-12-03T13:16:49"));
        assert_eq!(
            Moment::parse("2026-12-03"),
            NaiveDate::from_ymd_opt(2026, 12, 3).map(Moment::Day)
        );
        assert_eq!(Moment::parse("soon"), None);
    }

    #[test]
    fn times_show_in_the_site_zone() {
        let m = Moment::At(at("2026-12-03T13:16:49.768694Z"));
        assert_eq!(m.human(chrono_tz::America::Bogota), "3 Dec 2026, 08:16");
        assert_eq!(m.human(chrono_tz::UTC), "3 Dec 2026, 13:16");
        assert_eq!(m.iso(), "2026-12-03T13:16:49Z");
        let html = when(chrono_tz::UTC, &Value::from("2026-12-03T13:16:49Z"));
        assert_eq!(
            html.to_string(),
            "<time datetime=\"2026-12-03T13:16:49Z\">3 Dec 2026, 13:16</time>"
        );
        assert_eq!(when(chrono_tz::UTC, &Value::from(())).to_string(), "");
    }

    #[test]
    fn ages_take_the_largest_whole_unit() {
        let now = at("2026-12-03T12:00:00Z");
        assert_eq!(age(at("2026-12-03T11:59:30Z"), now), "less than a minute");
        assert_eq!(age(at("2026-12-03T11:55:00Z"), now), "5 minutes");
        assert_eq!(age(at("2026-12-03T11:00:00Z"), now), "1 hour");
        assert_eq!(age(at("2026-11-30T12:00:00Z"), now), "3 days");
        assert_eq!(age(at("2026-06-03T12:00:00Z"), now), "6 months");
        assert_eq!(age(at("2023-12-03T12:00:00Z"), now), "3 years");
    }
}
