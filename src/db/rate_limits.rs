//! Rate limits shared by every process on one database: one row per limit and client in
//! `rate_limits`, changed by one atomic upsert per check.
//!
//! The algorithm is GCRA (the one `governor` runs in memory): a limit of one request per
//! `interval` with a burst of `burst` keeps a "theoretical arrival time" (`tat`) per key. A
//! request at `now` is allowed when `tat <= now + tolerance` (`tolerance = interval × (burst
//! − 1)`), and then moves `tat` to `max(tat, now) + interval`. The check and the move are
//! one `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`: the row lock makes concurrent
//! checks of one key from any number of processes take turns, and no row is read twice.
//!
//! Times are microseconds since 1970 from the processes' clocks (keep them in sync with NTP,
//! as for the outbox's leases). Keys are stored as given: callers pass a keyed hash, never a
//! raw address.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::DbConnection;

/// The limited check: allowed, or the microseconds until the next request would be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Wait { micros: i64 },
}

#[derive(QueryableByName)]
struct Tat {
    #[diesel(sql_type = BigInt)]
    tat: i64,
}

/// Takes one request of limit `name` for `key` at `now` (µs), if the budget allows it.
const TAKE: &str = "INSERT INTO rate_limits (name, key_hash, tat) VALUES ($1, $2, $3 + $4) \
     ON CONFLICT (name, key_hash) DO UPDATE SET tat = \
     CASE WHEN rate_limits.tat > $3 THEN rate_limits.tat ELSE $3 END + $4 \
     WHERE rate_limits.tat <= $3 + $5 RETURNING tat";

/// Counts one request of limit `name` for `key_hash` at `now_us`: allowed while the key's
/// `tat` is at most `tolerance_us` ahead of now, each request moving it `interval_us` on.
#[tracing::instrument(skip_all, fields(name))]
pub fn take(
    conn: &mut DbConnection,
    name: &str,
    key_hash: &str,
    now_us: i64,
    interval_us: i64,
    tolerance_us: i64,
) -> QueryResult<Decision> {
    let taken: Option<Tat> = super::dialect::sql(conn, TAKE)
        .bind::<Text, _>(name)
        .bind::<Text, _>(key_hash)
        .bind::<BigInt, _>(now_us)
        .bind::<BigInt, _>(interval_us)
        .bind::<BigInt, _>(tolerance_us)
        .get_result(conn)
        .optional()?;
    if taken.is_some() {
        return Ok(Decision::Allowed);
    }
    use super::schema::rate_limits::dsl as r;
    let tat: Option<i64> = r::rate_limits
        .filter(r::name.eq(name))
        .filter(r::key_hash.eq(key_hash))
        .select(r::tat)
        .first(conn)
        .optional()?;
    Ok(Decision::Wait {
        micros: tat.map_or(0, |tat| tat - tolerance_us - now_us).max(1),
    })
}

/// Books the next free slot of limit `name` for `key_hash`: `max(tat, now)`, one `interval`
/// after the previous booking. Returns the slot (µs); the caller waits until then.
const RESERVE: &str = "INSERT INTO rate_limits (name, key_hash, tat) VALUES ($1, $2, $3 + $4) \
     ON CONFLICT (name, key_hash) DO UPDATE SET tat = \
     CASE WHEN rate_limits.tat > $3 THEN rate_limits.tat ELSE $3 END + $4 RETURNING tat";

/// Books one slot of a rate shared by every process (the global send rate): the returned
/// time, in µs, is when the caller may act; no two bookings are closer than `interval_us`.
#[tracing::instrument(skip_all, fields(name))]
pub fn reserve(
    conn: &mut DbConnection,
    name: &str,
    key_hash: &str,
    now_us: i64,
    interval_us: i64,
) -> QueryResult<i64> {
    let booked: Tat = super::dialect::sql(conn, RESERVE)
        .bind::<Text, _>(name)
        .bind::<Text, _>(key_hash)
        .bind::<BigInt, _>(now_us)
        .bind::<BigInt, _>(interval_us)
        .get_result(conn)?;
    Ok(booked.tat - interval_us)
}

/// Deletes every key whose budget is full again at `now_us` (its `tat` has passed: a new
/// row would behave the same). Returns how many went.
pub fn delete_full(conn: &mut DbConnection, now_us: i64) -> QueryResult<usize> {
    use super::schema::rate_limits::dsl as r;
    diesel::delete(r::rate_limits.filter(r::tat.lt(now_us))).execute(conn)
}

/// Microseconds since 1970 on this process's clock, as `tat` is kept.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}
