//! Keeping applicants' data no longer than needed, and closing postings on time.
//!
//! [`run`] closes postings past `closes_at`, then erases the CVs and anonymises the records of
//! applicants to postings closed more than `jobs.retention_days` ago, except those who agreed
//! to be kept on file; it also removes upload leftovers (a crash between storing a CV and
//! committing its application, or a CV erased whose file could not be deleted). The retention
//! scheduler ([`crate::retention`]) runs it with the mail worker.

use std::path::Path;
use std::time::{Duration, SystemTime};

use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;

use super::upload::cv_dir;
use super::{privacy, store};
use crate::config::Settings;
use crate::db::{write_tx, DbConnection};
use crate::error::AppError;

/// A file in the CV folder that no application names is removed once it is this old.
const LEFTOVER_AGE: Duration = Duration::from_secs(3600);

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// Postings closed because their closing time passed.
    pub postings_closed: usize,
    /// Applicants whose CV was erased and record anonymised.
    pub erased: usize,
    /// Applicants past the retention period kept because they agreed to be kept on file.
    pub kept: usize,
    /// Files removed from the CV folder that no application referred to.
    pub leftovers_removed: usize,
}

/// One retention pass at time `now` (controllable for tests). Each applicant is erased as on
/// request ([`privacy::erase_application`]: audit entries about the application scrubbed
/// too) in a transaction of its own, after which its CV and the stored copies of its emails
/// are deleted; so call it outside a transaction.
#[tracing::instrument(skip_all, fields(retention_days))]
pub fn run(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    retention_days: u32,
    settings: &Settings,
) -> Result<RetentionReport, AppError> {
    let uploads_dir = settings.uploads.dir.as_path();
    let postings_closed = store::close_expired(conn, now)?;
    let cutoff = now - TimeDelta::days(i64::from(retention_days));
    let (erase, kept) = store::retention_candidates(conn, cutoff)?;
    let mut erased = 0;
    for id in &erase {
        let erasure = write_tx(conn, |conn| {
            privacy::erase_application(conn, uploads_dir, id, now)
        })?;
        if let Some(erasure) = erasure {
            privacy::delete_files_of(&settings.mail, &erasure);
            erased += 1;
        }
    }
    let leftovers_removed = remove_leftovers(conn, uploads_dir)?;
    let report = RetentionReport {
        postings_closed,
        erased,
        kept: kept.len(),
        leftovers_removed,
    };
    if report.erased > 0 || report.leftovers_removed > 0 {
        tracing::info!(?report, "job applications past retention erased");
    }
    Ok(report)
}

/// Removes old files in the CV folder that no application names: partial uploads of a
/// crashed process, and CVs stored for an application whose transaction never committed.
fn remove_leftovers(conn: &mut DbConnection, uploads_dir: &Path) -> Result<usize, AppError> {
    let dir = cv_dir(uploads_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_error(e)),
    };
    let live: std::collections::HashSet<String> =
        store::stored_cv_names(conn)?.into_iter().collect();
    let old_before = SystemTime::now() - LEFTOVER_AGE;
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(io_error)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = entry.metadata().map_err(io_error)?;
        let old = meta.modified().is_ok_and(|m| m < old_before);
        if meta.is_file() && old && !live.contains(&name) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(e)),
            }
        }
    }
    Ok(removed)
}

fn io_error(e: std::io::Error) -> AppError {
    AppError::unexpected(anyhow::Error::new(e).context("cannot sweep the CV folder"))
}
