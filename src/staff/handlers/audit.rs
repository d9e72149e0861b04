//! The audit log, as a page and as JSON.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::page;
use crate::error::AppError;
use crate::staff::access::Staff;
use crate::staff::audit;
use crate::state::AppState;
use crate::web::pagination::{Page, PageRequest};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    action: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// One entry of the audit log, as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    #[schema(format = Uuid)]
    pub id: String,
    pub at: DateTime<Utc>,
    /// The staff account that acted; null for the system and the command line.
    #[schema(format = Uuid)]
    pub actor_id: Option<String>,
    pub actor_label: String,
    /// What was done, e.g. `donation.marked_paid`.
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    /// The action's details, a JSON object serialised as a string.
    pub details: String,
}

impl From<audit::AuditRow> for AuditEntry {
    fn from(row: audit::AuditRow) -> Self {
        AuditEntry {
            id: row.id,
            at: row.at.and_utc(),
            actor_id: row.actor_id,
            actor_label: row.actor_label,
            action: row.action,
            target_kind: row.target_kind,
            target_id: row.target_id,
            details: row.details,
        }
    }
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
    responses((status = 200, body = Page<AuditEntry>), (status = 422, description = "A `limit` or `cursor` this list does not take")),
    security(("bearer" = [])))]
pub async fn audit_json(
    state: web::Data<AppState>,
    _staff: Staff,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let page = audit_page_data(&state, &query).await?;
    Ok(HttpResponse::Ok().json(page.map(AuditEntry::from)))
}
