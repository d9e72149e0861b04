//! `mail.max_per_second`: the global send rate, whatever the number of workers.
//!
//! On SQLite one process sends, and the rate is kept in its memory (`governor`). On
//! PostgreSQL every worker books each message's slot in the database
//! ([`crate::db::rate_limits::reserve`], one upsert per message) and waits for it, so the
//! workers together keep the rate: the bookings of all workers are one interval apart.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota};
use tokio::sync::watch;

use crate::db::rate_limits;
use crate::db::Db;
use crate::error::AppError;

/// The name of the send rate's row in `rate_limits` (its key is [`GLOBAL`]).
const NAME: &str = "mail-send";
const GLOBAL: &str = "global";

/// Paces deliveries to `mail.max_per_second`.
pub enum SendRate {
    Unlimited,
    Memory(DefaultDirectRateLimiter),
    Database { db: Db, interval_us: i64 },
}

impl SendRate {
    /// No limit for 0; in memory on SQLite; through the database on PostgreSQL.
    pub fn new(db: &Db, per_second: u32) -> SendRate {
        let Some(n) = NonZeroU32::new(per_second) else {
            return SendRate::Unlimited;
        };
        if db.shared_by_processes() {
            SendRate::Database {
                db: db.clone(),
                interval_us: (1_000_000 / i64::from(n.get())).max(1),
            }
        } else {
            SendRate::Memory(governor::RateLimiter::direct(
                Quota::per_second(n).allow_burst(NonZeroU32::MIN),
            ))
        }
    }

    /// Waits until the next message may go. False when `shutdown` came first (the slot, if
    /// one was booked, goes unused).
    pub async fn wait_turn(&self, shutdown: &watch::Receiver<bool>) -> Result<bool, AppError> {
        let mut shutdown = shutdown.clone();
        if *shutdown.borrow() {
            return Ok(false);
        }
        match self {
            SendRate::Unlimited => Ok(true),
            SendRate::Memory(limiter) => Ok(tokio::select! {
                _ = limiter.until_ready() => true,
                _ = shutdown.wait_for(|stop| *stop) => false,
            }),
            SendRate::Database { db, interval_us } => {
                let interval_us = *interval_us;
                let slot = db
                    .run(move |conn| {
                        Ok(rate_limits::reserve(
                            conn,
                            NAME,
                            GLOBAL,
                            rate_limits::now_micros(),
                            interval_us,
                        )?)
                    })
                    .await?;
                let wait = slot - rate_limits::now_micros();
                if wait <= 0 {
                    return Ok(true);
                }
                Ok(tokio::select! {
                    _ = tokio::time::sleep(Duration::from_micros(wait.unsigned_abs())) => true,
                    _ = shutdown.wait_for(|stop| *stop) => false,
                })
            }
        }
    }
}
