//! The public JSON API for open positions.

use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::{EmploymentType, Posting, PostingStatus, Question, SalaryPeriod, Workplace};
use super::service;
use crate::config::Settings;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::api_routes::ApiRoutes;
use crate::web::ClientIp;

/// A posting in the public list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PostingListItem {
    pub slug: String,
    pub title: String,
    pub location: String,
    pub employment_type: EmploymentType,
    /// `remote`, `hybrid` or `on_site`.
    pub remote: Workplace,
    pub summary: String,
    pub closes_at: Option<DateTime<Utc>>,
    /// The posting's page, with the application form.
    pub url: String,
}

/// A salary range in minor units of `currency`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SalaryView {
    pub currency: String,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
    pub period: SalaryPeriod,
}

/// A posting in full.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PostingDetail {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub location: String,
    pub country: Option<String>,
    pub employment_type: EmploymentType,
    pub remote: Workplace,
    /// `open`, or `closed` once it no longer takes applications.
    pub status: PostingStatus,
    pub date_posted: DateTime<Utc>,
    pub closes_at: Option<DateTime<Utc>>,
    pub salary: Option<SalaryView>,
    /// Rendered from the Markdown and sanitised.
    pub description_html: String,
    pub description_markdown: String,
    /// Custom questions; answer each in the multipart field `answer_<id>`.
    pub questions: Vec<Question>,
    pub url: String,
    /// Where to POST an application (`multipart/form-data`).
    pub apply_url: String,
}

/// The answer to an accepted application.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationReceived {
    pub id: String,
    /// Always `received`.
    pub status: &'static str,
}

/// The application form (`multipart/form-data`). Answers to the posting's custom questions
/// go in one field each, named `answer_<question id>` (`yes`/`no` for yes/no questions).
/// Validation errors name the same fields.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes the multipart body in the OpenAPI document only.
pub struct ApplicationForm {
    /// 1–255 characters, one line, no web addresses.
    name: String,
    /// At most 255 characters.
    email: String,
    phone: Option<String>,
    /// At most 10,000 characters.
    cover_letter: Option<String>,
    /// http(s) URLs, one per line, at most 10.
    links: Option<String>,
    /// Must be `true`: the applicant agrees to the processing described in the privacy notice.
    consent: bool,
    /// `true` to be kept on file for future openings (default false).
    keep_on_file: Option<bool>,
    #[schema(schema_with = crate::web::openapi::lang_schema)]
    lang: Option<String>,
    /// PDF, DOCX or ODT, recognised by content; at most `uploads.max_bytes`.
    #[schema(value_type = String, format = Binary)]
    cv: Vec<u8>,
}

fn public_url(settings: &Settings) -> &str {
    settings.server.public_url.as_str().trim_end_matches('/')
}

pub(super) fn page_url(settings: &Settings, slug: &str) -> String {
    format!("{}/jobs/{slug}", public_url(settings))
}

fn list_item(settings: &Settings, p: Posting) -> PostingListItem {
    PostingListItem {
        url: page_url(settings, &p.slug),
        slug: p.slug,
        title: p.title,
        location: p.location,
        employment_type: p.employment_type,
        remote: p.remote,
        summary: p.summary,
        closes_at: p.closes_at.map(|t| t.and_utc()),
    }
}

pub(super) fn detail_of(settings: &Settings, public: service::PublicPosting) -> PostingDetail {
    let now = crate::db::now();
    let p = public.posting;
    PostingDetail {
        url: page_url(settings, &p.slug),
        apply_url: format!(
            "{}/api/v1/jobs/{}/applications",
            public_url(settings),
            p.slug
        ),
        status: p.effective_status(now),
        date_posted: p.date_posted().and_utc(),
        closes_at: p.closes_at.map(|t| t.and_utc()),
        salary: p.salary.map(|s| SalaryView {
            currency: s.currency,
            min_minor: s.min_minor,
            max_minor: s.max_minor,
            period: s.period,
        }),
        questions: public.questions,
        slug: p.slug,
        title: p.title,
        summary: p.summary,
        location: p.location,
        country: p.country,
        employment_type: p.employment_type,
        remote: p.remote,
        description_html: p.description_html,
        description_markdown: p.description_markdown,
    }
}

/// Open postings: open, past their opening and before their closing time; newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs",
    responses((status = 200, body = [PostingListItem])))]
#[tracing::instrument(skip_all)]
async fn list(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let postings = state
        .db
        .run(|conn| {
            let now = crate::db::now();
            super::store::close_expired(conn, now)?;
            Ok(super::store::list_open_postings(conn, now)?)
        })
        .await?;
    let items: Vec<PostingListItem> = postings
        .into_iter()
        .map(|p| list_item(&state.settings, p))
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// One posting, open or closed. Drafts, postings not open yet and unknown slugs are 404.
#[utoipa::path(get, path = "/api/v1/jobs/{slug}", tag = "jobs",
    params(("slug" = String, Path, description = "The posting's slug")),
    responses((status = 200, body = PostingDetail), (status = 404, body = crate::error::Problem)))]
#[tracing::instrument(skip_all, fields(slug = %slug))]
async fn detail(
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let public = service::find_public(&state, &slug).await?;
    Ok(HttpResponse::Ok().json(detail_of(&state.settings, public)))
}

/// Apply for a position with a CV (PDF, DOCX or ODT).
#[utoipa::path(post, path = "/api/v1/jobs/{slug}/applications", tag = "jobs",
    params(("slug" = String, Path, description = "The posting's slug")),
    request_body(content = ApplicationForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = ApplicationReceived),
        (status = 400, description = "Not valid multipart", body = crate::error::Problem),
        (status = 404, description = "Draft or unknown posting", body = crate::error::Problem),
        (status = 409, description = "Closed posting, or this email already applied", body = crate::error::Problem),
        (status = 413, description = "CV over `uploads.max_bytes`; nothing stored", body = crate::error::Problem),
        (status = 415, description = "Not multipart/form-data", body = crate::error::Problem),
        (status = 422, description = "Invalid fields, answers or CV", body = crate::error::Problem),
        (status = 429, description = "Rate limited", body = crate::error::Problem),
    ))]
#[tracing::instrument(skip_all, fields(slug = %slug))]
async fn apply(
    state: web::Data<AppState>,
    slug: web::Path<String>,
    req: HttpRequest,
    ip: ClientIp,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (public, payload) = service::find_for_application(&state, &slug, payload).await?;
    let received = service::apply(&state, &public, req.headers(), payload, ip)
        .await
        .map_err(|rejected| {
            // The problem document follows the form's `lang` when it names an offered one.
            if let Some(lang) = rejected
                .values
                .get("lang")
                .and_then(|l| state.languages.parse(l).ok())
            {
                req.extensions_mut()
                    .insert(crate::web::problem_lang::ChosenLang(lang));
            }
            rejected.error
        })?;
    Ok(
        HttpResponse::build(StatusCode::CREATED).json(ApplicationReceived {
            id: received.id,
            status: "received",
        }),
    )
}

/// The public JSON API (registered inside `/api/v1`).
pub fn routes(r: &mut ApiRoutes) {
    r.get("/jobs", list)
        .get("/jobs/{slug}", detail)
        .post("/jobs/{slug}/applications", apply);
}
