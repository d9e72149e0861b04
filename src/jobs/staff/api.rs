//! The staff JSON API of open positions: what it answers, the bodies it takes, CV downloads.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use crate::error::{AppError, FieldError};
use crate::jobs::model::{PostingInput, PostingStatus};
use crate::jobs::store::{self, ApplicationDetail};
use crate::staff::audit::{self, Entry};
use crate::staff::Staff;
use crate::state::AppState;
use crate::web::pagination::Page;
use crate::web::ApiJson;

use super::forms::{ApplicationsQuery, PostingsQuery, Review};
use super::{
    applications, apply_review, create_posting, erase, load_posting, may_review, posting_rows,
    staff_posting, update_posting, view, Reviewer, APPLICATION,
};

/// A posting as staff see it: every editable field (the body `PATCH` starts from) plus its
/// dates.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffPosting {
    pub id: String,
    #[serde(flatten)]
    pub fields: PostingInput,
    /// The status readers see now: an open posting past `closes_at` reads closed.
    pub effective_status: PostingStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The public page.
    pub url: String,
}

/// A row of the postings list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostingRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub location: String,
    pub status: PostingStatus,
    pub effective_status: PostingStatus,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Whether the asking staff member may see its applicants and change it.
    pub can_review: bool,
}

/// Every posting, newest first (hiring staff see all postings; applicants only of their own,
/// and change only their own).
#[utoipa::path(get, path = "/api/v1/staff/jobs", tag = "staff",
    params(("status" = Option<PostingStatus>, Query)),
    responses((status = 200, body = Page<PostingRow>, description = "Every posting the staff member may see, in one page (`next_cursor` is null)"),
              (status = 422, description = "A `status` this list does not take")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list_postings_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<PostingsQuery>,
) -> Result<HttpResponse, AppError> {
    let items = posting_rows(&state, &staff, &query).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}

/// Creates a posting. Hiring contacts are enabled hiring or admin accounts; only admins name
/// them: a hiring user's posting has its author as its one contact (send `[]`, leave the field
/// out, or send your own address; anything else is 403).
#[utoipa::path(post, path = "/api/v1/staff/jobs", tag = "staff", request_body = PostingInput,
    responses((status = 201, body = StaffPosting), (status = 401),
              (status = 403, description = "not an admin, and hiring_contacts name someone else"),
              (status = 409, description = "the slug is taken"), (status = 415), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn create_posting_json(
    state: web::Data<AppState>,
    staff: Staff,
    body: ApiJson<PostingInput>,
) -> Result<HttpResponse, AppError> {
    let posting = create_posting(&state, &staff, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/staff/jobs/{}", posting.fields.slug),
        ))
        .json(posting))
}

/// One posting with everything editable.
#[utoipa::path(get, path = "/api/v1/staff/jobs/{slug}", tag = "staff",
    params(("slug" = String, Path)),
    responses((status = 200, body = StaffPosting), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn posting_json(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = path.into_inner();
    let (posting, contacts, questions) =
        state.db.run(move |conn| load_posting(conn, &slug)).await?;
    Ok(HttpResponse::Ok().json(staff_posting(&state, &posting, &contacts, &questions)))
}

/// Applies a partial change (top-level fields) to a posting's current input.
pub fn merge_patch(
    base: &PostingInput,
    patch: Map<String, Value>,
) -> Result<PostingInput, AppError> {
    let mut merged = match serde_json::to_value(base).map_err(AppError::unexpected)? {
        Value::Object(map) => map,
        _ => {
            return Err(AppError::unexpected(anyhow::anyhow!(
                "a posting is an object"
            )))
        }
    };
    let unknown: Vec<FieldError> = patch
        .keys()
        .filter(|k| !merged.contains_key(*k))
        .map(|k| FieldError::new(k.clone(), "Unknown field."))
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::Validation(unknown));
    }
    if patch.is_empty() {
        return Err(AppError::field(
            "body",
            "Send at least one field to change.",
        ));
    }
    merged.extend(patch);
    crate::web::json::from_value(Value::Object(merged))
}

/// Changes a posting: any of the fields of `POST /api/v1/staff/jobs`; fields left out keep
/// their value. Questions sent with their `id` keep their answers; questions left out of a
/// sent `questions` list stop being asked. Hiring staff change only postings they are a hiring
/// contact of, and never `hiring_contacts` (admins do; each an enabled hiring or admin account).
#[utoipa::path(patch, path = "/api/v1/staff/jobs/{slug}", tag = "staff",
    params(("slug" = String, Path)), request_body = PostingInput,
    responses((status = 200, body = StaffPosting), (status = 401),
              (status = 403, description = "not an admin, and not a hiring contact of the posting or changing its hiring_contacts"),
              (status = 404),
              (status = 409), (status = 415), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn patch_posting_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: ApiJson<Map<String, Value>>,
) -> Result<HttpResponse, AppError> {
    let patch = body.into_inner();
    let posting = update_posting(&state, &staff, path.into_inner(), move |base| {
        merge_patch(base, patch)
    })
    .await?;
    Ok(HttpResponse::Ok().json(posting))
}

/// A posting's applications (its hiring contacts and admins only).
#[utoipa::path(get, path = "/api/v1/staff/jobs/{slug}/applications", tag = "staff",
    params(("slug" = String, Path),
           ("stage" = Option<crate::jobs::model::Stage>, Query),
           ("email" = Option<String>, Query, description = "the applicant's address"),
           ("sort" = Option<store::ApplicationSort>, Query, description = "`newest` (also `date`, the default), `oldest` or `rating`"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, body = Page<store::ApplicationSummary>),
              (status = 404, description = "No such posting, or not one the staff member may see"),
              (status = 422, description = "A filter, `limit` or `cursor` this list does not take")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn applications_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    query: web::Query<ApplicationsQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, page) = applications(&state, &staff, path.into_inner(), &query).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One application with its answers, notes and ratings (the view is audited).
#[utoipa::path(get, path = "/api/v1/staff/applications/{id}", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, body = ApplicationDetail), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn application_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(view(&state, &staff, path.into_inner()).await?))
}

fn note_schema() -> utoipa::openapi::Object {
    crate::web::openapi::or_null(crate::domain::text::schema(
        crate::domain::text::Lines::Many,
        crate::jobs::model::NoteBody::MAX_CHARS,
        true,
    ))
}
fn rejection_message_schema() -> utoipa::openapi::Object {
    crate::web::openapi::or_null(crate::domain::text::schema(
        crate::domain::text::Lines::Many,
        super::forms::MAX_REJECTION_MESSAGE_CHARS,
        false,
    ))
}

/// `PATCH /api/v1/staff/applications/{id}` body: any of stage, note and rating.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationPatch {
    #[serde(default)]
    #[schema(value_type = Option<crate::jobs::model::Stage>)]
    pub stage: Option<String>,
    /// An internal note (1–10,000 characters), never shown to the applicant.
    #[serde(default)]
    #[schema(schema_with = note_schema)]
    pub note: Option<String>,
    /// Your rating, 1–5 (replaces your earlier one).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<i64>,
    /// With `stage: rejected` and `send_rejection_email: true`: the text that replaces the
    /// standard paragraph of the rejection email.
    #[serde(default)]
    #[schema(schema_with = rejection_message_schema)]
    pub rejection_message: Option<String>,
    /// With `stage: rejected`: email the applicant (default false). Other stage changes are
    /// internal and never email.
    #[serde(default)]
    pub send_rejection_email: Option<bool>,
}

/// Moves an application to another stage, adds a note and/or sets your rating. Only a move
/// into `rejected` with `send_rejection_email: true` emails the applicant.
#[utoipa::path(patch, path = "/api/v1/staff/applications/{id}", tag = "staff",
    params(("id" = String, Path)), request_body = ApplicationPatch,
    responses((status = 200, body = ApplicationDetail), (status = 401), (status = 403),
              (status = 404), (status = 409, description = "the applicant was erased; no email"),
              (status = 415), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn patch_application_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: ApiJson<ApplicationPatch>,
) -> Result<HttpResponse, AppError> {
    let review = Review::try_from(body.into_inner())?;
    let detail = apply_review(&state, &staff, path.into_inner(), review).await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// A file name safe in a `Content-Disposition` header: ASCII letters, digits, `.`, `-`,
/// `_` and spaces; anything else becomes `_`; never empty, never hidden.
pub fn safe_filename(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "cv".into()
    } else {
        cleaned
    }
}

/// Downloads an applicant's CV as an attachment (the download is audited).
#[utoipa::path(get, path = "/api/v1/staff/applications/{id}/cv", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, description = "the CV, as an attachment, in its recognised type"),
              (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn cv_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let who = Reviewer::of(&staff);
    let dir = state.settings.uploads.dir.clone();
    let (cv, bytes) = state
        .db
        .write(move |conn| {
            let cv = store::cv_download(conn, &id)?;
            may_review(conn, &who, &cv.posting_id)?;
            let bytes = match std::fs::read(crate::jobs::upload::cv_path(&dir, &cv.stored_name)) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(application_id = %id, "a CV file is missing");
                    return Err(AppError::NotFound);
                }
                Err(e) => {
                    return Err(AppError::unexpected(
                        anyhow::Error::new(e).context("cannot read a CV"),
                    ))
                }
            };
            audit::record(
                conn,
                &who.actor,
                Entry::new("job_application.cv_downloaded")
                    .target(APPLICATION, &id)
                    .details(json!({ "size": cv.size, "content_type": cv.content_type })),
            )?;
            Ok((cv, bytes))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(cv.content_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", safe_filename(&cv.filename)),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

/// Erases an applicant on request: the CV is deleted, name, email, phone, letter, links,
/// answers, notes and emails removed; the erasure is audited and earlier audit entries of the
/// application no longer name the applicant. Erasing again is harmless.
#[utoipa::path(delete, path = "/api/v1/staff/applications/{id}", operation_id = "erase_application", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn erase_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    erase(&state, &staff, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::staff::forms::blank_input;

    fn fields(err: AppError) -> Vec<String> {
        match err {
            AppError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn filenames_are_made_header_safe() {
        assert_eq!(safe_filename("Jane Reader CV.pdf"), "Jane Reader CV.pdf");
        assert_eq!(safe_filename("a\"b\r\n.pdf"), "a_b__.pdf");
        assert_eq!(safe_filename("Émilie.docx"), "_milie.docx");
        assert_eq!(safe_filename("..hidden"), "hidden");
        assert_eq!(safe_filename(""), "cv");
    }

    #[test]
    fn patches_keep_what_they_leave_out_and_refuse_unknown_fields() {
        let mut base = blank_input();
        base.slug = "reporter".into();
        base.title = "Reporter".into();
        let patch: Map<String, Value> =
            serde_json::from_str(r#"{"title": "Senior reporter", "status": "open"}"#)
                .expect("json");
        let merged = merge_patch(&base, patch).expect("merged");
        assert_eq!(merged.title, "Senior reporter");
        assert_eq!(merged.slug, "reporter");
        assert_eq!(merged.status, PostingStatus::Open);
        let bad: Map<String, Value> = serde_json::from_str(r#"{"colour": "red"}"#).expect("json");
        assert_eq!(
            fields(merge_patch(&base, bad).expect_err("unknown")),
            ["colour"]
        );
        let wrong_type: Map<String, Value> =
            serde_json::from_str(r#"{"remote": true}"#).expect("json");
        assert_eq!(
            fields(merge_patch(&base, wrong_type).expect_err("wrong type")),
            ["remote"]
        );
    }
}
