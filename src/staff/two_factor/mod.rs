//! Second factors of staff accounts: TOTP (an authenticator app) with ten single-use recovery
//! codes, and passkeys (WebAuthn, [`passkeys`]). Enrolment from the account page (a QR code
//! the service draws itself, the secret as text, a first code to confirm), the second step of
//! signing in, turning it off, and an admin's or the operator's reset (which removes passkeys
//! too). Every change is audited and emailed to the account.

pub mod passkeys;
pub mod recovery;
pub mod signin;
pub mod store;
pub mod totp;

use lettre::message::Mailbox;
use serde_json::json;

use crate::config::Settings;
use crate::db::Db;
use crate::error::AppError;
use crate::mail::{outbox, Email, Mailer};
use crate::staff::audit::{self, Actor, Entry};
use crate::staff::model::StaffUser;
use crate::staff::store as staff_store;
use crate::state::AppState;

pub use recovery::RecoveryCode;
pub use signin::{begin_sign_in, complete_sign_in, is_pending, Pending, Proof, SecondStep};
pub use totp::{TotpCode, TotpSecret};

/// Which second factor proved a sign-in or a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    Totp,
    RecoveryCode,
    Passkey,
}

/// Where an account's enrolment stands.
pub enum Enrolment {
    /// No second factor.
    Off,
    /// A secret was made and waits for its first code.
    Pending { secret: String, qr_svg: String },
    /// On, with this many unused recovery codes.
    On { recovery_codes_left: i64 },
}

/// Checks a code typed by the account's owner: six digits are a TOTP code (accepted once,
/// within one step of now), anything else a recovery code (used up). `None` when wrong.
pub async fn verify_code(
    state: &AppState,
    user_id: &str,
    input: &str,
) -> Result<Option<Factor>, AppError> {
    let (user_id, keys) = (user_id.to_string(), state.keys.clone());
    let now = state.clock.now();
    let unix = state.clock.unix_seconds();
    if let Some(code) = TotpCode::parse(input) {
        return state
            .db
            .write(move |conn| {
                let Some(row) = store::totp(conn, &user_id)?.filter(|r| r.confirmed_at.is_some())
                else {
                    return Ok(None);
                };
                let secret = TotpSecret::open(&row.secret, &keys, &user_id)?;
                let Some(step) = secret.matching_step(&code, unix) else {
                    return Ok(None);
                };
                let step = i64::try_from(step).map_err(AppError::unexpected)?;
                Ok(store::accept_step(conn, &user_id, step)?.then_some(Factor::Totp))
            })
            .await;
    }
    let Some(code) = RecoveryCode::parse(input) else {
        return Ok(None);
    };
    state
        .db
        .write(move |conn| {
            let hash = code.hash(&keys, &user_id);
            Ok(store::use_recovery_code(conn, &user_id, &hash, now)?
                .then_some(Factor::RecoveryCode))
        })
        .await
}

/// Where the account's enrolment stands; a pending secret is opened to be shown again.
pub async fn enrolment(state: &AppState, user: &StaffUser) -> Result<Enrolment, AppError> {
    let id = user.id.clone();
    let (row, left) = state
        .db
        .run(move |conn| {
            Ok((
                store::totp(conn, &id)?,
                store::unused_recovery_codes(conn, &id)?,
            ))
        })
        .await?;
    Ok(match row {
        None => Enrolment::Off,
        Some(row) if row.confirmed_at.is_some() => Enrolment::On {
            recovery_codes_left: left,
        },
        Some(row) => {
            let secret = TotpSecret::open(&row.secret, &state.keys, &user.id)?;
            let uri = secret.otpauth_uri(&state.settings.site.name, &user.email);
            Enrolment::Pending {
                secret: secret.base32(),
                qr_svg: totp::qr_svg(&uri)?,
            }
        }
    })
}

/// Makes a new secret for the account to confirm (replacing one not yet confirmed); 409 when
/// a second factor is already on.
pub async fn start_totp(state: &AppState, user: &StaffUser, actor: Actor) -> Result<(), AppError> {
    let sealed = TotpSecret::generate().seal(&state.keys, &user.id)?;
    let (id, now) = (user.id.clone(), state.clock.now());
    state
        .db
        .write(move |conn| {
            if store::put_unconfirmed_totp(conn, &id, &sealed, now)? == 0 {
                return Err(AppError::Conflict(
                    "A second factor is already on for this account.".into(),
                ));
            }
            audit::record(
                conn,
                &actor,
                Entry::new("staff.two_factor_enrolment_started").target("staff_user", &id),
            )?;
            Ok(())
        })
        .await
}

/// Turns TOTP on with its first code; returns the ten recovery codes, shown once.
pub async fn confirm_totp(
    state: &AppState,
    user: &StaffUser,
    input: &str,
    actor: Actor,
) -> Result<Vec<String>, AppError> {
    let wrong = || {
        AppError::field(
            "code",
            "This code is not right; type the current six digits.",
        )
    };
    let code = TotpCode::parse(input).ok_or_else(wrong)?;
    let codes = recovery::generate();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| RecoveryCode::parse(c))
        .map(|c| c.hash(&state.keys, &user.id))
        .collect();
    let email = changed_email(
        &state.mailer,
        &state.settings,
        user,
        Change::Added,
        &actor,
        None,
    )?;
    let (id, keys) = (user.id.clone(), state.keys.clone());
    let (now, unix) = (state.clock.now(), state.clock.unix_seconds());
    state
        .db
        .write(move |conn| {
            let Some(row) = store::totp(conn, &id)?.filter(|r| r.confirmed_at.is_none()) else {
                return Err(AppError::Conflict(
                    "Start the set-up again: there is no new secret to confirm.".into(),
                ));
            };
            let secret = TotpSecret::open(&row.secret, &keys, &id)?;
            let step = secret.matching_step(&code, unix).ok_or_else(wrong)?;
            let step = i64::try_from(step).map_err(AppError::unexpected)?;
            if store::confirm_totp(conn, &id, step, now)? != 1 {
                return Err(AppError::Conflict(
                    "The set-up was already confirmed.".into(),
                ));
            }
            store::replace_recovery_codes(conn, &id, &hashes, now)?;
            audit::record(
                conn,
                &actor,
                Entry::new("staff.two_factor_enabled")
                    .target("staff_user", &id)
                    .details(json!({ "factor": "totp" })),
            )?;
            outbox::enqueue(conn, &[email])?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
    Ok(codes)
}

/// The account's owner turns their second factor off, proving it with a current code or a
/// recovery code; 409 when `staff.require_two_factor` is on.
pub async fn turn_off(
    state: &AppState,
    user: &StaffUser,
    input: &str,
    actor: Actor,
) -> Result<(), AppError> {
    if state.settings.staff.require_two_factor {
        return Err(AppError::Conflict(
            "This service requires a second factor; it cannot be turned off.".into(),
        ));
    }
    if verify_code(state, &user.id, input).await?.is_none() {
        return Err(AppError::field(
            "code",
            "This code is not right; type a current code or a recovery code.",
        ));
    }
    remove(
        &state.db,
        &state.mailer,
        &state.settings,
        user,
        actor,
        Change::Removed,
    )
    .await
}

/// An admin or the operator resets a colleague's second factor (after a lost phone): it is
/// removed with its recovery codes, passkeys and pending sign-ins, so their next sign-in is by password
/// alone (and, where required, leads straight to enrolment). 404 when the account has none.
pub async fn reset(
    db: &Db,
    mailer: &Mailer,
    settings: &Settings,
    user_id: &str,
    actor: Actor,
) -> Result<(), AppError> {
    let id = user_id.to_string();
    let user = db
        .run(move |conn| Ok(staff_store::find_user(conn, &id)?))
        .await?;
    remove(db, mailer, settings, &user, actor, Change::Reset).await
}

async fn remove(
    db: &Db,
    mailer: &Mailer,
    settings: &Settings,
    user: &StaffUser,
    actor: Actor,
    change: Change,
) -> Result<(), AppError> {
    let email = changed_email(mailer, settings, user, change, &actor, None)?;
    let id = user.id.clone();
    db.write(move |conn| {
        // Turning TOTP off leaves passkeys; a reset removes every factor.
        let removed = match change {
            Change::Reset => store::delete_second_factors(conn, &id)?,
            _ => store::delete_totp(conn, &id)?,
        };
        if removed == 0 {
            return Err(AppError::NotFound);
        }
        store::delete_user_pending(conn, &id)?;
        audit::record(
            conn,
            &actor,
            Entry::new(change.action()).target("staff_user", &id),
        )?;
        outbox::enqueue(conn, &[email])?;
        Ok(())
    })
    .await?;
    mailer.wake();
    Ok(())
}

/// What happened to an account's second factor, for its audit entry and its email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Added,
    Removed,
    Reset,
    PasskeyAdded,
    PasskeyRemoved,
}

impl Change {
    pub(crate) fn action(self) -> &'static str {
        match self {
            Change::Added => "staff.two_factor_enabled",
            Change::Removed => "staff.two_factor_disabled",
            Change::Reset => "staff.two_factor_reset",
            Change::PasskeyAdded => "staff.passkey_added",
            Change::PasskeyRemoved => "staff.passkey_removed",
        }
    }
}

/// The email telling the account's owner their second factor changed (`passkey`: the name
/// of the passkey added or removed).
pub(crate) fn changed_email(
    mailer: &Mailer,
    settings: &Settings,
    user: &StaffUser,
    change: Change,
    actor: &Actor,
    passkey: Option<&str>,
) -> Result<crate::mail::NewOutboxEmail, AppError> {
    let to: Mailbox = user.email.parse().map_err(AppError::unexpected)?;
    let by_self = actor.id.as_deref() == Some(user.id.as_str());
    mailer.compose(Email::new(
        "staff_two_factor_changed",
        to,
        json!({
            "name": user.display_name,
            "change": match change {
                Change::Added => "added",
                Change::Removed => "removed",
                Change::Reset => "reset",
                Change::PasskeyAdded => "passkey_added",
                Change::PasskeyRemoved => "passkey_removed",
            },
            "passkey": passkey,
            "by": if by_self { None } else { Some(actor.label.clone()) },
            "account_url": format!(
                "{}/staff/account/two-factor",
                settings.server.public_url.as_str().trim_end_matches('/')
            ),
        }),
    ))
}
