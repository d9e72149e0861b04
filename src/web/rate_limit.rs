//! Per-client-IP rate limits (GCRA via `governor`), keyed by bucket name and IP.
//!
//! `limits.public_per_minute` applies to every public POST through [`limit_public_posts`];
//! features with their own budgets (login, per-address limits) call [`RateLimiter::check`].

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

use crate::error::AppError;
use crate::web::ClientIp;

type Key = (&'static str, String);

/// A keyed limiter: `per_minute` requests per key per minute, with a burst of a fifth of that
/// (at least 5, at most the whole budget).
#[derive(Clone)]
pub struct RateLimiter {
    inner: Option<Arc<DefaultKeyedRateLimiter<Key>>>,
}

impl RateLimiter {
    /// `enabled = false` lets everything through (benchmarks).
    pub fn per_minute(enabled: bool, per_minute: u32) -> Self {
        let inner = NonZeroU32::new(per_minute).filter(|_| enabled).map(|n| {
            let burst =
                NonZeroU32::new((n.get() / 5).max(5).min(n.get())).unwrap_or(NonZeroU32::MIN);
            Arc::new(governor::RateLimiter::keyed(
                Quota::per_minute(n).allow_burst(burst),
            ))
        });
        RateLimiter { inner }
    }

    /// Counts one request for `key` in `bucket`; 429 with the seconds to wait when over.
    pub fn check(&self, bucket: &'static str, key: &str) -> Result<(), AppError> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        limiter
            .check_key(&(bucket, key.to_string()))
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                AppError::RateLimited {
                    retry_after_secs: wait.as_secs().max(1),
                }
            })
    }

    pub fn check_ip(&self, bucket: &'static str, ip: IpAddr) -> Result<(), AppError> {
        self.check(bucket, &ip.to_string())
    }

    /// Drops keys that are back to a full budget (called periodically).
    pub fn shrink(&self) {
        if let Some(limiter) = &self.inner {
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
            limiter.0.check("public", &format!("{route} {}", ip.0))?;
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_after_burst_and_names_a_wait() {
        let l = RateLimiter::per_minute(true, 10);
        for _ in 0..5 {
            assert!(l.check("t", "a").is_ok());
        }
        match l.check("t", "a") {
            Err(AppError::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(l.check("t", "b").is_ok(), "keys are independent");
    }

    #[test]
    fn disabled_never_limits() {
        let l = RateLimiter::per_minute(false, 1);
        for _ in 0..100 {
            assert!(l.check("t", "a").is_ok());
        }
    }
}
