//! Scheduled backups, run with the mail worker (in `serve` when `mail.worker_in_serve`, and
//! in `frontdesk worker`).
//!
//! Each scheduled time is a slot. A worker that reaches a slot (or starts after the latest
//! one passed untaken) claims it in `backup_runs`, whose `slot` is unique, so of several
//! workers sharing one database exactly one takes each backup. The backup is written to
//! `backup.dir/frontdesk-<slot>.partial` and renamed to `frontdesk-<slot>` once its manifest
//! is written; then all but the newest `backup.keep` such folders are deleted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use tokio::sync::watch;

use super::runs::{self, Outcome, Trigger};
use crate::config::{BackupSchedule, Settings};
use crate::db::Db;

/// The latest scheduled time at or before `now`; `None` when the schedule is off.
pub fn latest_slot(
    schedule: BackupSchedule,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match schedule {
        BackupSchedule::Off => None,
        BackupSchedule::Every { hours } => {
            let period = i64::from(hours) * 3_600;
            let seconds = now.timestamp();
            DateTime::from_timestamp(seconds - seconds.rem_euclid(period), 0)
        }
        BackupSchedule::Daily { at } => {
            let today = now.with_timezone(&tz).date_naive();
            [today, today.pred_opt()?]
                .into_iter()
                .filter_map(|day| daily_at(day, at, tz))
                .find(|slot| *slot <= now)
        }
    }
}

/// The first scheduled time after `now`.
pub fn next_slot(
    schedule: BackupSchedule,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match schedule {
        BackupSchedule::Off => None,
        BackupSchedule::Every { hours } => {
            Some(latest_slot(schedule, tz, now)? + TimeDelta::hours(i64::from(hours)))
        }
        BackupSchedule::Daily { at } => {
            let today = now.with_timezone(&tz).date_naive();
            [today, today.succ_opt()?, today.succ_opt()?.succ_opt()?]
                .into_iter()
                .filter_map(|day| daily_at(day, at, tz))
                .find(|slot| *slot > now)
        }
    }
}

/// `at` on `day` in `tz`, as UTC. A time skipped by a daylight-saving change runs an hour
/// later; a time that happens twice runs the first time.
fn daily_at(day: NaiveDate, at: chrono::NaiveTime, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let local = day.and_time(at);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + TimeDelta::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

/// The folder name of the backup of `slot`: `frontdesk-20261219T033000Z`.
pub fn folder_name(slot: DateTime<Utc>) -> String {
    format!("frontdesk-{}", slot.format("%Y%m%dT%H%M%SZ"))
}

/// Whether `name` is a finished scheduled backup's folder name.
fn is_backup_folder(name: &str) -> bool {
    name.strip_prefix("frontdesk-")
        .is_some_and(|stamp| chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").is_ok())
}

/// Deletes all but the newest `keep` finished backups in `dir`, and the unfinished
/// (`.partial`) folders of slots before `current` (left by a worker that stopped mid-way).
/// Returns the folders deleted.
pub fn prune(dir: &Path, keep: usize, current: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut finished = Vec::new();
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_backup_folder(&name) {
            finished.push(name);
        } else if let Some(unfinished) = name.strip_suffix(".partial") {
            if is_backup_folder(unfinished) && unfinished < current {
                std::fs::remove_dir_all(entry.path())?;
                removed.push(entry.path());
            }
        }
    }
    finished.sort();
    let excess = finished.len().saturating_sub(keep);
    for name in finished.into_iter().take(excess) {
        let path = dir.join(name);
        std::fs::remove_dir_all(&path)?;
        removed.push(path);
    }
    Ok(removed)
}

/// Takes the scheduled backups until told to stop.
pub struct Scheduler {
    settings: Arc<Settings>,
    db: Db,
}

impl Scheduler {
    pub fn new(settings: Arc<Settings>, db: Db) -> Scheduler {
        Scheduler { settings, db }
    }

    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let schedule = self.settings.backup.schedule;
        let Some(dir) = self.settings.backup.dir.clone() else {
            return;
        };
        let tz = self
            .settings
            .site
            .timezone
            .parse::<chrono_tz::Tz>()
            .unwrap_or(chrono_tz::UTC);
        if schedule == BackupSchedule::Off {
            return;
        }
        tracing::info!(%schedule, dir = %dir.display(), "scheduled backups are on");
        loop {
            if let Some(slot) = latest_slot(schedule, tz, Utc::now()) {
                self.take_slot(&dir, slot).await;
            }
            let Some(next) = next_slot(schedule, tz, Utc::now()) else {
                return;
            };
            let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }

    /// Claims `slot` and takes its backup, unless another worker took it.
    async fn take_slot(&self, dir: &Path, slot: DateTime<Utc>) {
        let name = folder_name(slot);
        let target = dir.join(&name);
        let location = target.display().to_string();
        let claim_location = location.clone();
        let claimed = self
            .db
            .write(move |conn| {
                Ok(runs::start(
                    conn,
                    Trigger::Schedule,
                    Some(slot.naive_utc()),
                    &claim_location,
                    crate::db::now(),
                )?)
            })
            .await;
        let id = match claimed {
            Ok(Some(id)) => id,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, "the scheduled backup could not be started");
                return;
            }
        };
        tracing::info!(location = %location, "scheduled backup started");
        let partial = dir.join(format!("{name}.partial"));
        let started = std::time::Instant::now();
        let outcome = self.write(&partial, &target).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &outcome {
            Outcome::Succeeded { bytes, files } => {
                tracing::info!(location = %location, bytes, files, elapsed_ms, "scheduled backup written");
                let keep = usize::try_from(self.settings.backup.keep).unwrap_or(usize::MAX);
                let (dir, current) = (dir.to_path_buf(), name.clone());
                match tokio::task::spawn_blocking(move || prune(&dir, keep, &current)).await {
                    Ok(Ok(removed)) if !removed.is_empty() => {
                        tracing::info!(removed = removed.len(), "older backups deleted")
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "older backups could not be deleted"),
                    Err(e) => tracing::warn!(error = %e, "pruning backups failed"),
                }
            }
            Outcome::Failed { detail } => {
                tracing::error!(location = %location, error = %detail, elapsed_ms, "scheduled backup failed")
            }
        }
        let recorded = self
            .db
            .write(move |conn| Ok(runs::finish(conn, &id, &outcome, crate::db::now())?))
            .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, "the backup's outcome could not be recorded");
        }
    }

    /// Writes the backup into `partial` and renames it to `target`.
    async fn write(&self, partial: &Path, target: &Path) -> Outcome {
        let _ = tokio::fs::remove_dir_all(partial).await;
        let written = super::write_backup(
            self.settings.clone(),
            self.db.clone(),
            partial.to_path_buf(),
        )
        .await;
        let result = match written {
            Ok(manifest) => tokio::fs::rename(partial, target)
                .await
                .map(|()| manifest)
                .map_err(|e| anyhow::anyhow!("cannot rename {}: {e}", partial.display())),
            Err(e) => Err(e),
        };
        match result {
            Ok(manifest) => Outcome::Succeeded {
                bytes: manifest.bytes(),
                files: manifest.files.len(),
            },
            Err(e) => {
                let _ = tokio::fs::remove_dir_all(partial).await;
                Outcome::Failed {
                    detail: format!("{e:#}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn every_n_hours_runs_at_multiples_of_n_since_the_epoch() {
        let every_6h = BackupSchedule::Every { hours: 6 };
        let now = utc("2026-12-19T13:45:00Z");
        assert_eq!(
            latest_slot(every_6h, chrono_tz::UTC, now),
            Some(utc("2026-12-19T12:00:00Z"))
        );
        assert_eq!(
            next_slot(every_6h, chrono_tz::UTC, now),
            Some(utc("2026-12-19T18:00:00Z"))
        );
        assert_eq!(
            latest_slot(every_6h, chrono_tz::UTC, utc("2026-12-19T12:00:00Z")),
            Some(utc("2026-12-19T12:00:00Z"))
        );
    }

    #[test]
    fn daily_runs_at_the_newsrooms_local_time() {
        let daily = "daily 03:30".parse::<BackupSchedule>().expect("schedule");
        let bogota: chrono_tz::Tz = "America/Bogota".parse().expect("tz");
        // 03:30 in Bogotá (UTC-5) is 08:30 UTC.
        assert_eq!(
            latest_slot(daily, bogota, utc("2026-12-19T08:00:00Z")),
            Some(utc("2026-12-18T08:30:00Z"))
        );
        assert_eq!(
            next_slot(daily, bogota, utc("2026-12-19T08:00:00Z")),
            Some(utc("2026-12-19T08:30:00Z"))
        );
        assert_eq!(
            latest_slot(daily, bogota, utc("2026-12-19T09:00:00Z")),
            Some(utc("2026-12-19T08:30:00Z"))
        );
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_runs_an_hour_later() {
        let daily = "daily 02:30".parse::<BackupSchedule>().expect("schedule");
        let berlin: chrono_tz::Tz = "Europe/Berlin".parse().expect("tz");
        // 2027-03-28: clocks go from 02:00 to 03:00 CET→CEST; 03:30 CEST is 01:30 UTC.
        assert_eq!(
            next_slot(daily, berlin, utc("2027-03-28T00:00:00Z")),
            Some(utc("2027-03-28T01:30:00Z"))
        );
    }

    #[test]
    fn pruning_keeps_the_newest_and_removes_stale_partials_only() {
        let dir = tempfile::tempdir().expect("dir");
        for name in [
            "frontdesk-20261216T000000Z",
            "frontdesk-20261217T000000Z",
            "frontdesk-20261218T000000Z",
            "frontdesk-20261217T060000Z.partial",
            "frontdesk-20261219T000000Z.partial",
            "my-own-backup",
        ] {
            std::fs::create_dir(dir.path().join(name)).expect("mkdir");
        }

        let removed = prune(dir.path(), 2, "frontdesk-20261219T000000Z").expect("prune");

        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "frontdesk-20261217T000000Z",
                "frontdesk-20261218T000000Z",
                "frontdesk-20261219T000000Z.partial",
                "my-own-backup"
            ]
        );
        assert_eq!(removed.len(), 2);
    }
}
