//! SQLite's write-ahead log, kept fast for a group-commit writer ([`super::group_commit`]).
//!
//! The writer's connection does not checkpoint the WAL on commit; a checkpointer thread does
//! it every second (`PRAGMA wal_checkpoint(PASSIVE)`, which never blocks the writer), keeping
//! the bulk of the copy into the database file and its sync off the path of answered writes.
//! A checkpoint by another connection can never catch up with a writer that never pauses,
//! though, and SQLite only starts the WAL over once every frame in it is checkpointed, so
//! under sustained load the WAL grew without end (1 GB in five seconds of the vote
//! benchmark). Now, once the WAL holds 256 MiB, the writer, between two batches, checkpoints
//! the few frames appended during the checkpointer's run itself, and its next commit reuses
//! the WAL from the start. That checkpoint syncs the database file, which stalls the writer
//! for a few milliseconds (10–25 ms measured on the benchmark machine under full load), so it
//! is asked for no more often than the WAL size requires.
//!
//! With `synchronous = full` (the default), the WAL sync is overlapped with the next batch:
//! the writer's connection commits without syncing (`synchronous = normal`) and hands the
//! batch's answers to a sync thread, which `fdatasync`s the `-wal` file and only then
//! answers every batch that committed before the sync began. A 2xx still means the write is
//! committed and on disk; the writer meanwhile executes the next batch. (A checkpoint syncs
//! the WAL before copying it and the database file before the WAL is reused, so a synced
//! frame is never lost to a WAL restart.)
//!
//! On PostgreSQL none of this applies: every function here is a no-op there, and answers go
//! out as soon as the commit returns.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;

use super::{Backend, Db, DbConnection, PooledConn};
use crate::config::SqliteSynchronous;

/// What the writer does with a committed batch's answers: each is sent once the batch is
/// durable.
pub(super) enum Durability<A: Send + 'static> {
    /// The commit itself was durable: answer at once.
    OnCommit,
    /// Answer once the sync thread has synced the WAL.
    AfterSync(std::sync::mpsc::Sender<Vec<A>>),
}

/// One answer waiting for durability.
pub(super) trait Pending: Send + 'static {
    /// Sends the answer; `failure` replaces it when the write could not be made durable.
    fn answer(self, failure: Option<String>);
}

impl<A: Pending> Durability<A> {
    /// Answers a committed batch, now or after the next WAL sync.
    pub(super) fn committed(&self, answers: Vec<A>) {
        match self {
            Durability::OnCommit => answers.into_iter().for_each(|a| a.answer(None)),
            Durability::AfterSync(tx) => {
                if let Err(std::sync::mpsc::SendError(answers)) = tx.send(answers) {
                    for a in answers {
                        a.answer(Some("the WAL sync thread has stopped".into()));
                    }
                }
            }
        }
    }

    /// The pragmas the writer's own connection runs with.
    fn pragmas(&self) -> &'static str {
        match self {
            Durability::AfterSync(_) => "PRAGMA synchronous = NORMAL;",
            Durability::OnCommit => "",
        }
    }
}

/// The WAL helpers of one group-commit writer: dropping it stops the checkpointer.
pub(super) struct Wal<A: Send + 'static> {
    pub(super) durability: Durability<A>,
    /// Set by the checkpointer when the WAL reached [`WAL_RESTART_FRAMES`]; the writer then
    /// checkpoints the rest.
    catch_up: Arc<AtomicBool>,
}

/// Keeps the checkpointer running while a handle of the writer lives.
pub(super) type Alive = Arc<std::sync::mpsc::Sender<()>>;

/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Starts the checkpointer and, with `synchronous = full`, the sync thread, for a writer
/// named `name`. The checkpointer stops when every [`Alive`] is dropped.
pub(super) fn start<A: Pending>(db: &Db, name: &str) -> std::io::Result<(Wal<A>, Alive)> {
    let (alive, stopped) = std::sync::mpsc::channel::<()>();
    let catch_up = Arc::new(AtomicBool::new(false));
    if db.backend() == Backend::Sqlite {
        let db = db.clone();
        let catch_up = catch_up.clone();
        std::thread::Builder::new()
            .name(format!("{name}-checkpoint"))
            .spawn(move || checkpoint(db, stopped, &catch_up))?;
    }
    let durability = match db.sqlite_file() {
        Some((path, SqliteSynchronous::Full)) => {
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            let wal = PathBuf::from(wal);
            let (tx, committed) = std::sync::mpsc::channel::<Vec<A>>();
            std::thread::Builder::new()
                .name(format!("{name}-sync"))
                .spawn(move || sync_wal(&wal, committed))?;
            Durability::AfterSync(tx)
        }
        _ => Durability::OnCommit,
    };
    Ok((
        Wal {
            durability,
            catch_up,
        },
        Arc::new(alive),
    ))
}

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

impl<A: Pending> Wal<A> {
    /// Sets up the writer's own connection; on SQLite it leaves checkpoints to the
    /// checkpointer, and WAL syncs to the sync thread when answers wait for it.
    pub(super) fn prepare(&self, conn: &mut PooledConn) -> Result<(), String> {
        if let DbConnection::Sqlite(c) = &mut **conn {
            c.batch_execute(&format!("{WRITER_PRAGMAS} {}", self.durability.pragmas()))
                .map_err(|e| format!("cannot set up the writer's connection: {e}"))?;
        }
        Ok(())
    }

    /// Between two batches: when the checkpointer asked for it, checkpoints what it left (the
    /// frames appended during its run), so that every frame is in the database file and the
    /// next commit starts the WAL over. Syncs the WAL before copying, like every checkpoint,
    /// so no committed write depends on frames that are then overwritten.
    pub(super) fn between_batches(&self, conn: Option<&mut PooledConn>) {
        if !self.catch_up.swap(false, Ordering::Relaxed) {
            return;
        }
        if let Some(DbConnection::Sqlite(c)) = conn.map(|c| &mut **c) {
            if let Err(e) = passive_checkpoint(c, "writer") {
                tracing::warn!(error = %e, "the writer's WAL checkpoint failed");
            }
        }
    }
}

/// Syncs the WAL file, then answers every batch that committed before the sync began;
/// batches that commit meanwhile wait for the next sync. Stops with the writer.
fn sync_wal<A: Pending>(wal: &Path, committed: std::sync::mpsc::Receiver<Vec<A>>) {
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
            tracing::error!(error = %e, "WAL sync failed; the writes waiting for it are refused");
        }
        tracing::trace!(
            writes = answers.len(),
            elapsed_us = started.elapsed().as_micros() as u64,
            "WAL synced"
        );
        let failure = synced
            .err()
            .map(|e| format!("the write could not be synced to disk: {e}"));
        for a in answers {
            a.answer(failure.clone());
        }
    }
    tracing::debug!("WAL sync thread stopped");
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
fn catch_up_with_writer(conn: &mut PooledConn) -> Result<i64, String> {
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
