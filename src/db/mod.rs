//! Storage on two backends from one binary: SQLite (embedded default) and PostgreSQL
//! (scale-out), chosen by the scheme of `database.url`.
//!
//! Store functions are plain and synchronous (`fn x(conn: &mut DbConnection, …) -> QueryResult<…>`)
//! and run through [`Db::run`] / [`Db::write`], which move them off the async runtime.

pub mod dialect;
pub mod group_commit;
pub mod rate_limits;
pub mod schema;
pub mod snapshot;
mod text_enum;
mod wal;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{DatabaseSettings, SqliteSynchronous};
use crate::error::AppError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database the URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `database.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (relative to the working directory, or absolute).
    Sqlite(PathBuf),
    /// A libpq connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("database.url: sqlite:// needs a file path".into());
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_string()))
        } else {
            Err("database.url: must start with sqlite://, postgres:// or postgresql://".into())
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Opens connections for the pool, setting SQLite's pragmas on each.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
    busy_timeout_ms: u64,
    synchronous: SqliteSynchronous,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn =
                    SqliteConnection::establish(&path).map_err(r2d2::Error::ConnectionError)?;
                let synchronous = match self.synchronous {
                    SqliteSynchronous::Full => "FULL",
                    SqliteSynchronous::Normal => "NORMAL",
                };
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;",
                    self.busy_timeout_ms
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// A connection borrowed from the pool.
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The database handle every feature receives: a pool and the backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    sqlite: Option<(PathBuf, SqliteSynchronous)>,
    url: DatabaseUrl,
}

impl Db {
    /// Builds the pool for a long-running process (`serve`, `worker`): one connection is kept
    /// open while idle. SQLite files and their folders are created when missing.
    pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<Db> {
        Db::open(settings, 1)
    }

    /// Builds the pool for a one-shot CLI command: no idle connection is kept. With one kept,
    /// r2d2 opens its replacement on a thread of its own; a command that exits meanwhile runs
    /// OpenSSL's exit-time cleanup under libpq's TLS handshake on that thread, and the process
    /// dies with SIGSEGV after the command's work is done (seen in CI on PostgreSQL).
    pub fn connect_for_command(settings: &DatabaseSettings) -> anyhow::Result<Db> {
        Db::open(settings, 0)
    }

    fn open(settings: &DatabaseSettings, min_idle: u32) -> anyhow::Result<Db> {
        let url = DatabaseUrl::parse(settings.url.expose()).map_err(anyhow::Error::msg)?;
        if let DatabaseUrl::Sqlite(path) = &url {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot create the database folder {}: {e}",
                        parent.display()
                    )
                })?;
            }
        }
        let backend = url.backend();
        let sqlite = match &url {
            DatabaseUrl::Sqlite(path) => Some((path.clone(), settings.sqlite_synchronous)),
            DatabaseUrl::Postgres(_) => None,
        };
        let manager = Manager {
            url: url.clone(),
            busy_timeout_ms: settings.sqlite_busy_timeout_ms,
            synchronous: settings.sqlite_synchronous,
        };
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(min_idle))
            .connection_timeout(Duration::from_secs(settings.connect_timeout_seconds.max(1)))
            .build(manager)
            .map_err(|e| {
                anyhow::anyhow!("cannot open the database ({}): {e}", settings.url.masked())
            })?;
        Ok(Db {
            pool,
            backend,
            sqlite,
            url,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether several processes may share this database (PostgreSQL: many `serve` and
    /// `worker` processes), so that state which must hold across them, such as rate limits,
    /// is kept in it. A SQLite database is served by one process.
    pub fn shared_by_processes(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// On SQLite: the database file and the configured `synchronous` level.
    pub fn sqlite_file(&self) -> Option<(&std::path::Path, SqliteSynchronous)> {
        self.sqlite
            .as_ref()
            .map(|(path, sync)| (path.as_path(), *sync))
    }

    /// A pooled connection for blocking code (CLI commands, the worker's blocking sections).
    pub fn get(&self) -> Result<PooledConn, AppError> {
        self.pool.get().map_err(AppError::from)
    }

    /// Runs `f` with a connection on the blocking thread pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(AppError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("database task failed: {e}")))?
    }

    /// Runs `f` inside one write transaction (IMMEDIATE on SQLite) on the blocking pool.
    /// Everything `f` writes, emails queued in the outbox included, commits together or not at all.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| write_tx(conn, f)).await
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.get()?;
        run_migrations(&mut conn)
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.run(|conn| conn.ping().map_err(AppError::from))
            .await
            .is_ok()
    }
}

/// Opens a write transaction: `BEGIN IMMEDIATE` on SQLite, so a writer takes the lock up
/// front (waiting out `busy_timeout`) instead of failing on upgrade; a plain `BEGIN` on PostgreSQL.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// Applies the backend's pending migrations.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Postgres(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied)
}

/// Versions of the backend's embedded migrations, oldest first (`20261128000001`, …).
pub fn known_migrations(backend: Backend) -> anyhow::Result<Vec<String>> {
    use diesel::migration::MigrationSource;
    let versions = match backend {
        Backend::Sqlite => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect())
        }
        Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
            .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect()),
    };
    let mut versions: Vec<String> =
        versions.map_err(|e| anyhow::anyhow!("cannot list the embedded migrations: {e}"))?;
    versions.sort();
    Ok(versions)
}

/// How many of the backend's embedded migrations this database has not applied yet. Only
/// reads (diesel's own check would create its bookkeeping table on a fresh database), so a
/// readiness probe may call it as often as it likes.
pub fn pending_migrations(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let backend = if dialect::is_sqlite(conn) {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    let applied = snapshot::applied_migrations(conn)
        .map_err(|e| anyhow::anyhow!("cannot read the applied migrations: {e}"))?;
    Ok(known_migrations(backend)?
        .iter()
        .filter(|version| !applied.contains(version))
        .count())
}

/// Reverts the latest applied migration and returns its version (tests use it to make a
/// database one migration behind the binary).
pub fn revert_last_migration(conn: &mut DbConnection) -> anyhow::Result<String> {
    let version = match conn {
        DbConnection::Sqlite(c) => c
            .revert_last_migration(SQLITE_MIGRATIONS)
            .map(|v| v.to_string()),
        DbConnection::Postgres(c) => c
            .revert_last_migration(POSTGRES_MIGRATIONS)
            .map(|v| v.to_string()),
    }
    .map_err(|e| anyhow::anyhow!("migration revert failed: {e}"))?;
    Ok(version)
}

/// Reverts every applied migration (used by the migration round-trip test).
pub fn revert_all_migrations(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Postgres(c) => c
            .revert_all_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    }
    .map_err(|e| anyhow::anyhow!("migration revert failed: {e}"))?;
    Ok(reverted)
}

/// Current UTC time as stored in the database (microsecond precision on both backends).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

diesel::define_sql_function! {
    /// SQL `lower` (ASCII only on SQLite: check again in Rust where non-ASCII matters), for
    /// matching addresses and text whatever their case.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// [`lower`] of a nullable column.
    #[sql_name = "lower"]
    fn lower_nullable(
        x: diesel::sql_types::Nullable<diesel::sql_types::Text>,
    ) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// `LIKE` pattern matching `text` anywhere, its wildcards escaped with `\` (use with
/// `.escape('\\')`).
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A new opaque identifier: UUIDv7 (time-ordered, 74 random bits) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
    }
}
