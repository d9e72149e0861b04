//! The staff HTML pages of open positions: the postings list, the posting form, a posting's
//! applications and one application, and the forms that act on them.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::error::{AppError, FieldError};
use crate::jobs::model::{
    EmploymentType, PostingInput, PostingStatus, QuestionKind, SalaryPeriod, Stage, Workplace,
};
use crate::jobs::postings::{self, CONTACTS_ADMIN_ONLY};
use crate::staff::handlers::page;
use crate::staff::ui::{present, redirect_with_notice};
use crate::staff::{Role, Staff};
use crate::state::AppState;

use super::api::ApplicationPatch;
use super::forms::{
    blank_input, stage_names, ApplicationsQuery, NoteForm, PostingForm, PostingsQuery, RatingForm,
    Review, StageForm,
};
use super::{
    applications, apply_review, create_posting, erase, load_posting, posting_rows, update_posting,
    view, Reviewer,
};

/// A time as the staff pages show it, to the minute in UTC (`2026-12-03 13:16`); empty when
/// there is none. For reading, not parsing: the API answers RFC 3339.
fn display_minutes(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The postings list.
pub async fn postings_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<PostingsQuery>,
) -> Result<HttpResponse, AppError> {
    let items = posting_rows(&state, &staff, &query).await?;
    let items: Vec<Value> = items
        .iter()
        .map(|p| {
            let mut v = json!(p);
            v["closes"] = json!(display_minutes(p.closes_at));
            v["created"] = json!(display_minutes(Some(p.created_at)));
            v
        })
        .collect();
    page(
        &req,
        &state,
        Some(&staff),
        "jobs",
        "staff/jobs/list.html",
        StatusCode::OK,
        json!({
            "items": items,
            "statuses": PostingStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "q": { "status": present(&query.status).unwrap_or_default() },
        }),
    )
}

/// How many blank question rows the form offers.
const BLANK_QUESTIONS: usize = 2;

/// The form's values, as the template shows them.
fn form_values(input: &PostingInput) -> Value {
    let dt = |t: Option<DateTime<Utc>>| t.map(|t| t.format("%Y-%m-%dT%H:%M").to_string());
    let salary = input.salary.as_ref();
    let mut questions: Vec<Value> = input
        .questions
        .iter()
        .map(|q| json!({ "id": q.id, "kind": q.kind.as_str(), "label": q.label, "required": q.required }))
        .collect();
    questions.extend((0..BLANK_QUESTIONS).map(|_| json!({ "kind": "short_text", "label": "" })));
    json!({
        "slug": input.slug, "title": input.title, "summary": input.summary,
        "description_markdown": input.description_markdown, "location": input.location,
        "country": input.country, "remote": input.remote.as_str(),
        "employment_type": input.employment_type.as_str(), "status": input.status.as_str(),
        "salary_currency": salary.map(|s| s.currency.clone()),
        "salary_min": salary.and_then(|s| s.min_minor),
        "salary_max": salary.and_then(|s| s.max_minor),
        "salary_period": salary.map(|s| s.period.as_str()),
        "hiring_contacts": input.hiring_contacts.join("\n"),
        "opens_at": dt(input.opens_at), "closes_at": dt(input.closes_at),
        "questions": questions,
    })
}

fn options<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

#[allow(clippy::too_many_arguments)]
fn render_posting_form(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    editing: Option<&str>,
    status: StatusCode,
    values: Value,
    errors: Vec<FieldError>,
) -> Result<HttpResponse, AppError> {
    page(
        req,
        state,
        Some(staff),
        "jobs",
        "staff/jobs/form.html",
        status,
        json!({
            "editing": editing,
            "action": editing.map(|s| format!("/staff/jobs/{s}/edit")).unwrap_or_else(|| "/staff/jobs".into()),
            "contacts_locked": staff.role != Role::Admin,
            "f": values,
            "errors": errors,
            "alert": if errors.is_empty() { Value::Null } else { json!("Please check the form.") },
            "statuses": options(&PostingStatus::ALL, PostingStatus::as_str),
            "workplaces": options(&Workplace::ALL, Workplace::as_str),
            "employment_types": options(&EmploymentType::ALL, EmploymentType::as_str),
            "periods": options(&SalaryPeriod::ALL, SalaryPeriod::as_str),
            "kinds": options(&QuestionKind::ALL, QuestionKind::as_str),
        }),
    )
}

/// The form to create a posting.
pub async fn new_posting_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    let mut input = blank_input();
    input.hiring_contacts = vec![staff.user.email.clone()];
    render_posting_form(
        &req,
        &state,
        &staff,
        None,
        StatusCode::OK,
        form_values(&input),
        Vec::new(),
    )
}

/// The form to edit a posting.
pub async fn edit_posting_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let who = Reviewer::of(&staff);
    let (posting, contacts, questions) = {
        let slug = slug.clone();
        state
            .db
            .run(move |conn| {
                let parts = load_posting(conn, &slug)?;
                if !postings::looks_after(conn, who.role, &who.email, &parts.0.id)? {
                    return Err(AppError::Forbidden(postings::NOT_A_CONTACT.into()));
                }
                Ok(parts)
            })
            .await?
    };
    let input = PostingInput::from_posting(&posting, &contacts, &questions);
    render_posting_form(
        &req,
        &state,
        &staff,
        Some(&slug),
        StatusCode::OK,
        form_values(&input),
        Vec::new(),
    )
}

/// Creates a posting from the form.
pub async fn create_posting_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = PostingForm(form.into_inner());
    let result = match form.to_input() {
        Ok(input) => create_posting(&state, &staff, input).await,
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match result {
        Ok(p) => Ok(redirect_with_notice(
            &format!("/staff/jobs/{}/edit", p.fields.slug),
            "saved",
        )),
        Err(AppError::Validation(errors)) => render_posting_form(
            &req,
            &state,
            &staff,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            form.echo(),
            errors,
        ),
        Err(AppError::Conflict(message)) => render_posting_form(
            &req,
            &state,
            &staff,
            None,
            StatusCode::CONFLICT,
            form.echo(),
            vec![FieldError::new("slug", message)],
        ),
        Err(AppError::Forbidden(message)) if message == CONTACTS_ADMIN_ONLY => render_posting_form(
            &req,
            &state,
            &staff,
            None,
            StatusCode::FORBIDDEN,
            form.echo(),
            vec![FieldError::new("hiring_contacts", message)],
        ),
        Err(e) => Err(e),
    }
}

/// Saves the edit form.
pub async fn update_posting_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let form = PostingForm(form.into_inner());
    let result = match form.to_input() {
        Ok(input) => update_posting(&state, &staff, slug.clone(), move |_| Ok(input)).await,
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match result {
        Ok(p) => Ok(redirect_with_notice(
            &format!("/staff/jobs/{}/edit", p.fields.slug),
            "saved",
        )),
        Err(AppError::Validation(errors)) => render_posting_form(
            &req,
            &state,
            &staff,
            Some(&slug),
            StatusCode::UNPROCESSABLE_ENTITY,
            form.echo(),
            errors,
        ),
        Err(AppError::Conflict(message)) => render_posting_form(
            &req,
            &state,
            &staff,
            Some(&slug),
            StatusCode::CONFLICT,
            form.echo(),
            vec![FieldError::new("slug", message)],
        ),
        Err(AppError::Forbidden(message)) if message == CONTACTS_ADMIN_ONLY => render_posting_form(
            &req,
            &state,
            &staff,
            Some(&slug),
            StatusCode::FORBIDDEN,
            form.echo(),
            vec![FieldError::new("hiring_contacts", message)],
        ),
        Err(e) => Err(e),
    }
}

/// A posting's applications: stage filter, sort, pager.
pub async fn applications_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    query: web::Query<ApplicationsQuery>,
) -> Result<HttpResponse, AppError> {
    let (posting, data) = applications(&state, &staff, path.into_inner(), &query).await?;
    let items: Vec<Value> = data
        .items
        .iter()
        .map(|a| {
            let mut v = json!(a);
            v["received"] = json!(display_minutes(Some(a.created_at)));
            v
        })
        .collect();
    page(
        &req,
        &state,
        Some(&staff),
        "jobs",
        "staff/jobs/applications.html",
        StatusCode::OK,
        json!({
            "posting": { "slug": posting.slug, "title": posting.title, "status": posting.status.as_str() },
            "items": items,
            "next_cursor": data.next_cursor,
            "stages": stage_names(),
            "q": {
                "stage": present(&query.stage).unwrap_or_default(),
                "email": present(&query.email).unwrap_or_default(),
                "sort": present(&query.sort).unwrap_or_default(),
            },
        }),
    )
}

#[allow(clippy::too_many_arguments)]
async fn render_application(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: String,
    status: StatusCode,
    errors: Vec<FieldError>,
    form: Value,
) -> Result<HttpResponse, AppError> {
    let detail = view(state, staff, id).await?;
    let mine = detail
        .ratings
        .iter()
        .find(|r| r.reviewer == staff.user.email)
        .map(|r| r.rating);
    page(
        req,
        state,
        Some(staff),
        "jobs",
        "staff/jobs/application.html",
        status,
        json!({
            "a": detail,
            "received": display_minutes(Some(detail.created_at)),
            "my_rating": mine,
            "stages": stage_names(),
            "errors": errors,
            "form": form,
            "alert": if errors.is_empty() { Value::Null } else { json!("Please check the form.") },
        }),
    )
}

/// One application: answers, CV link, stage, notes and ratings, and the forms to act on it.
pub async fn application_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (_slug, id) = path.into_inner();
    render_application(
        &req,
        &state,
        &staff,
        id,
        StatusCode::OK,
        Vec::new(),
        json!({}),
    )
    .await
}

/// Runs a form's review; a validation error shows the page again with the message.
async fn after_form(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: String,
    review: Result<Review, AppError>,
    form: Value,
) -> Result<HttpResponse, AppError> {
    let result = match review {
        Ok(review) => apply_review(state, staff, id.clone(), review).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(detail) => Ok(redirect_with_notice(
            &format!(
                "/staff/jobs/{}/applications/{}",
                detail.posting_slug, detail.id
            ),
            "saved",
        )),
        Err(AppError::Validation(errors)) => {
            render_application(
                req,
                state,
                staff,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                form,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn stage_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<StageForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let send = form.send_rejection_email.is_some() && form.stage.trim() == Stage::Rejected.as_str();
    let review = Review::try_from(ApplicationPatch {
        stage: Some(form.stage.clone()),
        send_rejection_email: Some(send),
        rejection_message: form
            .rejection_message
            .clone()
            .filter(|m| send && !m.trim().is_empty()),
        ..Default::default()
    });
    let echo = json!({ "rejection_message": form.rejection_message });
    after_form(&req, &state, &staff, path.into_inner(), review, echo).await
}

pub async fn note_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<NoteForm>,
) -> Result<HttpResponse, AppError> {
    let review = Review::try_from(ApplicationPatch {
        note: Some(form.body.clone()),
        ..Default::default()
    });
    let echo = json!({ "body": form.body });
    after_form(&req, &state, &staff, path.into_inner(), review, echo).await
}

pub async fn rating_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<RatingForm>,
) -> Result<HttpResponse, AppError> {
    let review = match form.rating.trim().parse::<i64>() {
        Ok(r) => Review::try_from(ApplicationPatch {
            rating: Some(r),
            ..Default::default()
        }),
        Err(_) => Err(AppError::field("rating", "Choose a rating from 1 to 5.")),
    };
    after_form(&req, &state, &staff, path.into_inner(), review, json!({})).await
}

pub async fn erase_form(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = erase(&state, &staff, path.into_inner()).await?;
    Ok(redirect_with_notice(
        &format!("/staff/jobs/{slug}/applications"),
        "saved",
    ))
}
