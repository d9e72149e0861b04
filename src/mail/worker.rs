//! The outbox worker: claims due rows under a lease, delivers them over a bounded number of
//! connections at the configured rate, and records each outcome.
//!
//! Delivery is at-least-once: a row is marked sent only after the server accepted it, so a
//! worker killed between the two leaves the row leased, and it is sent again (with the same
//! `Message-ID`) once the dead worker's heartbeat has expired ([`crate::mail::heartbeat`]).
//! On a graceful stop, messages in flight finish and claimed rows not yet attempted go back
//! to the queue.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use futures_util::StreamExt;
use lettre::message::Mailbox;
use tokio::sync::{watch, Notify};

use crate::config::MailSettings;
use crate::db::{Db, DbConnection};
use crate::error::AppError;
use crate::mail::backoff::retry_delay;
use crate::mail::heartbeat::{Heartbeat, Liveness};
use crate::mail::outbox::{self, OutboxRow, Outcome};
use crate::mail::send_rate::SendRate;
use crate::mail::transport::{build_message, SendError, Transport};
use crate::metrics::Metrics;

/// Makes, at send time, the emails a feature stored by reference: rows with empty bodies
/// whose `ref_kind` the renderer owns. A newsletter issue stores one small row per recipient
/// instead of 5 KB of rendered email, and its renderer writes each copy when a worker claims
/// it (the row keeps its `Message-ID`, so a retry is the same message).
pub trait Renderer: Send + Sync {
    /// The `ref_kind` of the rows this renderer makes.
    fn ref_kind(&self) -> &'static str;
    /// Fills in subject, bodies and headers of `rows` (all of this renderer's kind). A row
    /// it cannot make (its record is gone) is left empty; the worker fails it.
    fn render(&self, conn: &mut DbConnection, rows: &mut [OutboxRow]) -> Result<(), AppError>;
}

/// Most outcomes written in one transaction.
const RECORD_CHUNK: usize = 256;

pub struct Worker {
    db: Db,
    renderers: Vec<Arc<dyn Renderer>>,
    transport: Arc<Transport>,
    from: Mailbox,
    settings: MailSettings,
    metrics: Metrics,
    wake: Arc<Notify>,
    owner: String,
    rate: SendRate,
}

impl Worker {
    pub fn new(
        db: Db,
        transport: Arc<Transport>,
        settings: MailSettings,
        metrics: Metrics,
        wake: Arc<Notify>,
    ) -> anyhow::Result<Worker> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("mail.from is not a valid mailbox: {e}"))?;
        let rate = SendRate::new(&db, settings.max_per_second);
        Ok(Worker {
            db,
            renderers: Vec::new(),
            transport,
            from,
            settings,
            metrics,
            wake,
            owner: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            rate,
        })
    }

    /// Adds the renderer of one kind of deferred email.
    pub fn with_renderer(mut self, renderer: Arc<dyn Renderer>) -> Worker {
        self.renderers.push(renderer);
        self
    }

    /// The lease owner name of this worker.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The heartbeat that keeps this worker's claims (see [`crate::mail::heartbeat`]).
    fn heartbeat(&self) -> Heartbeat {
        let timeout = self.settings.heartbeat_timeout_seconds.max(2);
        Heartbeat::new(
            self.db.clone(),
            self.owner.clone(),
            Duration::from_secs(self.settings.heartbeat_seconds.clamp(1, timeout / 2)),
            Duration::from_secs(timeout),
            // A dead worker's row is kept until every lease it may hold is over.
            Duration::from_secs(self.settings.lease_seconds.max(timeout) + 60),
        )
    }

    /// Runs until `shutdown` turns true; the message in flight is finished first. A
    /// heartbeat keeps the worker's claims while it runs; after a clean stop its row goes.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(owner = %self.owner, "mail worker started");
        let heartbeat = self.heartbeat();
        if let Err(e) = heartbeat.register().await {
            tracing::warn!(owner = %self.owner, error = %e, "mail worker could not register; it sends once its heartbeat gets through");
        }
        let liveness = heartbeat.liveness();
        let (stop_beating, beating) = watch::channel(false);
        let beating = tokio::spawn(heartbeat.clone().run(beating));
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        while !*shutdown.borrow() {
            let idle = if !liveness.can_send() {
                true
            } else {
                match self.run_once(&shutdown, &liveness).await {
                    Ok(claimed) => claimed == 0,
                    Err(e) => {
                        tracing::error!(error = %format!("{:#}", anyhow::Error::new(e)), "mail worker pass failed");
                        true
                    }
                }
            };
            if idle {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        let _ = stop_beating.send(true);
        if let Err(e) = beating.await {
            tracing::error!(error = %e, "worker heartbeat ended abnormally");
        }
        heartbeat.retire().await;
        tracing::info!(owner = %self.owner, "mail worker stopped");
    }

    /// Runs passes back to back until a claim finds nothing due, and returns how many rows
    /// were claimed in all. Tests call it to settle the outbox at once instead of waiting a
    /// while for the background worker; rows leased by another worker are left to it, so a
    /// caller that needs them settled too waits for their leases (the outbox knows which).
    pub async fn drain(&self) -> Result<usize, AppError> {
        let (_keep_running, running) = watch::channel(false);
        let mut total = 0;
        loop {
            match self.run_once(&running, &Liveness::untracked()).await? {
                0 => return Ok(total),
                claimed => total += claimed,
            }
        }
    }

    /// Claims one batch and delivers it while `liveness` allows. Returns how many rows were
    /// claimed.
    pub async fn run_once(
        &self,
        shutdown: &watch::Receiver<bool>,
        liveness: &Liveness,
    ) -> Result<usize, AppError> {
        let owner = self.owner.clone();
        let lease = TimeDelta::seconds(self.settings.lease_seconds.max(1) as i64);
        let limit = i64::from(self.settings.batch_size);
        let rows = self
            .db
            .write(move |conn| {
                let now = crate::db::now();
                Ok(outbox::claim(conn, &owner, now, now + lease, limit)?)
            })
            .await?;
        let claimed = rows.len();
        if claimed == 0 {
            return Ok(0);
        }
        tracing::debug!(claimed, "claimed outbox rows");
        let (rows, unrenderable) = self.render_deferred(rows).await?;
        if !unrenderable.is_empty() {
            self.record(unrenderable).await?;
        }
        // Outcomes are written while the next messages go out: recording never holds up
        // the SMTP connections. Every outcome is written before the next claim.
        let (done, mut outcomes) = tokio::sync::mpsc::unbounded_channel();
        let send = async move {
            let mut results = futures_util::stream::iter(rows)
                .map(|row| self.deliver(row, shutdown, liveness))
                .buffer_unordered(self.settings.smtp_connections.max(1));
            while let Some(result) = results.next().await {
                // The receiver lives until this future ends (or the recorder failed).
                let _ = done.send(result);
            }
            Ok::<(), AppError>(())
        };
        let record = async {
            let mut chunk = Vec::with_capacity(RECORD_CHUNK);
            while outcomes.recv_many(&mut chunk, RECORD_CHUNK).await > 0 {
                self.record(std::mem::take(&mut chunk)).await?;
            }
            Ok::<(), AppError>(())
        };
        tokio::try_join!(send, record)?;
        Ok(claimed)
    }

    /// Renders the claimed rows stored by reference. Returns the rows to deliver and the
    /// failures of rows that could not be made (no renderer, or their record is gone).
    async fn render_deferred(
        &self,
        rows: Vec<OutboxRow>,
    ) -> Result<(Vec<OutboxRow>, Vec<(String, Outcome)>), AppError> {
        if !rows.iter().any(OutboxRow::is_deferred) {
            return Ok((rows, Vec::new()));
        }
        let renderers = self.renderers.clone();
        let rows = self
            .db
            .run(move |conn| {
                let (mut deferred, mut ready): (Vec<OutboxRow>, Vec<OutboxRow>) =
                    rows.into_iter().partition(OutboxRow::is_deferred);
                for renderer in &renderers {
                    let (mut mine, rest): (Vec<OutboxRow>, Vec<OutboxRow>) = deferred
                        .into_iter()
                        .partition(|r| r.ref_kind.as_deref() == Some(renderer.ref_kind()));
                    if !mine.is_empty() {
                        renderer.render(conn, &mut mine)?;
                    }
                    ready.extend(mine);
                    deferred = rest;
                }
                ready.extend(deferred);
                Ok(ready)
            })
            .await?;
        let (failed, rows): (Vec<OutboxRow>, Vec<OutboxRow>) =
            rows.into_iter().partition(OutboxRow::is_deferred);
        let failures = failed
            .into_iter()
            .map(|row| {
                tracing::warn!(id = %row.id, kind = ?row.ref_kind, "email stored by reference could not be rendered");
                let error = "the email could not be rendered: its record is gone or no renderer is set up".to_string();
                (row.id, Outcome::Failed { error })
            })
            .collect();
        Ok((rows, failures))
    }

    async fn deliver(
        &self,
        row: OutboxRow,
        shutdown: &watch::Receiver<bool>,
        liveness: &Liveness,
    ) -> (String, Outcome) {
        if *shutdown.borrow() || !liveness.can_send() {
            return (row.id, Outcome::Released);
        }
        match self.rate.wait_turn(shutdown).await {
            Ok(true) => {}
            Ok(false) => return (row.id, Outcome::Released),
            Err(e) => {
                tracing::warn!(id = %row.id, error = %e, "no send slot could be booked; the email goes back to the queue");
                return (row.id, Outcome::Released);
            }
        }
        // The wait may have been long: another worker may be taking this row over by now.
        if !liveness.can_send() {
            return (row.id, Outcome::Released);
        }
        let result = match build_message(&row, &self.from) {
            Ok(message) => {
                self.transport
                    .send(message.envelope(), &message.formatted(), &row.id)
                    .await
            }
            Err(e) => Err(e),
        };
        let outcome = match result {
            Ok(()) => Outcome::Sent,
            Err(SendError::Permanent(error)) => Outcome::Failed { error },
            Err(SendError::Transient(error))
                if row.attempts >= self.settings.max_attempts as i32 =>
            {
                Outcome::Failed {
                    error: format!("{error} (gave up after {} attempts)", row.attempts),
                }
            }
            Err(SendError::Transient(error)) => {
                let delay = retry_delay(
                    row.attempts.max(1) as u32,
                    Duration::from_millis(self.settings.retry_base_ms),
                    Duration::from_millis(self.settings.retry_max_ms),
                    &mut rand::rng(),
                );
                let at =
                    crate::db::now() + TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1));
                Outcome::Retry { error, at }
            }
        };
        match &outcome {
            Outcome::Failed { error } => tracing::warn!(
                id = %row.id, to = %row.logged_recipient(), attempts = row.attempts, %error,
                "email failed for good"
            ),
            Outcome::Retry { error, at } => tracing::info!(
                id = %row.id, to = %row.logged_recipient(), attempts = row.attempts, %error, retry_at = %at,
                "email deferred"
            ),
            _ => {}
        }
        (row.id, outcome)
    }

    async fn record(&self, results: Vec<(String, Outcome)>) -> Result<(), AppError> {
        for (_, outcome) in &results {
            match outcome {
                Outcome::Sent => self.metrics.emails_sent.inc(),
                Outcome::Failed { .. } => self.metrics.emails_failed.inc(),
                Outcome::Retry { .. } => self.metrics.emails_retried.inc(),
                Outcome::Released => 0,
            };
        }
        let owner = self.owner.clone();
        self.db
            .write(move |conn| Ok(outbox::complete(conn, &owner, crate::db::now(), &results)?))
            .await?;
        Ok(())
    }
}
