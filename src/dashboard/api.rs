//! `GET /api/v1/staff/dashboard`: the numbers of the staff home page, for the signed-in role.

use actix_web::{web, HttpResponse};

use super::pages::read;
use super::service::Dashboard;
use crate::error::AppError;
use crate::staff::access::Staff;
use crate::state::AppState;

/// The dashboard's numbers: each panel the role may see, the others `null` (fundraising:
/// fundraising; newsletter: fundraising and editors; editors: editors; hiring: hiring, over
/// the postings the account reviews; health: administrators, who see every panel).
#[utoipa::path(get, path = "/api/v1/staff/dashboard", tag = "staff",
    responses((status = 200, body = Dashboard), (status = 401), (status = 403)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn dashboard_json(
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let d = read(&state, &staff).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(d))
}
