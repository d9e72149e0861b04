//! The staff side of one person's data (admins only): look an address up, export it for a
//! data-access request (JSON, or a zip with the CV files), erase it, and lift the newsletter
//! block an erasure leaves. Every view, export, erasure and lift is audited by the address's
//! keyed hash, never the address.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::service::{self, ErasureReport, Person, Purpose};
use crate::domain::EmailAddress;
use crate::donations::Donations;
use crate::error::{AppError, FieldError};
use crate::staff::handlers::page;
use crate::staff::{NavItem, Staff, StaffRoutes, ADMIN};
use crate::state::AppState;
/// Every staff route of this feature, each with the roles that may use it.
pub fn staff_routes(r: &mut StaffRoutes) {
    use Method as M;
    r.api(M::GET, "/people", ADMIN, person_json)
        .api(M::DELETE, "/people", ADMIN, erase_json)
        .api(M::GET, "/people/export.json", ADMIN, export_json)
        .api(M::GET, "/people/export.zip", ADMIN, export_zip)
        .api(
            M::DELETE,
            "/people/newsletter-block",
            ADMIN,
            lift_block_json,
        )
        .page(M::GET, "/people", ADMIN, person_page)
        .page(M::POST, "/people/erase", ADMIN, erase_form)
        .page(M::POST, "/people/lift-block", ADMIN, lift_block_form);
}

pub fn staff_nav() -> Vec<NavItem> {
    vec![NavItem {
        key: "people",
        label: "People",
        href: "/staff/people",
        hint: "Find, export or erase everything about one address",
        roles: ADMIN,
    }]
}

/// `?email=` of every endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailQuery {
    /// The address to look up (compared without case).
    #[param(required = true)]
    email: Option<String>,
}

fn address(raw: Option<&str>) -> Result<EmailAddress, AppError> {
    EmailAddress::parse(raw.unwrap_or_default()).map_err(|m| AppError::field("email", m))
}

async fn look_up(
    state: &AppState,
    staff: &Staff,
    email: &EmailAddress,
    purpose: Purpose,
) -> Result<Person, AppError> {
    service::look_up(
        &state.db,
        &state.keys,
        &state.settings.uploads.dir,
        email,
        staff.actor(),
        purpose,
        // Staff see that a tip exists, never its content, here.
        (state.tips.clone(), false),
    )
    .await
}

/// Everything stored about one address across features, with each record's id and staff
/// page. Audited (by the address's keyed hash).
#[utoipa::path(get, path = "/api/v1/staff/people", tag = "staff", params(EmailQuery),
    responses((status = 200, body = Person), (status = 401), (status = 403),
        (status = 422, description = "`email` is missing or not an address")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn person_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<EmailQuery>,
) -> Result<HttpResponse, AppError> {
    let email = address(query.email.as_deref())?;
    let person = look_up(&state, &staff, &email, Purpose::View).await?;
    Ok(private(HttpResponse::Ok()).json(person))
}

fn private(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

fn attachment(name: &str) -> (header::HeaderName, String) {
    (
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{name}\""),
    )
}

/// The data-access export: the same document as one JSON file. Audited.
#[utoipa::path(get, path = "/api/v1/staff/people/export.json", tag = "staff", params(EmailQuery),
    responses((status = 200, body = Person, description = "an attachment, `person.json`"),
        (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn export_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<EmailQuery>,
) -> Result<HttpResponse, AppError> {
    let email = address(query.email.as_deref())?;
    let person = look_up(&state, &staff, &email, Purpose::ExportJson).await?;
    json_download(&person)
}

/// `person.json` as a download.
pub fn json_download(person: &Person) -> Result<HttpResponse, AppError> {
    let body = serde_json::to_vec_pretty(person)
        .map_err(|e| AppError::unexpected(anyhow::Error::new(e)))?;
    Ok(private(HttpResponse::Ok())
        .content_type("application/json")
        .insert_header(attachment("person.json"))
        .body(body))
}

/// The data-access export as a zip: `person.json` and the person's CV files under `cv/`.
/// Audited.
#[utoipa::path(get, path = "/api/v1/staff/people/export.zip", tag = "staff", params(EmailQuery),
    responses((status = 200, content_type = "application/zip",
        description = "`person.json` and every CV file under `cv/`"),
        (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn export_zip(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<EmailQuery>,
) -> Result<HttpResponse, AppError> {
    let email = address(query.email.as_deref())?;
    let person = look_up(&state, &staff, &email, Purpose::ExportZip).await?;
    let bytes = service::zip(&person).await?;
    Ok(private(HttpResponse::Ok())
        .content_type("application/zip")
        .insert_header(attachment("person.zip"))
        .body(bytes))
}

async fn erase(
    state: &AppState,
    donations: &Donations,
    staff: &Staff,
    email: &EmailAddress,
) -> Result<ErasureReport, AppError> {
    service::erase(
        &state.db,
        &state.keys,
        &state.settings,
        donations,
        email,
        staff.actor(),
        None,
    )
    .await
}

/// Erases everything about one address in one transaction: subscriber deleted and the
/// address blocked from the newsletter by its keyed hash; gifts anonymised (amounts, dates
/// and receipts kept); comments deleted; votes' comments removed; applications anonymised
/// and their CVs deleted; queued emails cancelled and every email's content cleared; audit
/// snapshots scrubbed. Audited by the address's keyed hash. Erasing again is harmless.
#[utoipa::path(delete, path = "/api/v1/staff/people", operation_id = "erase_person", tag = "staff", params(EmailQuery),
    responses((status = 200, body = ErasureReport, description = "what was erased (counts)"),
        (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn erase_json(
    state: web::Data<AppState>,
    donations: web::Data<Donations>,
    staff: Staff,
    query: web::Query<EmailQuery>,
) -> Result<HttpResponse, AppError> {
    let email = address(query.email.as_deref())?;
    let report = erase(&state, &donations, &staff, &email).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Lifts the newsletter block on an address (left by an erasure, a bounce or a complaint),
/// so that a new subscription is accepted and confirmed as usual. Audited.
#[utoipa::path(delete, path = "/api/v1/staff/people/newsletter-block", tag = "staff",
    params(EmailQuery),
    responses((status = 204, description = "lifted"), (status = 401), (status = 403),
        (status = 404, description = "the address is not blocked"), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn lift_block_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<EmailQuery>,
) -> Result<HttpResponse, AppError> {
    let email = address(query.email.as_deref())?;
    if service::lift_block(&state.db, &state.keys, &email, staff.actor()).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AppError::NotFound)
    }
}

// ---- pages ----

const TEMPLATE: &str = "staff/people/person.html";

/// The search box, and for a valid address everything about it (audited as a view).
pub async fn person_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<EmailQuery>,
) -> Result<HttpResponse, AppError> {
    let raw = query.email.as_deref().map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return render(&req, &state, &staff, StatusCode::OK, json!({ "query": "" }));
    }
    match address(Some(raw)) {
        Ok(email) => {
            let person = look_up(&state, &staff, &email, Purpose::View).await?;
            render(
                &req,
                &state,
                &staff,
                StatusCode::OK,
                json!({ "query": raw, "person": person, "empty": person.is_empty() }),
            )
        }
        Err(AppError::Validation(errors)) => render(
            &req,
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "query": raw, "errors": errors }),
        ),
        Err(e) => Err(e),
    }
}

fn render(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    context: serde_json::Value,
) -> Result<HttpResponse, AppError> {
    page(req, state, Some(staff), "people", TEMPLATE, status, context)
}

#[derive(Debug, Deserialize)]
pub struct EraseForm {
    email: String,
    /// The address typed again.
    confirm: String,
}

/// The erase form: the address must be typed again to confirm.
pub async fn erase_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    donations: web::Data<Donations>,
    staff: Staff,
    form: web::Form<EraseForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let email = address(Some(&form.email))?;
    let typed = EmailAddress::parse(&form.confirm).map(|e| e.normalized());
    if typed.as_deref() != Ok(email.normalized().as_str()) {
        let person = look_up(&state, &staff, &email, Purpose::View).await?;
        let errors = vec![FieldError::new(
            "confirm",
            "Type the address exactly as shown to confirm the erasure.",
        )];
        return render(
            &req,
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "query": form.email, "person": person, "empty": person.is_empty(), "errors": errors }),
        );
    }
    let report = erase(&state, &donations, &staff, &email).await?;
    render(
        &req,
        &state,
        &staff,
        StatusCode::OK,
        json!({ "query": "", "erased": report, "erased_email": email.normalized() }),
    )
}

#[derive(Debug, Deserialize)]
pub struct LiftForm {
    email: String,
}

/// Lifts the newsletter block, then shows the address again.
pub async fn lift_block_form(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<LiftForm>,
) -> Result<HttpResponse, AppError> {
    let email = address(Some(&form.email))?;
    service::lift_block(&state.db, &state.keys, &email, staff.actor()).await?;
    let location = format!(
        "/staff/people?email={}&notice=block_lifted",
        url::form_urlencoded::byte_serialize(email.normalized().as_bytes()).collect::<String>()
    );
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish())
}
