//! Sign-in, sign-out and the first-run setup: the forms shown before anyone is signed in,
//! protected by their own double-submit cookie.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{error_page, page};
use crate::error::AppError;
use crate::keys::random_token;
use crate::staff::access::Staff;
use crate::staff::audit::{self, Actor, Entry};
use crate::staff::devices::Browser;
use crate::staff::service::{self, SignIn};
use crate::staff::store;
use crate::staff::ui::see_other;
use crate::state::AppState;
use crate::web::ClientIp;

const FORM_COOKIE: &str = "fd_form";

/// A fresh double-submit token for forms shown before sign-in (login, setup).
pub(super) fn form_cookie(state: &AppState) -> (String, Cookie<'static>) {
    let token = random_token(24);
    let cookie = Cookie::build(FORM_COOKIE, token.clone())
        .path("/staff/")
        .http_only(true)
        .secure(state.settings.is_https())
        .same_site(SameSite::Strict)
        .finish();
    (token, cookie)
}

pub(super) fn check_form_token(
    req: &HttpRequest,
    state: &AppState,
    presented: &str,
) -> Result<(), AppError> {
    crate::staff::access::same_origin(req, state)?;
    let cookie = req.cookie(FORM_COOKIE);
    match cookie {
        Some(c)
            if !presented.is_empty()
                && subtle::ConstantTimeEq::ct_eq(c.value().as_bytes(), presented.as_bytes())
                    .into() =>
        {
            Ok(())
        }
        _ => Err(AppError::Forbidden(
            "The form has expired or did not come from this site; reload the page and try again."
                .into(),
        )),
    }
}

/// Only local staff paths are followed after sign-in.
fn safe_next(next: &str) -> &str {
    if next.starts_with("/staff/") && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/staff/"
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let (token, cookie) = form_cookie(&state);
    let next = query.next.as_deref().map(safe_next).unwrap_or("/staff/");
    let mut res = page(
        &req,
        &state,
        None,
        "login",
        "staff/login.html",
        StatusCode::OK,
        json!({ "form_token": token, "next": next, "email": "", "error": null }),
    )?;
    res.add_cookie(&cookie).map_err(AppError::unexpected)?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf_token: String,
}

#[tracing::instrument(skip_all)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    state.login_limiter.check_ip("login", ip.0).await?;
    check_form_token(&req, &state, &form.csrf_token)?;
    let browser = Browser::from_request(&req, state.settings.is_https());
    let client_hash = state.keys.hash("staff-ip", ip.0.to_string().as_bytes());
    let next = safe_next(&form.next);
    match service::sign_in(
        &state,
        &form.email,
        form.password,
        &browser,
        client_hash,
        next,
    )
    .await?
    {
        SignIn::Ok(cookie) => {
            let mut res = see_other(next);
            res.add_cookie(&cookie).map_err(AppError::unexpected)?;
            res.add_cookie(&browser.cookie(state.settings.is_https()))
                .map_err(AppError::unexpected)?;
            Ok(res)
        }
        // The device cookie goes now too, so the second step comes from the same browser id.
        SignIn::SecondFactor(cookie) => {
            let mut res = see_other("/staff/login/second-factor");
            res.add_cookie(&cookie).map_err(AppError::unexpected)?;
            res.add_cookie(&browser.cookie(state.settings.is_https()))
                .map_err(AppError::unexpected)?;
            Ok(res)
        }
        SignIn::Refused => {
            let (token, cookie) = form_cookie(&state);
            let mut res = page(
                &req,
                &state,
                None,
                "login",
                "staff/login.html",
                StatusCode::UNAUTHORIZED,
                json!({
                    "form_token": token, "next": safe_next(&form.next), "email": form.email.trim(),
                    "error": "The email or password is wrong.",
                }),
            )?;
            res.add_cookie(&cookie).map_err(AppError::unexpected)?;
            Ok(res)
        }
    }
}

pub async fn logout(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    if let Some(hash) = staff.session_hash().map(String::from) {
        let actor = staff.actor();
        state
            .db
            .write(move |conn| {
                store::delete_session(conn, &hash)?;
                audit::record(conn, &actor, Entry::new("staff.signed_out"))?;
                Ok(())
            })
            .await?;
    }
    let mut res = see_other("/staff/login?notice=signed_out");
    res.add_cookie(&service::removal_cookie(state.settings.is_https()))
        .map_err(AppError::unexpected)?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct SetupQuery {
    token: String,
}

async fn setup_token_usable(state: &AppState, token: &str) -> Result<bool, AppError> {
    let hash = crate::keys::token_hash(token);
    state
        .db
        .run(move |conn| {
            Ok(store::count_users(conn)? == 0
                && store::setup_token_valid(conn, &hash, crate::db::now())?)
        })
        .await
}

pub async fn setup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SetupQuery>,
) -> Result<HttpResponse, AppError> {
    if !setup_token_usable(&state, &query.token).await? {
        return error_page(&state, StatusCode::NOT_FOUND, &AppError::NotFound);
    }
    let (form_token, cookie) = form_cookie(&state);
    let mut res = page(
        &req,
        &state,
        None,
        "setup",
        "staff/setup.html",
        StatusCode::OK,
        json!({ "form_token": form_token, "token": query.token, "name": "", "email": "" }),
    )?;
    res.add_cookie(&cookie).map_err(AppError::unexpected)?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct SetupForm {
    name: String,
    email: String,
    password: String,
    #[serde(default)]
    csrf_token: String,
}

#[tracing::instrument(skip_all)]
pub async fn setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    ip: ClientIp,
    query: web::Query<SetupQuery>,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    check_form_token(&req, &state, &form.csrf_token)?;
    if !setup_token_usable(&state, &query.token).await? {
        return error_page(&state, StatusCode::NOT_FOUND, &AppError::NotFound);
    }
    let new = match service::parse_new_staff(&form.email, &form.name, "admin", &form.password) {
        Ok(new) => new,
        Err(AppError::Validation(errors)) => {
            let (form_token, cookie) = form_cookie(&state);
            let mut res = page(
                &req,
                &state,
                None,
                "setup",
                "staff/setup.html",
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({
                    "form_token": form_token, "token": query.token, "name": form.name, "email": form.email, "errors": errors,
                }),
            )?;
            res.add_cookie(&cookie).map_err(AppError::unexpected)?;
            return Ok(res);
        }
        Err(e) => return Err(e),
    };
    let hash = state
        .passwords
        .hash(new.password.expose().to_string())
        .await?;
    let token_hash = crate::keys::token_hash(&query.token);
    let email = new.email.as_str().to_string();
    state
        .db
        .write(move |conn| {
            if store::count_users(conn)? > 0
                || !store::consume_setup_token(conn, &token_hash, crate::db::now())?
            {
                return Err(AppError::NotFound);
            }
            let user = store::insert_user(conn, &new, &hash)?;
            audit::record(
                conn,
                &Actor::system("first-run setup"),
                Entry::new("staff.account_created")
                    .target("staff_user", &user.id)
                    .details(json!({"role": "admin"})),
            )?;
            Ok(())
        })
        .await?;
    let browser = Browser::from_request(&req, state.settings.is_https());
    let client_hash = state.keys.hash("staff-ip", ip.0.to_string().as_bytes());
    match service::sign_in(
        &state,
        &email,
        form.password,
        &browser,
        client_hash,
        "/staff/",
    )
    .await?
    {
        SignIn::Ok(cookie) => {
            let mut res = see_other("/staff/");
            res.add_cookie(&cookie).map_err(AppError::unexpected)?;
            res.add_cookie(&browser.cookie(state.settings.is_https()))
                .map_err(AppError::unexpected)?;
            Ok(res)
        }
        SignIn::SecondFactor(_) | SignIn::Refused => Ok(see_other("/staff/login")),
    }
}
