//! Staff accounts (admins only): create, disable, enable, change a role, send a password
//! reset link, end every session of an account.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::TimeDelta;
use serde::Deserialize;
use serde_json::{json, Value};

use super::page;
use crate::error::{AppError, FieldError};
use crate::staff::access::Staff;
use crate::staff::audit::{self, Entry};
use crate::staff::model::{Role, StaffSummary};
use crate::staff::recovery;
use crate::staff::service;
use crate::staff::store;
use crate::staff::two_factor;
use crate::staff::ui::see_other;
use crate::state::AppState;

async fn accounts_page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    errors: Vec<FieldError>,
    form: Value,
) -> Result<HttpResponse, AppError> {
    let idle = TimeDelta::minutes(i64::from(state.settings.staff.session_idle_minutes));
    let (users, two_factor_ids, sessions, tips) = state
        .db
        .run(move |conn| {
            let tips = crate::staff::permissions::holders(
                conn,
                crate::staff::permissions::Permission::Tips,
            )?;
            Ok((
                store::list_users(conn)?,
                two_factor::store::users_with_second_factor(conn)?,
                store::active_session_counts(conn, crate::db::now(), idle)?,
                tips,
            ))
        })
        .await?;
    let users: Vec<StaffSummary> = users.iter().map(StaffSummary::from).collect();
    let sessions: serde_json::Map<String, Value> =
        sessions.into_iter().map(|(id, n)| (id, json!(n))).collect();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    page(
        req,
        state,
        Some(staff),
        "accounts",
        "staff/accounts.html",
        status,
        json!({
            "users": users, "sessions": sessions, "roles": roles, "errors": errors, "form": form,
            "two_factor_ids": two_factor_ids, "tips": tips,
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

/// Emails the colleague a password reset link (the admin never sees it); audited.
pub async fn send_password_reset(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    recovery::send_by_admin(&state, path.into_inner(), staff.actor()).await?;
    Ok(see_other("/staff/accounts?notice=reset_sent"))
}

/// Ends every session of the account (its API tokens stay; revoke those by disabling it).
pub async fn end_sessions(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (id, actor) = (path.into_inner(), staff.actor());
    state
        .db
        .write(move |conn| {
            store::find_user(conn, &id)?;
            let ended = store::delete_user_sessions(conn, &id)?;
            audit::record(
                conn,
                &actor,
                Entry::new("staff.sessions_ended")
                    .target("staff_user", &id)
                    .details(json!({ "sessions_ended": ended })),
            )?;
            Ok(())
        })
        .await?;
    Ok(see_other("/staff/accounts?notice=sessions_ended"))
}
