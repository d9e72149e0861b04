//! The calendar windows the dashboard counts in, cut in `site.timezone` and given in UTC as
//! the database stores times: this month, last month, the same month a year ago, the last
//! weeks (from Monday) and the last days.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// A half-open window `[from, to)` in UTC, named as people say it ("December 2026").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub name: String,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// The first moment of `day` in `tz`, in UTC (a day that starts in a gap starts at its
/// first existing minute).
pub fn start_of(tz: Tz, day: NaiveDate) -> NaiveDateTime {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.naive_utc(),
        // Midnight skipped by a clock change: the hour after.
        None => tz
            .from_local_datetime(&(midnight + chrono::TimeDelta::hours(1)))
            .earliest()
            .map_or(midnight, |t| t.naive_utc()),
    }
}

fn month(tz: Tz, first: NaiveDate) -> Window {
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    Window {
        name: first.format("%B %Y").to_string(),
        from: start_of(tz, first),
        to: start_of(tz, next),
    }
}

/// This month, last month and the same month last year, as of `now` (UTC) in `tz`.
pub fn months(tz: Tz, now: NaiveDateTime) -> [Window; 3] {
    let today = tz.from_utc_datetime(&now).date_naive();
    let first = today.with_day(1).unwrap_or(today);
    let last = first.checked_sub_months(Months::new(1)).unwrap_or(first);
    let year_ago = first.checked_sub_months(Months::new(12)).unwrap_or(first);
    [month(tz, first), month(tz, last), month(tz, year_ago)]
}

/// The starts of the last `n` weeks (Monday to Monday), oldest first; the last is this week.
pub fn week_starts(tz: Tz, now: NaiveDateTime, n: u64) -> Vec<NaiveDateTime> {
    let today = tz.from_utc_datetime(&now).date_naive();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    (0..n)
        .rev()
        .filter_map(|i| monday.checked_sub_days(Days::new(7 * i)))
        .map(|d| start_of(tz, d))
        .collect()
}

/// The starts of the last `n` days, oldest first; the last is today.
pub fn day_starts(tz: Tz, now: NaiveDateTime, n: u64) -> Vec<NaiveDateTime> {
    let today = tz.from_utc_datetime(&now).date_naive();
    (0..n)
        .rev()
        .filter_map(|i| today.checked_sub_days(Days::new(i)))
        .map(|d| start_of(tz, d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time")
    }

    #[test]
    fn months_are_cut_in_the_site_zone() {
        // 1 Dec 2026 03:00 UTC is still 30 Nov in Bogotá (UTC-5).
        let [this, last, year_ago] = months(chrono_tz::America::Bogota, at("2026-12-01 03:00"));
        assert_eq!(this.name, "November 2026");
        assert_eq!(this.from, at("2026-11-01 05:00"));
        assert_eq!(this.to, at("2026-12-01 05:00"));
        assert_eq!(last.name, "October 2026");
        assert_eq!(year_ago.name, "November 2025");
    }

    #[test]
    fn weeks_start_on_monday_and_days_at_midnight() {
        // Thursday 3 Dec 2026.
        let weeks = week_starts(chrono_tz::UTC, at("2026-12-03 12:00"), 3);
        assert_eq!(
            weeks,
            vec![
                at("2026-11-16 00:00"),
                at("2026-11-23 00:00"),
                at("2026-11-30 00:00")
            ]
        );
        let days = day_starts(chrono_tz::Europe::Berlin, at("2026-12-03 12:00"), 2);
        assert_eq!(days, vec![at("2026-12-01 23:00"), at("2026-12-02 23:00")]);
    }
}
