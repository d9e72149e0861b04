//! Operations endpoints: `/healthz`, `/metrics`, `/api/v1/openapi.json` and the reference
//! drawn from it, `/api/docs`.

mod reference;

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::OpenApi;

use crate::mail::outbox::{self, OutboxState};
use crate::metrics::{Metrics, StateLabels};
use crate::state::AppState;
use crate::web::api_routes::ApiRoutes;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/metrics").get(metrics))
        .service(web::resource("/api/docs").get(reference::page));
}

/// The document's own route, for the `/api/v1` table.
pub fn api_routes(r: &mut ApiRoutes) {
    r.machine(Method::GET, "/openapi.json", openapi_json)
        .without_database();
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    status: &'static str,
    /// `ok` or `unreachable`.
    database: &'static str,
    version: &'static str,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let version = env!("CARGO_PKG_VERSION");
    if state.db.ping().await {
        HttpResponse::Ok().json(Health {
            status: "ok",
            database: "ok",
            version,
        })
    } else {
        HttpResponse::ServiceUnavailable().json(Health {
            status: "unavailable",
            database: "unreachable",
            version,
        })
    }
}

/// Prometheus text exposition.
async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    if let Ok(counts) = state
        .db
        .run(|conn| Ok(outbox::counts_by_state(conn)?))
        .await
    {
        for st in OutboxState::ALL {
            let n = counts
                .iter()
                .find(|(s, _)| s == st.as_str())
                .map_or(0, |(_, n)| *n);
            metrics
                .outbox_depth
                .get_or_create(&StateLabels {
                    state: st.as_str().into(),
                })
                .set(n);
        }
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.encode())
}

/// The whole OpenAPI document, merged from every feature's by the wiring at start-up and
/// handed down as app data (this module sits below the features and knows none of them).
pub struct ApiDocument(pub utoipa::openapi::OpenApi);

/// This OpenAPI document, generated from the handlers' annotations.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
async fn openapi_json(doc: web::Data<ApiDocument>) -> HttpResponse {
    HttpResponse::Ok().json(&doc.0)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Frontdesk",
        description = "A newsroom's front desk for its readers: donations, newsletter, feedback, comments, jobs, and the staff API behind them."
    ),
    paths(healthz, openapi_json),
    components(schemas(Health, crate::error::Problem, crate::error::FieldError))
)]
pub struct ApiDoc;
