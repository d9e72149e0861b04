//! Browsers an account has signed in from, so that a sign-in from a new one can be reported to
//! the account's owner.
//!
//! A browser is recognised by a long-lived cookie (`fd_device`, `__Host-fd_device` on https)
//! holding 32 random bytes, set at sign-in. The table keeps, per account, only a keyed hash of
//! (account, cookie): no IP address, no fingerprint, and two accounts used in one browser cannot
//! be linked from the table. A sign-in whose cookie is missing or unknown to the account emails
//! its owner once (when `staff.new_browser_emails` is on); clearing cookies makes the browser
//! new again, which errs on the side of telling.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::db::schema::staff_known_browsers as known;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::keys::random_token;
use crate::mail::{outbox, Email};
use crate::staff::model::StaffUser;
use crate::staff::user_agent;
use crate::state::AppState;

/// How long a browser keeps its device cookie (browsers cap cookies at 400 days).
const COOKIE_DAYS: i64 = 400;

/// The device cookie's name: `__Host-` prefixed on https.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-fd_device"
    } else {
        "fd_device"
    }
}

/// The browser a sign-in comes from: its `User-Agent` (cut to 200 characters) and its device
/// cookie, the one it sent or a new one.
#[derive(Clone)]
pub struct Browser {
    pub user_agent: Option<String>,
    device: String,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

impl Browser {
    /// Reads the user agent and the device cookie; a missing or malformed cookie gets a new one.
    pub fn from_request(req: &HttpRequest, https: bool) -> Browser {
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(200).collect());
        let device = req
            .cookie(cookie_name(https))
            .map(|c| c.value().to_string())
            .filter(|v| {
                (32..=64).contains(&v.len())
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .unwrap_or_else(|| random_token(32));
        Browser { user_agent, device }
    }

    /// The device cookie to set with a successful sign-in (renewing its lifetime).
    pub fn cookie(&self, https: bool) -> Cookie<'static> {
        Cookie::build(cookie_name(https), self.device.clone())
            .path("/")
            .http_only(true)
            .secure(https)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::days(COOKIE_DAYS))
            .finish()
    }

    /// "Chrome on Linux".
    pub fn description(&self) -> String {
        user_agent::describe(self.user_agent.as_deref())
    }
}

fn device_hash(state: &AppState, user_id: &str, browser: &Browser) -> String {
    state.keys.hash(
        "staff-device",
        format!("{user_id}:{}", browser.device).as_bytes(),
    )
}

/// Whether the account has signed in from this browser before.
pub fn is_known(conn: &mut DbConnection, user_id: &str, device_hash: &str) -> QueryResult<bool> {
    let found: Option<String> = known::table
        .find((user_id, device_hash))
        .select(known::device_hash)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Records a sign-in from this browser; true when the browser was new to the account. Call
/// inside a write transaction: two first sign-ins at once are settled through a savepoint.
pub fn record(
    conn: &mut DbConnection,
    user_id: &str,
    device_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let seen = diesel::update(known::table.find((user_id, device_hash)))
        .set(known::last_seen_at.eq(now))
        .execute(conn)?;
    if seen == 1 {
        return Ok(false);
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(known::table)
            .values((
                known::user_id.eq(user_id),
                known::device_hash.eq(device_hash),
                known::first_seen_at.eq(now),
                known::last_seen_at.eq(now),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Remembers that `user` signed in from `browser` and, the first time, emails its owner
/// (the browser's description and the time; nothing secret). Call once a session is started.
pub async fn remember(
    state: &AppState,
    user: &StaffUser,
    browser: &Browser,
) -> Result<(), AppError> {
    let hash = device_hash(state, &user.id, browser);
    let user_id = user.id.clone();
    let lookup = (user_id.clone(), hash.clone());
    let known = state
        .db
        .run(move |conn| Ok(is_known(conn, &lookup.0, &lookup.1)?))
        .await?;
    let notice = if known || !state.settings.staff.new_browser_emails {
        None
    } else {
        let now = crate::db::now();
        Some(
            state.mailer.compose(
                Email::new(
                    "staff_new_browser",
                    user.mailbox()?,
                    json!({
                        "name": user.display_name,
                        "browser": browser.description(),
                        "at": now.and_utc().format("%Y-%m-%d %H:%M UTC").to_string(),
                    }),
                )
                .reference("staff_user", &user.id),
            )?,
        )
    };
    let queued = state
        .db
        .write(move |conn| {
            let new = record(conn, &user_id, &hash, crate::db::now())?;
            match notice {
                Some(email) if new => {
                    outbox::enqueue(conn, &[email])?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await?;
    if queued {
        state.mailer.wake();
    }
    Ok(())
}
