//! Password recovery: single-use reset links, valid 30 minutes, stored only as the SHA-256 of
//! their 32 random bytes (like first-run setup links).
//!
//! A link is made three ways: "Forgot your password?" on the sign-in page (emailed to the
//! account, never telling whether there is one), an admin's "Send reset link" (emailed), and
//! `frontdesk staff reset-password` (printed for the operator to hand over). Setting the new
//! password uses the link up, uses up every other outstanding link of the account, ends every
//! session of the account, and emails its owner that the password changed.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use lettre::message::Mailbox;
use serde_json::json;

use crate::config::Settings;
use crate::db::schema::{staff_password_resets as resets, staff_users};
use crate::db::{Db, DbConnection};
use crate::domain::EmailAddress;
use crate::error::{AppError, FieldError};
use crate::keys::{random_token, token_hash};
use crate::mail::{outbox, Email, Mailer, NewOutboxEmail};
use crate::staff::audit::{self, Actor, Entry};
use crate::staff::model::{NewPassword, StaffUser};
use crate::staff::store;
use crate::state::AppState;

/// How long a reset link works.
pub const LINK_MINUTES: i64 = 30;
/// Unused, unexpired links an account may have from the public form; further requests send
/// nothing until one expires (at most six emails an hour to a staff member, whoever asks).
const MAX_OUTSTANDING: i64 = 3;

// ---- store ----

fn insert_link(
    conn: &mut DbConnection,
    token_hash: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(resets::table)
        .values((
            resets::token_hash.eq(token_hash),
            resets::user_id.eq(user_id),
            resets::created_at.eq(now),
            resets::expires_at.eq(now + TimeDelta::minutes(LINK_MINUTES)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The account's links that are neither used nor expired.
fn outstanding(conn: &mut DbConnection, user_id: &str, now: NaiveDateTime) -> QueryResult<i64> {
    resets::table
        .filter(resets::user_id.eq(user_id))
        .filter(resets::used_at.is_null())
        .filter(resets::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// The enabled account an unused, unexpired link resets.
pub fn usable_link(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<StaffUser>> {
    resets::table
        .inner_join(staff_users::table)
        .filter(resets::token_hash.eq(token_hash))
        .filter(resets::used_at.is_null())
        .filter(resets::expires_at.gt(now))
        .filter(staff_users::disabled.eq(false))
        .select(StaffUser::as_select())
        .first(conn)
        .optional()
}

/// Uses up every outstanding link of the account (the one being used included); returns how
/// many there were.
fn use_up_all(conn: &mut DbConnection, user_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        resets::table
            .filter(resets::user_id.eq(user_id))
            .filter(resets::used_at.is_null()),
    )
    .set(resets::used_at.eq(Some(now)))
    .execute(conn)
}

/// Deletes links that expired more than a day ago, used or not (the audit log keeps the story).
pub fn delete_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(resets::table.filter(resets::expires_at.le(now - TimeDelta::days(1))))
        .execute(conn)
}

// ---- links and emails ----

/// The page a reset token opens.
pub fn reset_url(settings: &Settings, token: &str) -> String {
    format!(
        "{}/staff/password/reset?token={token}",
        settings.server.public_url.as_str().trim_end_matches('/')
    )
}

fn link_email(
    mailer: &Mailer,
    settings: &Settings,
    to: Mailbox,
    token: &str,
    by_admin: bool,
) -> Result<NewOutboxEmail, AppError> {
    mailer.compose(Email::new(
        "staff_password_reset",
        to,
        json!({
            "link_url": reset_url(settings, token),
            "minutes": LINK_MINUTES,
            "by_admin": by_admin,
        }),
    ))
}

/// How a password was changed, as told to its owner.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// On the account page, with the current password.
    AccountPage,
    /// With a reset link.
    ResetLink,
}

/// The email telling the owner their password changed (when and how; nothing secret).
pub fn password_changed_email(
    mailer: &Mailer,
    user: &StaffUser,
    change: Change,
) -> Result<NewOutboxEmail, AppError> {
    let how = match change {
        Change::AccountPage => "on your account page",
        Change::ResetLink => "with a password reset link; every browser that was signed in to your account has been signed out",
    };
    mailer.compose(
        Email::new(
            "staff_password_changed",
            user.mailbox()?,
            json!({
                "name": user.display_name,
                "how": how,
                "at": crate::db::now().and_utc().format("%Y-%m-%d %H:%M UTC").to_string(),
            }),
        )
        .reference("staff_user", &user.id),
    )
}

/// "Forgot your password?": emails a link when `typed` is the address of an enabled account
/// with fewer than three outstanding links, and does nothing otherwise. Every address takes the
/// same steps (a token drawn, an email rendered, the account looked up and its links counted in
/// one write transaction), so neither the answer nor its timing says which case it was.
pub async fn request(
    state: &AppState,
    typed: &EmailAddress,
    client_hash: String,
) -> Result<(), AppError> {
    let token = random_token(32);
    let hash = token_hash(&token);
    let email = link_email(
        &state.mailer,
        &state.settings,
        Mailbox::new(None, typed.address().clone()),
        &token,
        false,
    )?;
    let address = typed.normalized();
    let actor = Actor {
        id: None,
        label: "password reset form".into(),
        ip_hash: Some(client_hash),
    };
    let queued = state
        .db
        .write(move |conn| {
            let now = crate::db::now();
            let user = store::find_user_by_email(conn, &address)?.filter(|u| !u.disabled);
            let id = user.as_ref().map(|u| u.id.as_str()).unwrap_or_default();
            let open = outstanding(conn, id, now)?;
            let Some(user) = user.filter(|_| open < MAX_OUTSTANDING) else {
                return Ok(false);
            };
            insert_link(conn, &hash, &user.id, now)?;
            outbox::enqueue(conn, &[email])?;
            audit::record(
                conn,
                &actor,
                Entry::new("staff.password_reset_requested").target("staff_user", &user.id),
            )?;
            Ok(true)
        })
        .await?;
    if queued {
        state.mailer.wake();
    }
    Ok(())
}

/// An admin's "Send reset link": emails the colleague a link (the admin never sees it).
pub async fn send_by_admin(
    state: &AppState,
    user_id: String,
    actor: Actor,
) -> Result<(), AppError> {
    let lookup = user_id.clone();
    let user = state
        .db
        .run(move |conn| Ok(store::find_user(conn, &lookup).optional()?))
        .await?
        .ok_or(AppError::NotFound)?;
    if user.disabled {
        return Err(AppError::Conflict(
            "This account is disabled; enable it before sending a reset link.".into(),
        ));
    }
    let token = random_token(32);
    let hash = token_hash(&token);
    let email = link_email(
        &state.mailer,
        &state.settings,
        user.mailbox()?,
        &token,
        true,
    )?;
    state
        .db
        .write(move |conn| {
            insert_link(conn, &hash, &user_id, crate::db::now())?;
            outbox::enqueue(conn, &[email])?;
            audit::record(
                conn,
                &actor,
                Entry::new("staff.password_reset_sent").target("staff_user", &user_id),
            )?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
    Ok(())
}

/// `frontdesk staff reset-password`: a link for the enabled account with this address, to be
/// handed over by the operator; returns its URL.
pub async fn link_for_operator(
    db: &Db,
    settings: &Settings,
    email: &str,
    actor: Actor,
) -> Result<String, AppError> {
    let token = random_token(32);
    let hash = token_hash(&token);
    let email = email.to_string();
    db.write(move |conn| {
        let user = store::find_user_by_email(conn, &email)?
            .filter(|u| !u.disabled)
            .ok_or(AppError::NotFound)?;
        insert_link(conn, &hash, &user.id, crate::db::now())?;
        audit::record(
            conn,
            &actor,
            Entry::new("staff.password_reset_link_created").target("staff_user", &user.id),
        )?;
        Ok(())
    })
    .await?;
    Ok(reset_url(settings, &token))
}

/// The account a reset token opens, if it is unused, unexpired and the account enabled.
pub async fn account_for(state: &AppState, token: &str) -> Result<Option<StaffUser>, AppError> {
    let hash = token_hash(token);
    state
        .db
        .run(move |conn| Ok(usable_link(conn, &hash, crate::db::now())?))
        .await
}

/// Sets the new password through a reset link: 404 when the link is unusable, 422 naming
/// `password` when it breaks the policy. Ends every session of the account and uses up its
/// other links, in the transaction that stores the hash.
pub async fn complete(
    state: &AppState,
    token: &str,
    password: &str,
    client_hash: String,
) -> Result<(), AppError> {
    let user = account_for(state, token).await?.ok_or(AppError::NotFound)?;
    let new = NewPassword::parse(password, &[&user.email, &user.display_name])
        .map_err(|m| AppError::Validation(vec![FieldError::new("password", m)]))?;
    let password_hash = state.passwords.hash(new.expose().to_string()).await?;
    let notice = password_changed_email(&state.mailer, &user, Change::ResetLink)?;
    let hash = token_hash(token);
    let actor = Actor {
        id: Some(user.id.clone()),
        label: format!("{} <{}>", user.display_name, user.email),
        ip_hash: Some(client_hash),
    };
    state
        .db
        .write(move |conn| {
            let now = crate::db::now();
            // Checked again inside the transaction: two tabs submitting one link race here.
            if usable_link(conn, &hash, now)?.is_none_or(|u| u.id != user.id) {
                return Err(AppError::NotFound);
            }
            store::set_password_hash(conn, &user.id, &password_hash)?;
            let links = use_up_all(conn, &user.id, now)?;
            let sessions = store::delete_user_sessions(conn, &user.id)?;
            outbox::enqueue(conn, &[notice])?;
            audit::record(
                conn,
                &actor,
                Entry::new("staff.password_reset")
                    .target("staff_user", &user.id)
                    .details(json!({ "sessions_ended": sessions, "links_used_up": links })),
            )?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
    Ok(())
}
