//! Proving a passkey: again on the account page (a recent second-factor check), as the second
//! step of a sign-in whose password was right, or alone to sign in (a discoverable credential
//! names its account by its user handle).

use chrono::NaiveDateTime;
use diesel::OptionalExtension;
use serde::Deserialize;
use serde_json::Value;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PublicKeyCredential, Webauthn, WebauthnResult,
};

use super::store::{self, PasskeyRow};
use super::{
    credential_key, expired, open_ceremony, relying_party, take_ceremony, Purpose, Started,
};
use crate::error::AppError;
use crate::keys::token_hash;
use crate::staff::access::Staff;
use crate::staff::model::StaffUser;
use crate::staff::store as staff_store;
use crate::staff::two_factor::store as factor_store;
use crate::state::AppState;

/// What the browser sends to finish any assertion.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionFinish {
    pub ceremony: String,
    pub credential: PublicKeyCredential,
}

fn options(value: impl serde::Serialize) -> Result<Value, AppError> {
    let mut options = serde_json::to_value(value).map_err(AppError::unexpected)?;
    // The pages ask on a click, not through the browser's autofill ("conditional" mediation).
    if let Some(map) = options.as_object_mut() {
        map.remove("mediation");
    }
    Ok(options)
}

async fn passkey_rows(state: &AppState, user_id: &str) -> Result<Vec<PasskeyRow>, AppError> {
    let id = user_id.to_string();
    state
        .db
        .run(move |conn| Ok(store::passkeys(conn, &id)?))
        .await
}

fn parse(rows: &[PasskeyRow]) -> Result<Vec<(String, Passkey)>, AppError> {
    rows.iter()
        .map(|r| {
            serde_json::from_str::<Passkey>(&r.passkey)
                .map(|p| (r.id.clone(), p))
                .map_err(AppError::unexpected)
        })
        .collect()
}

/// Starts an assertion by one of the account's passkeys.
async fn start_for_account(
    state: &AppState,
    user_id: &str,
    purpose: Purpose,
    pending_id: Option<String>,
) -> Result<Started, AppError> {
    let passkeys: Vec<Passkey> = parse(&passkey_rows(state, user_id).await?)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if passkeys.is_empty() {
        return Err(AppError::Conflict("This account has no passkey.".into()));
    }
    let (request, authentication) = relying_party(&state.settings)?
        .start_passkey_authentication(&passkeys)
        .map_err(AppError::unexpected)?;
    let saved = serde_json::to_string(&authentication).map_err(AppError::unexpected)?;
    let ceremony = open_ceremony(
        state,
        purpose,
        Some(user_id.to_string()),
        pending_id,
        None,
        saved,
    )
    .await?;
    Ok(Started {
        ceremony,
        options: options(request)?,
    })
}

/// Checks an assertion against the account's passkeys with `check`; on success records the
/// passkey's use (its new sign counter) and returns true.
async fn accept(
    state: &AppState,
    user_id: &str,
    check: impl FnOnce(&Webauthn, &[(String, Passkey)]) -> WebauthnResult<AuthenticationResult>,
) -> Result<bool, AppError> {
    let passkeys = parse(&passkey_rows(state, user_id).await?)?;
    let webauthn = relying_party(&state.settings)?;
    let result = match check(&webauthn, &passkeys) {
        Ok(result) => result,
        Err(e) => {
            tracing::info!(error = %e, "passkey assertion refused");
            return Ok(false);
        }
    };
    let Some((id, mut passkey)) = passkeys
        .into_iter()
        .find(|(_, p)| p.cred_id() == result.cred_id())
    else {
        return Ok(false);
    };
    passkey.update_credential(&result);
    let saved = serde_json::to_string(&passkey).map_err(AppError::unexpected)?;
    let (count, now) = (i64::from(result.counter()), state.clock.now());
    state
        .db
        .write(move |conn| Ok(store::record_use(conn, &id, &saved, count, now)?))
        .await?;
    Ok(true)
}

// ---- a recent second-factor check on the account page ----

pub async fn start_confirm(state: &AppState, staff: &Staff) -> Result<Started, AppError> {
    super::browser_session(staff)?;
    start_for_account(state, &staff.user.id, Purpose::Confirm, None).await
}

/// Checks the passkey and marks the session as recently checked.
pub async fn finish_confirm(
    state: &AppState,
    staff: &Staff,
    input: AssertionFinish,
) -> Result<NaiveDateTime, AppError> {
    let row = take_ceremony(state, &input.ceremony, Purpose::Confirm).await?;
    if row.user_id.as_deref() != Some(staff.user.id.as_str()) {
        return Err(expired());
    }
    super::browser_session(staff)?;
    let session = staff.session_hash().unwrap_or_default().to_string();
    let authentication: PasskeyAuthentication =
        serde_json::from_str(&row.state).map_err(AppError::unexpected)?;
    let ok = accept(state, &staff.user.id, |w, _| {
        w.finish_passkey_authentication(&input.credential, &authentication)
    })
    .await?;
    if !ok {
        return Err(AppError::field(
            "credential",
            "This passkey was not accepted; try again.",
        ));
    }
    let now = state.clock.now();
    state
        .db
        .write(move |conn| Ok(store::mark_session_checked(conn, &session, now)?))
        .await?;
    Ok(now)
}

// ---- the second step of a sign-in ----

/// Starts the passkey step for the pending sign-in held by this browser (`pending_token`, its
/// cookie); 409 when there is none (expired, used) or its account has no passkey.
pub async fn start_second_step(state: &AppState, pending_token: &str) -> Result<Started, AppError> {
    let hash = token_hash(pending_token);
    let now = state.clock.now();
    let pending = {
        let hash = hash.clone();
        state
            .db
            .run(move |conn| Ok(factor_store::pending(conn, &hash, now)?))
            .await?
    };
    let Some(pending) = pending else {
        return Err(expired());
    };
    start_for_account(state, &pending.user_id, Purpose::SecondStep, Some(hash)).await
}

/// Checks the passkey step of the pending sign-in `pending_hash` of account `user_id`: false
/// when the ceremony is not this sign-in's (or is gone) or the passkey is not accepted.
pub async fn check_second_step(
    state: &AppState,
    user_id: &str,
    pending_hash: &str,
    input: &AssertionFinish,
) -> Result<bool, AppError> {
    let row = match take_ceremony(state, &input.ceremony, Purpose::SecondStep).await {
        Ok(row) => row,
        Err(AppError::Conflict(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    if row.user_id.as_deref() != Some(user_id) || row.pending_id.as_deref() != Some(pending_hash) {
        return Ok(false);
    }
    let authentication: PasskeyAuthentication =
        serde_json::from_str(&row.state).map_err(AppError::unexpected)?;
    accept(state, user_id, |w, _| {
        w.finish_passkey_authentication(&input.credential, &authentication)
    })
    .await
}

// ---- signing in with a passkey alone ----

/// Starts a sign-in by any passkey the browser's authenticators hold for this site.
pub async fn start_sign_in(state: &AppState) -> Result<Started, AppError> {
    let (request, authentication) = relying_party(&state.settings)?
        .start_discoverable_authentication()
        .map_err(AppError::unexpected)?;
    let saved = serde_json::to_string(&authentication).map_err(AppError::unexpected)?;
    let ceremony = open_ceremony(state, Purpose::SignIn, None, None, None, saved).await?;
    Ok(Started {
        ceremony,
        options: options(request)?,
    })
}

/// The outcome of a passkey sign-in's answer.
pub enum PasskeySignIn {
    /// The passkey is right and names this (enabled) account.
    Accepted(StaffUser),
    /// It names this account, but was not accepted (counted as a failed sign-in).
    Refused(StaffUser),
    /// It names no enabled account.
    Unknown,
}

/// Checks the answer to a passkey sign-in; 409 when the ceremony is unknown, expired or used.
pub async fn finish_sign_in(
    state: &AppState,
    input: &AssertionFinish,
) -> Result<PasskeySignIn, AppError> {
    let row = take_ceremony(state, &input.ceremony, Purpose::SignIn).await?;
    let authentication: DiscoverableAuthentication =
        serde_json::from_str(&row.state).map_err(AppError::unexpected)?;
    let webauthn = relying_party(&state.settings)?;
    let Ok((handle, credential_id)) =
        webauthn.identify_discoverable_authentication(&input.credential)
    else {
        return Ok(PasskeySignIn::Unknown);
    };
    let key = credential_key(credential_id);
    let handle = handle.to_string();
    let found = state
        .db
        .run(move |conn| {
            let Some(passkey) = store::by_credential(conn, &key)? else {
                return Ok(None);
            };
            if passkey.user_id != handle {
                return Ok(None);
            }
            Ok(staff_store::find_user(conn, &handle)
                .optional()?
                .filter(|u| !u.disabled))
        })
        .await?;
    let Some(user) = found else {
        return Ok(PasskeySignIn::Unknown);
    };
    let ok = accept(state, &user.id, |w, passkeys| {
        let keys: Vec<DiscoverableKey> = passkeys.iter().map(|(_, p)| p.into()).collect();
        w.finish_discoverable_authentication(&input.credential, authentication, &keys)
    })
    .await?;
    Ok(if ok {
        PasskeySignIn::Accepted(user)
    } else {
        PasskeySignIn::Refused(user)
    })
}
