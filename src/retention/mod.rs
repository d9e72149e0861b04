//! Retention: personal data deleted once it is no longer needed, by one scheduler that runs
//! with the mail worker (in `serve` when `mail.worker_in_serve`, and in `frontdesk worker`).
//!
//! Each task is a plain function of a connection, the current time and its period (so tests
//! pass their own clock) returning how many records it deleted or cleared; each calls the
//! owning feature's function. Every deletion is idempotent, so several workers sharing one
//! PostgreSQL database may run the tasks at the same time. Counts are logged, never addresses.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::QueryResult;
use serde::Serialize;
use tokio::sync::watch;

use crate::config::Settings;
use crate::db::{Db, DbConnection};
use crate::error::AppError;

/// How long after start-up the first run happens.
const FIRST_AFTER: Duration = Duration::from_secs(60);

fn days(n: u32) -> TimeDelta {
    TimeDelta::days(i64::from(n))
}

/// Subscriptions never confirmed, `period` after their last confirmation email.
pub fn unconfirmed_subscriptions(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    period: TimeDelta,
) -> QueryResult<usize> {
    crate::newsletter::privacy::delete_unconfirmed(conn, now - period)
}

/// Comments in the spam folder, `period` after they arrived.
pub fn spam_comments(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    period: TimeDelta,
) -> QueryResult<usize> {
    crate::comments::privacy::delete_spam(conn, now - period)
}

/// Confidential tips nobody kept, `period` after they arrived.
pub fn confidential_tips(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    period: TimeDelta,
) -> QueryResult<usize> {
    crate::comments::confidential::delete_expired(conn, now - period)
}

/// The content of emails sent (or cancelled) more than `period` ago.
pub fn sent_email_bodies(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    period: TimeDelta,
) -> QueryResult<usize> {
    crate::mail::outbox::clear_old_bodies(conn, now - period)
}

/// Feedback voter keys older than `period` (in whole days, today counting as the first).
pub fn voter_keys(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    period: TimeDelta,
) -> QueryResult<usize> {
    let kept_days = period.num_days().max(1);
    let keep_from = now.date() - TimeDelta::days(kept_days - 1);
    crate::feedback::privacy::delete_voter_keys_before(conn, keep_from)
}

/// Readers' "delete my data" requests whose link expired (`period` is the link's validity,
/// already written into each request).
pub fn expired_erasure_requests(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    _period: TimeDelta,
) -> QueryResult<usize> {
    crate::people::store::delete_expired_requests(conn, now)
}

/// Applicants of postings closed more than `period` ago (see [`crate::jobs::retention::run`]:
/// it also closes postings past their closing time and sweeps leftover CV files). Each
/// applicant is erased as on request, in a transaction of its own: call outside a transaction.
pub fn applicants(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    period: TimeDelta,
    settings: &Settings,
) -> Result<usize, AppError> {
    let days = u32::try_from(period.num_days().max(1)).unwrap_or(u32::MAX);
    Ok(crate::jobs::retention::run(conn, now, days, settings)?.erased)
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub unconfirmed_subscriptions: usize,
    pub spam_comments: usize,
    pub confidential_tips: usize,
    pub sent_email_bodies: usize,
    pub voter_keys: usize,
    pub erasure_requests: usize,
    pub applicants: usize,
}

/// Runs every task once at `now` with the configured periods. A failing task is logged and
/// the others still run; the first error is returned after all ran.
pub fn run_all(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    settings: &Settings,
) -> Result<Report, AppError> {
    let r = &settings.retention;
    let mut first_error: Option<AppError> = None;
    let mut keep = |name: &str, result: Result<usize, AppError>| match result {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(task = name, error = %format!("{:#}", anyhow::Error::new(e)), "a retention task failed");
            if first_error.is_none() {
                first_error = Some(AppError::unexpected(anyhow::anyhow!(
                    "retention task {name} failed"
                )));
            }
            0
        }
    };
    let report = Report {
        unconfirmed_subscriptions: keep(
            "unconfirmed_subscriptions",
            unconfirmed_subscriptions(conn, now, days(r.unconfirmed_subscription_days))
                .map_err(AppError::from),
        ),
        spam_comments: keep(
            "spam_comments",
            spam_comments(conn, now, days(r.spam_comment_days)).map_err(AppError::from),
        ),
        confidential_tips: keep(
            "confidential_tips",
            confidential_tips(conn, now, days(r.confidential_tip_days)).map_err(AppError::from),
        ),
        sent_email_bodies: keep(
            "sent_email_bodies",
            sent_email_bodies(conn, now, days(r.sent_email_body_days)).map_err(AppError::from),
        ),
        voter_keys: keep(
            "voter_keys",
            voter_keys(conn, now, days(r.voter_key_days)).map_err(AppError::from),
        ),
        erasure_requests: keep(
            "erasure_requests",
            expired_erasure_requests(conn, now, TimeDelta::hours(i64::from(r.erasure_link_hours)))
                .map_err(AppError::from),
        ),
        applicants: keep(
            "applicants",
            applicants(conn, now, days(settings.jobs.retention_days), settings),
        ),
    };
    if report != Report::default() {
        tracing::info!(?report, "retention: personal data past its period deleted");
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Runs [`run_all`] a minute after start-up and then every `retention.interval_minutes`,
/// until told to stop.
pub struct Scheduler {
    settings: Arc<Settings>,
    db: Db,
}

impl Scheduler {
    pub fn new(settings: Arc<Settings>, db: Db) -> Scheduler {
        Scheduler { settings, db }
    }

    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let every = Duration::from_secs(self.settings.retention.interval_minutes.max(1) * 60);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + FIRST_AFTER, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                    continue;
                }
            }
            let settings = self.settings.clone();
            let result = self
                .db
                .run(move |conn| run_all(conn, crate::db::now(), &settings))
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "the retention run did not complete");
            }
        }
    }
}
