//! Staff storage: accounts, sessions, API tokens, first-run setup links.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::{
    staff_login_failures, staff_sessions, staff_setup_tokens, staff_tokens, staff_users,
};
use crate::db::{new_id, DbConnection};
use crate::staff::model::{NewStaff, StaffUser};

// ---- accounts ----

pub fn count_users(conn: &mut DbConnection) -> QueryResult<i64> {
    staff_users::table.count().get_result(conn)
}

pub fn insert_user(
    conn: &mut DbConnection,
    new: &NewStaff,
    password_hash: &str,
) -> QueryResult<StaffUser> {
    let id = new_id();
    let now = crate::db::now();
    diesel::insert_into(staff_users::table)
        .values((
            staff_users::id.eq(&id),
            staff_users::email.eq(new.email.normalized()),
            staff_users::display_name.eq(new.name.as_str()),
            staff_users::role.eq(new.role.as_str()),
            staff_users::password_hash.eq(password_hash),
            staff_users::disabled.eq(false),
            staff_users::failed_logins.eq(0),
            staff_users::created_at.eq(now),
            staff_users::updated_at.eq(now),
        ))
        .execute(conn)?;
    find_user(conn, &id)
}

pub fn find_user(conn: &mut DbConnection, id: &str) -> QueryResult<StaffUser> {
    staff_users::table
        .find(id)
        .select(StaffUser::as_select())
        .first(conn)
}

pub fn find_user_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<StaffUser>> {
    staff_users::table
        .filter(staff_users::email.eq(email.trim().to_lowercase()))
        .select(StaffUser::as_select())
        .first(conn)
        .optional()
}

pub fn list_users(conn: &mut DbConnection) -> QueryResult<Vec<StaffUser>> {
    staff_users::table
        .order(staff_users::email.asc())
        .select(StaffUser::as_select())
        .load(conn)
}

pub fn set_password_hash(conn: &mut DbConnection, user_id: &str, hash: &str) -> QueryResult<usize> {
    diesel::update(staff_users::table.find(user_id))
        .set((
            staff_users::password_hash.eq(hash),
            staff_users::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
}

/// Disables an account and ends all its sessions and tokens.
pub fn disable_user(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    let now = crate::db::now();
    let n = diesel::update(staff_users::table.find(user_id))
        .set((
            staff_users::disabled.eq(true),
            staff_users::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::delete(staff_sessions::table.filter(staff_sessions::user_id.eq(user_id)))
        .execute(conn)?;
    diesel::update(
        staff_tokens::table
            .filter(staff_tokens::user_id.eq(user_id))
            .filter(staff_tokens::revoked_at.is_null()),
    )
    .set(staff_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n)
}

pub fn enable_user(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::update(staff_users::table.find(user_id))
        .set((
            staff_users::disabled.eq(false),
            staff_users::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
}

pub fn set_role(conn: &mut DbConnection, user_id: &str, role: &str) -> QueryResult<usize> {
    diesel::update(staff_users::table.find(user_id))
        .set((
            staff_users::role.eq(role),
            staff_users::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)
}

pub fn record_login(conn: &mut DbConnection, user_id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(staff_users::table.find(user_id))
        .set(staff_users::last_login_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}

// ---- failed sign-ins, per (account, client) ----

/// How long failed sign-ins count.
pub const FAILURE_WINDOW: TimeDelta = TimeDelta::hours(1);

/// One client's failed sign-ins on one address (both keyed hashes) in the current window.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_login_failures)]
pub struct LoginFailures {
    pub failures: i32,
    pub window_start: NaiveDateTime,
    pub last_failed_at: NaiveDateTime,
}

/// The failures of this (account, client) pair, if its window is still open.
pub fn login_failures(
    conn: &mut DbConnection,
    account_hash: &str,
    client_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<LoginFailures>> {
    staff_login_failures::table
        .find((account_hash, client_hash))
        .filter(staff_login_failures::window_start.gt(now - FAILURE_WINDOW))
        .select(LoginFailures::as_select())
        .first(conn)
        .optional()
}

/// Counts a failed sign-in of this (account, client) pair in its one-hour window (a new window
/// when the last one has closed), and prunes pairs whose window closed. Call inside a write
/// transaction: a pair first seen by two requests at once is settled through a savepoint.
pub fn record_login_failure(
    conn: &mut DbConnection,
    account_hash: &str,
    client_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let closed = now - FAILURE_WINDOW;
    diesel::delete(
        staff_login_failures::table.filter(staff_login_failures::window_start.le(closed)),
    )
    .execute(conn)?;
    let pair = staff_login_failures::table.find((account_hash, client_hash));
    let count_one = |conn: &mut DbConnection| {
        diesel::update(pair)
            .set((
                staff_login_failures::failures.eq(staff_login_failures::failures + 1),
                staff_login_failures::last_failed_at.eq(now),
            ))
            .execute(conn)
    };
    if count_one(conn)? == 1 {
        return Ok(());
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(staff_login_failures::table)
            .values((
                staff_login_failures::account_hash.eq(account_hash),
                staff_login_failures::client_hash.eq(client_hash),
                staff_login_failures::failures.eq(1),
                staff_login_failures::window_start.eq(now),
                staff_login_failures::last_failed_at.eq(now),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(()),
        // Another request recorded the pair's first failure meanwhile: count this one on it.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => count_one(conn).map(|_| ()),
        Err(e) => Err(e),
    }
}

/// Forgets the pair's failures (after it signed in).
pub fn clear_login_failures(
    conn: &mut DbConnection,
    account_hash: &str,
    client_hash: &str,
) -> QueryResult<usize> {
    diesel::delete(staff_login_failures::table.find((account_hash, client_hash))).execute(conn)
}

// ---- sessions ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub csrf_token: String,
    pub user_agent: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    /// When the session last proved a second factor again (a passkey on the account page).
    pub second_factor_at: Option<NaiveDateTime>,
}

pub fn insert_session(
    conn: &mut DbConnection,
    token_hash: &str,
    user_id: &str,
    csrf_token: &str,
    user_agent: Option<&str>,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(staff_sessions::table)
        .values((
            staff_sessions::id.eq(token_hash),
            staff_sessions::user_id.eq(user_id),
            staff_sessions::csrf_token.eq(csrf_token),
            staff_sessions::user_agent.eq(user_agent),
            staff_sessions::created_at.eq(now),
            staff_sessions::last_seen_at.eq(now),
            staff_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The session and its (enabled) account.
pub fn find_session(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<(SessionRow, StaffUser)>> {
    staff_sessions::table
        .inner_join(staff_users::table)
        .filter(staff_sessions::id.eq(token_hash))
        .filter(staff_users::disabled.eq(false))
        .select((SessionRow::as_select(), StaffUser::as_select()))
        .first(conn)
        .optional()
}

pub fn touch_session(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(staff_sessions::table.find(token_hash))
        .set(staff_sessions::last_seen_at.eq(now))
        .execute(conn)
}

pub fn delete_session(conn: &mut DbConnection, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(staff_sessions::table.find(token_hash)).execute(conn)
}

pub fn user_sessions(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<SessionRow>> {
    staff_sessions::table
        .filter(staff_sessions::user_id.eq(user_id))
        .order(staff_sessions::last_seen_at.desc())
        .select(SessionRow::as_select())
        .load(conn)
}

/// Ends every session of a user (a password reset, an admin's "end all sessions").
pub fn delete_user_sessions(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(staff_sessions::table.filter(staff_sessions::user_id.eq(user_id))).execute(conn)
}

/// The user's sessions that are neither past their absolute expiry nor idle for `idle`,
/// most recently seen first.
pub fn active_user_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
    idle: TimeDelta,
) -> QueryResult<Vec<SessionRow>> {
    staff_sessions::table
        .filter(staff_sessions::user_id.eq(user_id))
        .filter(staff_sessions::expires_at.gt(now))
        .filter(staff_sessions::last_seen_at.gt(now - idle))
        .order(staff_sessions::last_seen_at.desc())
        .select(SessionRow::as_select())
        .load(conn)
}

/// Active sessions per account (for the staff accounts page).
pub fn active_session_counts(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    idle: TimeDelta,
) -> QueryResult<Vec<(String, i64)>> {
    staff_sessions::table
        .filter(staff_sessions::expires_at.gt(now))
        .filter(staff_sessions::last_seen_at.gt(now - idle))
        .group_by(staff_sessions::user_id)
        .select((staff_sessions::user_id, diesel::dsl::count_star()))
        .load(conn)
}

/// Ends every session of a user except `keep` (after a password change).
pub fn delete_other_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    keep: &str,
) -> QueryResult<usize> {
    diesel::delete(
        staff_sessions::table
            .filter(staff_sessions::user_id.eq(user_id))
            .filter(staff_sessions::id.ne(keep)),
    )
    .execute(conn)
}

/// Removes sessions past their absolute expiry or idle for longer than `idle`.
pub fn delete_expired_sessions(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    idle: TimeDelta,
) -> QueryResult<usize> {
    diesel::delete(
        staff_sessions::table.filter(
            staff_sessions::expires_at
                .le(now)
                .or(staff_sessions::last_seen_at.le(now - idle)),
        ),
    )
    .execute(conn)
}

// ---- API tokens ----

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = staff_tokens)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub label: String,
    #[serde(skip)]
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert_token(
    conn: &mut DbConnection,
    user_id: &str,
    label: &str,
    token_hash: &str,
) -> QueryResult<String> {
    let id = new_id();
    diesel::insert_into(staff_tokens::table)
        .values((
            staff_tokens::id.eq(&id),
            staff_tokens::user_id.eq(user_id),
            staff_tokens::label.eq(label),
            staff_tokens::token_hash.eq(token_hash),
            staff_tokens::created_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// A live token and its (enabled) account.
pub fn find_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<(TokenRow, StaffUser)>> {
    staff_tokens::table
        .inner_join(staff_users::table)
        .filter(staff_tokens::token_hash.eq(token_hash))
        .filter(staff_tokens::revoked_at.is_null())
        .filter(staff_users::disabled.eq(false))
        .select((TokenRow::as_select(), StaffUser::as_select()))
        .first(conn)
        .optional()
}

pub fn touch_token(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(staff_tokens::table.find(id))
        .set(staff_tokens::last_used_at.eq(Some(now)))
        .execute(conn)
}

pub fn user_tokens(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<TokenRow>> {
    staff_tokens::table
        .filter(staff_tokens::user_id.eq(user_id))
        .order(staff_tokens::created_at.desc())
        .select(TokenRow::as_select())
        .load(conn)
}

/// Revokes one of the user's tokens; returns 0 when it is not theirs or already revoked.
pub fn revoke_token(conn: &mut DbConnection, user_id: &str, token_id: &str) -> QueryResult<usize> {
    diesel::update(
        staff_tokens::table
            .filter(staff_tokens::id.eq(token_id))
            .filter(staff_tokens::user_id.eq(user_id))
            .filter(staff_tokens::revoked_at.is_null()),
    )
    .set(staff_tokens::revoked_at.eq(Some(crate::db::now())))
    .execute(conn)
}

// ---- first-run setup links ----

pub fn insert_setup_token(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(staff_setup_tokens::table)
        .values((
            staff_setup_tokens::token_hash.eq(token_hash),
            staff_setup_tokens::created_at.eq(now),
            staff_setup_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// True when the setup link is unused and unexpired.
pub fn setup_token_valid(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let found: Option<String> = staff_setup_tokens::table
        .filter(staff_setup_tokens::token_hash.eq(token_hash))
        .filter(staff_setup_tokens::used_at.is_null())
        .filter(staff_setup_tokens::expires_at.gt(now))
        .select(staff_setup_tokens::token_hash)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Uses the setup link up; returns false when it was already used or expired.
pub fn consume_setup_token(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        staff_setup_tokens::table
            .filter(staff_setup_tokens::token_hash.eq(token_hash))
            .filter(staff_setup_tokens::used_at.is_null())
            .filter(staff_setup_tokens::expires_at.gt(now)),
    )
    .set(staff_setup_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}
