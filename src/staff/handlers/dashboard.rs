//! The staff home page; for administrators, the health panel (outgoing email, backups).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::page;
use crate::backup::runs;
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
    let admin = staff.is(&[Role::Admin]);
    let outbox = if admin {
        state
            .db
            .run(|conn| Ok(outbox::counts_by_state(conn)?))
            .await?
    } else {
        Vec::new()
    };
    let backups = if admin {
        let settings = state.settings.clone();
        Some(
            state
                .db
                .run(move |conn| Ok(runs::health(conn, &settings, crate::db::now())?))
                .await?,
        )
    } else {
        None
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
        json!({ "outbox": outbox, "backups": backups }),
    )
}
