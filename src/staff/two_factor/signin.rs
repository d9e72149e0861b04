//! The second step of signing in: a pending sign-in (the password was right) bound to the
//! browser by an HttpOnly cookie, single use, expiring after [`PENDING_MINUTES`], that a code
//! from the authenticator app, a recovery code or a passkey turns into a session. Wrong codes count as
//! failed sign-ins of the same (address, client) pair as wrong passwords, so the same limits
//! apply; a pending sign-in also ends after [`MAX_ATTEMPTS`] wrong codes.

use actix_web::cookie::{time, Cookie, SameSite};
use chrono::TimeDelta;

use super::passkeys::signin::{check_second_step, AssertionFinish};
use super::store::{self, NewPending};
use super::{verify_code, Factor};
use crate::error::AppError;
use crate::keys::{random_token, token_hash};
use crate::staff::devices::Browser;
use crate::staff::service::{self, NewSession};
use crate::staff::store as staff_store;
use crate::state::AppState;

pub const PENDING_COOKIE: &str = "fd_pending";
pub const PENDING_MINUTES: i64 = 5;
pub const MAX_ATTEMPTS: i32 = 5;

/// A sign-in whose password was right, waiting for its second step.
pub struct Pending {
    pub user_id: String,
    /// The keyed hash of the address typed, and of the client: what failures count against.
    pub account_hash: String,
    pub client_hash: String,
    pub user_agent: Option<String>,
    /// Where to go once signed in (already checked to be a staff path).
    pub next: String,
}

/// The cookie that binds a pending sign-in to this browser (only to the sign-in pages).
pub fn pending_cookie(https: bool, token: String) -> Cookie<'static> {
    Cookie::build(PENDING_COOKIE, token)
        .path("/staff/login")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::minutes(PENDING_MINUTES))
        .finish()
}

/// Stores a pending sign-in; returns the cookie that carries it.
pub async fn begin_sign_in(
    state: &AppState,
    pending: Pending,
) -> Result<Cookie<'static>, AppError> {
    let token = random_token(32);
    let hash = token_hash(&token);
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let new = NewPending {
                token_hash: &hash,
                user_id: &pending.user_id,
                account_hash: &pending.account_hash,
                client_hash: &pending.client_hash,
                next_path: &pending.next,
                user_agent: pending.user_agent.as_deref(),
            };
            store::insert_pending(conn, &new, now, now + TimeDelta::minutes(PENDING_MINUTES))?;
            Ok(())
        })
        .await?;
    Ok(pending_cookie(state.settings.is_https(), token))
}

/// The outcome of a second step.
pub enum SecondStep {
    /// Signed in: set the session cookie and go to `next`.
    SignedIn {
        cookie: Cookie<'static>,
        next: String,
    },
    /// The code was wrong; the pending sign-in stays for another try.
    Wrong,
    /// No pending sign-in (none, expired, used, or too many wrong codes): start again.
    Expired,
}

/// True when this browser holds a live pending sign-in.
pub async fn is_pending(state: &AppState, token: &str) -> Result<bool, AppError> {
    let hash = token_hash(token);
    let now = state.clock.now();
    state
        .db
        .run(move |conn| Ok(store::pending(conn, &hash, now)?.is_some()))
        .await
}

/// What the second step offers: a typed code (TOTP or recovery), or a passkey's answer.
pub enum Proof {
    Code(String),
    Passkey(Box<AssertionFinish>),
}

/// Checks the second step for the pending sign-in `token`. `client_hash` is this request's
/// client, counted with the address of the password step.
pub async fn complete_sign_in(
    state: &AppState,
    token: &str,
    proof: Proof,
    client_hash: String,
    browser: &Browser,
) -> Result<SecondStep, AppError> {
    let hash = token_hash(token);
    let now = state.clock.now();
    let found = {
        let (hash, client) = (hash.clone(), client_hash.clone());
        state
            .db
            .run(move |conn| {
                let Some(pending) = store::pending(conn, &hash, now)? else {
                    return Ok(None);
                };
                let failures = staff_store::login_failures(
                    conn,
                    &pending.account_hash,
                    &client,
                    crate::db::now(),
                )?;
                let user = staff_store::find_user(conn, &pending.user_id)?;
                Ok(Some((pending, failures, user)))
            })
            .await?
    };
    let Some((pending, failures, user)) = found else {
        return Ok(SecondStep::Expired);
    };
    if user.disabled {
        return Ok(SecondStep::Expired);
    }
    if let Some(wait) = failures.and_then(|f| service::throttled(&state.settings.staff, &f)) {
        return Err(AppError::RateLimited {
            retry_after_secs: wait,
        });
    }
    let factor = match &proof {
        Proof::Code(input) => verify_code(state, &user.id, input).await?,
        Proof::Passkey(answer) => check_second_step(state, &user.id, &hash, answer)
            .await?
            .then_some(Factor::Passkey),
    };
    let Some(factor) = factor else {
        let (account, client) = (pending.account_hash.clone(), client_hash);
        let attempts = state
            .db
            .write(move |conn| {
                staff_store::record_login_failure(conn, &account, &client, crate::db::now())?;
                let attempts = store::count_pending_attempt(conn, &hash)?;
                if attempts >= MAX_ATTEMPTS {
                    store::delete_pending(conn, &hash)?;
                }
                Ok(attempts)
            })
            .await?;
        tracing::info!(attempts, "staff second step refused");
        return Ok(if attempts >= MAX_ATTEMPTS {
            SecondStep::Expired
        } else {
            SecondStep::Wrong
        });
    };
    // Single use: only the request that deletes the pending sign-in goes on.
    let used = state
        .db
        .write(move |conn| Ok(store::delete_pending(conn, &hash)?))
        .await?;
    if used != 1 {
        return Ok(SecondStep::Expired);
    }
    let next = pending.next_path.clone();
    let cookie = service::start_session(
        state,
        NewSession {
            user,
            browser: browser.clone(),
            account_hash: pending.account_hash,
            client_hash: pending.client_hash,
            new_hash: None,
            second_factor: Some(factor.as_str()),
        },
    )
    .await?;
    Ok(SecondStep::SignedIn { cookie, next })
}

impl Factor {
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::RecoveryCode => "recovery_code",
            Factor::Passkey => "passkey",
        }
    }
}
