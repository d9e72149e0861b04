//! Operations endpoints: `/healthz` (liveness), `/readyz` (readiness for load balancers),
//! `/metrics`, `/api/v1/openapi.json` and the reference drawn from it, `/api/docs`.

mod reference;

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::OpenApi;

use crate::error::AppError;
use crate::mail::outbox::{self, OutboxState};
use crate::metrics::{Metrics, StateLabels};
use crate::state::AppState;
use crate::web::api_routes::ApiRoutes;

/// The probes for load balancers and supervisors, outside `/api/v1` and in its document.
pub const LIVENESS: &str = "/healthz";
pub const READINESS: &str = "/readyz";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(LIVENESS).get(healthz))
        .service(web::resource(READINESS).get(readyz))
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready`.
    status: &'static str,
    /// `ok`.
    database: &'static str,
    /// `current`: every migration this binary knows is applied.
    migrations: &'static str,
    version: &'static str,
}

/// Readiness for load balancers: 200 when the database answers and every migration this
/// binary knows is applied; 503 with a problem document saying which is not the case.
/// (`/healthz` answers liveness: whether the process should be restarted.)
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, body = Readiness),
        (status = 503, body = crate::error::Problem, content_type = "application/problem+json")
    ))]
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let pending = state
        .db
        .run(|conn| Ok(crate::db::pending_migrations(conn)?))
        .await;
    match pending {
        Ok(0) => Ok(HttpResponse::Ok().json(Readiness {
            status: "ready",
            database: "ok",
            migrations: "current",
            version: env!("CARGO_PKG_VERSION"),
        })),
        Ok(1) => Err(AppError::NotReady(
            "1 database migration is pending: run `frontdesk migrate`.".into(),
        )),
        Ok(n) => Err(AppError::NotReady(format!(
            "{n} database migrations are pending: run `frontdesk migrate`."
        ))),
        Err(e) => {
            tracing::warn!(error = %format!("{:#}", anyhow::Error::new(e)), "not ready: the database cannot be read");
            Err(AppError::NotReady("The database is unreachable.".into()))
        }
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
    paths(healthz, readyz, openapi_json),
    components(schemas(Health, Readiness, crate::error::Problem, crate::error::FieldError))
)]
pub struct ApiDoc;
