//! Storage of second factors: TOTP secrets (sealed), recovery codes (keyed hashes), and
//! sign-ins waiting for their second step.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{staff_passkeys, staff_pending_signins, staff_recovery_codes, staff_totp};
use crate::db::{new_id, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_totp)]
pub struct TotpRow {
    pub user_id: String,
    pub secret: String,
    pub confirmed_at: Option<NaiveDateTime>,
    pub last_step: Option<i64>,
    pub created_at: NaiveDateTime,
}

pub fn totp(conn: &mut DbConnection, user_id: &str) -> QueryResult<Option<TotpRow>> {
    staff_totp::table
        .find(user_id)
        .select(TotpRow::as_select())
        .first(conn)
        .optional()
}

/// True when the account has TOTP turned on (confirmed).
pub fn has_totp(conn: &mut DbConnection, user_id: &str) -> QueryResult<bool> {
    let n: i64 = staff_totp::table
        .filter(staff_totp::user_id.eq(user_id))
        .filter(staff_totp::confirmed_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// True when the account has a second factor: TOTP turned on, or a passkey.
pub fn has_second_factor(conn: &mut DbConnection, user_id: &str) -> QueryResult<bool> {
    let passkeys: i64 = staff_passkeys::table
        .filter(staff_passkeys::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok(passkeys > 0 || has_totp(conn, user_id)?)
}

/// The accounts with a second factor (TOTP turned on, or a passkey).
pub fn users_with_second_factor(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    let mut users: Vec<String> = staff_totp::table
        .filter(staff_totp::confirmed_at.is_not_null())
        .select(staff_totp::user_id)
        .load(conn)?;
    users.extend(super::passkeys::store::users_with_passkeys(conn)?);
    users.sort();
    users.dedup();
    Ok(users)
}

/// Stores a new, not yet confirmed secret in place of an earlier unconfirmed one. Returns 0
/// (and changes nothing) when a confirmed secret exists.
pub fn put_unconfirmed_totp(
    conn: &mut DbConnection,
    user_id: &str,
    sealed: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        staff_totp::table
            .filter(staff_totp::user_id.eq(user_id))
            .filter(staff_totp::confirmed_at.is_null()),
    )
    .execute(conn)?;
    if totp(conn, user_id)?.is_some() {
        return Ok(0);
    }
    diesel::insert_into(staff_totp::table)
        .values((
            staff_totp::user_id.eq(user_id),
            staff_totp::secret.eq(sealed),
            staff_totp::created_at.eq(now),
        ))
        .execute(conn)
}

/// Turns the unconfirmed secret on, recording the step its first code used.
pub fn confirm_totp(
    conn: &mut DbConnection,
    user_id: &str,
    step: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        staff_totp::table
            .filter(staff_totp::user_id.eq(user_id))
            .filter(staff_totp::confirmed_at.is_null()),
    )
    .set((
        staff_totp::confirmed_at.eq(Some(now)),
        staff_totp::last_step.eq(Some(step)),
    ))
    .execute(conn)
}

/// Accepts a code's time step only when it is later than the last accepted one: one
/// conditional update, so two requests with the same code cannot both pass.
pub fn accept_step(conn: &mut DbConnection, user_id: &str, step: i64) -> QueryResult<bool> {
    let n = diesel::update(
        staff_totp::table
            .filter(staff_totp::user_id.eq(user_id))
            .filter(staff_totp::confirmed_at.is_not_null())
            .filter(
                staff_totp::last_step
                    .is_null()
                    .or(staff_totp::last_step.lt(step)),
            ),
    )
    .set(staff_totp::last_step.eq(Some(step)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Removes the account's TOTP secret and its recovery codes; returns 1 when TOTP was on
/// (confirmed), else 0.
pub fn delete_totp(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    let on = usize::from(has_totp(conn, user_id)?);
    diesel::delete(staff_totp::table.filter(staff_totp::user_id.eq(user_id))).execute(conn)?;
    diesel::delete(staff_recovery_codes::table.filter(staff_recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(on)
}

/// Removes every second factor of the account: TOTP with its recovery codes, and its
/// passkeys; returns how many factors there were (TOTP on counts one, each passkey one).
pub fn delete_second_factors(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    let totp = delete_totp(conn, user_id)?;
    Ok(totp + super::passkeys::store::delete_all(conn, user_id)?)
}

/// Replaces the account's recovery codes with these hashes.
pub fn replace_recovery_codes(
    conn: &mut DbConnection,
    user_id: &str,
    hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(staff_recovery_codes::table.filter(staff_recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    for hash in hashes {
        diesel::insert_into(staff_recovery_codes::table)
            .values((
                staff_recovery_codes::id.eq(new_id()),
                staff_recovery_codes::user_id.eq(user_id),
                staff_recovery_codes::code_hash.eq(hash),
                staff_recovery_codes::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Uses up an unused recovery code; false when there is none with this hash.
pub fn use_recovery_code(
    conn: &mut DbConnection,
    user_id: &str,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        staff_recovery_codes::table
            .filter(staff_recovery_codes::user_id.eq(user_id))
            .filter(staff_recovery_codes::code_hash.eq(hash))
            .filter(staff_recovery_codes::used_at.is_null()),
    )
    .set(staff_recovery_codes::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn unused_recovery_codes(conn: &mut DbConnection, user_id: &str) -> QueryResult<i64> {
    staff_recovery_codes::table
        .filter(staff_recovery_codes::user_id.eq(user_id))
        .filter(staff_recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}

// ---- sign-ins waiting for their second step ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_pending_signins)]
pub struct PendingRow {
    pub id: String,
    pub user_id: String,
    pub account_hash: String,
    pub client_hash: String,
    pub next_path: String,
    pub user_agent: Option<String>,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// What a new pending sign-in records.
pub struct NewPending<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub account_hash: &'a str,
    pub client_hash: &'a str,
    pub next_path: &'a str,
    pub user_agent: Option<&'a str>,
}

/// Stores a pending sign-in, pruning those that expired.
pub fn insert_pending(
    conn: &mut DbConnection,
    new: &NewPending<'_>,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(staff_pending_signins::table.filter(staff_pending_signins::expires_at.le(now)))
        .execute(conn)?;
    diesel::insert_into(staff_pending_signins::table)
        .values((
            staff_pending_signins::id.eq(new.token_hash),
            staff_pending_signins::user_id.eq(new.user_id),
            staff_pending_signins::account_hash.eq(new.account_hash),
            staff_pending_signins::client_hash.eq(new.client_hash),
            staff_pending_signins::next_path.eq(new.next_path),
            staff_pending_signins::user_agent.eq(new.user_agent),
            staff_pending_signins::attempts.eq(0),
            staff_pending_signins::created_at.eq(now),
            staff_pending_signins::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unexpired pending sign-in with this token hash.
pub fn pending(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<PendingRow>> {
    staff_pending_signins::table
        .find(token_hash)
        .filter(staff_pending_signins::expires_at.gt(now))
        .select(PendingRow::as_select())
        .first(conn)
        .optional()
}

/// Counts one wrong code against the pending sign-in; returns the attempts so far.
pub fn count_pending_attempt(conn: &mut DbConnection, token_hash: &str) -> QueryResult<i32> {
    diesel::update(staff_pending_signins::table.find(token_hash))
        .set(staff_pending_signins::attempts.eq(staff_pending_signins::attempts + 1))
        .execute(conn)?;
    staff_pending_signins::table
        .find(token_hash)
        .select(staff_pending_signins::attempts)
        .first(conn)
}

/// Deletes the pending sign-in; 1 when this call used it up, 0 when it was already gone.
pub fn delete_pending(conn: &mut DbConnection, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(staff_pending_signins::table.find(token_hash)).execute(conn)
}

/// Ends every pending sign-in of the account (its second factor was reset).
pub fn delete_user_pending(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(staff_pending_signins::table.filter(staff_pending_signins::user_id.eq(user_id)))
        .execute(conn)
}
