//! Password hashing: argon2id with explicit parameters, off the async runtime, with a bounded
//! number of hashes in flight and a short queue (overflow answered 429, so a sign-in flood
//! cannot starve the public endpoints), and a dummy verification for unknown accounts so timing reveals nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;

/// OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const LANES: u32 = 1;

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with the current parameters (blocking: call off the runtime).
pub fn hash(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("password hashing failed: {e}")))
}

/// The outcome of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, and the stored hash uses weaker parameters than today's: store a new one.
    YesRehash,
}

/// Verifies a password against a stored PHC string (blocking: call off the runtime).
pub fn verify(password: &str, stored: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verified::No;
    };
    if argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verified::No;
    }
    let current = Params::try_from(&parsed).ok();
    let weaker = parsed.algorithm.as_str() != "argon2id"
        || current.is_none_or(|p| {
            p.m_cost() < MEMORY_KIB || p.t_cost() < ITERATIONS || p.p_cost() < LANES
        });
    if weaker {
        Verified::YesRehash
    } else {
        Verified::Yes
    }
}

/// A hash of a random password, verified against when the account does not exist.
pub fn dummy_hash() -> String {
    hash(&crate::keys::random_token(24)).unwrap_or_default()
}

/// Requests that may wait for a permit; more get 429 at once.
const MAX_WAITING: usize = 8;
/// How long a waiting request waits before it gets 429.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// Runs password work on the blocking pool, at most `permits` at once, with a short bounded
/// queue: a few simultaneous sign-ins wait their turn, a flood is answered 429 cheaply.
#[derive(Clone)]
pub struct PasswordPool {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    dummy: Arc<String>,
}

impl PasswordPool {
    pub fn new(permits: usize) -> Self {
        PasswordPool {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            dummy: Arc::new(dummy_hash()),
        }
    }

    /// Waits (briefly, boundedly) for a turn to hash; take it before any other work a sign-in
    /// does, so attempts beyond the queue cost next to nothing.
    pub async fn permit(&self) -> Result<HashPermit, AppError> {
        Ok(HashPermit {
            permit: self.acquire().await?,
            dummy: self.dummy.clone(),
        })
    }

    async fn acquire(&self) -> Result<OwnedSemaphorePermit, AppError> {
        let busy = || AppError::RateLimited {
            retry_after_secs: 1,
        };
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let permit = tokio::time::timeout(MAX_WAIT, self.permits.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match permit {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }

    /// Runs `f` with a permit (see [`PasswordPool`]).
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.permit().await?.run(f).await
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no account.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verified, AppError> {
        self.permit().await?.verify(password, stored).await
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || hash(&password)).await?
    }
}

/// A turn to hash, held until the work is done.
pub struct HashPermit {
    permit: OwnedSemaphorePermit,
    dummy: Arc<String>,
}

impl HashPermit {
    /// Runs `f` on the blocking pool, releasing the turn when it finishes.
    pub async fn run<T, F>(self, f: F) -> Result<T, AppError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.permit;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("password task failed: {e}")))
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no
    /// account, so an unknown email takes as long as a wrong password.
    pub async fn verify(
        self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verified, AppError> {
        let dummy = self.dummy.clone();
        self.run(move || match stored {
            Some(stored) => verify(&password, &stored),
            None => {
                let _ = verify(&password, &dummy);
                Verified::No
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_argon2id_and_the_set_parameters() {
        let h = hash("correct horse battery staple").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(verify("correct horse battery staple", &h), Verified::Yes);
        assert_eq!(verify("wrong", &h), Verified::No);
        assert_eq!(verify("x", "not a hash"), Verified::No);
    }

    #[tokio::test]
    async fn a_flood_beyond_the_queue_gets_429() {
        let pool = PasswordPool::new(1);
        let gate = Arc::new(std::sync::Barrier::new(2));
        let held = {
            let gate = gate.clone();
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    gate.wait();
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let waiting: Vec<_> = (0..MAX_WAITING)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.run(|| ()).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            matches!(pool.run(|| ()).await, Err(AppError::RateLimited { .. })),
            "queue full"
        );
        gate.wait();
        held.await.expect("join").expect("ran");
        for w in waiting {
            w.await.expect("join").expect("queued requests run");
        }
    }

    #[test]
    fn weaker_parameters_ask_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).expect("params"),
        );
        let salt = SaltString::generate(&mut OsRng);
        let h = weak.hash_password(b"pw", &salt).expect("hash").to_string();
        assert_eq!(verify("pw", &h), Verified::YesRehash);
    }
}
