//! The staff JSON API of comments: what it answers, the bodies it takes, and the CSV export.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::forms::{parse_status, Changes, InboxQuery};
use super::{add_note, apply, inbox, send_reply, view};
use crate::comments::model::Status;
use crate::comments::store::{self, CommentListItem};
use crate::domain::text::{self, Lines};
use crate::error::{AppError, FieldError};
use crate::staff::audit::{self, Entry};
use crate::staff::ui::rfc3339;
use crate::staff::Staff;
use crate::state::AppState;
use crate::web::pagination::Page;
use crate::web::ApiJson;

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
    pub status: Status,
    /// The spam rule that caught it, or `staff` for a staff verdict.
    pub spam_rule: Option<String>,
    pub sensitive: bool,
    /// A confidential tip: name, email, subject, message and article are withheld here
    /// (placeholders); open the tip to read it (audited).
    pub confidential: bool,
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
            confidential: c.confidential,
            assigned_to: c.assigned_to,
            created_at: rfc3339(c.created_at),
            replied_at: c.replied_at.map(rfc3339),
            unanswered_seconds: c.unanswered_seconds,
        }
    }
}

/// An internal note.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CommentNoteItem)]
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
    pub(super) fn new(r: store::CommentReply, delivery: Option<String>) -> Self {
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
    /// The reader's language (`null`: the site default).
    pub lang: Option<String>,
    pub reference: String,
    pub name: String,
    pub email: String,
    pub subject: Option<String>,
    pub message: String,
    pub article_url: Option<String>,
    pub status: Status,
    /// `ham` or `spam`.
    pub spam_verdict: String,
    /// The rule that decided, or `staff`.
    pub spam_rule: Option<String>,
    pub spam_score: i32,
    /// The signals the spam rules saw.
    pub spam_signals: String,
    pub sensitive: bool,
    /// A confidential tip (opened for this reader; the opening is audited).
    pub confidential: bool,
    /// A tip kept past `retention.confidential_tip_days`.
    pub kept: bool,
    /// The staff emails a tip is restricted to; empty when every holder of the tips
    /// permission may open it.
    pub readers: Vec<String>,
    pub assigned_to: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub replied_at: Option<String>,
    pub unanswered_seconds: Option<i64>,
    pub notes: Vec<NoteItem>,
    pub replies: Vec<ReplyItem>,
}

/// The comments inbox, newest first.
#[utoipa::path(get, path = "/api/v1/staff/comments", operation_id = "list_comments", tag = "staff",
    params(("status" = Option<crate::comments::Status>, Query),
           ("email" = Option<String>, Query, description = "the reader's address"),
           ("assigned_to" = Option<String>, Query, format = Email, description = "a colleague's staff email"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, body = Page<CommentItem>),
              (status = 422, description = "A filter, `limit` or `cursor` this list does not take")),
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

/// Tells an absent field (no change) from `null` (clear it).
fn field_sent<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

fn note_schema() -> utoipa::openapi::Object {
    text::schema(Lines::Many, super::MAX_NOTE_CHARS, true)
}
fn reply_schema() -> utoipa::openapi::Object {
    text::schema(Lines::Many, crate::comments::model::MAX_MESSAGE_CHARS, true)
}

/// `PATCH /api/v1/staff/comments/{id}` body: any of the fields.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct CommentPatch {
    #[serde(default)]
    #[schema(value_type = Option<crate::comments::Status>)]
    pub status: Option<String>,
    /// A colleague's staff email (an editor or admin), or null to unassign.
    #[serde(default, deserialize_with = "field_sent")]
    #[schema(value_type = Option<String>)]
    pub assigned_to: Option<Option<String>>,
    /// A reader's tip: hidden from roles other than admin and editor, never exported.
    #[serde(default)]
    pub sensitive: Option<bool>,
    /// true marks it spam, false takes it out of the spam folder (back to new).
    #[serde(default)]
    pub spam: Option<bool>,
    /// A confidential tip only: true keeps it past `retention.confidential_tip_days`.
    #[serde(default)]
    pub keep: Option<bool>,
    /// A confidential tip only: the staff emails (each holding the tips permission, yours
    /// among them) that may open it; an empty list lifts the restriction.
    #[serde(default)]
    pub readers: Option<Vec<String>>,
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
            && p.keep.is_none()
            && p.readers.is_none()
        {
            errors.push(FieldError::new(
                "status",
                "Send at least one of status, assigned_to, sensitive, spam, keep, readers.",
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
            keep: p.keep,
            readers: p.readers.map(|r| super::forms::parse_readers(&r.join(","))),
        })
    }
}

/// Changes a comment's status, assignee, sensitive flag or spam verdict; for a confidential
/// tip also whether it is kept past retention and who may open it (403, audited, for staff
/// who may not open the tip).
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

/// `POST /api/v1/staff/comments/{id}/notes` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CommentNoteRequest)]
pub struct NoteRequest {
    /// Seen by staff only.
    #[schema(schema_with = note_schema)]
    pub body: String,
}

/// Adds an internal note to a comment.
#[utoipa::path(post, path = "/api/v1/staff/comments/{id}/notes", operation_id = "add_comment_note", tag = "staff",
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
    /// Sent to the reader.
    #[schema(schema_with = reply_schema)]
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
    let reply = send_reply(
        &state,
        &staff,
        &path.into_inner(),
        &body.into_inner().message,
    )
    .await?;
    Ok(HttpResponse::Created().json(ReplyItem::new(reply, Some("queued".into()))))
}

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
#[utoipa::path(get, path = "/api/v1/staff/comments.csv", operation_id = "export_comments_csv", tag = "staff",
    params(("status" = Option<crate::comments::Status>, Query), ("email" = Option<String>, Query)),
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
                    c.status.as_str(),
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
}
