//! The staff side of reader comments: the inbox (by status, address and assignee, with the
//! age of unanswered comments), one comment with its spam verdict, notes and replies,
//! status / assignment / sensitive / spam changes, replies sent through the outbox, and the
//! CSV export. Editors and admins only; every change, every view of one comment and every
//! export is audited in the transaction that makes or reads it.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::comments::model::{clean_text, Clearance, Status};
use crate::comments::store::{self, Comment, CommentFilter, CommentListItem};
use crate::db::DbConnection;
use crate::error::{AppError, FieldError};
use crate::staff::audit::{self, Actor, Entry};
use crate::staff::handlers::page;
use crate::staff::{NavItem, Role, Staff, StaffRoutes};
use crate::web::pagination::{Page, PageRequest};
use crate::web::ApiJson;

/// Who may open comments (admin always may).
const EDITORS: &[Role] = &[Role::Editor];

/// Longest internal note, in characters.
pub const MAX_NOTE_CHARS: usize = 5_000;
/// Every staff route of this feature, each with the roles that may use it.
pub fn staff_routes(r: &mut StaffRoutes) {
    use Method as M;
    r.api(M::GET, "/comments", EDITORS, list_json)
        .api(M::GET, "/comments.csv", EDITORS, export_csv)
        .api(M::GET, "/comments/{id}", EDITORS, detail_json)
        .api(M::PATCH, "/comments/{id}", EDITORS, patch_json)
        .api(M::POST, "/comments/{id}/reply", EDITORS, reply_json)
        .api(M::POST, "/comments/{id}/notes", EDITORS, note_json)
        .page(M::GET, "/comments", EDITORS, inbox_page)
        .page(M::GET, "/comments/{id}", EDITORS, comment_page)
        .page(M::POST, "/comments/{id}/status", EDITORS, status_form)
        .page(M::POST, "/comments/{id}/assign", EDITORS, assign_form)
        .page(M::POST, "/comments/{id}/sensitive", EDITORS, sensitive_form)
        .page(M::POST, "/comments/{id}/spam", EDITORS, spam_form)
        .page(M::POST, "/comments/{id}/notes", EDITORS, note_form)
        .page(M::POST, "/comments/{id}/reply", EDITORS, reply_form);
}

/// The staff navigation section.
pub fn staff_nav() -> Vec<NavItem> {
    vec![NavItem {
        key: "comments",
        label: "Comments",
        href: "/staff/comments",
        hint: "Readers' comments: inbox, notes, replies",
        roles: EDITORS,
    }]
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339()
}

/// "3 min", "5 h", "2 d": how long an unanswered comment has waited.
pub fn age_text(seconds: i64) -> String {
    match seconds {
        s if s < 3_600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3_600),
        s => format!("{} d", s / 86_400),
    }
}

// ---- what the API answers ----

/// A comment in the staff inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentItem {
    pub id: String,
    /// The reference the reader got, e.g. `K7QF2-MX9DA`.
    pub reference: String,
    pub name: String,
    pub email: String,
    pub subject: Option<String>,
    pub message: String,
    pub article_url: Option<String>,
    /// new, read, replied, archived or spam.
    pub status: String,
    /// The spam rule that caught it, or `staff` for a staff verdict.
    pub spam_rule: Option<String>,
    pub sensitive: bool,
    /// The colleague's staff email.
    pub assigned_to: Option<String>,
    pub created_at: String,
    pub replied_at: Option<String>,
    /// Seconds a new or read comment has waited for an answer; null once answered.
    pub unanswered_seconds: Option<i64>,
}

impl From<CommentListItem> for CommentItem {
    fn from(c: CommentListItem) -> Self {
        CommentItem {
            id: c.id,
            reference: c.reference,
            name: c.name,
            email: c.email,
            subject: c.subject,
            message: c.message,
            article_url: c.article_url,
            status: c.status,
            spam_rule: c.spam_rule,
            sensitive: c.sensitive,
            assigned_to: c.assigned_to,
            created_at: rfc3339(c.created_at),
            replied_at: c.replied_at.map(rfc3339),
            unanswered_seconds: c.unanswered_seconds,
        }
    }
}

/// An internal note.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteItem {
    pub id: String,
    pub author: String,
    pub body: String,
    pub created_at: String,
}

impl From<store::CommentNote> for NoteItem {
    fn from(n: store::CommentNote) -> Self {
        NoteItem {
            id: n.id,
            author: n.author,
            body: n.body,
            created_at: rfc3339(n.created_at),
        }
    }
}

/// A staff reply, kept with the comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyItem {
    pub id: String,
    pub author: String,
    pub message: String,
    /// The reply email's `Message-ID`.
    pub message_id: String,
    /// Its outbox row.
    pub outbox_id: String,
    /// The email's state in the outbox: queued, sent, failed or cancelled.
    pub delivery: Option<String>,
    pub created_at: String,
}

impl ReplyItem {
    fn new(r: store::CommentReply, delivery: Option<String>) -> Self {
        ReplyItem {
            id: r.id,
            author: r.author,
            message: r.message,
            message_id: r.message_id,
            outbox_id: r.outbox_id,
            delivery,
            created_at: rfc3339(r.created_at),
        }
    }
}

/// One comment with everything staff know about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentDetail {
    pub id: String,
    pub reference: String,
    pub name: String,
    pub email: String,
    pub subject: Option<String>,
    pub message: String,
    pub article_url: Option<String>,
    pub status: String,
    /// `ham` or `spam`.
    pub spam_verdict: String,
    /// The rule that decided, or `staff`.
    pub spam_rule: Option<String>,
    pub spam_score: i32,
    /// The signals the spam rules saw.
    pub spam_signals: String,
    pub sensitive: bool,
    pub assigned_to: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub replied_at: Option<String>,
    pub unanswered_seconds: Option<i64>,
    pub notes: Vec<NoteItem>,
    pub replies: Vec<ReplyItem>,
}

/// Reads one comment with its notes and replies (inside the caller's transaction).
fn load_detail(
    conn: &mut DbConnection,
    id: &str,
    clearance: Clearance,
) -> Result<CommentDetail, AppError> {
    let c: Comment = store::get(conn, id, clearance)?;
    let notes = store::notes(conn, id)?
        .into_iter()
        .map(NoteItem::from)
        .collect();
    let mut replies = Vec::new();
    for r in store::replies(conn, id)? {
        let delivery = crate::mail::outbox::find(conn, &r.outbox_id)
            .map(|row| row.state)
            .ok();
        replies.push(ReplyItem::new(r, delivery));
    }
    let now = crate::db::now();
    let unanswered_seconds = c
        .status()
        .filter(|s| s.is_unanswered())
        .map(|_| (now - c.created_at).num_seconds().max(0));
    Ok(CommentDetail {
        id: c.id,
        reference: c.reference,
        name: c.name,
        email: c.email,
        subject: c.subject,
        message: c.message,
        article_url: c.article_url,
        status: c.status,
        spam_verdict: c.spam_verdict,
        spam_rule: c.spam_rule,
        spam_score: c.spam_score,
        spam_signals: c.spam_signals,
        sensitive: c.sensitive,
        assigned_to: c.assigned_to,
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
        replied_at: c.replied_at.map(rfc3339),
        unanswered_seconds,
        notes,
        replies,
    })
}

/// Reads one comment for a staff member and audits the view, in one transaction.
async fn view(state: &AppState, staff: &Staff, id: String) -> Result<CommentDetail, AppError> {
    let (actor, clearance) = (staff.actor(), clearance(staff));
    state
        .db
        .write(move |conn| {
            let detail = load_detail(conn, &id, clearance)?;
            audit::record(
                conn,
                &actor,
                Entry::new("comment.viewed").target("comment", &id),
            )?;
            Ok(detail)
        })
        .await
}

fn clearance(staff: &Staff) -> Clearance {
    Clearance::for_role(staff.role.as_str())
}

// ---- the inbox ----

/// `GET /api/v1/staff/comments` and `/staff/comments` query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// A notice code for the staff page after a form (read by the frame).
    #[allow(dead_code)]
    notice: Option<String>,
    status: Option<String>,
    email: Option<String>,
    assigned_to: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn parse_status(field: &str, value: &str) -> Result<Status, FieldError> {
    Status::parse(value.trim())
        .ok_or_else(|| FieldError::new(field, "Use one of: new, read, replied, archived, spam."))
}

impl InboxQuery {
    fn filter(&self) -> Result<CommentFilter, AppError> {
        let status = match non_empty(&self.status) {
            Some(s) => Some(parse_status("status", &s).map_err(|e| AppError::Validation(vec![e]))?),
            None => None,
        };
        Ok(CommentFilter {
            status,
            email: non_empty(&self.email),
            assigned_to: non_empty(&self.assigned_to).map(|a| a.to_lowercase()),
        })
    }
}

async fn inbox(
    state: &AppState,
    staff: &Staff,
    query: &InboxQuery,
) -> Result<Page<CommentItem>, AppError> {
    let request = PageRequest::parse(query.cursor.as_deref(), query.limit)?;
    let filter = query.filter()?;
    let clearance = clearance(staff);
    let (cursor, limit) = (request.cursor.clone(), request.limit);
    let (rows, next_cursor) = state
        .db
        .run(move |conn| {
            Ok(store::list(
                conn,
                &filter,
                clearance,
                cursor.as_deref(),
                limit,
            )?)
        })
        .await?;
    Ok(Page {
        items: rows.into_iter().map(CommentItem::from).collect(),
        next_cursor,
    })
}

/// The comments inbox, newest first.
#[utoipa::path(get, path = "/api/v1/staff/comments", tag = "staff",
    params(("status" = Option<String>, Query, description = "new, read, replied, archived or spam"),
           ("email" = Option<String>, Query, description = "the reader's address"),
           ("assigned_to" = Option<String>, Query, description = "a colleague's staff email"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, description = "`{items: [CommentItem], next_cursor}`"),
              (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn list_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(inbox(&state, &staff, &query).await?))
}

/// One comment with its spam verdict, notes and replies (the view is audited).
#[utoipa::path(get, path = "/api/v1/staff/comments/{id}", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, body = CommentDetail), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn detail_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(view(&state, &staff, path.into_inner()).await?))
}

// ---- changes ----

/// Tells an absent field (no change) from `null` (clear it).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// `PATCH /api/v1/staff/comments/{id}` body: any of the fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentPatch {
    /// new, read, replied, archived or spam.
    #[serde(default)]
    pub status: Option<String>,
    /// A colleague's staff email (an editor or admin), or null to unassign.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub assigned_to: Option<Option<String>>,
    /// A reader's tip: hidden from roles other than admin and editor, never exported.
    #[serde(default)]
    pub sensitive: Option<bool>,
    /// true marks it spam, false takes it out of the spam folder (back to new).
    #[serde(default)]
    pub spam: Option<bool>,
}

/// A valid set of changes to one comment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub status: Option<Status>,
    pub assigned_to: Option<Option<String>>,
    pub sensitive: Option<bool>,
    pub spam: Option<bool>,
}

impl TryFrom<CommentPatch> for Changes {
    type Error = AppError;

    fn try_from(p: CommentPatch) -> Result<Changes, AppError> {
        let mut errors = Vec::new();
        let status = p
            .status
            .as_deref()
            .and_then(|s| parse_status("status", s).map_err(|e| errors.push(e)).ok());
        if p.status.is_some() && p.spam.is_some() {
            errors.push(FieldError::new(
                "spam",
                "Send either status or spam, not both.",
            ));
        }
        if p.status.is_none()
            && p.assigned_to.is_none()
            && p.sensitive.is_none()
            && p.spam.is_none()
        {
            errors.push(FieldError::new(
                "status",
                "Send at least one of status, assigned_to, sensitive, spam.",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let assigned_to = p.assigned_to.map(|a| {
            a.map(|email| email.trim().to_lowercase())
                .filter(|e| !e.is_empty())
        });
        Ok(Changes {
            status,
            assigned_to,
            sensitive: p.sensitive,
            spam: p.spam,
        })
    }
}

/// Applies changes to one comment and audits each, in one transaction.
async fn apply(
    state: &AppState,
    staff: &Staff,
    id: String,
    changes: Changes,
) -> Result<CommentDetail, AppError> {
    let (actor, clearance) = (staff.actor(), clearance(staff));
    if changes.sensitive.is_some() && clearance != Clearance::Sensitive {
        return Err(AppError::Forbidden(
            "Only admins and editors can flag a comment as sensitive.".into(),
        ));
    }
    state
        .db
        .write(move |conn| {
            apply_in(conn, &actor, &id, clearance, &changes)?;
            load_detail(conn, &id, clearance)
        })
        .await
}

fn apply_in(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    clearance: Clearance,
    changes: &Changes,
) -> Result<(), AppError> {
    let before = store::get(conn, id, clearance)?;
    let target = |action| Entry::new(action).target("comment", id);
    if let Some(Some(email)) = &changes.assigned_to {
        let colleague = crate::staff::store::find_user_by_email(conn, email)?
            .filter(|u| !u.disabled && u.role().is_some_and(|r| r.permits(EDITORS)));
        if colleague.is_none() {
            return Err(AppError::field(
                "assigned_to",
                "Choose an active editor or admin by their staff email.",
            ));
        }
    }
    if let Some(status) = changes.status {
        if before.status != status.as_str() {
            store::set_status(conn, id, status)?;
            audit::record(
                conn,
                actor,
                target("comment.status_changed")
                    .details(json!({ "from": before.status, "to": status.as_str() })),
            )?;
        }
    }
    match changes.spam {
        Some(true)
            if before.status != Status::Spam.as_str()
                || before.spam_rule.as_deref() != Some("staff") =>
        {
            store::mark_spam(conn, id)?;
            audit::record(
                conn,
                actor,
                target("comment.marked_spam").details(json!({ "from": before.status })),
            )?;
        }
        Some(false) if before.status == Status::Spam.as_str() => {
            store::mark_not_spam(conn, id)?;
            audit::record(
                conn,
                actor,
                target("comment.marked_not_spam").details(json!({ "rule": before.spam_rule })),
            )?;
        }
        _ => {}
    }
    if let Some(assignee) = &changes.assigned_to {
        if *assignee != before.assigned_to {
            store::assign(conn, id, assignee.as_deref())?;
            audit::record(
                conn,
                actor,
                target("comment.assigned").details(json!({ "assigned_to": assignee })),
            )?;
        }
    }
    if let Some(sensitive) = changes.sensitive {
        if sensitive != before.sensitive {
            store::set_sensitive(conn, id, sensitive)?;
            audit::record(
                conn,
                actor,
                target("comment.sensitive_changed").details(json!({ "sensitive": sensitive })),
            )?;
        }
    }
    Ok(())
}

/// Changes a comment's status, assignee, sensitive flag or spam verdict.
#[utoipa::path(patch, path = "/api/v1/staff/comments/{id}", tag = "staff",
    params(("id" = String, Path)), request_body = CommentPatch,
    responses((status = 200, body = CommentDetail), (status = 401), (status = 403),
              (status = 404), (status = 415), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn patch_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: ApiJson<CommentPatch>,
) -> Result<HttpResponse, AppError> {
    let changes = Changes::try_from(body.into_inner())?;
    let detail = apply(&state, &staff, path.into_inner(), changes).await?;
    Ok(HttpResponse::Ok().json(detail))
}

// ---- notes and replies ----

fn parse_note(input: &str) -> Result<String, AppError> {
    let body =
        clean_text(input, MAX_NOTE_CHARS, "A note").map_err(|m| AppError::field("body", m))?;
    if body.is_empty() {
        return Err(AppError::field("body", "Write a note."));
    }
    Ok(body)
}

/// `POST /api/v1/staff/comments/{id}/notes` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// 1 to 5,000 characters, seen by staff only.
    pub body: String,
}

async fn add_note(
    state: &AppState,
    staff: &Staff,
    id: String,
    body: &str,
) -> Result<NoteItem, AppError> {
    let body = parse_note(body)?;
    let (actor, clearance) = (staff.actor(), clearance(staff));
    state
        .db
        .write(move |conn| {
            store::get(conn, &id, clearance)?;
            let note = store::add_note(conn, &id, &actor.label, &body)?;
            audit::record(
                conn,
                &actor,
                Entry::new("comment.note_added")
                    .target("comment", &id)
                    .details(json!({ "note_id": note.id })),
            )?;
            Ok(NoteItem::from(note))
        })
        .await
}

/// Adds an internal note to a comment.
#[utoipa::path(post, path = "/api/v1/staff/comments/{id}/notes", tag = "staff",
    params(("id" = String, Path)), request_body = NoteRequest,
    responses((status = 201, body = NoteItem), (status = 401), (status = 403), (status = 404),
              (status = 415), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn note_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: ApiJson<NoteRequest>,
) -> Result<HttpResponse, AppError> {
    let note = add_note(&state, &staff, path.into_inner(), &body.into_inner().body).await?;
    Ok(HttpResponse::Created().json(note))
}

/// `POST /api/v1/staff/comments/{id}/reply` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// 1 to 10,000 characters, sent to the reader.
    pub message: String,
}

/// Replies to the reader by email (through the outbox, threaded on their acknowledgement);
/// the reply is kept with the comment, which becomes `replied`.
#[utoipa::path(post, path = "/api/v1/staff/comments/{id}/reply", tag = "staff",
    params(("id" = String, Path)), request_body = ReplyRequest,
    responses((status = 201, body = ReplyItem), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "the comment is in the spam folder"),
              (status = 415), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn reply_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: ApiJson<ReplyRequest>,
) -> Result<HttpResponse, AppError> {
    let reply = crate::comments::reply(
        &state,
        &path.into_inner(),
        &staff.actor(),
        &body.into_inner().message,
        clearance(&staff),
    )
    .await?;
    Ok(HttpResponse::Created().json(ReplyItem::new(reply, Some("queued".into()))))
}

// ---- export ----

/// `GET /api/v1/staff/comments.csv` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    status: Option<String>,
    email: Option<String>,
}

/// Every comment matching the filters as CSV, oldest first. Sensitive comments are never
/// exported; the export is audited (in its own short transaction, before any row leaves),
/// then streamed page by page, read outside any write transaction.
#[utoipa::path(get, path = "/api/v1/staff/comments.csv", tag = "staff",
    params(("status" = Option<String>, Query), ("email" = Option<String>, Query)),
    responses((status = 200, description = "text/csv attachment", content_type = "text/csv"),
              (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn export_csv(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = InboxQuery {
        status: query.status.clone(),
        email: query.email.clone(),
        ..Default::default()
    }
    .filter()?;
    let counted = filter.clone();
    let count = state
        .db
        .run(move |conn| Ok(store::export_count(conn, &counted)?))
        .await?;
    let actor = staff.actor();
    let details = json!({
        "count": count,
        "status": filter.status.map(|s| s.as_str()),
        "by_email": filter.email.is_some(),
    });
    state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &actor,
                Entry::new("comments.exported").details(details),
            )?;
            Ok(())
        })
        .await?;
    let columns = crate::web::csv::row(&[
        "id",
        "reference",
        "created_at",
        "status",
        "name",
        "email",
        "subject",
        "message",
        "article_url",
        "assigned_to",
        "replied_at",
        "spam_rule",
    ]);
    let body = crate::web::csv::stream(
        state.db.clone(),
        columns,
        move |conn, after: Option<String>| {
            let rows =
                store::export_page(conn, &filter, after.as_deref(), crate::web::csv::PAGE_ROWS)?;
            let next = (rows.len() as i64 == crate::web::csv::PAGE_ROWS)
                .then(|| rows.last().map(|c| c.id.clone()))
                .flatten();
            let mut lines = String::new();
            for c in rows {
                let (created, replied) = (rfc3339(c.created_at), c.replied_at.map(rfc3339));
                lines.push_str(&crate::web::csv::row(&[
                    &c.id,
                    &c.reference,
                    &created,
                    &c.status,
                    &c.name,
                    &c.email,
                    c.subject.as_deref().unwrap_or(""),
                    &c.message,
                    c.article_url.as_deref().unwrap_or(""),
                    c.assigned_to.as_deref().unwrap_or(""),
                    replied.as_deref().unwrap_or(""),
                    c.spam_rule.as_deref().unwrap_or(""),
                ]));
            }
            Ok(crate::web::csv::CsvPage { lines, next })
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"comments.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

// ---- pages ----

fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Active editors and admins, who may be assigned a comment.
async fn colleagues(state: &AppState) -> Result<Vec<String>, AppError> {
    let users = state
        .db
        .run(|conn| Ok(crate::staff::store::list_users(conn)?))
        .await?;
    Ok(users
        .into_iter()
        .filter(|u| !u.disabled && u.role().is_some_and(|r| r.permits(EDITORS)))
        .map(|u| u.email)
        .collect())
}

fn statuses() -> Vec<&'static str> {
    Status::ALL.iter().map(|s| s.as_str()).collect()
}

/// The inbox page: status tabs, filters, the age of unanswered comments.
pub async fn inbox_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    let data = inbox(&state, &staff, &query).await?;
    let items: Vec<Value> = data
        .items
        .iter()
        .map(|c| {
            let mut v = json!(c);
            v["age"] = json!(c.unanswered_seconds.map(age_text));
            v
        })
        .collect();
    let status = non_empty(&query.status).unwrap_or_default();
    let email = non_empty(&query.email).unwrap_or_default();
    let assigned_to = non_empty(&query.assigned_to).unwrap_or_default();
    page(
        &req,
        &state,
        Some(&staff),
        "comments",
        "staff/comments/inbox.html",
        StatusCode::OK,
        json!({
            "items": items, "next_cursor": data.next_cursor, "statuses": statuses(),
            "status": status, "email": email, "assigned_to": assigned_to,
            "colleagues": colleagues(&state).await?,
        }),
    )
}

async fn render_comment(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: String,
    status: StatusCode,
    errors: Vec<FieldError>,
    form: Value,
) -> Result<HttpResponse, AppError> {
    let detail = view(state, staff, id).await?;
    let age = detail.unanswered_seconds.map(age_text);
    page(
        req,
        state,
        Some(staff),
        "comments",
        "staff/comments/comment.html",
        status,
        json!({
            "c": detail, "age": age, "statuses": statuses(),
            "colleagues": colleagues(state).await?, "errors": errors, "form": form,
            "alert": if errors.is_empty() { Value::Null } else { json!("Please check the form.") },
        }),
    )
}

/// One comment: message, spam verdict and rule, notes, replies, and the forms to act on it.
pub async fn comment_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    render_comment(
        &req,
        &state,
        &staff,
        path.into_inner(),
        StatusCode::OK,
        Vec::new(),
        json!({}),
    )
    .await
}

/// Runs a form's change; a validation error shows the page again with the message.
async fn after_form(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: String,
    result: Result<(), AppError>,
    notice: &str,
    form: Value,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(()) => Ok(see_other(format!("/staff/comments/{id}?notice={notice}"))),
        Err(AppError::Validation(errors)) => {
            render_comment(
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
pub struct StatusForm {
    status: String,
}

pub async fn status_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let result = match parse_status("status", &form.status) {
        Ok(status) => {
            let changes = Changes {
                status: Some(status),
                ..Default::default()
            };
            apply(&state, &staff, id.clone(), changes).await.map(|_| ())
        }
        Err(e) => Err(AppError::Validation(vec![e])),
    };
    after_form(&req, &state, &staff, id, result, "saved", json!({})).await
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    assigned_to: String,
}

pub async fn assign_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<AssignForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let assignee = form.assigned_to.trim().to_lowercase();
    let changes = Changes {
        assigned_to: Some(Some(assignee).filter(|a| !a.is_empty())),
        ..Default::default()
    };
    let result = apply(&state, &staff, id.clone(), changes).await.map(|_| ());
    after_form(&req, &state, &staff, id, result, "saved", json!({})).await
}

#[derive(Debug, Deserialize)]
pub struct FlagForm {
    value: String,
}

impl FlagForm {
    fn flag(&self, field: &str) -> Result<bool, AppError> {
        match self.value.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(AppError::field(field, "Use true or false.")),
        }
    }
}

pub async fn sensitive_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<FlagForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let result = match form.flag("sensitive") {
        Ok(sensitive) => {
            let changes = Changes {
                sensitive: Some(sensitive),
                ..Default::default()
            };
            apply(&state, &staff, id.clone(), changes).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    after_form(&req, &state, &staff, id, result, "saved", json!({})).await
}

pub async fn spam_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<FlagForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let result = match form.flag("spam") {
        Ok(spam) => {
            let changes = Changes {
                spam: Some(spam),
                ..Default::default()
            };
            apply(&state, &staff, id.clone(), changes).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    after_form(&req, &state, &staff, id, result, "saved", json!({})).await
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
    let id = path.into_inner();
    let result = add_note(&state, &staff, id.clone(), &form.body)
        .await
        .map(|_| ());
    let echo = json!({ "body": form.body });
    after_form(&req, &state, &staff, id, result, "saved", echo).await
}

#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    message: String,
}

pub async fn reply_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let result = crate::comments::reply(
        &state,
        &id,
        &staff.actor(),
        &form.message,
        clearance(&staff),
    )
    .await
    .map(|_| ());
    let echo = json!({ "message": form.message });
    after_form(&req, &state, &staff, id, result, "reply_sent", echo).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_name_every_bad_field() {
        let err = Changes::try_from(CommentPatch {
            status: Some("open".into()),
            spam: Some(true),
            ..Default::default()
        })
        .expect_err("invalid");
        match err {
            AppError::Validation(v) => assert_eq!(
                v.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
                ["status", "spam"]
            ),
            other => panic!("{other:?}"),
        }
        assert!(Changes::try_from(CommentPatch::default()).is_err());
        let unassign: CommentPatch =
            serde_json::from_str(r#"{"assigned_to": null}"#).expect("json");
        assert_eq!(
            Changes::try_from(unassign).expect("valid").assigned_to,
            Some(None)
        );
        let absent: CommentPatch = serde_json::from_str(r#"{"sensitive": true}"#).expect("json");
        assert_eq!(Changes::try_from(absent).expect("valid").assigned_to, None);
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age_text(59), "0 min");
        assert_eq!(age_text(600), "10 min");
        assert_eq!(age_text(7_200), "2 h");
        assert_eq!(age_text(3 * 86_400), "3 d");
    }
}
