//! Per-client rate limits (GCRA), keyed by bucket name and client key (an IP, a hashed
//! address).
//!
//! `limits.public_per_minute` applies to every public POST through [`limit_public_posts`];
//! features with their own budgets (login, per-address limits) call [`RateLimiter::check`].
//!
//! Where the counts live is the [`LimitStore`]'s choice: in this process's memory
//! (`governor`) on SQLite, whose one process sees every request; in the database
//! ([`crate::db::rate_limits`], one upsert per check) on PostgreSQL, where several `serve`
//! processes must share one budget per client. Keys are hashed with the service key before
//! they reach the database, so no raw address is stored.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::db::rate_limits::{self, Decision};
use crate::db::Db;
use crate::error::AppError;
use crate::keys::Keys;
use crate::web::ClientIp;

type Key = (&'static str, String);

/// Where rate limits keep their counts (see the module documentation).
#[derive(Clone)]
pub enum LimitStore {
    /// This process's memory: right when one process serves every request (SQLite).
    Memory,
    /// The `rate_limits` table, shared by every process on the database (PostgreSQL).
    Database { db: Db, keys: Keys },
}

impl LimitStore {
    /// Memory on SQLite, the database on PostgreSQL.
    pub fn for_db(db: &Db, keys: &Keys) -> LimitStore {
        if db.shared_by_processes() {
            LimitStore::Database {
                db: db.clone(),
                keys: keys.clone(),
            }
        } else {
            LimitStore::Memory
        }
    }

    /// A limiter of `per_minute` requests per key per minute with a burst of a fifth of that
    /// (at least 5, at most the whole budget); `enabled = false` lets everything through.
    pub fn per_minute(&self, enabled: bool, per_minute: u32) -> RateLimiter {
        let Some(n) = NonZeroU32::new(per_minute).filter(|_| enabled) else {
            return RateLimiter { inner: None };
        };
        let burst = NonZeroU32::new((n.get() / 5).max(5).min(n.get())).unwrap_or(NonZeroU32::MIN);
        let inner = match self {
            LimitStore::Memory => Inner::Memory(Arc::new(governor::RateLimiter::keyed(
                Quota::per_minute(n).allow_burst(burst),
            ))),
            LimitStore::Database { db, keys } => {
                let interval_us = 60_000_000 / i64::from(n.get());
                Inner::Database(Arc::new(SharedLimit {
                    db: db.clone(),
                    keys: keys.clone(),
                    interval_us,
                    tolerance_us: interval_us * i64::from(burst.get() - 1),
                }))
            }
        };
        RateLimiter { inner: Some(inner) }
    }

    /// Deletes the database's keys that are back to a full budget (called periodically;
    /// nothing to do in memory, where each limiter forgets its own keys).
    pub async fn sweep(&self) -> Result<usize, AppError> {
        match self {
            LimitStore::Memory => Ok(0),
            LimitStore::Database { db, .. } => {
                db.run(|conn| Ok(rate_limits::delete_full(conn, rate_limits::now_micros())?))
                    .await
            }
        }
    }
}

/// A limit kept in the database.
struct SharedLimit {
    db: Db,
    keys: Keys,
    interval_us: i64,
    tolerance_us: i64,
}

#[derive(Clone)]
enum Inner {
    Memory(Arc<DefaultKeyedRateLimiter<Key>>),
    Database(Arc<SharedLimit>),
}

/// A keyed limiter, made by [`LimitStore::per_minute`].
#[derive(Clone)]
pub struct RateLimiter {
    inner: Option<Inner>,
}

impl RateLimiter {
    /// A limiter kept in this process's memory (see [`LimitStore::per_minute`]).
    pub fn per_minute(enabled: bool, per_minute: u32) -> Self {
        LimitStore::Memory.per_minute(enabled, per_minute)
    }

    /// Counts one request for `key` in `bucket`; 429 with the seconds to wait when over.
    pub async fn check(&self, bucket: &'static str, key: &str) -> Result<(), AppError> {
        match &self.inner {
            None => Ok(()),
            Some(Inner::Memory(limiter)) => {
                limiter
                    .check_key(&(bucket, key.to_string()))
                    .map_err(|not_until| {
                        let wait = not_until.wait_time_from(DefaultClock::default().now());
                        AppError::RateLimited {
                            retry_after_secs: wait.as_secs().max(1),
                        }
                    })
            }
            Some(Inner::Database(limit)) => {
                let key_hash = limit.keys.hash("rate-limit", key.as_bytes());
                let (interval_us, tolerance_us) = (limit.interval_us, limit.tolerance_us);
                let decision = limit
                    .db
                    .run(move |conn| {
                        Ok(rate_limits::take(
                            conn,
                            bucket,
                            &key_hash,
                            rate_limits::now_micros(),
                            interval_us,
                            tolerance_us,
                        )?)
                    })
                    .await?;
                match decision {
                    Decision::Allowed => Ok(()),
                    Decision::Wait { micros } => Err(AppError::RateLimited {
                        retry_after_secs: micros.unsigned_abs().div_ceil(1_000_000).max(1),
                    }),
                }
            }
        }
    }

    pub async fn check_ip(&self, bucket: &'static str, ip: IpAddr) -> Result<(), AppError> {
        self.check(bucket, &ip.to_string()).await
    }

    /// Drops keys that are back to a full budget (called periodically); the database's are
    /// swept by [`LimitStore::sweep`].
    pub fn shrink(&self) {
        if let Some(Inner::Memory(limiter)) = &self.inner {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The limiter for public POSTs (app data).
#[derive(Clone)]
pub struct PublicLimiter(pub RateLimiter);

/// Middleware for public scopes: every POST counts against the client IP's budget for its route.
///
/// The budget is keyed by the pattern of the route that serves the request (see
/// [`crate::web::route`]), one budget for all requests no route serves: never by the path as
/// sent, so no spelling of a path (`/api/v1/%66eedback`) gets a budget of its own, and the
/// number of keys is bounded by the routes times the clients.
pub async fn limit_public_posts(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::POST {
        if let (Some(limiter), Some(ip)) = (
            req.app_data::<web::Data<PublicLimiter>>(),
            ClientIp::from_request(req.request()),
        ) {
            let route = crate::web::route::label(req.request());
            limiter
                .0
                .check("public", &format!("{route} {}", ip.0))
                .await?;
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limits_after_burst_and_names_a_wait() {
        let l = RateLimiter::per_minute(true, 10);
        for _ in 0..5 {
            assert!(l.check("t", "a").await.is_ok());
        }
        match l.check("t", "a").await {
            Err(AppError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(l.check("t", "b").await.is_ok(), "keys are independent");
    }

    #[tokio::test]
    async fn disabled_never_limits() {
        let l = RateLimiter::per_minute(false, 1);
        for _ in 0..100 {
            assert!(l.check("t", "a").await.is_ok());
        }
    }
}
