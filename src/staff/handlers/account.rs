//! One's own account: password, browsers signed in, API tokens; and `/api/v1/staff/me`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::TimeDelta;
use serde::Deserialize;
use serde_json::{json, Value};

use super::page;
use crate::error::{AppError, FieldError};
use crate::mail::outbox;
use crate::staff::access::Staff;
use crate::staff::audit::{self, Entry};
use crate::staff::model::{NewPassword, StaffSummary};
use crate::staff::password::Verified;
use crate::staff::recovery::{self, Change};
use crate::staff::service;
use crate::staff::store;
use crate::staff::two_factor;
use crate::staff::ui::{form_page, rfc3339_seconds, see_other};
use crate::staff::user_agent;
use crate::state::AppState;

async fn account_page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    extra: Value,
) -> Result<HttpResponse, AppError> {
    let user_id = staff.user.id.clone();
    let idle = TimeDelta::minutes(i64::from(state.settings.staff.session_idle_minutes));
    let (sessions, tokens, totp_on, passkeys) = state
        .db
        .run(move |conn| {
            Ok((
                store::active_user_sessions(conn, &user_id, crate::db::now(), idle)?,
                store::user_tokens(conn, &user_id)?,
                two_factor::store::has_totp(conn, &user_id)?,
                two_factor::passkeys::store::count(conn, &user_id)?,
            ))
        })
        .await?;
    let current = staff.session_hash().unwrap_or_default();
    let sessions: Vec<Value> = sessions
        .iter()
        .map(|s| {
            json!({
                "id": s.id, "browser": user_agent::describe(s.user_agent.as_deref()),
                "created_at": rfc3339_seconds(s.created_at),
                "last_seen_at": rfc3339_seconds(s.last_seen_at), "current": s.id == current,
            })
        })
        .collect();
    let mut ctx = json!({
        "sessions": sessions, "tokens": tokens, "new_token": null,
        "second_factor": staff.second_factor, "totp_on": totp_on, "passkey_count": passkeys,
        "recently_checked": super::two_factor::recently_checked(state, staff),
    });
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
    let notice = recovery::password_changed_email(&state.mailer, &staff.user, Change::AccountPage)?;
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
            outbox::enqueue(conn, &[notice])?;
            audit::record(
                conn,
                &actor,
                Entry::new("staff.password_changed").target("staff_user", &user_id),
            )?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
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
    /// A current second-factor code, required when the account has a second factor.
    #[serde(default)]
    code: String,
}

/// Creates a personal API token; an account with a second factor proves it again here, with a
/// current code or a passkey confirmed in the last minutes (a token outlives the session
/// that made it).
pub async fn create_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let created = match two_factor::passkeys::require_recent_check(&state, &staff, &form.code).await
    {
        Ok(()) => {
            service::create_token(&state.db, staff.user.id.clone(), form.label, staff.actor()).await
        }
        Err(e) => Err(e),
    };
    form_page(
        created,
        |token| json!({ "new_token": token }),
        |status, context| account_page(&req, &state, &staff, status, context),
    )
    .await
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

/// The signed-in staff member (check a token with it).
#[utoipa::path(get, path = "/api/v1/staff/me", tag = "staff",
    responses((status = 200, body = StaffSummary), (status = 401)), security(("bearer" = [])))]
pub async fn me_json(staff: Staff) -> HttpResponse {
    HttpResponse::Ok().json(StaffSummary::from(&staff.user))
}
