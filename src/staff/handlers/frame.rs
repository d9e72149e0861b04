//! The staff frame: every staff page rendered with who is signed in, the sections they may
//! open, the CSRF token and a fixed notice; and the page shown when a request is refused.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::AppError;
use crate::staff::access::Staff;
use crate::staff::model::StaffSummary;
use crate::staff::StaffNav;
use crate::state::AppState;

/// Renders a staff page with the frame's context: who is signed in, the sections they may
/// open, the CSRF token, and a notice named by `?notice=`.
pub fn page(
    req: &HttpRequest,
    state: &AppState,
    staff: Option<&Staff>,
    section: &str,
    template: &str,
    status: StatusCode,
    context: Value,
) -> Result<HttpResponse, AppError> {
    let mut ctx = match context {
        Value::Object(map) => map,
        _ => Default::default(),
    };
    if let Some(staff) = staff {
        let nav = req
            .app_data::<web::Data<StaffNav>>()
            .map(|n| n.visible_to(staff.role))
            .unwrap_or_default();
        ctx.insert("me".into(), json!(StaffSummary::from(&staff.user)));
        ctx.insert("nav".into(), json!(nav));
        ctx.insert("csrf_token".into(), json!(staff.csrf_token()));
    }
    ctx.insert("section".into(), json!(section));
    let notice = web::Query::<Notice>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.notice.as_deref().and_then(notice_text));
    ctx.entry("notice").or_insert(json!(notice));
    ctx.entry("alert").or_insert(Value::Null);
    ctx.entry("errors").or_insert(json!([]));
    let mut response = crate::web::page::render(
        &state.templates,
        &state.settings,
        status,
        template,
        Value::Object(ctx),
    )?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

#[derive(Deserialize)]
struct Notice {
    notice: Option<String>,
}

/// Notices are fixed texts chosen by code, so a link cannot put words in the staff area.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "signed_out" => "You are signed out.",
        "password_changed" => "Your password was changed; other browsers were signed out.",
        "session_revoked" => "That browser was signed out.",
        "password_reset" => "Your new password is set, and every browser that was signed in to your account is signed out. Sign in with the new password.",
        "reset_sent" => "A password reset link is on its way to the account's address.",
        "sessions_ended" => "Every session of the account was ended.",
        "token_revoked" => "The token was revoked.",
        "account_created" => "The account was created.",
        "account_disabled" => "The account was disabled and its sessions and tokens ended.",
        "account_enabled" => "The account was enabled.",
        "role_changed" => "The role was changed.",
        "permission_changed" => "The permission was changed.",
        "retry_queued" => "The email is queued again.",
        "saved" => "Saved.",
        "reply_sent" => "The reply is on its way to the reader.",
        "block_lifted" => "The newsletter block is lifted: the address may subscribe again.",
        "two_factor_off" => "Two-factor sign-in is off for your account.",
        "two_factor_reset" => "The second factor was reset; the account signs in with its password until it sets up a new one.",
        "passkey_added" => "The passkey was added.",
        "passkey_renamed" => "The passkey was renamed.",
        "passkey_removed" => "The passkey was removed.",
        "passkey_confirmed" => "Confirmed: for the next minutes you can add or remove passkeys and create API tokens without a code.",
        "second_step_expired" => "That sign-in has expired or was already used; sign in again.",
        _ => return None,
    })
}

/// The page shown when a signed-in request is refused (used by the access middleware).
pub fn error_page(
    state: &AppState,
    status: StatusCode,
    error: &AppError,
) -> Result<HttpResponse, AppError> {
    let problem = error.error_response();
    let detail = match error {
        AppError::Forbidden(d) => d.clone(),
        AppError::NotFound => "There is nothing here.".into(),
        _ => "The request could not be completed.".into(),
    };
    let title = status.canonical_reason().unwrap_or("Error");
    let mut response = crate::web::page::render(
        &state.templates,
        &state.settings,
        status,
        "staff/error.html",
        json!({ "title": title, "detail": detail }),
    )?;
    if let Some(retry) = problem.headers().get(header::RETRY_AFTER) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry.clone());
    }
    Ok(response)
}
