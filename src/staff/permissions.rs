//! Permissions given to one staff account beyond its role, by an admin (audited). The only
//! one so far is [`Permission::Tips`]: opening confidential tips. A permission is not a
//! role: an editor may or may not hold it, and it gives nothing the role's routes do not
//! reach (a tip is opened from the comments pages, open to admins and editors).
//!
//! Routes: `POST /staff/accounts/{id}/tips` (the accounts page) and
//! `PUT /api/v1/staff/accounts/{id}/permissions`, admins only.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::schema::staff_permissions;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::staff::access::Staff;
use crate::staff::audit::{self, Entry};
use crate::staff::model::Role;
use crate::staff::ui::see_other;
use crate::state::AppState;
use crate::web::ApiJson;

/// A permission beyond the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Open confidential tips (and reply to them, keep them, restrict them).
    Tips,
}

impl Permission {
    pub const ALL: [Permission; 1] = [Permission::Tips];

    /// The permission named `name`; `None` for one this version does not know.
    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == name.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Tips => "tips",
        }
    }

    /// The roles an account must have for the permission to mean anything.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Permission::Tips => &[Role::Admin, Role::Editor],
        }
    }
}

/// True when `user_id` holds `permission`.
pub fn has(conn: &mut DbConnection, user_id: &str, permission: Permission) -> QueryResult<bool> {
    let found: i64 = staff_permissions::table
        .filter(staff_permissions::user_id.eq(user_id))
        .filter(staff_permissions::permission.eq(permission.as_str()))
        .count()
        .get_result(conn)?;
    Ok(found > 0)
}

/// The ids of the accounts holding `permission`.
pub fn holders(conn: &mut DbConnection, permission: Permission) -> QueryResult<Vec<String>> {
    staff_permissions::table
        .filter(staff_permissions::permission.eq(permission.as_str()))
        .select(staff_permissions::user_id)
        .order(staff_permissions::user_id)
        .load(conn)
}

/// Grants or withdraws `permission`; returns whether anything changed.
pub fn set(
    conn: &mut DbConnection,
    user_id: &str,
    permission: Permission,
    granted: bool,
    granted_by: &str,
) -> QueryResult<bool> {
    let held = has(conn, user_id, permission)?;
    if held == granted {
        return Ok(false);
    }
    if granted {
        diesel::insert_into(staff_permissions::table)
            .values((
                staff_permissions::user_id.eq(user_id),
                staff_permissions::permission.eq(permission.as_str()),
                staff_permissions::granted_by.eq(granted_by),
                staff_permissions::granted_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
    } else {
        diesel::delete(
            staff_permissions::table
                .filter(staff_permissions::user_id.eq(user_id))
                .filter(staff_permissions::permission.eq(permission.as_str())),
        )
        .execute(conn)?;
    }
    Ok(true)
}

/// Grants or withdraws the tips permission of account `id`, audited
/// (`staff.permission_granted` / `staff.permission_withdrawn`) in the same transaction.
/// 404 for an unknown account; 422 (`granted`) for an account whose role cannot open comments.
pub async fn set_tips(
    state: &AppState,
    staff: &Staff,
    id: String,
    granted: bool,
) -> Result<(), AppError> {
    let actor = staff.actor();
    state
        .db
        .write(move |conn| {
            let user = crate::staff::store::find_user(conn, &id)?;
            let permission = Permission::Tips;
            if granted && !user.role().is_some_and(|r| r.permits(permission.roles())) {
                return Err(AppError::field(
                    "granted",
                    "Only admins and editors can hold the tips permission.",
                ));
            }
            if set(conn, &id, permission, granted, &actor.label)? {
                let action = if granted {
                    "staff.permission_granted"
                } else {
                    "staff.permission_withdrawn"
                };
                audit::record(
                    conn,
                    &actor,
                    Entry::new(action)
                        .target("staff_user", &id)
                        .details(json!({ "permission": permission.as_str() })),
                )?;
            }
            Ok(())
        })
        .await
}

/// `PUT /api/v1/staff/accounts/{id}/permissions` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionChange {
    /// The permission: `tips` (open confidential tips).
    #[schema(example = "tips", pattern = "^tips$")]
    pub permission: String,
    /// true grants it, false withdraws it.
    pub granted: bool,
}

/// The answer: the account, the permission and whether the account now holds it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermissionState {
    pub id: String,
    pub permission: String,
    pub granted: bool,
}

/// Grants or withdraws a permission beyond the role (admins only; audited). The only one is
/// `tips`, which only admin and editor accounts can hold (422 otherwise).
#[utoipa::path(put, path = "/api/v1/staff/accounts/{id}/permissions", tag = "staff",
    params(("id" = String, Path)), request_body = PermissionChange,
    responses((status = 200, body = PermissionState), (status = 401), (status = 403),
              (status = 404), (status = 415), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn permission_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: ApiJson<PermissionChange>,
) -> Result<HttpResponse, AppError> {
    let (id, change) = (path.into_inner(), body.into_inner());
    let permission = Permission::parse(&change.permission)
        .ok_or_else(|| AppError::field("permission", "Use one of: tips."))?;
    match permission {
        Permission::Tips => set_tips(&state, &staff, id.clone(), change.granted).await?,
    }
    Ok(HttpResponse::Ok().json(PermissionState {
        id,
        permission: permission.as_str().into(),
        granted: change.granted,
    }))
}

/// The accounts page's form: `value` is `true` or `false`.
#[derive(Debug, Deserialize)]
pub struct TipsForm {
    value: String,
}

pub async fn tips_form(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<TipsForm>,
) -> Result<HttpResponse, AppError> {
    let granted = match form.value.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::field("value", "Use true or false.")),
    };
    set_tips(&state, &staff, path.into_inner(), granted).await?;
    Ok(see_other("/staff/accounts?notice=permission_changed"))
}
