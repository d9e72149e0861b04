//! The posting's HTML page (`GET /jobs/{slug}`) with its schema.org `JobPosting` block (while
//! the posting is open) and an application form that needs no JavaScript, and the form's
//! target (`POST /jobs/{slug}/apply`), which answers with a page: the thank-you, or the form
//! again with every problem named.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::jsonld;
use super::model::{EmploymentType, Posting, QuestionKind, SalaryPeriod, Workplace};
use super::service::{self, PublicPosting, Received, Rejected};
use crate::error::{AppError, FieldError};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::page;
use crate::web::problem_lang::ProblemText;
use crate::web::ClientIp;

const POSTING_PAGE: &str = "pages/jobs/posting.html";

/// The catalogue message (locales/*/jobs-pages.ftl) naming a workplace.
fn workplace_label(w: Workplace) -> &'static str {
    match w {
        Workplace::Remote => "job-workplace-remote",
        Workplace::Hybrid => "job-workplace-hybrid",
        Workplace::OnSite => "job-workplace-on-site",
    }
}

fn employment_label(e: EmploymentType) -> &'static str {
    match e {
        EmploymentType::FullTime => "job-employment-full-time",
        EmploymentType::PartTime => "job-employment-part-time",
        EmploymentType::Contractor => "job-employment-contractor",
        EmploymentType::Temporary => "job-employment-temporary",
        EmploymentType::Intern => "job-employment-intern",
        EmploymentType::Volunteer => "job-employment-volunteer",
        EmploymentType::PerDiem => "job-employment-per-diem",
        EmploymentType::Other => "job-employment-other",
    }
}

fn period_label(p: SalaryPeriod) -> &'static str {
    match p {
        SalaryPeriod::Hour => "job-period-hour",
        SalaryPeriod::Day => "job-period-day",
        SalaryPeriod::Week => "job-period-week",
        SalaryPeriod::Month => "job-period-month",
        SalaryPeriod::Year => "job-period-year",
    }
}

fn salary_text(posting: &Posting, text: impl Fn(&str) -> String) -> Option<String> {
    let s = posting.salary.as_ref()?;
    let amount = |minor| jsonld::major_units(minor, &s.currency);
    let range = match (s.min_minor, s.max_minor) {
        (Some(min), Some(max)) if min == max => amount(min),
        (Some(min), Some(max)) => format!("{}–{}", amount(min), amount(max)),
        (Some(min), None) => format!("{} {}", text("job-salary-from"), amount(min)),
        (None, Some(max)) => format!("{} {}", text("job-salary-up-to"), amount(max)),
        (None, None) => return None,
    };
    Some(format!(
        "{} {range} {}",
        s.currency,
        text(period_label(s.period))
    ))
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
    lang: &Lang,
    status: StatusCode,
    public: &PublicPosting,
    mut form: FormState,
) -> Result<HttpResponse, AppError> {
    let settings = &state.settings;
    let text = |id: &str| page::text(&state.templates, lang, id);
    let problems = ProblemText::embedded();
    let catalogues = state.templates.catalogues();
    problems.field_errors(catalogues, lang.as_str(), &mut form.errors);
    form.notice = form
        .notice
        .map(|n| problems.translate(catalogues, lang.as_str(), &n));
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
            "workplace": text(workplace_label(p.remote)),
            "employment": text(employment_label(p.employment_type)),
            // UTC days and times: the page writes the day in the reader's language (`date`).
            "date_posted": p.date_posted().format("%Y-%m-%d").to_string(),
            "closes_at": p.closes_at.map(|t| json!({
                "date": t.format("%Y-%m-%d").to_string(),
                "time": t.format("%H:%M UTC").to_string(),
            })),
            "salary": salary_text(p, text),
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
        "lang": lang,
    });
    crate::web::page::render(&state.templates, settings, status, POSTING_PAGE, context)
}

fn not_found_page(state: &AppState, lang: &Lang) -> Result<HttpResponse, AppError> {
    crate::web::page::render(
        &state.templates,
        &state.settings,
        StatusCode::NOT_FOUND,
        "pages/jobs/not_found.html",
        json!({ "lang": lang }),
    )
}

/// `GET /jobs/{slug}`.
#[tracing::instrument(skip_all, fields(slug = %slug))]
async fn posting_page(
    state: web::Data<AppState>,
    slug: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let lang = page::lang(&req, None);
    match service::find_public(&state, &slug).await {
        Ok(public) => render_posting(&state, &lang, StatusCode::OK, &public, FormState::default()),
        Err(AppError::NotFound) => not_found_page(&state, &lang),
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
    let lang = page::lang(&req, None);
    let (public, payload) = match service::find_for_application(&state, &slug, payload).await {
        Ok(found) => found,
        Err(AppError::NotFound) => return not_found_page(&state, &lang),
        Err(e) => return Err(e),
    };
    match service::apply(&state, &public, req.headers(), payload, ip).await {
        Ok(received) => {
            let lang = page::lang(&req, Some(received.lang.as_str()));
            thank_you(&state, &lang, &public, received)
        }
        Err(Rejected { error, values }) => {
            // The form's own `lang` field (the page's language) when it names an offered one.
            let lang = page::lang(&req, values.get("lang").map(String::as_str));
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
                AppError::NotFound => return not_found_page(&state, &lang),
                other => return Err(other),
            }
            render_posting(&state, &lang, status, &public, form)
        }
    }
}

fn thank_you(
    state: &AppState,
    lang: &Lang,
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
            "lang": lang,
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
