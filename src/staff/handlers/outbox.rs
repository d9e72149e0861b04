//! The outbox (admins only): emails by state, and retrying one that failed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::page;
use crate::error::AppError;
use crate::mail::outbox::{self, OutboxState};
use crate::staff::access::Staff;
use crate::staff::audit::{self, Entry};
use crate::staff::ui::see_other;
use crate::state::AppState;
use crate::web::pagination::{Page, PageRequest};

impl utoipa::PartialSchema for OutboxState {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let states: Vec<&str> = OutboxState::ALL.iter().map(|s| s.as_str()).collect();
        crate::web::openapi::string_enum(&states).into()
    }
}

impl utoipa::ToSchema for OutboxState {}

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
    #[schema(format = Uuid)]
    id: String,
    template: String,
    to: String,
    subject: String,
    #[schema(schema_with = <OutboxState as utoipa::PartialSchema>::schema)]
    state: String,
    attempts: i32,
    last_error: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    sent_at: Option<String>,
    #[schema(format = DateTime)]
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
    params(("state" = inline(Option<OutboxState>), Query),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, body = Page<OutboxItem>), (status = 422, description = "A `state`, `limit` or `cursor` this list does not take")),
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

/// The answer to a retry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RetryQueued {
    /// Always `queued`.
    #[schema(schema_with = queued_schema)]
    status: &'static str,
}

fn queued_schema() -> utoipa::openapi::Object {
    crate::web::openapi::string_enum(&["queued"])
}

/// Queues a failed email again with a fresh attempt budget.
#[utoipa::path(post, path = "/api/v1/staff/outbox/{id}/retry", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 202, body = RetryQueued), (status = 404, description = "No such email"), (status = 409, description = "The email has not failed")),
    security(("bearer" = [])))]
pub async fn outbox_retry_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    retry(&state, &staff, path.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(RetryQueued { status: "queued" }))
}

pub async fn outbox_retry_page(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    retry(&state, &staff, path.into_inner()).await?;
    Ok(see_other("/staff/outbox?notice=retry_queued"))
}
