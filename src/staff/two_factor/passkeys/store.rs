//! Storage of passkeys and of WebAuthn ceremonies between their two requests.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{staff_passkeys, staff_sessions, staff_webauthn_ceremonies};
use crate::db::{new_id, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_passkeys)]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: String,
    pub credential_id: String,
    pub passkey: String,
    pub sign_count: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

/// The account's passkeys, oldest first.
pub fn passkeys(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<PasskeyRow>> {
    staff_passkeys::table
        .filter(staff_passkeys::user_id.eq(user_id))
        .order((staff_passkeys::created_at.asc(), staff_passkeys::id.asc()))
        .select(PasskeyRow::as_select())
        .load(conn)
}

pub fn count(conn: &mut DbConnection, user_id: &str) -> QueryResult<i64> {
    staff_passkeys::table
        .filter(staff_passkeys::user_id.eq(user_id))
        .count()
        .get_result(conn)
}

/// The passkey with this credential id (base64url), whoever it belongs to.
pub fn by_credential(
    conn: &mut DbConnection,
    credential_id: &str,
) -> QueryResult<Option<PasskeyRow>> {
    staff_passkeys::table
        .filter(staff_passkeys::credential_id.eq(credential_id))
        .select(PasskeyRow::as_select())
        .first(conn)
        .optional()
}

/// What a new passkey records.
pub struct NewPasskey<'a> {
    pub user_id: &'a str,
    pub credential_id: &'a str,
    pub passkey: &'a str,
    pub sign_count: i64,
    pub name: &'a str,
}

/// Stores a passkey; returns its id. A credential id already stored is a unique violation.
pub fn insert(
    conn: &mut DbConnection,
    new: &NewPasskey<'_>,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let id = new_id();
    diesel::insert_into(staff_passkeys::table)
        .values((
            staff_passkeys::id.eq(&id),
            staff_passkeys::user_id.eq(new.user_id),
            staff_passkeys::credential_id.eq(new.credential_id),
            staff_passkeys::passkey.eq(new.passkey),
            staff_passkeys::sign_count.eq(new.sign_count),
            staff_passkeys::name.eq(new.name),
            staff_passkeys::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Records a use: the credential as the library updated it (its sign counter) and the time.
pub fn record_use(
    conn: &mut DbConnection,
    id: &str,
    passkey: &str,
    sign_count: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(staff_passkeys::table.find(id))
        .set((
            staff_passkeys::passkey.eq(passkey),
            staff_passkeys::sign_count.eq(sign_count),
            staff_passkeys::last_used_at.eq(Some(now)),
        ))
        .execute(conn)
}

/// Renames one of the account's passkeys; 0 when it has none with this id.
pub fn rename(conn: &mut DbConnection, user_id: &str, id: &str, name: &str) -> QueryResult<usize> {
    diesel::update(
        staff_passkeys::table
            .filter(staff_passkeys::id.eq(id))
            .filter(staff_passkeys::user_id.eq(user_id)),
    )
    .set(staff_passkeys::name.eq(name))
    .execute(conn)
}

/// Deletes one of the account's passkeys; returns its name, `None` when it has none with this id.
pub fn delete(conn: &mut DbConnection, user_id: &str, id: &str) -> QueryResult<Option<String>> {
    let found = staff_passkeys::table
        .filter(staff_passkeys::id.eq(id))
        .filter(staff_passkeys::user_id.eq(user_id))
        .select(staff_passkeys::name)
        .first::<String>(conn)
        .optional()?;
    if found.is_some() {
        diesel::delete(staff_passkeys::table.find(id)).execute(conn)?;
    }
    Ok(found)
}

/// Deletes every passkey of the account and its open ceremonies; returns how many passkeys.
pub fn delete_all(conn: &mut DbConnection, user_id: &str) -> QueryResult<usize> {
    diesel::delete(
        staff_webauthn_ceremonies::table.filter(staff_webauthn_ceremonies::user_id.eq(user_id)),
    )
    .execute(conn)?;
    diesel::delete(staff_passkeys::table.filter(staff_passkeys::user_id.eq(user_id))).execute(conn)
}

/// The accounts with at least one passkey.
pub fn users_with_passkeys(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    staff_passkeys::table
        .select(staff_passkeys::user_id)
        .distinct()
        .load(conn)
}

// ---- ceremonies ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_webauthn_ceremonies)]
pub struct CeremonyRow {
    pub id: String,
    pub purpose: String,
    pub user_id: Option<String>,
    pub pending_id: Option<String>,
    pub name: Option<String>,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// What a new ceremony records.
pub struct NewCeremony<'a> {
    pub id_hash: &'a str,
    pub purpose: &'a str,
    pub user_id: Option<&'a str>,
    pub pending_id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub state: &'a str,
}

/// Stores a ceremony, pruning those that expired.
pub fn put_ceremony(
    conn: &mut DbConnection,
    new: &NewCeremony<'_>,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(
        staff_webauthn_ceremonies::table.filter(staff_webauthn_ceremonies::expires_at.le(now)),
    )
    .execute(conn)?;
    diesel::insert_into(staff_webauthn_ceremonies::table)
        .values((
            staff_webauthn_ceremonies::id.eq(new.id_hash),
            staff_webauthn_ceremonies::purpose.eq(new.purpose),
            staff_webauthn_ceremonies::user_id.eq(new.user_id),
            staff_webauthn_ceremonies::pending_id.eq(new.pending_id),
            staff_webauthn_ceremonies::name.eq(new.name),
            staff_webauthn_ceremonies::state.eq(new.state),
            staff_webauthn_ceremonies::created_at.eq(now),
            staff_webauthn_ceremonies::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes the unexpired ceremony with this id hash and purpose out of storage: only the one
/// call whose delete removed the row gets it, so a ceremony finishes at most once.
pub fn take_ceremony(
    conn: &mut DbConnection,
    id_hash: &str,
    purpose: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<CeremonyRow>> {
    let found = staff_webauthn_ceremonies::table
        .find(id_hash)
        .filter(staff_webauthn_ceremonies::purpose.eq(purpose))
        .filter(staff_webauthn_ceremonies::expires_at.gt(now))
        .select(CeremonyRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = found else {
        return Ok(None);
    };
    let deleted = diesel::delete(staff_webauthn_ceremonies::table.find(id_hash)).execute(conn)?;
    Ok((deleted == 1).then_some(row))
}

// ---- the session's recent check ----

/// Records that the session proved a second factor again just now.
pub fn mark_session_checked(
    conn: &mut DbConnection,
    session_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(staff_sessions::table.find(session_hash))
        .set(staff_sessions::second_factor_at.eq(Some(now)))
        .execute(conn)
}
