//! The staff side of open positions (role `hiring`, and `admin`): postings created and
//! edited, each posting's applications (filtered, sorted, paged), one application with its
//! answers, notes and ratings, stage changes (a move into `rejected` may email the
//! applicant; nothing else does), CV downloads and erasure on request.
//!
//! Hiring contacts see only their postings' applicants and change only their postings; admins
//! see and change all; every other role none (the access rules keep them out, [`may_review`]
//! and [`super::postings`] keep hiring staff to their postings, and only admins choose a
//! posting's hiring contacts).
//! Every change, every application view and every CV download is audited in the transaction
//! that makes or reads it.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use super::emails;
use super::model::{
    EmploymentType, NoteBody, Posting, PostingInput, PostingStatus, QuestionInput, QuestionKind,
    Rating, SalaryInput, SalaryPeriod, Stage, Workplace,
};
use super::postings::{self, Editor, CONTACTS_ADMIN_ONLY};
use super::privacy;
use super::store::{
    self, ApplicationDetail, ApplicationFilter, ApplicationSort, ApplicationSummary,
};
use crate::app::AppState;
use crate::db::DbConnection;
use crate::error::{AppError, FieldError};
use crate::staff::audit::{self, Actor, Entry};
use crate::staff::handlers::page;
use crate::staff::{NavItem, Role, Staff, StaffRoutes};
use crate::web::pagination::PageRequest;
use crate::web::ApiJson;

/// Who may use the jobs section (admin always may).
const HIRING: &[Role] = &[Role::Hiring];

/// How applications are named in the audit log and the outbox.
const APPLICATION: &str = store::REF_KIND;

/// Every staff route of this feature, each with the roles that may use it.
pub fn staff_routes(r: &mut StaffRoutes) {
    use Method as M;
    r.api(M::GET, "/jobs", HIRING, list_postings_json)
        .api(M::POST, "/jobs", HIRING, create_posting_json)
        .api(M::GET, "/jobs/{slug}", HIRING, posting_json)
        .api(M::PATCH, "/jobs/{slug}", HIRING, patch_posting_json)
        .api(
            M::GET,
            "/jobs/{slug}/applications",
            HIRING,
            applications_json,
        )
        .api(M::GET, "/applications/{id}", HIRING, application_json)
        .api(
            M::PATCH,
            "/applications/{id}",
            HIRING,
            patch_application_json,
        )
        .api(M::DELETE, "/applications/{id}", HIRING, erase_json)
        .api(M::GET, "/applications/{id}/cv", HIRING, cv_json)
        .page(M::GET, "/jobs", HIRING, postings_page)
        .page(M::POST, "/jobs", HIRING, create_posting_form)
        .page(M::GET, "/jobs/new", HIRING, new_posting_page)
        .page(M::GET, "/jobs/{slug}/edit", HIRING, edit_posting_page)
        .page(M::POST, "/jobs/{slug}/edit", HIRING, update_posting_form)
        .page(
            M::GET,
            "/jobs/{slug}/applications",
            HIRING,
            applications_page,
        )
        .page(
            M::GET,
            "/jobs/{slug}/applications/{id}",
            HIRING,
            application_page,
        )
        .page(M::POST, "/applications/{id}/stage", HIRING, stage_form)
        .page(M::POST, "/applications/{id}/notes", HIRING, note_form)
        .page(M::POST, "/applications/{id}/rating", HIRING, rating_form)
        .page(M::POST, "/applications/{id}/erase", HIRING, erase_form);
}

/// The staff navigation section.
pub fn staff_nav() -> Vec<NavItem> {
    vec![NavItem {
        key: "jobs",
        label: "Jobs",
        href: "/staff/jobs",
        hint: "Open positions and their applicants",
        roles: HIRING,
    }]
}

// ---- who may see applicants ----

/// The facts the applicant check needs, movable into a database closure.
#[derive(Debug, Clone)]
struct Reviewer {
    role: Role,
    email: String,
    actor: Actor,
}

impl Reviewer {
    fn of(staff: &Staff) -> Reviewer {
        Reviewer {
            role: staff.role,
            email: staff.user.email.clone(),
            actor: staff.actor(),
        }
    }
}

/// Admins see every posting's applicants; hiring staff only those of postings they are a
/// hiring contact of (403 otherwise): the postings they may change ([`postings::looks_after`]).
fn may_review(conn: &mut DbConnection, who: &Reviewer, posting_id: &str) -> Result<(), AppError> {
    if postings::looks_after(conn, who.role, &who.email, posting_id)? {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only this posting's hiring contacts and admins see its applicants.".into(),
        ))
    }
}

/// Loads an application after checking the reviewer may see it.
fn reviewable(
    conn: &mut DbConnection,
    who: &Reviewer,
    id: &str,
) -> Result<ApplicationDetail, AppError> {
    let posting_id = store::application_posting_id(conn, id)?;
    may_review(conn, who, &posting_id)?;
    Ok(store::get_application(conn, id)?)
}

// ---- postings ----

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

fn staff_posting(
    state: &AppState,
    posting: &Posting,
    contacts: &[String],
    questions: &[super::model::Question],
) -> StaffPosting {
    StaffPosting {
        id: posting.id.clone(),
        fields: PostingInput::from_posting(posting, contacts, questions),
        effective_status: posting.effective_status(crate::db::now()),
        published_at: posting.published_at.map(|t| t.and_utc()),
        closed_at: posting.closed_at.map(|t| t.and_utc()),
        created_at: posting.created_at.and_utc(),
        updated_at: posting.updated_at.and_utc(),
        url: format!(
            "{}/jobs/{}",
            state
                .settings
                .server
                .public_url
                .as_str()
                .trim_end_matches('/'),
            posting.slug
        ),
    }
}

/// Reads a posting with its contacts and active questions.
fn load_posting(conn: &mut DbConnection, slug: &str) -> Result<PostingParts, AppError> {
    let posting = store::find_posting_by_slug(conn, slug)?;
    let contacts = store::hiring_contacts(conn, &posting.id)?;
    let questions = store::posting_questions(conn, &posting.id, true)?;
    Ok((posting, contacts, questions))
}

type PostingParts = (Posting, Vec<String>, Vec<super::model::Question>);

/// `GET /api/v1/staff/jobs` query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostingsQuery {
    /// A notice code for the staff page after a form (read by the frame).
    #[allow(dead_code)]
    notice: Option<String>,
    status: Option<String>,
}

fn parse_posting_status(value: Option<&str>) -> Result<Option<PostingStatus>, AppError> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => PostingStatus::parse(s)
            .map(Some)
            .ok_or_else(|| AppError::field("status", "Use one of: draft, open, closed.")),
    }
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

async fn postings(
    state: &AppState,
    staff: &Staff,
    query: &PostingsQuery,
) -> Result<Vec<PostingRow>, AppError> {
    let status = parse_posting_status(query.status.as_deref())?;
    let who = Reviewer::of(staff);
    state
        .db
        .run(move |conn| {
            let all = store::list_postings(conn, status)?;
            let mine: Vec<String> = store::postings_for_contact(conn, &who.email)?
                .into_iter()
                .map(|p| p.id)
                .collect();
            let now = crate::db::now();
            Ok(all
                .into_iter()
                .map(|p| PostingRow {
                    can_review: who.role == Role::Admin || mine.contains(&p.id),
                    effective_status: p.effective_status(now),
                    id: p.id,
                    slug: p.slug,
                    title: p.title,
                    location: p.location,
                    status: p.status,
                    opens_at: p.opens_at.map(|t| t.and_utc()),
                    closes_at: p.closes_at.map(|t| t.and_utc()),
                    created_at: p.created_at.and_utc(),
                })
                .collect())
        })
        .await
}

/// Every posting, newest first (hiring staff see all postings; applicants only of their own,
/// and change only their own).
#[utoipa::path(get, path = "/api/v1/staff/jobs", tag = "staff",
    params(("status" = Option<String>, Query, description = "draft, open or closed")),
    responses((status = 200, description = "`{items: [PostingRow], next_cursor: null}`"),
              (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list_postings_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<PostingsQuery>,
) -> Result<HttpResponse, AppError> {
    let items = postings(&state, &staff, &query).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}

async fn create_posting(
    state: &AppState,
    staff: &Staff,
    input: PostingInput,
) -> Result<StaffPosting, AppError> {
    let editor = Editor::of(staff);
    let (posting, contacts, questions) = state
        .db
        .write(move |conn| {
            let posting = postings::create(conn, &editor, input)?;
            load_posting(conn, &posting.slug)
        })
        .await?;
    Ok(staff_posting(state, &posting, &contacts, &questions))
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

async fn update_posting(
    state: &AppState,
    staff: &Staff,
    slug: String,
    change: impl FnOnce(&PostingInput) -> Result<PostingInput, AppError> + Send + 'static,
) -> Result<StaffPosting, AppError> {
    let editor = Editor::of(staff);
    let (posting, contacts, questions) = state
        .db
        .write(move |conn| {
            let updated = postings::update(conn, &editor, &slug, change)?;
            load_posting(conn, &updated.slug)
        })
        .await?;
    Ok(staff_posting(state, &posting, &contacts, &questions))
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

// ---- applications ----

/// `GET /api/v1/staff/jobs/{slug}/applications` query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationsQuery {
    #[allow(dead_code)]
    notice: Option<String>,
    stage: Option<String>,
    email: Option<String>,
    /// date (newest first, the default), oldest or rating.
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

fn non_empty(v: Option<&str>) -> Option<String> {
    v.map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

fn stage_names() -> Vec<&'static str> {
    Stage::ALL.iter().map(|s| s.as_str()).collect()
}

fn parse_stage(field: &str, value: &str) -> Result<Stage, FieldError> {
    Stage::parse(value.trim())
        .ok_or_else(|| FieldError::new(field, format!("Use one of: {}.", stage_names().join(", "))))
}

impl ApplicationsQuery {
    fn filter(&self) -> Result<ApplicationFilter, AppError> {
        let request = PageRequest::parse(self.cursor.as_deref(), self.limit)?;
        let mut errors = Vec::new();
        let stage = non_empty(self.stage.as_deref())
            .and_then(|s| parse_stage("stage", &s).map_err(|e| errors.push(e)).ok());
        let sort = match non_empty(self.sort.as_deref()).as_deref() {
            None | Some("date") | Some("newest") => ApplicationSort::Newest,
            Some("oldest") => ApplicationSort::Oldest,
            Some("rating") => ApplicationSort::Rating,
            Some(_) => {
                errors.push(FieldError::new("sort", "Use date, oldest or rating."));
                ApplicationSort::Newest
            }
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(ApplicationFilter {
            stage,
            email: non_empty(self.email.as_deref()),
            sort,
            cursor: request.cursor,
            limit: request.limit,
        })
    }
}

async fn applications(
    state: &AppState,
    staff: &Staff,
    slug: String,
    query: &ApplicationsQuery,
) -> Result<(Posting, store::Page<ApplicationSummary>), AppError> {
    let filter = query.filter()?;
    let who = Reviewer::of(staff);
    state
        .db
        .run(move |conn| {
            let posting = store::find_posting_by_slug(conn, &slug)?;
            may_review(conn, &who, &posting.id)?;
            let page = store::list_applications(conn, &posting.id, &filter)?;
            Ok((posting, page))
        })
        .await
}

/// A posting's applications (its hiring contacts and admins only).
#[utoipa::path(get, path = "/api/v1/staff/jobs/{slug}/applications", tag = "staff",
    params(("slug" = String, Path),
           ("stage" = Option<String>, Query, description = "new, screening, interview, offer, hired, rejected or withdrawn"),
           ("email" = Option<String>, Query, description = "the applicant's address"),
           ("sort" = Option<String>, Query, description = "date (newest first), oldest or rating"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, description = "`{items: [ApplicationSummary], next_cursor}`"),
              (status = 401), (status = 403), (status = 404), (status = 422)),
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

/// Reads one application for a reviewer and audits the view, in one transaction.
async fn view(state: &AppState, staff: &Staff, id: String) -> Result<ApplicationDetail, AppError> {
    let who = Reviewer::of(staff);
    state
        .db
        .write(move |conn| {
            let detail = reviewable(conn, &who, &id)?;
            audit::record(
                conn,
                &who.actor,
                Entry::new("job_application.viewed").target(APPLICATION, &id),
            )?;
            Ok(detail)
        })
        .await
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

/// `PATCH /api/v1/staff/applications/{id}` body: any of stage, note and rating.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationPatch {
    /// new, screening, interview, offer, hired, rejected or withdrawn.
    #[serde(default)]
    pub stage: Option<String>,
    /// An internal note (1–10,000 characters), never shown to the applicant.
    #[serde(default)]
    pub note: Option<String>,
    /// Your rating, 1–5 (replaces your earlier one).
    #[serde(default)]
    pub rating: Option<i64>,
    /// With `stage: rejected` and `send_rejection_email: true`: the text that replaces the
    /// standard paragraph of the rejection email.
    #[serde(default)]
    pub rejection_message: Option<String>,
    /// With `stage: rejected`: email the applicant (default false). Other stage changes are
    /// internal and never email.
    #[serde(default)]
    pub send_rejection_email: Option<bool>,
}

/// A valid set of changes to one application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub stage: Option<Stage>,
    pub note: Option<NoteBody>,
    pub rating: Option<Rating>,
    /// `Some` when the rejection email is to be sent (with the optional custom text).
    pub rejection_email: Option<Option<String>>,
}

impl TryFrom<ApplicationPatch> for Review {
    type Error = AppError;

    fn try_from(p: ApplicationPatch) -> Result<Review, AppError> {
        let mut errors = Vec::new();
        let stage = p
            .stage
            .as_deref()
            .and_then(|s| parse_stage("stage", s).map_err(|e| errors.push(e)).ok());
        let note = p.note.as_deref().and_then(|n| {
            NoteBody::parse(n)
                .map_err(|m| errors.push(FieldError::new("note", m)))
                .ok()
        });
        let rating = p.rating.and_then(|r| {
            Rating::new(r)
                .map_err(|m| errors.push(FieldError::new("rating", m)))
                .ok()
        });
        let send = p.send_rejection_email.unwrap_or(false);
        let message = match p.rejection_message.as_deref() {
            Some(m) => match super::model::clean_text(m, 5_000, false) {
                Ok(m) => Some(m).filter(|m| !m.is_empty()),
                Err(e) => {
                    errors.push(FieldError::new("rejection_message", e));
                    None
                }
            },
            None => None,
        };
        let stage_invalid = p.stage.is_some() && stage.is_none();
        let wants_email = send || p.rejection_message.is_some();
        if wants_email && !stage_invalid && stage != Some(Stage::Rejected) {
            errors.push(FieldError::new(
                "send_rejection_email",
                "A rejection email goes only with a move to rejected.",
            ));
        } else if p.rejection_message.is_some() && !send {
            errors.push(FieldError::new(
                "send_rejection_email",
                "Set send_rejection_email to true to send this message.",
            ));
        }
        if p.stage.is_none() && p.note.is_none() && p.rating.is_none() && errors.is_empty() {
            errors.push(FieldError::new("body", "Send stage, note or rating."));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Review {
            stage,
            note,
            rating,
            rejection_email: send.then_some(message),
        })
    }
}

/// Applies a review in one transaction (the rejection email composed before it); returns
/// the application as it now stands.
async fn apply_review(
    state: &AppState,
    staff: &Staff,
    id: String,
    review: Review,
) -> Result<ApplicationDetail, AppError> {
    let who = Reviewer::of(staff);
    let before = {
        let (who, id) = (who.clone(), id.clone());
        state
            .db
            .run(move |conn| reviewable(conn, &who, &id))
            .await?
    };
    let rejection = match (&review.rejection_email, review.stage) {
        (Some(message), Some(Stage::Rejected)) if before.stage != Stage::Rejected => Some(
            emails::rejection(&state.mailer, &before, message.as_deref())?,
        ),
        _ => None,
    };
    let (detail, queued) = state
        .db
        .write(move |conn| {
            let current = reviewable(conn, &who, &id)?;
            let now = crate::db::now();
            let mut queued = false;
            if let Some(stage) = review.stage.filter(|s| *s != current.stage) {
                let change = store::set_stage(conn, &id, stage, rejection.as_ref(), now)?;
                queued = change.email_queued;
                audit::record(
                    conn,
                    &who.actor,
                    Entry::new("job_application.stage_changed")
                        .target(APPLICATION, &id)
                        .details(json!({
                            "from": change.from.as_str(),
                            "to": change.to.as_str(),
                            "rejection_email_to": queued.then_some(&current.email),
                        })),
                )?;
            }
            if let Some(note) = &review.note {
                let note = store::add_note(conn, &id, &who.actor.label, note, now)?;
                audit::record(
                    conn,
                    &who.actor,
                    Entry::new("job_application.note_added")
                        .target(APPLICATION, &id)
                        .details(json!({ "note_id": note.id })),
                )?;
            }
            if let Some(rating) = review.rating {
                let summary = store::set_rating(conn, &id, &who.email, rating, now)?;
                audit::record(
                    conn,
                    &who.actor,
                    Entry::new("job_application.rated")
                        .target(APPLICATION, &id)
                        .details(json!({ "rating": rating.get(), "average": summary.average })),
                )?;
            }
            Ok((store::get_application(conn, &id)?, queued))
        })
        .await?;
    if queued {
        state.mailer.wake();
    }
    Ok(detail)
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
            let bytes = match std::fs::read(super::upload::cv_path(&dir, &cv.stored_name)) {
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

/// Erases an applicant on request; returns the posting's slug.
async fn erase(state: &AppState, staff: &Staff, id: String) -> Result<String, AppError> {
    let who = Reviewer::of(staff);
    let dir = state.settings.uploads.dir.clone();
    let (slug, erased) = state
        .db
        .write(move |conn| {
            let detail = reviewable(conn, &who, &id)?;
            let erased = privacy::erase_application(conn, &dir, &id, crate::db::now())?;
            if let Some(erasure) = &erased {
                audit::record(
                    conn,
                    &who.actor,
                    Entry::new("job_application.erased")
                        .target(APPLICATION, &id)
                        .details(json!({ "audit_entries_scrubbed": erasure.audit_entries })),
                )?;
            }
            Ok((detail.posting_slug, erased))
        })
        .await?;
    if let Some(erasure) = erased {
        privacy::delete_after_commit(&state.settings.mail, erasure).await;
    }
    Ok(slug)
}

/// Erases an applicant on request: the CV is deleted, name, email, phone, letter, links,
/// answers, notes and emails removed; the erasure is audited and earlier audit entries of the
/// application no longer name the applicant. Erasing again is harmless.
#[utoipa::path(delete, path = "/api/v1/staff/applications/{id}", tag = "staff",
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

// ---- pages ----

fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn rfc3339(t: Option<DateTime<Utc>>) -> String {
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
    let items = postings(&state, &staff, &query).await?;
    let items: Vec<Value> = items
        .iter()
        .map(|p| {
            let mut v = json!(p);
            v["closes"] = json!(rfc3339(p.closes_at));
            v["created"] = json!(rfc3339(Some(p.created_at)));
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
            "q": { "status": non_empty(query.status.as_deref()).unwrap_or_default() },
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

fn blank_input() -> PostingInput {
    PostingInput {
        slug: String::new(),
        title: String::new(),
        summary: String::new(),
        description_markdown: String::new(),
        location: String::new(),
        country: None,
        remote: Workplace::OnSite,
        employment_type: EmploymentType::FullTime,
        salary: None,
        hiring_contacts: Vec::new(),
        opens_at: None,
        closes_at: None,
        status: PostingStatus::Draft,
        questions: Vec::new(),
    }
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
            "statuses": options(PostingStatus::ALL, PostingStatus::as_str),
            "workplaces": options(Workplace::ALL, Workplace::as_str),
            "employment_types": options(EmploymentType::ALL, EmploymentType::as_str),
            "periods": options(SalaryPeriod::ALL, SalaryPeriod::as_str),
            "kinds": options(QuestionKind::ALL, QuestionKind::as_str),
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

/// The posted form as name/value pairs (question rows are `q<N>_id`, `q<N>_kind`,
/// `q<N>_label`, `q<N>_required`).
#[derive(Debug, Clone)]
pub struct PostingForm(Vec<(String, String)>);

impl PostingForm {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_string()
    }

    fn optional(&self, name: &str) -> Option<String> {
        non_empty(self.get(name))
    }

    /// The values to show again after a failed save.
    fn echo(&self) -> Value {
        let mut rows = Vec::new();
        for i in 0.. {
            let Some(label) = self.get(&format!("q{i}_label")) else {
                break;
            };
            rows.push(json!({
                "id": self.optional(&format!("q{i}_id")),
                "kind": self.text(&format!("q{i}_kind")),
                "label": label,
                "required": self.get(&format!("q{i}_required")).is_some(),
            }));
        }
        let mut v = json!({ "questions": rows });
        for name in [
            "slug",
            "title",
            "summary",
            "description_markdown",
            "location",
            "country",
            "remote",
            "employment_type",
            "status",
            "salary_currency",
            "salary_min",
            "salary_max",
            "salary_period",
            "hiring_contacts",
            "opens_at",
            "closes_at",
        ] {
            v[name] = json!(self.text(name));
        }
        v
    }

    /// The form as the API's input; unreadable values are named all at once.
    pub fn to_input(&self) -> Result<PostingInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        fn pick<T: Copy>(
            errors: &mut Vec<FieldError>,
            field: &str,
            value: &str,
            parse: fn(&str) -> Option<T>,
            fallback: T,
        ) -> T {
            parse(value.trim()).unwrap_or_else(|| {
                errors.push(FieldError::new(field, "Choose one of the options."));
                fallback
            })
        }
        let remote = pick(
            &mut errors,
            "remote",
            &self.text("remote"),
            Workplace::parse,
            Workplace::OnSite,
        );
        let employment_type = pick(
            &mut errors,
            "employment_type",
            &self.text("employment_type"),
            EmploymentType::parse,
            EmploymentType::FullTime,
        );
        let status = pick(
            &mut errors,
            "status",
            &self.text("status"),
            PostingStatus::parse,
            PostingStatus::Draft,
        );
        let mut amount = |field: &str| -> Option<i64> {
            let v = self.optional(field)?;
            v.parse::<i64>()
                .map_err(|_| {
                    errors.push(FieldError::new(
                        field,
                        "A whole number of minor units (cents).",
                    ))
                })
                .ok()
        };
        let (min, max) = (amount("salary_min"), amount("salary_max"));
        let salary = match self.optional("salary_currency") {
            None if min.is_none() && max.is_none() => None,
            currency => Some(SalaryInput {
                currency: currency.unwrap_or_default().to_ascii_uppercase(),
                min_minor: min,
                max_minor: max,
                period: SalaryPeriod::parse(self.text("salary_period").trim())
                    .unwrap_or(SalaryPeriod::Year),
            }),
        };
        let mut when = |field: &str| -> Option<DateTime<Utc>> {
            let v = self.optional(field)?;
            NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M:%S"))
                .map(|t| t.and_utc())
                .map_err(|_| {
                    errors.push(FieldError::new(
                        field,
                        "A date and time, e.g. 2026-12-01T09:00 (UTC).",
                    ))
                })
                .ok()
        };
        let (opens_at, closes_at) = (when("opens_at"), when("closes_at"));
        let mut questions = Vec::new();
        for i in 0.. {
            let Some(label) = self.get(&format!("q{i}_label")) else {
                break;
            };
            if label.trim().is_empty() {
                continue;
            }
            let kind = pick(
                &mut errors,
                &format!("q{i}_kind"),
                &self.text(&format!("q{i}_kind")),
                QuestionKind::parse,
                QuestionKind::ShortText,
            );
            questions.push(QuestionInput {
                id: self.optional(&format!("q{i}_id")),
                kind,
                label: label.to_string(),
                required: self.get(&format!("q{i}_required")).is_some(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PostingInput {
            slug: self.text("slug"),
            title: self.text("title"),
            summary: self.text("summary"),
            description_markdown: self.text("description_markdown"),
            location: self.text("location"),
            country: self.optional("country"),
            remote,
            employment_type,
            salary,
            hiring_contacts: self
                .text("hiring_contacts")
                .split(['\n', ',', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            opens_at,
            closes_at,
            status,
            questions,
        })
    }
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
        Ok(p) => Ok(see_other(format!(
            "/staff/jobs/{}/edit?notice=saved",
            p.fields.slug
        ))),
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
        Ok(p) => Ok(see_other(format!(
            "/staff/jobs/{}/edit?notice=saved",
            p.fields.slug
        ))),
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
            v["received"] = json!(rfc3339(Some(a.created_at)));
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
                "stage": non_empty(query.stage.as_deref()).unwrap_or_default(),
                "email": non_empty(query.email.as_deref()).unwrap_or_default(),
                "sort": non_empty(query.sort.as_deref()).unwrap_or_default(),
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
            "received": rfc3339(Some(detail.created_at)),
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
        Ok(detail) => Ok(see_other(format!(
            "/staff/jobs/{}/applications/{}?notice=saved",
            detail.posting_slug, detail.id
        ))),
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

#[derive(Debug, Deserialize)]
pub struct StageForm {
    stage: String,
    #[serde(default)]
    send_rejection_email: Option<String>,
    #[serde(default)]
    rejection_message: Option<String>,
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

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    body: String,
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

#[derive(Debug, Deserialize)]
pub struct RatingForm {
    rating: String,
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
    Ok(see_other(format!(
        "/staff/jobs/{slug}/applications?notice=saved"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn reviews_name_every_bad_field() {
        let err = Review::try_from(ApplicationPatch {
            stage: Some("archived".into()),
            rating: Some(9),
            note: Some("  ".into()),
            ..Default::default()
        })
        .expect_err("invalid");
        assert_eq!(fields(err), ["stage", "note", "rating"]);
        let err = Review::try_from(ApplicationPatch::default()).expect_err("empty");
        assert_eq!(fields(err), ["body"]);
        let err = Review::try_from(ApplicationPatch {
            stage: Some("screening".into()),
            send_rejection_email: Some(true),
            ..Default::default()
        })
        .expect_err("email off a rejection");
        assert_eq!(fields(err), ["send_rejection_email"]);
    }

    #[test]
    fn only_a_rejection_asked_to_email_carries_an_email() {
        let quiet = Review::try_from(ApplicationPatch {
            stage: Some("rejected".into()),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(quiet.rejection_email, None);
        let told = Review::try_from(ApplicationPatch {
            stage: Some("rejected".into()),
            send_rejection_email: Some(true),
            rejection_message: Some("Thank you.".into()),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(told.rejection_email, Some(Some("Thank you.".into())));
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
