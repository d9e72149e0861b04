//! Whole-database copies for `frontdesk backup` and `restore`, where the two backends differ
//! most.
//!
//! - SQLite: `VACUUM INTO` writes a consistent, compacted copy from one read transaction
//!   while writers go on (WAL); never a copy of the live file. The copy's tables are then
//!   counted in the copy itself, so the counts describe exactly the file written.
//! - PostgreSQL: a `REPEATABLE READ` transaction exports its snapshot
//!   (`pg_export_snapshot()`), counts the tables in it, and `pg_dump --snapshot` dumps that
//!   same snapshot (custom format), so counts and dump agree exactly. Without `pg_dump` on the
//!   PATH the counts are still taken and [`Dump::ToolMissing`] says what to run.
//! - Restoring swaps the SQLite file in (its old `-wal`/`-shm` removed first), or runs
//!   `pg_restore` in one transaction into an empty (or, forced, emptied) schema.
//!
//! Every function here blocks: run it on the blocking pool.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use serde::{Deserialize, Serialize};

use super::{Backend, DatabaseUrl, Db, DbConnection};
use crate::config::DatabaseSettings;

/// The table diesel records applied migrations in.
const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// How a database copy is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DumpFormat {
    /// A SQLite database file.
    Sqlite,
    /// `pg_dump --format=custom`, read back with `pg_restore`.
    PgDumpCustom,
}

impl DumpFormat {
    /// The file name a backup stores the database under.
    pub fn file_name(self) -> &'static str {
        match self {
            DumpFormat::Sqlite => "database.sqlite3",
            DumpFormat::PgDumpCustom => "database.pgdump",
        }
    }

    /// The backend this format restores into.
    pub fn backend(self) -> Backend {
        match self {
            DumpFormat::Sqlite => Backend::Sqlite,
            DumpFormat::PgDumpCustom => Backend::Postgres,
        }
    }
}

/// What a database holds: the latest applied migration and the rows of every table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contents {
    /// The latest applied migration's version; `None` for a database never migrated.
    pub schema_version: Option<String>,
    /// Every table of the schema (the migrations table included) with its row count.
    pub tables: BTreeMap<String, i64>,
}

/// The outcome of [`dump`].
#[derive(Debug)]
pub enum Dump {
    /// The copy was written to `file`; `contents` were counted in the same snapshot.
    Written {
        file: PathBuf,
        format: DumpFormat,
        contents: Contents,
    },
    /// PostgreSQL without `pg_dump` on the PATH: counted, not copied; `instructions` say what
    /// to install or run.
    ToolMissing {
        contents: Contents,
        instructions: String,
    },
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct MaybeName {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

/// An SQL identifier quoted for both backends (names come from the catalog, not from users).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables of the connection's schema, by name.
fn table_names(conn: &mut DbConnection) -> diesel::QueryResult<Vec<String>> {
    let statement = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        }
        DbConnection::Postgres(_) => {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        }
    };
    Ok(diesel::sql_query(statement)
        .load::<Name>(conn)?
        .into_iter()
        .map(|n| n.name)
        .collect())
}

/// The versions of every applied migration; none on a database never migrated.
pub fn applied_migrations(conn: &mut DbConnection) -> diesel::QueryResult<Vec<String>> {
    if !table_names(conn)?
        .iter()
        .any(|name| name == MIGRATIONS_TABLE)
    {
        return Ok(Vec::new());
    }
    Ok(diesel::sql_query(format!(
        "SELECT version AS name FROM {}",
        quote_ident(MIGRATIONS_TABLE)
    ))
    .load::<Name>(conn)?
    .into_iter()
    .map(|n| n.name)
    .collect())
}

/// The schema version and every table's row count, read in the connection's current
/// transaction (or snapshot).
pub fn contents(conn: &mut DbConnection) -> diesel::QueryResult<Contents> {
    let names = table_names(conn)?;
    let mut tables = BTreeMap::new();
    for name in &names {
        let count = diesel::sql_query(format!("SELECT count(*) AS n FROM {}", quote_ident(name)))
            .get_result::<Count>(conn)?;
        tables.insert(name.clone(), count.n);
    }
    let schema_version = if tables.contains_key(MIGRATIONS_TABLE) {
        diesel::sql_query(format!(
            "SELECT max(version) AS name FROM {}",
            quote_ident(MIGRATIONS_TABLE)
        ))
        .get_result::<MaybeName>(conn)?
        .name
    } else {
        None
    };
    Ok(Contents {
        schema_version,
        tables,
    })
}

/// Writes a consistent copy of the whole database into `dir` (which must exist) while the
/// service keeps serving.
pub fn dump(db: &Db, dir: &Path) -> anyhow::Result<Dump> {
    match &db.url {
        DatabaseUrl::Sqlite(_) => {
            let file = dir.join(DumpFormat::Sqlite.file_name());
            let target = file
                .to_str()
                .ok_or_else(|| anyhow::anyhow!("{} is not valid UTF-8", file.display()))?
                .to_string();
            let mut conn = db.get().map_err(|e| anyhow::anyhow!("{e:#}"))?;
            diesel::sql_query("VACUUM INTO ?")
                .bind::<Text, _>(&target)
                .execute(&mut *conn)
                .map_err(|e| anyhow::anyhow!("VACUUM INTO {}: {e}", file.display()))?;
            drop(conn);
            std::fs::File::open(&file)?.sync_all()?;
            let mut copy = DbConnection::Sqlite(SqliteConnection::establish(&target)?);
            let contents = contents(&mut copy)?;
            Ok(Dump::Written {
                file,
                format: DumpFormat::Sqlite,
                contents,
            })
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn = DbConnection::Postgres(
                PgConnection::establish(url)
                    .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?,
            );
            conn.transaction(|c| {
                c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
                pg_dump_in_snapshot(c, url, dir)
            })
        }
    }
}

/// In a `REPEATABLE READ` transaction: export its snapshot, count the tables in it, and let
/// `pg_dump` dump that same snapshot while the transaction stays open.
fn pg_dump_in_snapshot(conn: &mut DbConnection, url: &str, dir: &Path) -> anyhow::Result<Dump> {
    let snapshot = diesel::sql_query("SELECT pg_export_snapshot() AS name")
        .get_result::<Name>(conn)?
        .name;
    let contents = contents(conn)?;
    let file = dir.join(DumpFormat::PgDumpCustom.file_name());
    let (target, password) = without_password(url);
    let Some(pg_dump) = find_program("pg_dump") else {
        let major = server_major_version(conn)?;
        return Ok(Dump::ToolMissing {
            contents,
            instructions: format!(
                "pg_dump was not found on the PATH, so the database is not in this backup. \
                 Install the PostgreSQL {major} client tools (Debian: apt-get install \
                 postgresql-client-{major}) and run `frontdesk backup` again, or dump the \
                 database yourself: pg_dump --format=custom --file {} '{target}' (with the \
                 password in PGPASSWORD)",
                file.display(),
            ),
        });
    };
    let mut command = Command::new(pg_dump);
    command
        .arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--file")
        .arg(&file)
        .arg("--dbname")
        .arg(target);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    run(command, "pg_dump")?;
    Ok(Dump::Written {
        file,
        format: DumpFormat::PgDumpCustom,
        contents,
    })
}

/// The server's major version (`15` for 15.20), for the advice to install matching tools.
fn server_major_version(conn: &mut DbConnection) -> anyhow::Result<i64> {
    let version = diesel::sql_query("SELECT current_setting('server_version_num') AS name")
        .get_result::<Name>(conn)?
        .name;
    Ok(version.parse::<i64>().map(|v| v / 10_000)?)
}

/// The URL without its password (safe on a command line and in messages), and the password.
fn without_password(url: &str) -> (String, Option<String>) {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let password = parsed.password().map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            });
            let _ = parsed.set_password(None);
            (parsed.to_string(), password)
        }
        Err(_) => (url.to_string(), None),
    }
}

/// The first executable file called `name` on the PATH.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// Runs a PostgreSQL client tool; its own error output becomes the error.
fn run(mut command: Command, tool: &str) -> anyhow::Result<()> {
    let output = command
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run {tool}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        anyhow::bail!(
            "{tool} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
    }
}

/// Whether the database `settings` names holds any table (a SQLite file that does not exist
/// holds none). Opens nothing that would create the database.
pub fn target_has_tables(settings: &DatabaseSettings) -> anyhow::Result<bool> {
    match DatabaseUrl::parse(settings.url.expose()).map_err(anyhow::Error::msg)? {
        DatabaseUrl::Sqlite(path) => {
            if !path.exists() {
                return Ok(false);
            }
            let mut sqlite = SqliteConnection::establish(&path.to_string_lossy())?;
            // Wait, as the pool's connections do, while another connection holds the file's
            // lock (a pool opening a connection switches the journal to WAL, a write).
            sqlite.batch_execute(&format!(
                "PRAGMA busy_timeout = {};",
                settings.sqlite_busy_timeout_ms
            ))?;
            let mut conn = DbConnection::Sqlite(sqlite);
            Ok(!table_names(&mut conn)?.is_empty())
        }
        DatabaseUrl::Postgres(url) => {
            let mut conn = DbConnection::Postgres(
                PgConnection::establish(&url)
                    .map_err(|e| anyhow::anyhow!("cannot connect to the target database: {e}"))?,
            );
            Ok(!table_names(&mut conn)?.is_empty())
        }
    }
}

/// Replaces the database `settings` names with the copy in `file`. The caller has checked
/// that the target is empty, or was told to replace it (`force`): on PostgreSQL every table,
/// view and sequence of the schema is dropped first. Nothing else may use the database
/// meanwhile (on PostgreSQL, other sessions are refused).
pub fn load(settings: &DatabaseSettings, file: &Path, format: DumpFormat) -> anyhow::Result<()> {
    match (DatabaseUrl::parse(settings.url.expose()).map_err(anyhow::Error::msg)?, format) {
        (DatabaseUrl::Sqlite(path), DumpFormat::Sqlite) => replace_sqlite_file(&path, file),
        (DatabaseUrl::Postgres(url), DumpFormat::PgDumpCustom) => pg_restore(&url, file),
        (url, format) => anyhow::bail!(
            "this backup holds a {:?} database but database.url names {:?}: restore into the same kind of database",
            format.backend(),
            url.backend()
        ),
    }
}

fn replace_sqlite_file(path: &Path, file: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let sibling = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let incoming = sibling(".restoring");
    std::fs::copy(file, &incoming)
        .map_err(|e| anyhow::anyhow!("cannot copy the database to {}: {e}", incoming.display()))?;
    std::fs::File::open(&incoming)?.sync_all()?;
    // The old database's log must not be replayed into the new file.
    for stale in [sibling("-wal"), sibling("-shm"), sibling("-journal")] {
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("cannot remove {}: {e}", stale.display()),
        }
    }
    std::fs::rename(&incoming, path)
        .map_err(|e| anyhow::anyhow!("cannot move the database into {}: {e}", path.display()))?;
    Ok(())
}

fn pg_restore(url: &str, file: &Path) -> anyhow::Result<()> {
    let Some(tool) = find_program("pg_restore") else {
        anyhow::bail!(
            "pg_restore was not found on the PATH: install the PostgreSQL client tools of the \
             server's major version (Debian: apt-get install postgresql-client-NN) and run the \
             restore again"
        );
    };
    let mut conn = PgConnection::establish(url)
        .map_err(|e| anyhow::anyhow!("cannot connect to the target database: {e}"))?;
    let others = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .get_result::<Count>(&mut conn)?
    .n;
    if others > 0 {
        anyhow::bail!(
            "{others} other session(s) are connected to the target database: stop every `serve` and `worker` first"
        );
    }
    empty_schema(&mut conn)?;
    let (target, password) = without_password(url);
    let mut command = Command::new(tool);
    command
        .args([
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
        ])
        .arg("--dbname")
        .arg(target)
        .arg(file);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    run(command, "pg_restore")
}

/// Drops every table, view, materialised view and sequence of the current schema, in one
/// transaction.
fn empty_schema(conn: &mut PgConnection) -> anyhow::Result<()> {
    conn.transaction(|c| {
        for (kind, query) in [
            (
                "MATERIALIZED VIEW",
                "SELECT matviewname AS name FROM pg_matviews WHERE schemaname = current_schema()",
            ),
            (
                "VIEW",
                "SELECT viewname AS name FROM pg_views WHERE schemaname = current_schema()",
            ),
            (
                "TABLE",
                "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()",
            ),
            (
                "SEQUENCE",
                "SELECT sequencename AS name FROM pg_sequences WHERE schemaname = current_schema()",
            ),
        ] {
            let names: Vec<String> = diesel::sql_query(query)
                .load::<Name>(c)?
                .into_iter()
                .map(|n| quote_ident(&n.name))
                .collect();
            if !names.is_empty() {
                c.batch_execute(&format!(
                    "DROP {kind} IF EXISTS {} CASCADE",
                    names.join(", ")
                ))?;
            }
        }
        Ok::<_, anyhow::Error>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_their_quotes_doubled() {
        assert_eq!(quote_ident("outbox"), "\"outbox\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn the_password_leaves_the_url_and_is_decoded() {
        let (url, password) =
            without_password("postgres://frontdesk:p%40ss%2Fw@db.internal:5432/fd?sslmode=require");
        assert_eq!(
            url,
            "postgres://frontdesk@db.internal:5432/fd?sslmode=require"
        );
        assert_eq!(password.as_deref(), Some("p@ss/w"));
        let (url, password) = without_password("postgres://postgres@127.0.0.1/x");
        assert_eq!(url, "postgres://postgres@127.0.0.1/x");
        assert_eq!(password, None);
    }
}
