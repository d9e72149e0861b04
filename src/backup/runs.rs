//! `backup_runs`: every backup taken and its outcome, and what the staff dashboard's health
//! panel shows of them (the last good backup, its age, a warning when it is overdue).

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;

use crate::config::{BackupSchedule, Settings};
use crate::db::schema::backup_runs::dsl as r;
use crate::db::DbConnection;

/// What started a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `frontdesk backup --to DIR`.
    Command,
    /// The worker's `backup.schedule`.
    Schedule,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Command => "command",
            Trigger::Schedule => "schedule",
        }
    }
}

pub const RUNNING: &str = "running";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::backup_runs)]
pub struct BackupRun {
    pub id: String,
    pub slot: Option<NaiveDateTime>,
    pub trigger: String,
    pub state: String,
    pub location: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub bytes: Option<i64>,
    pub files: Option<i32>,
    pub detail: Option<String>,
}

/// Records a backup that starts now. For a scheduled one, `slot` is its scheduled time:
/// `Ok(None)` when another worker has already taken that slot.
pub fn start(
    conn: &mut DbConnection,
    trigger: Trigger,
    slot: Option<NaiveDateTime>,
    location: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let id = crate::db::new_id();
    let inserted = diesel::insert_into(r::backup_runs)
        .values((
            r::id.eq(&id),
            r::slot.eq(slot),
            r::trigger.eq(trigger.as_str()),
            r::state.eq(RUNNING),
            r::location.eq(location),
            r::started_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(Some(id)),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) if slot.is_some() => Ok(None),
        Err(e) => Err(e),
    }
}

/// How a backup ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded { bytes: u64, files: usize },
    Failed { detail: String },
}

/// Records how the backup `id` ended.
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    outcome: &Outcome,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let target = r::backup_runs.filter(r::id.eq(id));
    match outcome {
        Outcome::Succeeded { bytes, files } => diesel::update(target)
            .set((
                r::state.eq(SUCCEEDED),
                r::finished_at.eq(now),
                r::bytes.eq(i64::try_from(*bytes).unwrap_or(i64::MAX)),
                r::files.eq(i32::try_from(*files).unwrap_or(i32::MAX)),
            ))
            .execute(conn)?,
        Outcome::Failed { detail } => diesel::update(target)
            .set((
                r::state.eq(FAILED),
                r::finished_at.eq(now),
                r::detail.eq(detail.chars().take(2000).collect::<String>()),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// The newest good backup.
pub fn last_good(conn: &mut DbConnection) -> QueryResult<Option<BackupRun>> {
    r::backup_runs
        .filter(r::state.eq(SUCCEEDED))
        .order(r::finished_at.desc())
        .select(BackupRun::as_select())
        .first(conn)
        .optional()
}

/// The newest backup to have ended, well or not.
fn last_finished(conn: &mut DbConnection) -> QueryResult<Option<BackupRun>> {
    r::backup_runs
        .filter(r::finished_at.is_not_null())
        .order(r::finished_at.desc())
        .select(BackupRun::as_select())
        .first(conn)
        .optional()
}

/// One backup as the dashboard shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    /// `YYYY-MM-DD HH:MM UTC`.
    pub at: String,
    /// `3 h 12 min`.
    pub age: String,
    pub location: String,
    pub trigger: String,
    pub size: Option<String>,
    pub files: Option<i32>,
    pub detail: Option<String>,
}

/// The dashboard's backup panel.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// `off`, `every 6h`, `daily 03:30 (Europe/Berlin)`.
    pub schedule: String,
    pub last_good: Option<RunView>,
    /// The newest run when it failed.
    pub last_failed: Option<RunView>,
    /// Why an administrator should look, if they should.
    pub warning: Option<String>,
}

/// A good backup may be this much older than the schedule's period before it is overdue
/// (the time a backup itself takes).
const GRACE: TimeDelta = TimeDelta::hours(1);

/// The backup panel at `now`.
pub fn health(
    conn: &mut DbConnection,
    settings: &Settings,
    now: NaiveDateTime,
) -> QueryResult<Health> {
    let good = last_good(conn)?;
    let failed = last_finished(conn)?.filter(|run| run.state == FAILED);
    let schedule = settings.backup.schedule;
    let warning = warning(schedule, good.as_ref(), failed.as_ref(), now);
    let view = |run: &BackupRun| {
        let at = run.finished_at.unwrap_or(run.started_at);
        RunView {
            at: format!("{} UTC", at.format("%Y-%m-%d %H:%M")),
            age: age(now - at),
            location: run.location.clone(),
            trigger: run.trigger.clone(),
            size: run.bytes.map(size),
            files: run.files,
            detail: run.detail.clone(),
        }
    };
    Ok(Health {
        schedule: match schedule {
            BackupSchedule::Daily { .. } => format!("{schedule} ({})", settings.site.timezone),
            other => other.to_string(),
        },
        last_good: good.as_ref().map(view),
        last_failed: failed.as_ref().map(view),
        warning,
    })
}

fn warning(
    schedule: BackupSchedule,
    good: Option<&BackupRun>,
    failed: Option<&BackupRun>,
    now: NaiveDateTime,
) -> Option<String> {
    let period = schedule.period()?;
    let good_at = good.and_then(|run| run.finished_at);
    if let Some(failed) = failed {
        if failed.finished_at > good_at {
            return Some(format!(
                "The latest backup failed: {}",
                failed.detail.as_deref().unwrap_or("see the worker's log")
            ));
        }
    }
    match good_at {
        None => Some(format!(
            "No backup has succeeded yet; the schedule is {schedule}."
        )),
        Some(at) if now - at > period + GRACE => Some(format!(
            "The last good backup is {} old, older than the schedule ({schedule}) allows.",
            age(now - at)
        )),
        Some(_) => None,
    }
}

/// A duration for people: `45 s`, `12 min`, `3 h 12 min`, `2 days 4 h`.
pub fn age(elapsed: TimeDelta) -> String {
    let seconds = elapsed.num_seconds().max(0);
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (1, h, _) => format!("1 day {h} h"),
        (d, h, _) => format!("{d} days {h} h"),
    }
}

/// A size for people: `512 B`, `3.4 MB`.
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1_000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1_000.0;
    let mut unit = 0;
    while value >= 1_000.0 && unit + 1 < UNITS.len() {
        value /= 1_000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(state: &str, finished: NaiveDateTime) -> BackupRun {
        BackupRun {
            id: "x".into(),
            slot: None,
            trigger: "schedule".into(),
            state: state.into(),
            location: "/backups/x".into(),
            started_at: finished,
            finished_at: Some(finished),
            bytes: Some(1),
            files: Some(1),
            detail: Some("disk full".into()),
        }
    }

    #[test]
    fn ages_and_sizes_read_like_people_write_them() {
        assert_eq!(age(TimeDelta::seconds(45)), "45 s");
        assert_eq!(age(TimeDelta::minutes(12)), "12 min");
        assert_eq!(age(TimeDelta::minutes(192)), "3 h 12 min");
        assert_eq!(age(TimeDelta::hours(52)), "2 days 4 h");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(3_400_000), "3.4 MB");
    }

    #[test]
    fn a_backup_older_than_its_schedule_or_a_failure_after_it_warns() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .expect("time")
            .naive_utc();
        let every_6h = BackupSchedule::Every { hours: 6 };
        let fresh = run(SUCCEEDED, now - TimeDelta::hours(5));
        let stale = run(SUCCEEDED, now - TimeDelta::hours(8));
        let failed = run(FAILED, now - TimeDelta::hours(1));

        assert_eq!(warning(every_6h, Some(&fresh), None, now), None);
        assert!(warning(every_6h, Some(&stale), None, now)
            .expect("stale")
            .contains("8 h 0 min old"));
        assert!(warning(every_6h, Some(&fresh), Some(&failed), now)
            .expect("failed")
            .contains("disk full"));
        assert!(warning(every_6h, None, None, now)
            .expect("none yet")
            .contains("No backup"));
        assert_eq!(warning(BackupSchedule::Off, None, None, now), None);
    }
}
