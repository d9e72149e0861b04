//! Worker heartbeats: how a dead worker's outbox rows are taken over in seconds.
//!
//! Each running outbox worker has a row in `workers` and renews it every
//! `mail.heartbeat_seconds`, moving its `expires_at` `mail.heartbeat_timeout_seconds` ahead.
//! A claim may take rows leased to a worker whose row has expired (see
//! [`crate::mail::outbox::claim`]), so rows held by a process that was killed wait at most the
//! timeout, not their whole `lease_until`. One small row is written per beat, however many
//! rows the worker holds.
//!
//! A worker that cannot renew its row in time (the database is unreachable, the process was
//! suspended) stops sending: [`Liveness::can_send`] turns false a heartbeat before its row
//! expires, so rows another worker may be taking over are not sent twice in the meantime.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use tokio::sync::watch;

use crate::db::schema::workers;
use crate::db::{Db, DbConnection};
use crate::error::AppError;

/// Registers `id` as alive until `expires_at`.
pub fn register(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(workers::table)
        .values((
            workers::id.eq(id),
            workers::started_at.eq(now),
            workers::heartbeat_at.eq(now),
            workers::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// Renews the row of `id`; 0 when it is gone (it was cleaned up as long dead).
pub fn renew(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(workers::table.find(id))
        .set((
            workers::heartbeat_at.eq(now),
            workers::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// Removes the row of a worker that stopped cleanly (its rows are released already).
pub fn retire(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(workers::table.find(id)).execute(conn)
}

/// Deletes the rows of workers dead since before `before`. Call with a time older than any
/// lease they may still hold (their rows are then claimable by `lease_until` alone).
pub fn delete_dead(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(workers::table.filter(workers::expires_at.lt(before))).execute(conn)
}

/// The ids of the workers alive at `now`, oldest first (for operators and tests).
pub fn alive(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    workers::table
        .filter(workers::expires_at.ge(now))
        .order(workers::started_at.asc())
        .select(workers::id)
        .load(conn)
}

/// Whether this worker's row is surely still alive, as far as the worker itself can tell
/// from its last successful beat.
#[derive(Clone, Debug)]
pub struct Liveness {
    /// None: not tracked (a worker that never registered, such as the tests' drain).
    send_until: Option<Arc<Mutex<Instant>>>,
}

impl Liveness {
    /// A liveness that never runs out (for a worker without a heartbeat).
    pub fn untracked() -> Liveness {
        Liveness { send_until: None }
    }

    /// False once the worker's row may expire before a message started now is sent.
    pub fn can_send(&self) -> bool {
        match &self.send_until {
            None => true,
            Some(until) => Instant::now() < *until.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    fn extend(&self, to: Instant) {
        if let Some(until) = &self.send_until {
            *until.lock().unwrap_or_else(PoisonError::into_inner) = to;
        }
    }
}

/// Keeps one worker's row alive while it runs (clones share the liveness).
#[derive(Clone)]
pub struct Heartbeat {
    db: Db,
    id: String,
    interval: Duration,
    timeout: Duration,
    /// How long a dead worker's row is kept (longer than any lease it may hold).
    keep_dead: TimeDelta,
    liveness: Liveness,
}

impl Heartbeat {
    /// A heartbeat for worker `id`: a beat every `interval`; the row expires `timeout` after
    /// the last beat; rows of workers dead for longer than `keep_dead` are deleted.
    pub fn new(
        db: Db,
        id: impl Into<String>,
        interval: Duration,
        timeout: Duration,
        keep_dead: Duration,
    ) -> Heartbeat {
        Heartbeat {
            db,
            id: id.into(),
            interval,
            timeout,
            keep_dead: TimeDelta::from_std(keep_dead).unwrap_or(TimeDelta::days(1)),
            liveness: Liveness {
                send_until: Some(Arc::new(Mutex::new(Instant::now()))),
            },
        }
    }

    /// What the sending side checks before each message.
    pub fn liveness(&self) -> Liveness {
        self.liveness.clone()
    }

    fn expiry(&self, now: NaiveDateTime) -> NaiveDateTime {
        now + TimeDelta::from_std(self.timeout).unwrap_or(TimeDelta::seconds(20))
    }

    /// Sending stays allowed until a beat before the row expires: a message started then
    /// is done (or the SMTP timeout has run) before another worker can take the row.
    fn extend_from(&self, beat_started: Instant) {
        self.liveness
            .extend(beat_started + self.timeout.saturating_sub(self.interval));
    }

    /// Inserts the worker's row and cleans up rows of workers long dead.
    pub async fn register(&self) -> Result<(), AppError> {
        let started = Instant::now();
        let id = self.id.clone();
        let now = crate::db::now();
        let (expires_at, keep_dead) = (self.expiry(now), self.keep_dead);
        self.db
            .write(move |conn| {
                delete_dead(conn, now - keep_dead)?;
                register(conn, &id, now, expires_at)?;
                Ok(())
            })
            .await?;
        self.extend_from(started);
        Ok(())
    }

    /// One beat: renews the row (inserting it again if it was cleaned up).
    pub async fn beat(&self) -> Result<(), AppError> {
        let started = Instant::now();
        let id = self.id.clone();
        let now = crate::db::now();
        let expires_at = self.expiry(now);
        self.db
            .write(move |conn| {
                if renew(conn, &id, now, expires_at)? == 0 {
                    register(conn, &id, now, expires_at)?;
                }
                Ok(())
            })
            .await?;
        self.extend_from(started);
        Ok(())
    }

    /// Beats until `shutdown` turns true; a failed beat is logged and retried at the next.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        // The first tick fires at once; registration was the first beat.
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        while !*shutdown.borrow() {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = self.beat().await {
                        tracing::warn!(worker = %self.id, error = %e, "worker heartbeat failed; sending pauses if it keeps failing");
                    }
                }
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Removes the worker's row after a clean stop.
    pub async fn retire(&self) {
        let id = self.id.clone();
        if let Err(e) = self.db.write(move |conn| Ok(retire(conn, &id)?)).await {
            tracing::warn!(worker = %self.id, error = %e, "the worker's heartbeat row could not be removed; it expires by itself");
        }
    }
}
