//! The posting's HTML page (`GET /jobs/{slug}`) with its schema.org `JobPosting` block (while
//! the posting is open) and an application form that needs no JavaScript, and the form's
//! target (`POST /jobs/{slug}/apply`), which answers with a page: the thank-you, or the form
//! again with every problem named.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use super::jsonld;
use super::model::{EmploymentType, Posting, QuestionKind, SalaryPeriod, Workplace};
use super::service::{self, PublicPosting, Received, Rejected};
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use crate::web::ClientIp;

const POSTING_PAGE: &str = "pages/jobs/posting.html";

fn workplace_label(w: Workplace) -> &'static str {
    match w {
        Workplace::Remote => "Remote",
        Workplace::Hybrid => "Hybrid",
        Workplace::OnSite => "On-site",
    }
}

fn employment_label(e: EmploymentType) -> &'static str {
    match e {
        EmploymentType::FullTime => "Full-time",
        EmploymentType::PartTime => "Part-time",
        EmploymentType::Contractor => "Contract",
        EmploymentType::Temporary => "Temporary",
        EmploymentType::Intern => "Internship",
        EmploymentType::Volunteer => "Volunteer",
        EmploymentType::PerDiem => "Per diem",
        EmploymentType::Other => "Other",
    }
}

fn period_label(p: SalaryPeriod) -> &'static str {
    match p {
        SalaryPeriod::Hour => "per hour",
        SalaryPeriod::Day => "per day",
        SalaryPeriod::Week => "per week",
        SalaryPeriod::Month => "per month",
        SalaryPeriod::Year => "per year",
    }
}

fn human_date(t: NaiveDateTime) -> String {
    t.format("%-d %B %Y").to_string()
}

fn salary_text(posting: &Posting) -> Option<String> {
    let s = posting.salary.as_ref()?;
    let amount = |minor| jsonld::major_units(minor, &s.currency);
    let range = match (s.min_minor, s.max_minor) {
        (Some(min), Some(max)) if min == max => amount(min),
        (Some(min), Some(max)) => format!("{}–{}", amount(min), amount(max)),
        (Some(min), None) => format!("from {}", amount(min)),
        (None, Some(max)) => format!("up to {}", amount(max)),
        (None, None) => return None,
    };
    Some(format!("{} {range} {}", s.currency, period_label(s.period)))
}

/// What the form shows: the values sent back, the problems, a notice above it.
#[derive(Debug, Default)]
struct FormState {
    values: BTreeMap<String, String>,
    errors: Vec<FieldError>,
    notice: Option<String>,
    /// After a conflict (closed, already applied) the form is not offered again.
    hide_form: bool,
}

impl FormState {
    fn field(&self, name: &str) -> Value {
        json!({
            "value": self.values.get(name).cloned().unwrap_or_default(),
            "checked": self.values.get(name).is_some_and(|v| v == "true"),
            "error": self.error(name),
        })
    }

    fn error(&self, name: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .errors
            .iter()
            .filter(|e| e.field == name)
            .map(|e| e.message.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    }
}

fn render_posting(
    state: &AppState,
    status: StatusCode,
    public: &PublicPosting,
    form: FormState,
) -> Result<HttpResponse, AppError> {
    let settings = &state.settings;
    let now = crate::db::now();
    let p = &public.posting;
    let public_url = settings.server.public_url.as_str().trim_end_matches('/');
    // Search engines advertise what the block describes: only while the posting is open, so
    // neither closing it early nor its closing time passing leaves an advert behind.
    let json_ld = p
        .accepts_applications(now)
        .then(|| jsonld::script_safe(&jsonld::job_posting(p, &settings.site.name, public_url)));
    let questions: Vec<Value> = public
        .questions
        .iter()
        .map(|q| {
            let field = q.field_name();
            json!({
                "field": field,
                "label": q.label,
                "required": q.required,
                "long": q.kind == QuestionKind::LongText,
                "yes_no": q.kind == QuestionKind::YesNo,
                "value": form.values.get(&field).cloned().unwrap_or_default(),
                "error": form.error(&field),
            })
        })
        .collect();
    let fields: serde_json::Map<String, Value> = super::model::APPLICATION_FIELDS
        .iter()
        .chain(&["cv"])
        .map(|name| (name.to_string(), form.field(name)))
        .collect();
    let context = json!({
        "posting": {
            "slug": p.slug,
            "title": p.title,
            "summary": p.summary,
            "location": p.location,
            "workplace": workplace_label(p.remote),
            "employment": employment_label(p.employment_type),
            "date_posted": human_date(p.date_posted()),
            "closes_at": p.closes_at.map(|t| format!("{}, {} UTC", human_date(t), t.format("%H:%M"))),
            "salary": salary_text(p),
            "description_html": p.description_html,
        },
        "json_ld": json_ld,
        "accepting": p.accepts_applications(now) && !form.hide_form,
        "action": format!("/jobs/{}/apply", p.slug),
        "fields": fields,
        "questions": questions,
        "errors": form.errors,
        "notice": form.notice,
        "max_upload_mb": settings.uploads.max_bytes / (1024 * 1024),
        "privacy_notice_url": settings.jobs.privacy_notice_url.as_ref().map(|u| u.to_string()),
    });
    crate::web::page::render(&state.templates, settings, status, POSTING_PAGE, context)
}

fn not_found_page(state: &AppState) -> Result<HttpResponse, AppError> {
    crate::web::page::render(
        &state.templates,
        &state.settings,
        StatusCode::NOT_FOUND,
        "pages/jobs/not_found.html",
        json!({}),
    )
}

/// `GET /jobs/{slug}`.
#[tracing::instrument(skip_all, fields(slug = %slug))]
async fn posting_page(
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    match service::find_public(&state, &slug).await {
        Ok(public) => render_posting(&state, StatusCode::OK, &public, FormState::default()),
        Err(AppError::NotFound) => not_found_page(&state),
        Err(e) => Err(e),
    }
}

/// `POST /jobs/{slug}/apply`: the page's form, answered with a page.
#[tracing::instrument(skip_all, fields(slug = %slug))]
async fn apply_form(
    state: web::Data<AppState>,
    slug: web::Path<String>,
    req: HttpRequest,
    ip: ClientIp,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (public, payload) = match service::find_for_application(&state, &slug, payload).await {
        Ok(found) => found,
        Err(AppError::NotFound) => return not_found_page(&state),
        Err(e) => return Err(e),
    };
    match service::apply(&state, &public, req.headers(), payload, ip).await {
        Ok(received) => thank_you(&state, &public, received),
        Err(Rejected { error, values }) => {
            let status = actix_web::ResponseError::status_code(&error);
            let mut form = FormState {
                values,
                ..FormState::default()
            };
            match error {
                AppError::Validation(errors) => form.errors = errors,
                AppError::PayloadTooLarge(message) => {
                    form.errors = vec![FieldError::new("cv", message)]
                }
                AppError::Conflict(message) => {
                    form.notice = Some(message);
                    form.hide_form = true;
                }
                AppError::BadRequest(message) | AppError::UnsupportedMediaType(message) => {
                    form.notice = Some(message)
                }
                AppError::NotFound => return not_found_page(&state),
                other => return Err(other),
            }
            render_posting(&state, status, &public, form)
        }
    }
}

fn thank_you(
    state: &AppState,
    public: &PublicPosting,
    received: Received,
) -> Result<HttpResponse, AppError> {
    crate::web::page::render(
        &state.templates,
        &state.settings,
        StatusCode::OK,
        "pages/jobs/received.html",
        json!({
            "title": public.posting.title,
            "slug": public.posting.slug,
            "name": received.name,
            "email": received.email,
            "reference": received.id,
        }),
    )
}

/// The pages, at App level; their POST is rate limited per client IP like the public API.
pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/jobs")
            .wrap(actix_web::middleware::from_fn(
                crate::web::rate_limit::limit_public_posts,
            ))
            .route("/{slug}", web::get().to(posting_page))
            .route("/{slug}/apply", web::post().to(apply_form)),
    );
}
