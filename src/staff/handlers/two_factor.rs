//! Second factors: the enrolment page of one's own account (set up, confirm, turn off), an
//! admin's reset of a colleague's, and the second step of signing in.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::page;
use crate::error::AppError;
use crate::staff::access::Staff;
use crate::staff::devices::Browser;
use crate::staff::two_factor::signin::{pending_cookie, PENDING_COOKIE};
use crate::staff::two_factor::{self, passkeys, Enrolment, Proof, SecondStep};
use crate::staff::ui::{form_page, see_other};
use crate::state::AppState;
use crate::web::ClientIp;

/// The two-factor page: TOTP's state, the account's passkeys, and `extra` (errors, codes).
pub(super) async fn show_enrolment(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let mut ctx = match two_factor::enrolment(state, &staff.user).await? {
        Enrolment::Off => json!({ "state": "off" }),
        Enrolment::Pending { secret, qr_svg } => {
            json!({ "state": "pending", "secret": secret, "qr_svg": qr_svg })
        }
        Enrolment::On {
            recovery_codes_left,
        } => json!({ "state": "on", "recovery_codes_left": recovery_codes_left }),
    };
    ctx["required"] = json!(state.settings.staff.require_two_factor);
    ctx["second_factor"] = json!(staff.second_factor);
    ctx["passkeys"] = json!(passkeys::list(state, &staff.user.id).await?);
    ctx["recently_checked"] = json!(recently_checked(state, staff));
    if let (Value::Object(ctx), Value::Object(extra)) = (&mut ctx, extra) {
        ctx.extend(extra);
    }
    page(
        req,
        state,
        Some(staff),
        "account",
        "staff/two_factor.html",
        status,
        ctx,
    )
}

/// True when this session proved a passkey within the last minutes (no code needed then).
pub(super) fn recently_checked(state: &AppState, staff: &Staff) -> bool {
    staff.second_factor_at.is_some_and(|at| {
        state.clock.now() - at < chrono::TimeDelta::minutes(passkeys::RECENT_CHECK_MINUTES)
    })
}

pub async fn two_factor_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    show_enrolment(&req, &state, &staff, StatusCode::OK, json!({})).await
}

/// Makes a new secret and shows it with its QR code.
pub async fn two_factor_start(
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    two_factor::start_totp(&state, &staff.user, staff.actor()).await?;
    Ok(see_other("/staff/account/two-factor"))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// Confirms the new secret with a first code; shows the recovery codes once.
pub async fn two_factor_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let confirmed = two_factor::confirm_totp(&state, &staff.user, &form.code, staff.actor()).await;
    form_page(
        confirmed,
        |codes| json!({ "recovery_codes": codes }),
        |status, context| show_enrolment(&req, &state, &staff, status, context),
    )
    .await
}

/// Turns one's own second factor off, with a current code or a recovery code.
pub async fn two_factor_disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    match two_factor::turn_off(&state, &staff.user, &form.code, staff.actor()).await {
        Ok(()) => Ok(see_other("/staff/account/two-factor?notice=two_factor_off")),
        Err(AppError::Validation(errors)) => {
            show_enrolment(
                &req,
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "errors": errors }),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// An admin resets a colleague's second factor (404 when they have none).
pub async fn reset_two_factor(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    two_factor::reset(
        &state.db,
        &state.mailer,
        &state.settings,
        &path.into_inner(),
        staff.actor(),
    )
    .await?;
    Ok(see_other("/staff/accounts?notice=two_factor_reset"))
}

// ---- the second step of signing in (before any session) ----

/// A cookie that removes the pending sign-in's cookie.
pub(super) fn pending_removal(state: &AppState) -> actix_web::cookie::Cookie<'static> {
    let mut cookie = pending_cookie(state.settings.is_https(), String::new());
    cookie.make_removal();
    cookie
}

async fn second_factor_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let (token, cookie) = super::signin::form_cookie(state);
    let mut res = page(
        req,
        state,
        None,
        "login",
        "staff/login_second_factor.html",
        status,
        json!({ "form_token": token, "error": error }),
    )?;
    res.add_cookie(&cookie).map_err(AppError::unexpected)?;
    Ok(res)
}

fn start_again() -> HttpResponse {
    see_other("/staff/login?notice=second_step_expired")
}

pub async fn second_factor_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let live = match req.cookie(PENDING_COOKIE) {
        Some(c) => two_factor::is_pending(&state, c.value()).await?,
        None => false,
    };
    if !live {
        return Ok(start_again());
    }
    second_factor_page(&req, &state, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct SecondFactorForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf_token: String,
}

#[tracing::instrument(skip_all)]
pub async fn second_factor(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
    form: web::Form<SecondFactorForm>,
) -> Result<HttpResponse, AppError> {
    state.login_limiter.check_ip("login", ip.0).await?;
    super::signin::check_form_token(&req, &state, &form.csrf_token)?;
    let Some(pending) = req.cookie(PENDING_COOKIE) else {
        return Ok(start_again());
    };
    let client_hash = state.keys.hash("staff-ip", ip.0.to_string().as_bytes());
    let browser = Browser::from_request(&req, state.settings.is_https());
    let proof = Proof::Code(form.code.clone());
    match two_factor::complete_sign_in(&state, pending.value(), proof, client_hash, &browser)
        .await?
    {
        SecondStep::SignedIn { cookie, next } => {
            let mut res = see_other(next);
            res.add_cookie(&cookie).map_err(AppError::unexpected)?;
            res.add_cookie(&browser.cookie(state.settings.is_https()))
                .map_err(AppError::unexpected)?;
            res.add_cookie(&pending_removal(&state))
                .map_err(AppError::unexpected)?;
            Ok(res)
        }
        SecondStep::Wrong => second_factor_page(
            &req,
            &state,
            StatusCode::UNAUTHORIZED,
            Some(
                "This code is not right. Type the current code from your app, or a recovery code.",
            ),
        )
        .await,
        SecondStep::Expired => {
            let mut res = start_again();
            res.add_cookie(&pending_removal(&state))
                .map_err(AppError::unexpected)?;
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(res)
        }
    }
}
