//! Group commit: many small writes, one transaction and one sync.
//!
//! Votes are the busiest writes Frontdesk takes, and on SQLite every transaction costs a
//! WAL sync. Handlers hand their item to one writer thread through a bounded channel; the
//! writer takes every item waiting (up to its batch size), writes them in ONE transaction,
//! and only after the commit answers each handler through its oneshot. A 2xx therefore
//! always means the write is durable, while one sync serves a whole batch.
//!
//! While a batch commits, the next one gathers in the channel, so batches grow with load
//! and no item waits for a timer. If a batch fails, its items are retried one transaction
//! each, so one bad item cannot fail its neighbours.
//!
//! The writer keeps one connection of the pool for itself, so its page cache stays warm
//! across batches. What it writes is the feature's business ([`GroupCommit`]; the vote
//! feature implements it for votes); the SQLite WAL handling that makes it fast (no
//! checkpoints on the writer's commits, a checkpointer thread, the WAL sync overlapped with
//! the next batch) is in [`super::wal`].

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::QueryResult;
use tokio::sync::{mpsc, oneshot};

use super::wal::{self, Alive, Pending, Wal};
use super::{write_tx, Db, DbConnection, PooledConn};
use crate::error::AppError;

/// What a group-commit writer writes: the feature's store functions for a batch and for
/// one item (the retry path when a batch fails).
pub trait GroupCommit: Send + 'static {
    type Item: Send + 'static;
    type Outcome: Send + 'static;
    /// Names the writer's threads and log lines (`vote` → `vote-writer`).
    const NAME: &'static str;

    /// Writes every item, in order, inside the writer's transaction; one outcome per item.
    fn write_all(
        conn: &mut DbConnection,
        items: &[Self::Item],
        now: NaiveDateTime,
    ) -> QueryResult<Vec<Self::Outcome>>;

    /// Writes one item inside its own transaction.
    fn write_one(
        conn: &mut DbConnection,
        item: &Self::Item,
        now: NaiveDateTime,
    ) -> QueryResult<Self::Outcome>;
}

type Reply<O> = oneshot::Sender<Result<O, String>>;

/// One handler's answer, waiting for its batch to be durable.
struct Answer<O> {
    reply: Reply<O>,
    result: Result<O, String>,
}

impl<O: Send + 'static> Pending for Answer<O> {
    fn answer(self, failure: Option<String>) {
        let result = match failure {
            None => self.result,
            Some(failure) => Err(failure),
        };
        // A handler that went away still had its item written.
        let _ = self.reply.send(result);
    }
}

struct Job<W: GroupCommit> {
    item: W::Item,
    reply: Reply<W::Outcome>,
    /// When the handler submitted it (for the writer's trace events).
    queued: Instant,
}

/// The handle handlers submit items through; cheap to clone. The writer stops when the
/// last handle is dropped, after writing every item already submitted.
pub struct GroupWriter<W: GroupCommit> {
    tx: mpsc::Sender<Job<W>>,
    /// Dropped with the last handle, which stops the WAL checkpointer.
    _alive: Alive,
}

impl<W: GroupCommit> Clone for GroupWriter<W> {
    fn clone(&self) -> Self {
        GroupWriter {
            tx: self.tx.clone(),
            _alive: self._alive.clone(),
        }
    }
}

impl<W: GroupCommit> GroupWriter<W> {
    /// Starts the writer thread (and, on SQLite, its WAL threads), taking at most
    /// `batch_max` items per transaction, with `queue` items waiting at most.
    pub fn start(db: Db, batch_max: usize, queue: usize) -> std::io::Result<GroupWriter<W>> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let (wal, alive) = wal::start::<Answer<W::Outcome>>(&db, W::NAME)?;
        std::thread::Builder::new()
            .name(format!("{}-writer", W::NAME))
            .spawn(move || run::<W>(db, rx, batch_max.max(1), wal))?;
        Ok(GroupWriter { tx, _alive: alive })
    }

    /// Writes one item and answers once its transaction committed durably.
    pub async fn submit(&self, item: W::Item) -> Result<W::Outcome, AppError> {
        let (reply, answer) = oneshot::channel();
        let stopped =
            || AppError::unexpected(anyhow::anyhow!("the {} writer has stopped", W::NAME));
        self.tx
            .send(Job {
                item,
                reply,
                queued: Instant::now(),
            })
            .await
            .map_err(|_| stopped())?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(|e| AppError::unexpected(anyhow::anyhow!("a {} write failed: {e}", W::NAME)))
    }
}

fn run<W: GroupCommit>(
    db: Db,
    mut rx: mpsc::Receiver<Job<W>>,
    batch_max: usize,
    wal: Wal<Answer<W::Outcome>>,
) {
    let mut batch: Vec<Job<W>> = Vec::with_capacity(batch_max);
    let mut conn: Option<PooledConn> = None;
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < batch_max {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        write_batch::<W>(&db, &mut conn, &mut batch, &wal);
        wal.between_batches(conn.as_mut());
    }
    tracing::debug!(writer = W::NAME, "group-commit writer stopped");
}

fn write_batch<W: GroupCommit>(
    db: &Db,
    slot: &mut Option<PooledConn>,
    batch: &mut Vec<Job<W>>,
    wal: &Wal<Answer<W::Outcome>>,
) {
    let started = Instant::now();
    let size = batch.len();
    let waited = batch
        .first()
        .map_or(Duration::ZERO, |job| started.duration_since(job.queued));
    let (items, replies): (Vec<W::Item>, Vec<Reply<W::Outcome>>) =
        batch.drain(..).map(|job| (job.item, job.reply)).unzip();
    if slot.is_none() {
        *slot = db
            .get()
            .map_err(|e| format!("no database connection: {e}"))
            .and_then(|mut conn| wal.prepare(&mut conn).map(|()| conn))
            .map_err(|e| tracing::warn!(writer = W::NAME, error = %e, "writer has no connection"))
            .ok();
    }
    let Some(conn) = slot.as_mut() else {
        for reply in replies {
            let _ = reply.send(Err("no database connection".into()));
        }
        return;
    };
    let now = super::now();
    let together = write_tx(conn, |c: &mut DbConnection| W::write_all(c, &items, now));
    let results: Vec<Result<W::Outcome, String>> = match together {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(e) => {
            tracing::warn!(writer = W::NAME, error = %e, size, "batch failed; writing its items one by one");
            let results = items
                .iter()
                .map(|item| {
                    write_tx(conn, |c: &mut DbConnection| W::write_one(c, item, now))
                        .map_err(|e| e.to_string())
                })
                .collect();
            // Start the next batch on a fresh connection, in case this one is broken.
            *slot = None;
            results
        }
    };
    wal.durability.committed(
        replies
            .into_iter()
            .zip(results)
            .map(|(reply, result)| Answer { reply, result })
            .collect(),
    );
    tracing::trace!(
        writer = W::NAME,
        size,
        waited_us = waited.as_micros() as u64,
        elapsed_us = started.elapsed().as_micros() as u64,
        "batch committed"
    );
}
