//! Where SQLite and PostgreSQL differ, in one place. Feature stores call these and never match
//! on the connection type themselves.
//!
//! - [`on_backend!`]: runs one diesel statement that both backends understand but that the
//!   multi-backend connection cannot express (`ON CONFLICT` upserts and insert-or-ignore,
//!   `RETURNING` after them), on the concrete connection.
//! - [`load_for_share!`]: `SELECT … FOR SHARE` on PostgreSQL; SQLite's one writer needs no row lock.
//! - [`per_backend`]: two statements, one per backend, where they really differ;
//!   [`skip_locked`] for queue claims.
//! - [`sql`]: a raw statement written with PostgreSQL's `$1` placeholders, in the form the
//!   connection's backend takes.

use diesel::query_builder::SqlQuery;

use super::DbConnection;

/// Runs `$body` with `$c` bound to the concrete connection of either backend; the body is
/// written once and compiled for both.
///
/// ```ignore
/// db::on_backend!(conn, |c| diesel::insert_into(t::table)
///     .values(&rows)
///     .on_conflict_do_nothing()
///     .execute(c))?;
/// ```
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Loads `$query` with `FOR SHARE` on PostgreSQL (so a concurrent writer of those rows waits
/// for this transaction), and as it is on SQLite, where the transaction already holds the only
/// write lock.
macro_rules! load_for_share {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgres(c) => $query.for_share().load(c),
            $crate::db::DbConnection::Sqlite(c) => $query.load(c),
        }
    };
}
pub(crate) use load_for_share;

/// Runs `sqlite` or `postgres` on the concrete connection: for the few places where the two
/// backends take different statements (a PostgreSQL fast path over arrays, a row lock SQLite
/// does not need). Prefer [`on_backend!`] where one statement serves both.
pub fn per_backend<T>(
    conn: &mut DbConnection,
    sqlite: impl FnOnce(&mut diesel::SqliteConnection) -> diesel::QueryResult<T>,
    postgres: impl FnOnce(&mut diesel::PgConnection) -> diesel::QueryResult<T>,
) -> diesel::QueryResult<T> {
    match conn {
        DbConnection::Sqlite(c) => sqlite(c),
        DbConnection::Postgres(c) => postgres(c),
    }
}

/// `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent workers claim different rows; empty
/// on SQLite, whose one writer already serialises claims.
pub fn skip_locked(conn: &DbConnection) -> &'static str {
    if is_sqlite(conn) {
        ""
    } else {
        " FOR UPDATE SKIP LOCKED"
    }
}

/// Whether the connection is SQLite's (for the few statements whose text differs, such as
/// the outbox's claim, which takes `FOR UPDATE SKIP LOCKED` on PostgreSQL only).
pub fn is_sqlite(conn: &DbConnection) -> bool {
    matches!(conn, DbConnection::Sqlite(_))
}

/// A raw statement written with `$1`, `$2`, … placeholders, as the connection's backend takes
/// it: PostgreSQL's as they are, SQLite's as `?1`, `?2`, … (numbered, so a parameter may be
/// used twice and in any order).
pub fn sql(conn: &DbConnection, statement: &str) -> SqlQuery {
    if is_sqlite(conn) {
        diesel::sql_query(numbered_for_sqlite(statement))
    } else {
        diesel::sql_query(statement)
    }
}

fn numbered_for_sqlite(statement: &str) -> String {
    let mut out = String::with_capacity(statement.len());
    let mut chars = statement.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            '$' if !quoted && chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_for_sqlite() {
        assert_eq!(
            numbered_for_sqlite("INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO NOTHING"),
            "INSERT INTO t (a, b) VALUES (?1, ?2) ON CONFLICT (a) DO NOTHING"
        );
        assert_eq!(
            numbered_for_sqlite("SELECT '$1' || $10"),
            "SELECT '$1' || ?10"
        );
    }
}
