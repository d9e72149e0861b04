//! "Forgot your password?" and the page a reset link opens: public pages (nobody is signed in),
//! protected like the sign-in form by their own double-submit cookie and the sign-in limiter.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::page;
use super::signin::{check_form_token, form_cookie};
use crate::domain::EmailAddress;
use crate::error::{AppError, FieldError};
use crate::staff::recovery;
use crate::staff::ui::see_other;
use crate::state::AppState;
use crate::web::ClientIp;

/// A public page with a fresh form token in its context and its cookie set.
fn form_page(
    req: &HttpRequest,
    state: &AppState,
    section: &str,
    template: &str,
    status: StatusCode,
    mut context: Value,
) -> Result<HttpResponse, AppError> {
    let (token, cookie) = form_cookie(state);
    if let Value::Object(map) = &mut context {
        map.insert("form_token".into(), json!(token));
    }
    let mut res = page(req, state, None, section, template, status, context)?;
    res.add_cookie(&cookie).map_err(AppError::unexpected)?;
    Ok(res)
}

pub async fn forgot_form(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    form_page(
        &req,
        &state,
        "forgot",
        "staff/forgot.html",
        StatusCode::OK,
        json!({ "sent": false, "email": "" }),
    )
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
    #[serde(default)]
    csrf_token: String,
}

/// Always the same answer for a well-formed address, whether or not it has an (enabled)
/// account; limited per client and per address typed, before anything is looked up.
#[tracing::instrument(skip_all)]
pub async fn forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    state.login_limiter.check_ip("password-reset", ip.0).await?;
    check_form_token(&req, &state, &form.csrf_token)?;
    let typed = match EmailAddress::parse(&form.email) {
        Ok(typed) => typed,
        Err(message) => {
            return form_page(
                &req,
                &state,
                "forgot",
                "staff/forgot.html",
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "sent": false, "email": form.email.trim(), "errors": [FieldError::new("email", message)] }),
            );
        }
    };
    let address_key = state
        .keys
        .hash("staff-reset-address", typed.normalized().as_bytes());
    state
        .login_limiter
        .check("password-reset-address", &address_key)
        .await?;
    let client_hash = state.keys.hash("staff-ip", ip.0.to_string().as_bytes());
    recovery::request(&state, &typed, client_hash).await?;
    form_page(
        &req,
        &state,
        "forgot",
        "staff/forgot.html",
        StatusCode::OK,
        json!({ "sent": true, "email": "", "minutes": recovery::LINK_MINUTES }),
    )
}

#[derive(Deserialize)]
pub struct ResetQuery {
    #[serde(default)]
    token: String,
}

/// The answer to an unknown, used or expired link (the same for each).
fn expired(req: &HttpRequest, state: &AppState) -> Result<HttpResponse, AppError> {
    page(
        req,
        state,
        None,
        "reset",
        "staff/reset.html",
        StatusCode::NOT_FOUND,
        json!({ "expired": true }),
    )
}

pub async fn reset_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ResetQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(user) = recovery::account_for(&state, &query.token).await? else {
        return expired(&req, &state);
    };
    form_page(
        &req,
        &state,
        "reset",
        "staff/reset.html",
        StatusCode::OK,
        json!({ "expired": false, "token": query.token, "email": user.email }),
    )
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    password: String,
    #[serde(default)]
    csrf_token: String,
}

#[tracing::instrument(skip_all)]
pub async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    state.login_limiter.check_ip("password-reset", ip.0).await?;
    check_form_token(&req, &state, &form.csrf_token)?;
    let client_hash = state.keys.hash("staff-ip", ip.0.to_string().as_bytes());
    match recovery::complete(&state, &form.token, &form.password, client_hash).await {
        Ok(()) => Ok(see_other("/staff/login?notice=password_reset")),
        Err(AppError::NotFound) => expired(&req, &state),
        Err(AppError::Validation(errors)) => {
            let email = recovery::account_for(&state, &form.token)
                .await?
                .map(|u| u.email)
                .unwrap_or_default();
            form_page(
                &req,
                &state,
                "reset",
                "staff/reset.html",
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "expired": false, "token": form.token, "email": email, "errors": errors }),
            )
        }
        Err(e) => Err(e),
    }
}
