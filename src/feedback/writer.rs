//! The vote write path: group commit.
//!
//! Votes are the busiest writes Frontdesk takes, and on SQLite every transaction costs a
//! WAL sync. Handlers hand their vote to one writer thread through a bounded channel; the
//! writer takes every vote waiting (up to `feedback.write_batch_max`), writes them in ONE
//! transaction, and only after the commit answers each handler through its oneshot. A 2xx
//! therefore always means the vote is durable, while one sync serves a whole batch.
//!
//! While a batch commits, the next one gathers in the channel, so batches grow with load
//! and no vote waits for a timer. If a batch fails, its votes are retried one transaction
//! each, so one bad vote cannot fail its neighbours.

use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::db::{write_tx, Db, DbConnection};
use crate::error::AppError;
use crate::feedback::model::{NewVote, VoteOutcome};
use crate::feedback::store;

type Reply = oneshot::Sender<Result<VoteOutcome, String>>;

struct Job {
    vote: NewVote,
    reply: Reply,
}

/// The handle handlers submit votes through; cheap to clone.
#[derive(Clone)]
pub struct VoteWriter {
    tx: mpsc::Sender<Job>,
}

impl VoteWriter {
    /// Starts the writer thread. It stops when the last handle is dropped, after writing
    /// every vote already submitted.
    pub fn start(db: Db, batch_max: usize, queue: usize) -> std::io::Result<VoteWriter> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        std::thread::Builder::new()
            .name("feedback-writer".into())
            .spawn(move || run(db, rx, batch_max.max(1)))?;
        Ok(VoteWriter { tx })
    }

    /// Writes one vote and answers once its transaction committed.
    pub async fn submit(&self, vote: NewVote) -> Result<VoteOutcome, AppError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { vote, reply })
            .await
            .map_err(|_| AppError::unexpected(anyhow::anyhow!("the vote writer has stopped")))?;
        answer
            .await
            .map_err(|_| AppError::unexpected(anyhow::anyhow!("the vote writer dropped a vote")))?
            .map_err(|e| AppError::unexpected(anyhow::anyhow!("writing a vote failed: {e}")))
    }
}

fn run(db: Db, mut rx: mpsc::Receiver<Job>, batch_max: usize) {
    let mut batch: Vec<Job> = Vec::with_capacity(batch_max);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < batch_max {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        write_batch(&db, &mut batch);
    }
    tracing::debug!("vote writer stopped");
}

fn write_batch(db: &Db, batch: &mut Vec<Job>) {
    let started = Instant::now();
    let size = batch.len();
    let (votes, replies): (Vec<NewVote>, Vec<Reply>) =
        batch.drain(..).map(|job| (job.vote, job.reply)).unzip();
    let mut conn = match db.get() {
        Ok(conn) => conn,
        Err(e) => {
            let message = format!("no database connection: {e}");
            for reply in replies {
                let _ = reply.send(Err(message.clone()));
            }
            return;
        }
    };
    let now = crate::db::now();
    let together = write_tx(&mut conn, |c: &mut DbConnection| {
        store::record_votes(c, &votes, now)
    });
    match together {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // A handler that went away still had its vote written.
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, size, "vote batch failed; writing its votes one by one");
            for (vote, reply) in votes.iter().zip(replies) {
                let result = write_tx(&mut conn, |c: &mut DbConnection| {
                    store::record_vote(c, vote, now)
                })
                .map_err(|e| e.to_string());
                let _ = reply.send(result);
            }
        }
    }
    tracing::trace!(
        size,
        elapsed_us = started.elapsed().as_micros() as u64,
        "vote batch committed"
    );
}
