//! `[backup]`: scheduled backups taken by the worker (`frontdesk backup` needs none of it).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};

/// Scheduled backups: when, where to, and how many to keep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BackupSettings {
    /// The folder scheduled backups are written to, one sub-folder each; required when
    /// `schedule` is not `off`.
    pub dir: Option<PathBuf>,
    /// When the worker takes a backup.
    pub schedule: BackupSchedule,
    /// Scheduled backups kept in `dir`; older ones are deleted after a good new one.
    pub keep: u32,
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings {
            dir: None,
            schedule: BackupSchedule::Off,
            keep: 7,
        }
    }
}

impl BackupSettings {
    pub(super) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.schedule != BackupSchedule::Off && self.dir.is_none() {
            problems.push(format!(
                "backup.dir: required when backup.schedule is {:?} (or set it to \"off\")",
                self.schedule.to_string()
            ));
        }
        if self.keep == 0 {
            problems.push("backup.keep: must be at least 1".into());
        }
        problems
    }
}

/// When scheduled backups run: `off`, `every <N>h` (N from 1 to 168, at multiples of N hours
/// since midnight UTC of 1 January 1970, so `every 6h` runs at 00:00, 06:00, … UTC), or
/// `daily <HH:MM>` (once a day at that time in `site.timezone`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum BackupSchedule {
    Off,
    Every { hours: u32 },
    Daily { at: NaiveTime },
}

/// Longest accepted `every <N>h` interval: a week.
pub const MAX_BACKUP_INTERVAL_HOURS: u32 = 168;

impl BackupSchedule {
    /// How long a backup may be old before it is overdue: the time between two runs.
    pub fn period(&self) -> Option<TimeDelta> {
        match self {
            BackupSchedule::Off => None,
            BackupSchedule::Every { hours } => Some(TimeDelta::hours(i64::from(*hours))),
            BackupSchedule::Daily { .. } => Some(TimeDelta::days(1)),
        }
    }
}

impl FromStr for BackupSchedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim().to_ascii_lowercase();
        let invalid = || {
            format!(
                "{s:?} is not a schedule: use \"off\", \"every 6h\" (1 to {MAX_BACKUP_INTERVAL_HOURS} hours) or \"daily 03:30\" (in site.timezone)"
            )
        };
        if text == "off" {
            return Ok(BackupSchedule::Off);
        }
        if let Some(hours) = text
            .strip_prefix("every ")
            .and_then(|rest| rest.trim().strip_suffix('h'))
        {
            let hours: u32 = hours.trim().parse().map_err(|_| invalid())?;
            if !(1..=MAX_BACKUP_INTERVAL_HOURS).contains(&hours) {
                return Err(invalid());
            }
            return Ok(BackupSchedule::Every { hours });
        }
        if let Some(at) = text.strip_prefix("daily ") {
            let at = NaiveTime::parse_from_str(at.trim(), "%H:%M").map_err(|_| invalid())?;
            return Ok(BackupSchedule::Daily { at });
        }
        Err(invalid())
    }
}

impl TryFrom<String> for BackupSchedule {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<BackupSchedule> for String {
    fn from(value: BackupSchedule) -> Self {
        value.to_string()
    }
}

impl fmt::Display for BackupSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackupSchedule::Off => f.write_str("off"),
            BackupSchedule::Every { hours } => write!(f, "every {hours}h"),
            BackupSchedule::Daily { at } => write!(f, "daily {}", at.format("%H:%M")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_and_print_back() {
        for (text, expected) in [
            ("off", BackupSchedule::Off),
            ("every 6h", BackupSchedule::Every { hours: 6 }),
            (" Every 24h ", BackupSchedule::Every { hours: 24 }),
            (
                "daily 03:30",
                BackupSchedule::Daily {
                    at: NaiveTime::from_hms_opt(3, 30, 0).expect("time"),
                },
            ),
        ] {
            let parsed: BackupSchedule = text.parse().expect(text);
            assert_eq!(parsed, expected);
            assert_eq!(parsed.to_string().parse::<BackupSchedule>(), Ok(expected));
        }
    }

    #[test]
    fn bad_schedules_are_refused_with_the_forms_that_work() {
        for text in [
            "",
            "daily",
            "daily 25:00",
            "every 0h",
            "every 169h",
            "every 6",
            "hourly",
        ] {
            let error = text.parse::<BackupSchedule>().expect_err(text);
            assert!(
                error.contains("every 6h") && error.contains("daily 03:30"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_schedule_needs_a_folder_and_keep_at_least_one() {
        let settings = BackupSettings {
            dir: None,
            schedule: BackupSchedule::Every { hours: 6 },
            keep: 0,
        };
        let problems = settings.problems();
        assert!(
            problems.iter().any(|p| p.starts_with("backup.dir:")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("backup.keep:")),
            "{problems:?}"
        );
        assert!(BackupSettings::default().problems().is_empty());
    }
}
