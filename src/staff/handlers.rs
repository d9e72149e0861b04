//! The staff area's own pages and JSON endpoints: sign-in, first-run setup, dashboard,
//! account, staff accounts, audit log, outbox.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::error::{AppError, FieldError};
use crate::keys::random_token;
use crate::mail::outbox::{self, OutboxState};
use crate::staff::access::Staff;
use crate::staff::audit::{self, Actor, Entry};
use crate::staff::model::{NewPassword, Role, StaffSummary};
use crate::staff::password::Verified;
use crate::staff::service::{self, SignIn};
use crate::staff::store;
use crate::staff::StaffNav;
use crate::web::pagination::{Page, PageRequest};
use crate::web::ClientIp;

const FORM_COOKIE: &str = "fd_form";

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
        "token_revoked" => "The token was revoked.",
        "account_created" => "The account was created.",
        "account_disabled" => "The account was disabled and its sessions and tokens ended.",
        "account_enabled" => "The account was enabled.",
        "role_changed" => "The role was changed.",
        "retry_queued" => "The email is queued again.",
        "saved" => "Saved.",
        "reply_sent" => "The reply is on its way to the reader.",
        "block_lifted" => "The newsletter block is lifted: the address may subscribe again.",
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

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// A fresh double-submit token for forms shown before sign-in (login, setup).
fn form_cookie(state: &AppState) -> (String, Cookie<'static>) {
    let token = random_token(24);
    let cookie = Cookie::build(FORM_COOKIE, token.clone())
        .path("/staff/")
        .http_only(true)
        .secure(state.settings.is_https())
        .same_site(SameSite::Strict)
        .finish();
    (token, cookie)
}

fn check_form_token(req: &HttpRequest, state: &AppState, presented: &str) -> Result<(), AppError> {
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

// ---- sign-in ----

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
    state.login_limiter.check_ip("login", ip.0)?;
    check_form_token(&req, &state, &form.csrf_token)?;
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let client_hash = state.keys.hash("staff-ip", ip.0.to_string().as_bytes());
    match service::sign_in(&state, &form.email, form.password, user_agent, client_hash).await? {
        SignIn::Ok(cookie) => {
            let mut res = see_other(safe_next(&form.next));
            res.add_cookie(&cookie).map_err(AppError::unexpected)?;
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

// ---- first run ----

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
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let client_hash = state.keys.hash("staff-ip", ip.0.to_string().as_bytes());
    match service::sign_in(&state, &email, form.password, user_agent, client_hash).await? {
        SignIn::Ok(cookie) => {
            let mut res = see_other("/staff/");
            res.add_cookie(&cookie).map_err(AppError::unexpected)?;
            Ok(res)
        }
        SignIn::Refused => Ok(see_other("/staff/login")),
    }
}

// ---- dashboard and account ----

pub async fn dashboard(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let outbox = if staff.is(&[Role::Admin]) {
        state
            .db
            .run(|conn| Ok(outbox::counts_by_state(conn)?))
            .await?
    } else {
        Vec::new()
    };
    let outbox: Vec<Value> = outbox
        .into_iter()
        .map(|(state, count)| json!({"state": state, "count": count}))
        .collect();
    page(
        &req,
        &state,
        Some(&staff),
        "dashboard",
        "staff/dashboard.html",
        StatusCode::OK,
        json!({ "outbox": outbox }),
    )
}

async fn account_page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let user_id = staff.user.id.clone();
    let (sessions, tokens) = state
        .db
        .run(move |conn| {
            Ok((
                store::user_sessions(conn, &user_id)?,
                store::user_tokens(conn, &user_id)?,
            ))
        })
        .await?;
    let current = staff.session_hash().unwrap_or_default();
    let sessions: Vec<Value> = sessions
        .iter()
        .map(|s| {
            json!({
                "id": s.id, "user_agent": s.user_agent, "created_at": s.created_at.to_string(),
                "last_seen_at": s.last_seen_at.to_string(), "current": s.id == current,
            })
        })
        .collect();
    let mut ctx = json!({ "sessions": sessions, "tokens": tokens, "new_token": null });
    if let (Value::Object(ctx), Value::Object(extra)) = (&mut ctx, extra) {
        ctx.extend(extra);
    }
    page(
        req,
        state,
        Some(staff),
        "account",
        "staff/account.html",
        status,
        ctx,
    )
}

pub async fn account(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    account_page(&req, &state, &staff, StatusCode::OK, json!({})).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let verified = state
        .passwords
        .verify(
            form.current_password,
            Some(staff.user.password_hash.clone()),
        )
        .await?;
    let mut errors = Vec::new();
    if verified == Verified::No {
        errors.push(FieldError::new(
            "current_password",
            "This is not your current password.",
        ));
    }
    let new = NewPassword::parse(
        &form.new_password,
        &[&staff.user.email, &staff.user.display_name],
    )
    .map_err(|m| errors.push(FieldError::new("new_password", m)))
    .ok();
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        return account_page(
            &req,
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "errors": errors }),
        )
        .await;
    };
    let hash = state.passwords.hash(new.expose().to_string()).await?;
    let (user_id, keep, actor) = (
        staff.user.id.clone(),
        staff.session_hash().unwrap_or_default().to_string(),
        staff.actor(),
    );
    state
        .db
        .write(move |conn| {
            store::set_password_hash(conn, &user_id, &hash)?;
            store::delete_other_sessions(conn, &user_id, &keep)?;
            audit::record(
                conn,
                &actor,
                Entry::new("staff.password_changed").target("staff_user", &user_id),
            )?;
            Ok(())
        })
        .await?;
    Ok(see_other("/staff/account?notice=password_changed"))
}

pub async fn revoke_session(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (target, user_id) = (path.into_inner(), staff.user.id.clone());
    let audited = ("staff_user", user_id.clone());
    audit::change(
        &state.db,
        staff.actor(),
        "staff.session_revoked",
        audited,
        json!({}),
        move |conn| {
            let mine = store::user_sessions(conn, &user_id)?
                .iter()
                .any(|s| s.id == target);
            if mine {
                store::delete_session(conn, &target)
            } else {
                Ok(0)
            }
        },
    )
    .await?;
    Ok(see_other("/staff/account?notice=session_revoked"))
}

#[derive(Deserialize)]
pub struct TokenForm {
    label: String,
}

pub async fn create_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    match service::create_token(
        &state.db,
        staff.user.id.clone(),
        form.into_inner().label,
        staff.actor(),
    )
    .await
    {
        Ok(token) => {
            account_page(
                &req,
                &state,
                &staff,
                StatusCode::OK,
                json!({ "new_token": token }),
            )
            .await
        }
        Err(AppError::Validation(errors)) => {
            account_page(
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

pub async fn revoke_token(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (token_id, user_id) = (path.into_inner(), staff.user.id.clone());
    let audited = ("staff_token", token_id.clone());
    audit::change(
        &state.db,
        staff.actor(),
        "staff.token_revoked",
        audited,
        json!({}),
        move |conn| store::revoke_token(conn, &user_id, &token_id),
    )
    .await?;
    Ok(see_other("/staff/account?notice=token_revoked"))
}

// ---- staff accounts (admin) ----

async fn accounts_page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    errors: Vec<FieldError>,
    form: Value,
) -> Result<HttpResponse, AppError> {
    let users = state.db.run(|conn| Ok(store::list_users(conn)?)).await?;
    let users: Vec<StaffSummary> = users.iter().map(StaffSummary::from).collect();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    page(
        req,
        state,
        Some(staff),
        "accounts",
        "staff/accounts.html",
        status,
        json!({
            "users": users, "roles": roles, "errors": errors, "form": form,
        }),
    )
}

pub async fn accounts(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    accounts_page(
        &req,
        &state,
        &staff,
        StatusCode::OK,
        Vec::new(),
        json!({"name": "", "email": "", "role": "editor"}),
    )
    .await
}

#[derive(Deserialize)]
pub struct AccountForm {
    name: String,
    email: String,
    role: String,
    password: String,
}

pub async fn create_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let echo = json!({"name": form.name, "email": form.email, "role": form.role});
    let result = match service::parse_new_staff(&form.email, &form.name, &form.role, &form.password)
    {
        Ok(new) => service::create_account(&state.db, new, staff.actor())
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other("/staff/accounts?notice=account_created")),
        Err(AppError::Validation(errors)) => {
            accounts_page(
                &req,
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                echo,
            )
            .await
        }
        Err(AppError::Conflict(message)) => {
            accounts_page(
                &req,
                &state,
                &staff,
                StatusCode::CONFLICT,
                vec![FieldError::new("email", message)],
                echo,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn disable_account(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    if id == staff.user.id {
        return Err(AppError::Conflict(
            "You cannot disable your own account.".into(),
        ));
    }
    service::disable_account(&state.db, id, staff.actor()).await?;
    Ok(see_other("/staff/accounts?notice=account_disabled"))
}

pub async fn enable_account(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let audited = ("staff_user", id.clone());
    audit::change(
        &state.db,
        staff.actor(),
        "staff.account_enabled",
        audited,
        json!({}),
        move |conn| store::enable_user(conn, &id),
    )
    .await?;
    Ok(see_other("/staff/accounts?notice=account_enabled"))
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn set_role(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let role: Role = form
        .role
        .parse()
        .map_err(|m: String| AppError::field("role", m))?;
    let id = path.into_inner();
    if id == staff.user.id && role != Role::Admin {
        return Err(AppError::Conflict(
            "You cannot remove your own admin role.".into(),
        ));
    }
    let audited = ("staff_user", id.clone());
    audit::change(
        &state.db,
        staff.actor(),
        "staff.role_changed",
        audited,
        json!({ "role": role }),
        move |conn| store::set_role(conn, &id, role.as_str()),
    )
    .await?;
    Ok(see_other("/staff/accounts?notice=role_changed"))
}

// ---- audit log ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    action: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

async fn audit_page_data(
    state: &AppState,
    query: &AuditQuery,
) -> Result<Page<audit::AuditRow>, AppError> {
    let request = PageRequest::parse(query.cursor.as_deref(), query.limit)?;
    let action = query.action.clone().filter(|a| !a.trim().is_empty());
    let cursor = request.cursor.clone();
    let fetch = request.fetch();
    let rows = state
        .db
        .run(move |conn| {
            Ok(audit::list(
                conn,
                cursor.as_deref(),
                action.as_deref(),
                fetch,
            )?)
        })
        .await?;
    Ok(Page::from_rows(rows, &request, |r| r.id.clone()))
}

pub async fn audit_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let data = audit_page_data(&state, &query).await?;
    let entries: Vec<Value> = data
        .items
        .iter()
        .map(|e| {
            json!({
                "at": e.at.to_string(), "actor_label": e.actor_label, "action": e.action,
                "target_kind": e.target_kind, "target_id": e.target_id, "details": e.details,
            })
        })
        .collect();
    page(
        &req,
        &state,
        Some(&staff),
        "audit",
        "staff/audit.html",
        StatusCode::OK,
        json!({
            "entries": entries, "next_cursor": data.next_cursor, "action": query.action.clone().unwrap_or_default(),
        }),
    )
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/staff/audit", tag = "staff",
    params(("action" = Option<String>, Query, description = "only this action"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, description = "`{items, next_cursor}`"), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn audit_json(
    state: web::Data<AppState>,
    _staff: Staff,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(audit_page_data(&state, &query).await?))
}

// ---- the outbox (admin) ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    state: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// An outbox row as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxItem {
    id: String,
    template: String,
    to: String,
    subject: String,
    state: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: String,
    sent_at: Option<String>,
    next_attempt_at: String,
}

async fn outbox_data(state: &AppState, query: &OutboxQuery) -> Result<Page<OutboxItem>, AppError> {
    let request = PageRequest::parse(query.cursor.as_deref(), query.limit)?;
    let filter =
        match query
            .state
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => Some(OutboxState::parse(s).ok_or_else(|| {
                AppError::field("state", "Use queued, sent, failed or cancelled.")
            })?),
            None => None,
        };
    let (cursor, fetch) = (request.cursor.clone(), request.fetch());
    let rows = state
        .db
        .run(move |conn| Ok(outbox::list(conn, filter, cursor.as_deref(), fetch)?))
        .await?;
    let items = rows
        .into_iter()
        .map(|r| OutboxItem {
            to: r.to_addr,
            id: r.id,
            template: r.template,
            subject: r.subject,
            state: r.state,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at.and_utc().to_rfc3339(),
            sent_at: r.sent_at.map(|t| t.and_utc().to_rfc3339()),
            next_attempt_at: r.next_attempt_at.and_utc().to_rfc3339(),
        })
        .collect();
    Ok(Page::from_rows(items, &request, |i| i.id.clone()))
}

pub async fn outbox_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, AppError> {
    let data = outbox_data(&state, &query).await?;
    let counts = state
        .db
        .run(|conn| Ok(outbox::counts_by_state(conn)?))
        .await?;
    let counts: Vec<Value> = counts
        .into_iter()
        .map(|(s, n)| json!({"state": s, "count": n}))
        .collect();
    page(
        &req,
        &state,
        Some(&staff),
        "outbox",
        "staff/outbox.html",
        StatusCode::OK,
        json!({
            "items": data.items, "next_cursor": data.next_cursor, "counts": counts,
            "state": query.state.clone().unwrap_or_default(),
        }),
    )
}

/// Outgoing emails with their state and last error, newest first.
#[utoipa::path(get, path = "/api/v1/staff/outbox", tag = "staff",
    params(("state" = Option<String>, Query, description = "queued, sent, failed or cancelled"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, description = "`{items, next_cursor}`"), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn outbox_json(
    state: web::Data<AppState>,
    _staff: Staff,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(outbox_data(&state, &query).await?))
}

async fn retry(state: &AppState, staff: &Staff, id: String) -> Result<(), AppError> {
    let actor = staff.actor();
    state
        .db
        .write(move |conn| {
            if outbox::retry(conn, &id)? == 0 {
                outbox::find(conn, &id)?;
                return Err(AppError::Conflict(
                    "Only a failed email can be retried.".into(),
                ));
            }
            audit::record(
                conn,
                &actor,
                Entry::new("outbox.retry").target("outbox", &id),
            )?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
    Ok(())
}

/// Queues a failed email again with a fresh attempt budget.
#[utoipa::path(post, path = "/api/v1/staff/outbox/{id}/retry", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 202, description = "queued again"), (status = 404), (status = 409, description = "not failed")),
    security(("bearer" = [])))]
pub async fn outbox_retry_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    retry(&state, &staff, path.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(json!({"status": "queued"})))
}

pub async fn outbox_retry_page(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    retry(&state, &staff, path.into_inner()).await?;
    Ok(see_other("/staff/outbox?notice=retry_queued"))
}

/// The signed-in staff member (check a token with it).
#[utoipa::path(get, path = "/api/v1/staff/me", tag = "staff",
    responses((status = 200, body = StaffSummary), (status = 401)), security(("bearer" = [])))]
pub async fn me_json(staff: Staff) -> HttpResponse {
    HttpResponse::Ok().json(StaffSummary::from(&staff.user))
}
