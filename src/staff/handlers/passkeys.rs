//! Passkeys: the JSON steps of each WebAuthn ceremony that the staff pages' script
//! (`/assets/staff-passkeys.js`) calls, and the forms that rename and remove a passkey.
//!
//! The signed-in steps sit in the staff scope (session, CSRF token in `X-CSRF-Token`); the
//! sign-in steps before any session check the sign-in form's double-submit token the same way,
//! the sign-in rate limit, and (second step) the pending sign-in's cookie.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::error::AppError;
use crate::staff::access::Staff;
use crate::staff::devices::Browser;
use crate::staff::service::{self, NewSession};
use crate::staff::store as staff_store;
use crate::staff::two_factor::passkeys::signin::{self, AssertionFinish, PasskeySignIn};
use crate::staff::two_factor::passkeys::{self, RegisterFinish, RegisterStart};
use crate::staff::two_factor::signin::PENDING_COOKIE;
use crate::staff::two_factor::{self, Proof};
use crate::staff::ui::see_other;
use crate::state::AppState;
use crate::web::{ApiJson, ClientIp};

const TWO_FACTOR_PAGE: &str = "/staff/account/two-factor";

// ---- the signed-in account ----

/// Starts registering a passkey (named in the body; a current code when a recent check is due).
pub async fn passkey_register_start(
    state: web::Data<AppState>,
    staff: Staff,
    body: ApiJson<RegisterStart>,
) -> Result<HttpResponse, AppError> {
    let started = passkeys::start_registration(&state, &staff, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(started))
}

/// Finishes registering: 201 with the passkey.
pub async fn passkey_register_finish(
    state: web::Data<AppState>,
    staff: Staff,
    body: ApiJson<RegisterFinish>,
) -> Result<HttpResponse, AppError> {
    let passkey = passkeys::finish_registration(&state, &staff, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(passkey))
}

/// Starts proving a passkey again (a recent second-factor check for this session).
pub async fn passkey_confirm_start(
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(signin::start_confirm(&state, &staff).await?))
}

pub async fn passkey_confirm_finish(
    state: web::Data<AppState>,
    staff: Staff,
    body: ApiJson<AssertionFinish>,
) -> Result<HttpResponse, AppError> {
    let at = signin::finish_confirm(&state, &staff, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({
        "checked_at": crate::staff::ui::rfc3339_seconds(at),
        "valid_minutes": passkeys::RECENT_CHECK_MINUTES,
    })))
}

/// A passkey form's answer: back to the two-factor page with `notice`, or that page again
/// with the fields' errors (422).
async fn back_to_page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    result: Result<(), AppError>,
    notice: &str,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(()) => Ok(see_other(format!("{TWO_FACTOR_PAGE}?notice={notice}"))),
        Err(AppError::Validation(errors)) => {
            super::two_factor::show_enrolment(
                req,
                state,
                staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "errors": errors }),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
}

pub async fn passkey_rename(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<RenameForm>,
) -> Result<HttpResponse, AppError> {
    let result = passkeys::rename(&state, &staff, path.into_inner(), &form.name).await;
    back_to_page(&req, &state, &staff, result, "passkey_renamed").await
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    code: String,
}

/// Removes a passkey (after a recent second-factor check).
pub async fn passkey_remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, AppError> {
    let result = passkeys::remove(&state, &staff, path.into_inner(), &form.code).await;
    back_to_page(&req, &state, &staff, result, "passkey_removed").await
}

// ---- signing in (no session yet) ----

/// The checks every sign-in step by passkey passes first: the per-IP sign-in budget, then the
/// sign-in form's double-submit token (sent as `X-CSRF-Token`) and same-origin headers.
async fn sign_in_guard(req: &HttpRequest, state: &AppState, ip: ClientIp) -> Result<(), AppError> {
    state.login_limiter.check_ip("login", ip.0).await?;
    let presented = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    super::signin::check_form_token(req, state, presented)
}

fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// Starts a sign-in with a passkey alone.
pub async fn passkey_login_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
) -> Result<HttpResponse, AppError> {
    sign_in_guard(&req, &state, ip).await?;
    Ok(no_store(
        HttpResponse::Ok().json(signin::start_sign_in(&state).await?),
    ))
}

/// Finishes a sign-in with a passkey alone: 200 `{"next"}` with the session cookie; 401 when
/// the passkey is not accepted; 409 when the request expired or was used.
#[tracing::instrument(skip_all)]
pub async fn passkey_login_finish(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
    body: ApiJson<AssertionFinish>,
) -> Result<HttpResponse, AppError> {
    sign_in_guard(&req, &state, ip).await?;
    let browser = Browser::from_request(&req, state.settings.is_https());
    let client_hash = state.keys.hash("staff-ip", ip.0.to_string().as_bytes());
    let answer = body.into_inner();
    let refused = || AppError::Unauthorized;
    let user = match signin::finish_sign_in(&state, &answer).await? {
        PasskeySignIn::Accepted(user) => user,
        PasskeySignIn::Refused(user) => {
            // Counted like a wrong password for this account and client.
            let account = account_hash(&state, &user.email);
            state
                .db
                .write(move |conn| {
                    let now = crate::db::now();
                    Ok(staff_store::record_login_failure(
                        conn,
                        &account,
                        &client_hash,
                        now,
                    )?)
                })
                .await?;
            tracing::info!("staff passkey sign-in refused");
            return Err(refused());
        }
        PasskeySignIn::Unknown => {
            tracing::info!("staff passkey sign-in names no account");
            return Err(refused());
        }
    };
    let account = account_hash(&state, &user.email);
    let failures = {
        let (account, client) = (account.clone(), client_hash.clone());
        state
            .db
            .run(move |conn| {
                Ok(staff_store::login_failures(
                    conn,
                    &account,
                    &client,
                    crate::db::now(),
                )?)
            })
            .await?
    };
    if let Some(wait) = failures.and_then(|f| service::throttled(&state.settings.staff, &f)) {
        return Err(AppError::RateLimited {
            retry_after_secs: wait,
        });
    }
    let cookie = service::start_session(
        &state,
        NewSession {
            user,
            browser: browser.clone(),
            account_hash: account,
            client_hash,
            new_hash: None,
            second_factor: Some("passkey_without_password"),
        },
    )
    .await?;
    let mut res = HttpResponse::Ok().json(json!({ "next": "/staff/" }));
    res.add_cookie(&cookie).map_err(AppError::unexpected)?;
    res.add_cookie(&browser.cookie(state.settings.is_https()))
        .map_err(AppError::unexpected)?;
    Ok(no_store(res))
}

/// The keyed hash failed sign-ins of this address are counted by (as for the password step).
fn account_hash(state: &AppState, email: &str) -> String {
    state.keys.hash(
        "staff-login-account",
        email.trim().to_lowercase().as_bytes(),
    )
}

/// Starts the passkey step of the pending sign-in this browser holds.
pub async fn passkey_second_step_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
) -> Result<HttpResponse, AppError> {
    sign_in_guard(&req, &state, ip).await?;
    let Some(pending) = req.cookie(PENDING_COOKIE) else {
        return Err(passkeys::expired());
    };
    Ok(no_store(HttpResponse::Ok().json(
        signin::start_second_step(&state, pending.value()).await?,
    )))
}

/// Finishes the passkey step: 200 `{"next"}` with the session cookie; 401 when the passkey
/// is not accepted (the pending sign-in stays for another try); 409 when it is over.
#[tracing::instrument(skip_all)]
pub async fn passkey_second_step_finish(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
    body: ApiJson<AssertionFinish>,
) -> Result<HttpResponse, AppError> {
    sign_in_guard(&req, &state, ip).await?;
    let Some(pending) = req.cookie(PENDING_COOKIE) else {
        return Err(passkeys::expired());
    };
    let client_hash = state.keys.hash("staff-ip", ip.0.to_string().as_bytes());
    let browser = Browser::from_request(&req, state.settings.is_https());
    let proof = Proof::Passkey(Box::new(body.into_inner()));
    match two_factor::complete_sign_in(&state, pending.value(), proof, client_hash, &browser)
        .await?
    {
        two_factor::SecondStep::SignedIn { cookie, next } => {
            let mut res = HttpResponse::Ok().json(json!({ "next": next }));
            res.add_cookie(&cookie).map_err(AppError::unexpected)?;
            res.add_cookie(&browser.cookie(state.settings.is_https()))
                .map_err(AppError::unexpected)?;
            res.add_cookie(&super::two_factor::pending_removal(&state))
                .map_err(AppError::unexpected)?;
            Ok(no_store(res))
        }
        two_factor::SecondStep::Wrong => Err(AppError::Unauthorized),
        two_factor::SecondStep::Expired => Err(passkeys::expired()),
    }
}
