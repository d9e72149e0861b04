//! One search box for the staff area, above the features (no feature imports it):
//! `/staff/search?q=` and `GET /api/v1/staff/search?q=`. Each feature searches its own
//! records (`comments::search`, `donations::search`, `jobs::search`, `newsletter::search`);
//! this module asks only the features the signed-in role may open, and only for what that
//! role may see (sensitive comments for admins and editors, a confidential tip by its
//! reference for holders of the tips permission only, applicants of the postings one reviews).

use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::comments::model::Clearance;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::jobs::figures::Reviewing;
use crate::staff::handlers::page;
use crate::staff::permissions::{self, Permission};
use crate::staff::search::{Hit, MAX_QUERY, PER_KIND};
use crate::staff::{Role, Staff, StaffRoutes, ANY_ROLE};
use crate::state::AppState;

pub fn staff_routes(r: &mut StaffRoutes) {
    r.page(Method::GET, "/search", ANY_ROLE, search_page).api(
        Method::GET,
        "/search",
        ANY_ROLE,
        search_json,
    );
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// What to look for: a comment's reference, words of a comment or note, part of a name
    /// or an address (any case).
    /// Only the first 200 characters count.
    pub q: Option<String>,
}

/// What the search found, by kind, each kind newest first and at most 10 (none for a
/// missing or blank query).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResults {
    pub q: String,
    pub hits: Vec<Hit>,
}

/// The query without control characters, trimmed and cut to its first 200 characters
/// (empty: nothing to look for).
fn parse(q: &str) -> Result<String, AppError> {
    let clean: String = q.chars().filter(|c| !c.is_control()).collect();
    Ok(clean.trim().chars().take(MAX_QUERY).collect())
}

/// Searches what `staff` may see.
pub async fn search(state: &AppState, staff: &Staff, q: String) -> Result<SearchResults, AppError> {
    let role = staff.role;
    let user_id = staff.user.id.clone();
    let reviewer = staff.user.email.clone();
    let tips_key = state.tips.is_some();
    if q.is_empty() {
        return Ok(SearchResults {
            q,
            hits: Vec::new(),
        });
    }
    state
        .db
        .run(move |conn| {
            let hits = gather(conn, &q, role, &user_id, &reviewer, tips_key)?;
            Ok(SearchResults { q, hits })
        })
        .await
}

fn gather(
    conn: &mut DbConnection,
    q: &str,
    role: Role,
    user_id: &str,
    reviewer: &str,
    tips_key: bool,
) -> Result<Vec<Hit>, AppError> {
    let mut hits = Vec::new();
    if role.permits(&[Role::Editor]) {
        let tips = tips_key && permissions::has(conn, user_id, Permission::Tips)?;
        let clearance = Clearance::for_role(role.as_str());
        hits.extend(crate::comments::search::search(
            conn, q, clearance, tips, PER_KIND,
        )?);
    }
    if role.permits(&[Role::Fundraising]) {
        hits.extend(crate::donations::search::search(conn, q, PER_KIND)?);
        hits.extend(crate::newsletter::search::search(conn, q, PER_KIND)?);
    }
    if role.permits(&[Role::Hiring]) {
        let who = if role == Role::Admin {
            Reviewing::Every
        } else {
            Reviewing::ContactOf(reviewer.to_string())
        };
        hits.extend(crate::jobs::search::search(conn, q, &who, PER_KIND)?);
    }
    Ok(hits)
}

/// Search across the staff area for what the signed-in role may see: comments (by
/// reference, text, reader or note) for editors; donors and subscribers for fundraising;
/// applicants of the postings one reviews for hiring; all of them for administrators.
#[utoipa::path(get, path = "/api/v1/staff/search", tag = "staff", params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 401), (status = 403)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn search_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let q = parse(query.q.as_deref().unwrap_or_default())?;
    let results = search(&state, &staff, q).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(results))
}

#[tracing::instrument(skip_all)]
pub async fn search_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    // A malformed query string is the same as an empty box.
    let q = web::Query::<SearchQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().q);
    let typed = q.clone().unwrap_or_default();
    let (status, results, error) = match q.as_deref().map(str::trim) {
        None | Some("") => (StatusCode::OK, None, None),
        Some(_) => match parse(q.as_deref().unwrap_or_default()) {
            Ok(q) => (StatusCode::OK, Some(search(&state, &staff, q).await?), None),
            Err(AppError::Validation(errors)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                errors.into_iter().next().map(|e| e.message),
            ),
            Err(e) => return Err(e),
        },
    };
    page(
        &req,
        &state,
        Some(&staff),
        "search",
        "staff/search.html",
        status,
        json!({ "q": typed, "search_q": typed, "results": results, "search_error": error }),
    )
}

#[derive(OpenApi)]
#[openapi(paths(search_json), components(schemas(SearchResults, Hit)))]
pub struct ApiDoc;
