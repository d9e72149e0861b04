//! The audit log, as a page and as JSON.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
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
