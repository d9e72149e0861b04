//! The staff home page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::page;
use crate::error::AppError;
use crate::mail::outbox;
use crate::staff::access::Staff;
use crate::staff::model::Role;
use crate::state::AppState;

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
