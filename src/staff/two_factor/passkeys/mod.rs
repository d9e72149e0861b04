//! Passkeys (WebAuthn, with `webauthn-rs`): registered from the two-factor page, they are a
//! second factor after the password and sign in on their own (discoverable credentials).
//!
//! Every ceremony has two requests: the first stores the library's state (serialised) in
//! `staff_webauthn_ceremonies` under the hash of a random id and sends the browser the options
//! with that id; the second takes the state out again (single use, expiring after
//! [`CEREMONY_MINUTES`]) and checks the browser's answer against it. So any process behind the
//! load balancer can answer either request. The relying party is `server.public_url`: its host
//! is the RP id, its origin the only origin accepted.

pub mod signin;
pub mod store;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use webauthn_rs::prelude::{
    CredentialID, Passkey, PasskeyRegistration, RegisterPublicKeyCredential, Url, Uuid, Webauthn,
    WebauthnBuilder,
};

use self::store::{NewCeremony, NewPasskey};
use super::{changed_email, Change};
use crate::config::Settings;
use crate::error::AppError;
use crate::keys::{random_token, token_hash};
use crate::mail::outbox;
use crate::staff::access::Staff;
use crate::staff::audit::{self, Entry};
use crate::staff::ui::rfc3339_seconds;
use crate::state::AppState;

/// How long the browser has between the two requests of a ceremony.
pub const CEREMONY_MINUTES: i64 = 5;
/// How long a passkey confirmed on the account page counts as a recent second-factor check.
pub const RECENT_CHECK_MINUTES: i64 = 10;

/// What a ceremony is for (stored with it, checked when it is taken back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Registering a new passkey for the signed-in account.
    Register,
    /// Proving a passkey again on the account page (a recent second-factor check).
    Confirm,
    /// The second step of a sign-in whose password was right.
    SecondStep,
    /// Signing in with a passkey alone.
    SignIn,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Confirm => "confirm",
            Purpose::SecondStep => "second_step",
            Purpose::SignIn => "sign_in",
        }
    }
}

/// A passkey's name, as its owner calls it ("Laptop", "YubiKey"): 1 to 60 characters.
#[derive(Debug, Clone)]
pub struct PasskeyName(String);

impl PasskeyName {
    pub fn parse(input: &str) -> Result<PasskeyName, AppError> {
        let name = input.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(AppError::field(
                "name",
                "Name the passkey in 1 to 60 characters (e.g. the device it is on).",
            ));
        }
        Ok(PasskeyName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The relying party: `server.public_url`'s host as the RP id, its origin as the one origin.
/// Browsers accept a host name (`localhost` included), not an IP address.
pub fn relying_party(settings: &Settings) -> Result<Webauthn, AppError> {
    let origin = Url::parse(&settings.server.public_url.origin().ascii_serialization())
        .map_err(AppError::unexpected)?;
    let rp_id = origin
        .host_str()
        .ok_or_else(|| AppError::unexpected(anyhow::anyhow!("server.public_url has no host")))?;
    WebauthnBuilder::new(rp_id, &origin)
        .map(|b| b.rp_name(&settings.site.name))
        .and_then(WebauthnBuilder::build)
        .map_err(AppError::unexpected)
}

/// A started ceremony: the id the browser sends back, and the options for
/// `navigator.credentials.create()` / `.get()` (binary fields in base64url).
#[derive(Debug, Serialize)]
pub struct Started {
    pub ceremony: String,
    pub options: Value,
}

/// The credential id as stored: base64url without padding.
pub fn credential_key(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// The WebAuthn user handle of an account: its id (a UUID; no personal data).
fn user_handle(user_id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(user_id).map_err(AppError::unexpected)
}

/// Stores a ceremony's state; returns the id for the browser.
pub(crate) async fn open_ceremony(
    state: &AppState,
    purpose: Purpose,
    user_id: Option<String>,
    pending_id: Option<String>,
    name: Option<String>,
    ceremony_state: String,
) -> Result<String, AppError> {
    let token = random_token(32);
    let hash = token_hash(&token);
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let new = NewCeremony {
                id_hash: &hash,
                purpose: purpose.as_str(),
                user_id: user_id.as_deref(),
                pending_id: pending_id.as_deref(),
                name: name.as_deref(),
                state: &ceremony_state,
            };
            store::put_ceremony(conn, &new, now, now + TimeDelta::minutes(CEREMONY_MINUTES))?;
            Ok(())
        })
        .await?;
    Ok(token)
}

/// Takes a ceremony back (single use); 409 when it is unknown, expired or already used.
pub(crate) async fn take_ceremony(
    state: &AppState,
    token: &str,
    purpose: Purpose,
) -> Result<store::CeremonyRow, AppError> {
    let hash = token_hash(token);
    let now = state.clock.now();
    state
        .db
        .write(move |conn| Ok(store::take_ceremony(conn, &hash, purpose.as_str(), now)?))
        .await?
        .ok_or_else(expired)
}

pub(crate) fn expired() -> AppError {
    AppError::Conflict("This passkey request has expired or was already used; start again.".into())
}

/// The signed-in account's passkeys as the pages list them.
#[derive(Debug, Serialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

pub async fn list(state: &AppState, user_id: &str) -> Result<Vec<PasskeyView>, AppError> {
    let id = user_id.to_string();
    let rows = state
        .db
        .run(move |conn| Ok(store::passkeys(conn, &id)?))
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| PasskeyView {
            id: r.id,
            name: r.name,
            created_at: rfc3339_seconds(r.created_at),
            last_used_at: r.last_used_at.map(rfc3339_seconds),
        })
        .collect())
}

/// The recent second-factor check that adding or removing a passkey and creating an API
/// token ask for: none when the account has no second factor; otherwise a passkey confirmed
/// in this session within [`RECENT_CHECK_MINUTES`], or a current code (or recovery code)
/// typed with the request. The error names the `code` field.
pub async fn require_recent_check(
    state: &AppState,
    staff: &Staff,
    code: &str,
) -> Result<(), AppError> {
    if !staff.second_factor {
        return Ok(());
    }
    let recent = TimeDelta::minutes(RECENT_CHECK_MINUTES);
    if staff
        .second_factor_at
        .is_some_and(|at| state.clock.now() - at < recent)
    {
        return Ok(());
    }
    if !code.trim().is_empty()
        && super::verify_code(state, &staff.user.id, code.trim())
            .await?
            .is_some()
    {
        return Ok(());
    }
    Err(AppError::field(
        "code",
        "Confirm it is you: type the current code from your authenticator app (or a recovery \
         code), or confirm with a passkey first.",
    ))
}

/// Passkeys are added and confirmed in a browser session, never with an API token (409: the
/// token's role may use the route; the request is in the wrong state for it).
pub(crate) fn browser_session(staff: &Staff) -> Result<(), AppError> {
    match staff.session_hash() {
        Some(_) => Ok(()),
        None => Err(AppError::Conflict(
            "Passkeys are managed in a signed-in browser, not with an API token.".into(),
        )),
    }
}

/// What the browser sends to start registering a passkey.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterStart {
    pub name: String,
    #[serde(default)]
    pub code: String,
}

/// Starts registering a passkey for the signed-in account (named now, stored when finished).
pub async fn start_registration(
    state: &AppState,
    staff: &Staff,
    input: RegisterStart,
) -> Result<Started, AppError> {
    browser_session(staff)?;
    let name = PasskeyName::parse(&input.name)?;
    require_recent_check(state, staff, &input.code).await?;
    let webauthn = relying_party(&state.settings)?;
    let user_id = staff.user.id.clone();
    let existing = {
        let id = user_id.clone();
        state
            .db
            .run(move |conn| Ok(store::passkeys(conn, &id)?))
            .await?
    };
    let exclude: Vec<CredentialID> = existing
        .iter()
        .filter_map(|r| serde_json::from_str::<Passkey>(&r.passkey).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let (options, registration) = webauthn
        .start_passkey_registration(
            user_handle(&user_id)?,
            &staff.user.email,
            &staff.user.display_name,
            Some(exclude),
        )
        .map_err(AppError::unexpected)?;
    let mut options = serde_json::to_value(options).map_err(AppError::unexpected)?;
    // A passkey that can sign in without a password must be discoverable: ask the
    // authenticator to keep it (the library's default leaves that to the authenticator).
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(Value::as_object_mut)
    {
        selection.insert("residentKey".into(), json!("required"));
        selection.insert("requireResidentKey".into(), json!(true));
    }
    let saved = serde_json::to_string(&registration).map_err(AppError::unexpected)?;
    let ceremony = open_ceremony(
        state,
        Purpose::Register,
        Some(user_id),
        None,
        Some(name.as_str().to_string()),
        saved,
    )
    .await?;
    Ok(Started { ceremony, options })
}

/// What the browser sends to finish registering.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterFinish {
    pub ceremony: String,
    pub credential: RegisterPublicKeyCredential,
}

/// Finishes registering: checks the authenticator's answer, stores the passkey, audits it and
/// emails the account's owner.
pub async fn finish_registration(
    state: &AppState,
    staff: &Staff,
    input: RegisterFinish,
) -> Result<PasskeyView, AppError> {
    browser_session(staff)?;
    let row = take_ceremony(state, &input.ceremony, Purpose::Register).await?;
    if row.user_id.as_deref() != Some(staff.user.id.as_str()) {
        return Err(expired());
    }
    let registration: PasskeyRegistration =
        serde_json::from_str(&row.state).map_err(AppError::unexpected)?;
    let webauthn = relying_party(&state.settings)?;
    let passkey = webauthn
        .finish_passkey_registration(&input.credential, &registration)
        .map_err(|e| {
            tracing::info!(error = %e, "passkey registration refused");
            AppError::field(
                "credential",
                "The passkey could not be checked; try again, or with another device.",
            )
        })?;
    let name = row.name.clone().unwrap_or_else(|| "Passkey".into());
    let actor = staff.actor();
    let email = changed_email(
        &state.mailer,
        &state.settings,
        &staff.user,
        Change::PasskeyAdded,
        &actor,
        Some(&name),
    )?;
    let credential_id = credential_key(passkey.cred_id());
    let saved = serde_json::to_string(&passkey).map_err(AppError::unexpected)?;
    let (user_id, now) = (staff.user.id.clone(), state.clock.now());
    let stored_name = name.clone();
    let id = state
        .db
        .write(move |conn| {
            if store::by_credential(conn, &credential_id)?.is_some() {
                return Err(AppError::Conflict(
                    "This passkey is already registered.".into(),
                ));
            }
            let new = NewPasskey {
                user_id: &user_id,
                credential_id: &credential_id,
                passkey: &saved,
                sign_count: 0,
                name: &stored_name,
            };
            let id = store::insert(conn, &new, now)?;
            audit::record(
                conn,
                &actor,
                Entry::new(Change::PasskeyAdded.action())
                    .target("staff_user", &user_id)
                    .details(json!({ "passkey": id, "name": stored_name })),
            )?;
            outbox::enqueue(conn, &[email])?;
            Ok(id)
        })
        .await?;
    state.mailer.wake();
    Ok(PasskeyView {
        id,
        name,
        created_at: rfc3339_seconds(now),
        last_used_at: None,
    })
}

/// Renames one of the signed-in account's passkeys (audited); 404 when it has none with this id.
pub async fn rename(
    state: &AppState,
    staff: &Staff,
    passkey_id: String,
    name: &str,
) -> Result<(), AppError> {
    let name = PasskeyName::parse(name)?;
    let (user_id, actor) = (staff.user.id.clone(), staff.actor());
    state
        .db
        .write(move |conn| {
            if store::rename(conn, &user_id, &passkey_id, name.as_str())? == 0 {
                return Err(AppError::NotFound);
            }
            audit::record(
                conn,
                &actor,
                Entry::new("staff.passkey_renamed")
                    .target("staff_user", &user_id)
                    .details(json!({ "passkey": passkey_id, "name": name.as_str() })),
            )?;
            Ok(())
        })
        .await
}

/// Removes one of the signed-in account's passkeys after a recent second-factor check
/// (audited, emailed); 404 when it has none with this id.
pub async fn remove(
    state: &AppState,
    staff: &Staff,
    passkey_id: String,
    code: &str,
) -> Result<(), AppError> {
    require_recent_check(state, staff, code).await?;
    let (user_id, actor) = (staff.user.id.clone(), staff.actor());
    let name = {
        let (user_id, id) = (user_id.clone(), passkey_id.clone());
        state
            .db
            .run(move |conn| {
                Ok(store::passkeys(conn, &user_id)?
                    .into_iter()
                    .find(|p| p.id == id)
                    .map(|p| p.name))
            })
            .await?
            .ok_or(AppError::NotFound)?
    };
    let email = changed_email(
        &state.mailer,
        &state.settings,
        &staff.user,
        Change::PasskeyRemoved,
        &actor,
        Some(&name),
    )?;
    state
        .db
        .write(move |conn| {
            let Some(name) = store::delete(conn, &user_id, &passkey_id)? else {
                return Err(AppError::NotFound);
            };
            audit::record(
                conn,
                &actor,
                Entry::new(Change::PasskeyRemoved.action())
                    .target("staff_user", &user_id)
                    .details(json!({ "passkey": passkey_id, "name": name })),
            )?;
            outbox::enqueue(conn, &[email])?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_bounded() {
        assert_eq!(
            PasskeyName::parse("  Work laptop ").expect("name").as_str(),
            "Work laptop"
        );
        for bad in ["", "   ", "a\u{7}b", &"x".repeat(61)] {
            assert!(PasskeyName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_relying_party_is_the_public_urls_host_and_origin() {
        let mut settings = Settings::default();
        settings.server.public_url = "https://news.example.org/frontdesk/".parse().expect("url");
        let webauthn = relying_party(&settings).expect("relying party");
        let origins: Vec<String> = webauthn
            .get_allowed_origins()
            .iter()
            .map(|u| u.origin().ascii_serialization())
            .collect();
        assert_eq!(origins, ["https://news.example.org"]);
        let (options, _) = webauthn
            .start_passkey_registration(Uuid::nil(), "a@example.org", "A", None)
            .expect("options");
        assert_eq!(options.public_key.rp.id, "news.example.org");
    }
}
