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
//!
//! The writer keeps one connection of the pool for itself, so its page cache stays warm
//! across batches. On SQLite that connection does not checkpoint the WAL on commit; a
//! checkpointer thread does it every second (`PRAGMA wal_checkpoint(PASSIVE)`, which
//! never blocks the writer), keeping the bulk of the copy into the database file and its
//! sync off the path of answered votes. A checkpoint by another connection can never catch
//! up with a writer that never pauses, though, and SQLite only starts the WAL over once
//! every frame in it is checkpointed, so under sustained load the WAL grew without end
//! (1 GB in five seconds of the benchmark). Now, once the WAL holds 256 MiB, the writer,
//! between two batches, checkpoints the few frames appended during the checkpointer's run
//! itself, and its next commit reuses the WAL from the start. That checkpoint syncs the
//! database file, which stalls the writer for a few milliseconds (10–25 ms measured on the
//! benchmark machine under full load), so it is asked for no more often than the WAL size
//! requires.
//!
//! On SQLite with `synchronous = full` (the default), the WAL sync is overlapped with the
//! next batch: the writer's connection commits without syncing (`synchronous = normal`) and
//! hands the batch's answers to a sync thread, which `fdatasync`s the `-wal` file and only
//! then answers every batch that committed before the sync began. A 2xx still means the
//! vote is committed and on disk; the writer meanwhile executes the next batch. (A
//! checkpoint syncs the WAL before copying it and the database file before the WAL is
//! reused, so a synced frame is never lost to a WAL restart.)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::PooledConnection;
use diesel::RunQueryDsl;
use tokio::sync::{mpsc, oneshot};

use crate::config::SqliteSynchronous;
use crate::db::{write_tx, Backend, Db, DbConnection, Manager};
use crate::error::AppError;
use crate::feedback::model::{NewVote, VoteOutcome};
use crate::feedback::store;

type Reply = oneshot::Sender<Result<VoteOutcome, String>>;

/// Answers of a committed batch, waiting for the WAL sync.
type Committed = Vec<(Reply, Result<VoteOutcome, String>)>;

/// What the writer does with a committed batch's answers.
enum Answer {
    /// The commit itself was durable: answer at once.
    Now,
    /// Answer once the sync thread has synced the WAL.
    AfterSync(std::sync::mpsc::Sender<Committed>),
}

impl Answer {
    fn send(&self, answers: Committed) {
        match self {
            Answer::Now => {
                for (reply, result) in answers {
                    // A handler that went away still had its vote written.
                    let _ = reply.send(result);
                }
            }
            Answer::AfterSync(tx) => {
                if let Err(std::sync::mpsc::SendError(answers)) = tx.send(answers) {
                    for (reply, _) in answers {
                        let _ = reply.send(Err("the WAL sync thread has stopped".into()));
                    }
                }
            }
        }
    }
}

struct Job {
    vote: NewVote,
    reply: Reply,
    /// When the handler submitted it (for the writer's trace events).
    queued: Instant,
}

/// The handle handlers submit votes through; cheap to clone.
#[derive(Clone)]
pub struct VoteWriter {
    tx: mpsc::Sender<Job>,
    /// Dropped with the last handle, which stops the checkpointer.
    _alive: Arc<std::sync::mpsc::Sender<()>>,
}

/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

impl VoteWriter {
    /// Starts the writer thread. It stops when the last handle is dropped, after writing
    /// every vote already submitted.
    pub fn start(db: Db, batch_max: usize, queue: usize) -> std::io::Result<VoteWriter> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let (alive, stopped) = std::sync::mpsc::channel::<()>();
        // Set by the checkpointer when the WAL reached WAL_RESTART_FRAMES; the writer then
        // checkpoints the rest.
        let catch_up = Arc::new(AtomicBool::new(false));
        if db.backend() == Backend::Sqlite {
            let db = db.clone();
            let catch_up = catch_up.clone();
            std::thread::Builder::new()
                .name("feedback-checkpoint".into())
                .spawn(move || checkpoint(db, stopped, &catch_up))?;
        }
        let answer = match db.sqlite_file() {
            Some((path, SqliteSynchronous::Full)) => {
                let mut wal = path.as_os_str().to_owned();
                wal.push("-wal");
                let wal = PathBuf::from(wal);
                let (tx, committed) = std::sync::mpsc::channel::<Committed>();
                std::thread::Builder::new()
                    .name("feedback-sync".into())
                    .spawn(move || sync_wal(&wal, committed))?;
                Answer::AfterSync(tx)
            }
            _ => Answer::Now,
        };
        std::thread::Builder::new()
            .name("feedback-writer".into())
            .spawn(move || run(db, rx, batch_max.max(1), answer, &catch_up))?;
        Ok(VoteWriter {
            tx,
            _alive: Arc::new(alive),
        })
    }

    /// Writes one vote and answers once its transaction committed.
    pub async fn submit(&self, vote: NewVote) -> Result<VoteOutcome, AppError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job {
                vote,
                reply,
                queued: Instant::now(),
            })
            .await
            .map_err(|_| AppError::unexpected(anyhow::anyhow!("the vote writer has stopped")))?;
        answer
            .await
            .map_err(|_| AppError::unexpected(anyhow::anyhow!("the vote writer dropped a vote")))?
            .map_err(|e| AppError::unexpected(anyhow::anyhow!("writing a vote failed: {e}")))
    }
}

type Conn = PooledConnection<Manager>;

/// The writer's SQLite connection: no checkpoints of its own, a memory map (256 MiB) so that
/// checkpointed pages are read without a system call, and a small page cache (250 pages,
/// 1 MiB).
///
/// The cache is small on purpose. When SQLite splits a B-tree page it renumbers the pages
/// through a temporary page number past the end of any database under 1 GiB, and every commit
/// after that scans the connection's whole page-cache hash table to drop it. With the 64 MiB
/// cache this used to have, that scan was a fifth of the writer's time; with 250 pages it is
/// small, and the pages it no longer caches come from the memory map or the WAL
/// (bench/README.md has the measurements).
const WRITER_PRAGMAS: &str =
    "PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = 250; PRAGMA mmap_size = 268435456; PRAGMA temp_store = MEMORY;";

fn run(
    db: Db,
    mut rx: mpsc::Receiver<Job>,
    batch_max: usize,
    answer: Answer,
    catch_up: &AtomicBool,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(batch_max);
    let mut conn: Option<Conn> = None;
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < batch_max {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        write_batch(&db, &mut conn, &mut batch, &answer);
        if catch_up.swap(false, Ordering::Relaxed) {
            finish_checkpoint(&mut conn);
        }
    }
    tracing::debug!("vote writer stopped");
}

/// Checkpoints what the checkpointer left (the frames appended during its run), so that
/// every frame is in the database file and the next commit starts the WAL over. Syncs the
/// WAL before copying, like every checkpoint, so no committed vote depends on frames that
/// are then overwritten.
fn finish_checkpoint(slot: &mut Option<Conn>) {
    let Some(conn) = slot.as_mut() else { return };
    if let DbConnection::Sqlite(c) = &mut **conn {
        if let Err(e) = passive_checkpoint(c, "writer") {
            tracing::warn!(error = %e, "the vote writer's WAL checkpoint failed");
        }
    }
}

/// The writer's own connection; on SQLite it leaves checkpoints to [`checkpoint`], and WAL
/// syncs to [`sync_wal`] when answers wait for it.
fn writer_connection(db: &Db, answer: &Answer) -> Result<Conn, String> {
    let mut conn = db
        .get()
        .map_err(|e| format!("no database connection: {e}"))?;
    if let DbConnection::Sqlite(c) = &mut *conn {
        let pragmas = match answer {
            Answer::AfterSync(_) => "PRAGMA synchronous = NORMAL;",
            Answer::Now => "",
        };
        c.batch_execute(&format!("{WRITER_PRAGMAS} {pragmas}"))
            .map_err(|e| format!("cannot set up the vote writer's connection: {e}"))?;
    }
    Ok(conn)
}

fn write_batch(db: &Db, slot: &mut Option<Conn>, batch: &mut Vec<Job>, answer: &Answer) {
    let started = Instant::now();
    let size = batch.len();
    let waited = batch
        .first()
        .map_or(Duration::ZERO, |job| started.duration_since(job.queued));
    let (votes, replies): (Vec<NewVote>, Vec<Reply>) =
        batch.drain(..).map(|job| (job.vote, job.reply)).unzip();
    if slot.is_none() {
        *slot = writer_connection(db, answer)
            .map_err(|e| tracing::warn!(error = %e, "vote writer has no connection"))
            .ok();
    }
    let Some(conn) = slot.as_mut() else {
        for reply in replies {
            let _ = reply.send(Err("no database connection".into()));
        }
        return;
    };
    let now = crate::db::now();
    let together = write_tx(conn, |c: &mut DbConnection| {
        store::record_votes(c, &votes, now)
    });
    match together {
        Ok(outcomes) => {
            answer.send(
                replies
                    .into_iter()
                    .zip(outcomes.into_iter().map(Ok))
                    .collect(),
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, size, "vote batch failed; writing its votes one by one");
            let results = votes
                .iter()
                .map(|vote| {
                    write_tx(conn, |c: &mut DbConnection| {
                        store::record_vote(c, vote, now)
                    })
                    .map_err(|e| e.to_string())
                })
                .collect::<Vec<_>>();
            answer.send(replies.into_iter().zip(results).collect());
            // Start the next batch on a fresh connection, in case this one is broken.
            *slot = None;
        }
    }
    tracing::trace!(
        size,
        waited_us = waited.as_micros() as u64,
        elapsed_us = started.elapsed().as_micros() as u64,
        "vote batch committed"
    );
}

/// Syncs the WAL file, then answers every batch that committed before the sync began;
/// batches that commit meanwhile wait for the next sync. Stops with the writer.
fn sync_wal(wal: &Path, committed: std::sync::mpsc::Receiver<Committed>) {
    while let Ok(mut answers) = committed.recv() {
        while let Ok(more) = committed.try_recv() {
            answers.extend(more);
        }
        let started = Instant::now();
        // Opened for each sync: cheap, and never a stale handle if the WAL is recreated.
        let synced = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(wal)
            .and_then(|file| file.sync_data());
        if let Err(e) = &synced {
            tracing::error!(error = %e, "WAL sync failed; the votes waiting for it are refused");
        }
        tracing::trace!(
            votes = answers.len(),
            elapsed_us = started.elapsed().as_micros() as u64,
            "WAL synced"
        );
        for (reply, result) in answers {
            let result = match &synced {
                Ok(()) => result,
                Err(e) => Err(format!("the vote could not be synced to disk: {e}")),
            };
            let _ = reply.send(result);
        }
    }
    tracing::debug!("vote sync thread stopped");
}

/// Checkpoints the WAL every [`CHECKPOINT_EVERY`] without blocking the writer, and asks the
/// writer to finish the job once the WAL holds [`WAL_RESTART_FRAMES`], until the writer's
/// last handle is dropped.
fn checkpoint(db: Db, stopped: std::sync::mpsc::Receiver<()>, catch_up: &AtomicBool) {
    use std::sync::mpsc::RecvTimeoutError;
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
        match db
            .get()
            .map_err(|e| e.to_string())
            .and_then(|mut conn| catch_up_with_writer(&mut conn))
        {
            Ok(log) if log >= WAL_RESTART_FRAMES => catch_up.store(true, Ordering::Relaxed),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}

/// Frames the writer may be left to checkpoint itself (about 2 MiB of 4 KiB pages).
const WRITER_CATCH_UP_FRAMES: i64 = 512;

/// The WAL size (in frames: 256 MiB of 4 KiB pages) from which the writer is asked to finish
/// a checkpoint so that the WAL starts over. Below it, the checkpointer's own checkpoints
/// start the WAL over whenever the writer pauses; the writer's checkpoint costs it a sync
/// of the database file, so it is asked for no more often than needed.
const WAL_RESTART_FRAMES: i64 = 65_536;

/// Passive checkpoints, each copying what the writer appended during the one before, until
/// the writer is left with at most [`WRITER_CATCH_UP_FRAMES`] (or a few passes went by).
/// Returns the WAL's size in frames.
fn catch_up_with_writer(conn: &mut Conn) -> Result<i64, String> {
    let DbConnection::Sqlite(c) = &mut **conn else {
        return Ok(0);
    };
    let mut frames = 0;
    for _ in 0..8 {
        let (log, left) = passive_checkpoint(c, "checkpointer").map_err(|e| e.to_string())?;
        frames = log;
        if left <= WRITER_CATCH_UP_FRAMES {
            break;
        }
    }
    Ok(frames)
}

/// One `PRAGMA wal_checkpoint(PASSIVE)`, logged at debug level with its duration; returns
/// the WAL's size in frames and the frames it left uncheckpointed.
fn passive_checkpoint(
    c: &mut diesel::SqliteConnection,
    by: &'static str,
) -> diesel::QueryResult<(i64, i64)> {
    #[derive(diesel::QueryableByName)]
    struct Checkpointed {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        log: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        checkpointed: i64,
    }
    let started = Instant::now();
    let done: Vec<Checkpointed> = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").load(c)?;
    let (log, left) = done
        .first()
        .map_or((0, 0), |d| (d.log, d.log - d.checkpointed));
    tracing::debug!(
        by,
        log,
        left,
        elapsed_us = started.elapsed().as_micros() as u64,
        "WAL checkpointed"
    );
    Ok((log, left))
}
