//! The work behind the staff side of feedback (filters read, the ranking, the queue, status
//! changes and notes, each change audited in its transaction) and the JSON API over it.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::DbConnection;
use crate::error::{AppError, FieldError};
use crate::feedback::model::{clean_text, CommentStatus};
use crate::feedback::store::{self, CommentQueueFilter, QueuedComment, RankFilter, RankTime};
use crate::staff::audit::{self, Entry};
use crate::staff::ui::{present, range_bound};
use crate::staff::Staff;
use crate::state::AppState;
use crate::web::pagination::{Page, PageRequest};
use crate::web::ApiJson;

use super::{
    ArticleItem, NoteItem, NoteRequest, QueueItem, QueueQuery, RankingQuery, StatusRequest,
    MAX_NOTE_CHARS,
};
use crate::feedback::store::RankOrder;

fn parse_range(
    from: &Option<String>,
    to: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
    let mut bound = |field: &str, value: &Option<String>, end: bool| {
        present(value).and_then(|v| {
            range_bound(v, end)
                .map_err(|m| errors.push(FieldError::new(field, m)))
                .ok()
        })
    };
    let from = bound("from", from, false);
    let to = bound("to", to, true);
    if let (Some(f), Some(t)) = (from, to) {
        if t <= f {
            errors.push(FieldError::new("to", "The range ends before it starts."));
        }
    }
    (from, to)
}

fn parse_reason(
    state: &AppState,
    value: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let reason = present(value)?;
    if state.settings.feedback.reasons.iter().any(|r| r == reason) {
        Some(reason.to_string())
    } else {
        errors.push(FieldError::new(
            "reason",
            format!(
                "Choose one of: {}.",
                state.settings.feedback.reasons.join(", ")
            ),
        ));
        None
    }
}

/// The ranking's `order` values.
const NEEDS_IMPROVEMENT: &str = "needs_improvement";
const MOST_HELPFUL: &str = "most_helpful";

/// The `order` parameter, for the API document.
struct RankOrderParam;

impl utoipa::PartialSchema for RankOrderParam {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::web::openapi::string_enum(&[NEEDS_IMPROVEMENT, MOST_HELPFUL]).into()
    }
}

impl utoipa::ToSchema for RankOrderParam {}

impl RankingQuery {
    fn filter(&self, state: &AppState) -> Result<RankFilter, AppError> {
        let mut errors = Vec::new();
        let (from, to) = parse_range(&self.from, &self.to, &mut errors);
        let reason = parse_reason(state, &self.reason, &mut errors);
        let min_votes = match present(&self.min_votes) {
            None => i64::from(state.settings.feedback.min_votes),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=1_000_000).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "min_votes",
                        "Use a whole number from 1 to 1000000.",
                    ));
                    1
                }
            },
        };
        let order = match present(&self.order) {
            None | Some(NEEDS_IMPROVEMENT) => RankOrder::NeedsImprovementFirst,
            Some(MOST_HELPFUL) => RankOrder::MostHelpfulFirst,
            Some(_) => {
                errors.push(FieldError::new(
                    "order",
                    "Use needs_improvement or most_helpful.",
                ));
                RankOrder::NeedsImprovementFirst
            }
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(RankFilter {
            from,
            to,
            time: RankTime::Changed,
            reason,
            min_votes,
            order,
        })
    }
}

pub(super) async fn ranking(
    state: &AppState,
    query: &RankingQuery,
) -> Result<(Page<ArticleItem>, RankFilter), AppError> {
    let request = PageRequest::parse(query.cursor.as_deref(), query.limit)?;
    let filter = query.filter(state)?;
    let (cursor, limit, f) = (request.cursor.clone(), request.limit, filter.clone());
    let (rows, next_cursor) = state
        .db
        .run(move |conn| Ok(store::ranked_articles(conn, &f, cursor.as_deref(), limit)?))
        .await?;
    Ok((
        Page {
            items: rows.into_iter().map(ArticleItem::from).collect(),
            next_cursor,
        },
        filter,
    ))
}

/// Articles ranked by the Wilson lower bound of their not-helpful share, highest first: those
/// most surely needing improvement first (or, with `order=most_helpful`, by the bound of
/// their helpful share, highest first); articles with fewer than `min_votes` votes
/// (default `feedback.min_votes`) in the range are left out.
#[utoipa::path(get, path = "/api/v1/staff/feedback", tag = "staff",
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD or RFC 3339: votes cast or changed from then"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD (inclusive) or RFC 3339"),
           ("reason" = Option<String>, Query, description = "only articles with votes giving this reason"),
           ("min_votes" = Option<i64>, Query, minimum = 1, maximum = 1000000, description = "default feedback.min_votes"),
           ("order" = inline(Option<RankOrderParam>), Query, description = "needs_improvement (the default) or most_helpful"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, body = Page<ArticleItem>),
              (status = 422, description = "A filter (a `reason` not in `feedback.reasons` included), `limit` or `cursor` this list does not take")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn ranking_json(
    state: web::Data<AppState>,
    _staff: Staff,
    query: web::Query<RankingQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(ranking(&state, &query).await?.0))
}

fn parse_status(value: &str) -> Result<CommentStatus, FieldError> {
    CommentStatus::parse(value.trim()).ok_or_else(|| {
        FieldError::new(
            "status",
            "Use one of: new, in_progress, resolved, dismissed.",
        )
    })
}

impl QueueQuery {
    fn filter(&self, state: &AppState) -> Result<CommentQueueFilter, AppError> {
        let mut errors = Vec::new();
        let status =
            present(&self.status).and_then(|s| parse_status(s).map_err(|e| errors.push(e)).ok());
        let reason = parse_reason(state, &self.reason, &mut errors);
        let (from, to) = parse_range(&self.from, &self.to, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(CommentQueueFilter {
            status,
            article_url: present(&self.article_url).map(String::from),
            reason,
            from,
            to,
        })
    }
}

fn with_notes(
    conn: &mut DbConnection,
    rows: Vec<QueuedComment>,
) -> Result<Vec<QueueItem>, AppError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut notes: HashMap<String, Vec<NoteItem>> = HashMap::new();
    for note in store::notes_for(conn, &ids)? {
        notes
            .entry(note.vote_id.clone())
            .or_default()
            .push(NoteItem::from(note));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let n = notes.remove(&r.id).unwrap_or_default();
            QueueItem::new(r, n)
        })
        .collect())
}

pub(super) async fn queue(
    state: &AppState,
    query: &QueueQuery,
) -> Result<Page<QueueItem>, AppError> {
    let request = PageRequest::parse(query.cursor.as_deref(), query.limit)?;
    let filter = query.filter(state)?;
    let (cursor, limit) = (request.cursor.clone(), request.limit);
    state
        .db
        .run(move |conn| {
            let (rows, next_cursor) =
                store::comment_queue(conn, &filter, cursor.as_deref(), limit)?;
            Ok(Page {
                items: with_notes(conn, rows)?,
                next_cursor,
            })
        })
        .await
}

/// The comments left with votes, newest first, with their status and notes.
#[utoipa::path(get, path = "/api/v1/staff/feedback/comments", tag = "staff",
    params(("status" = Option<CommentStatus>, Query),
           ("reason" = Option<String>, Query, description = "one of `feedback.reasons`"), ("article_url" = Option<String>, Query),
           ("from" = Option<String>, Query, description = "YYYY-MM-DD or RFC 3339"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD (inclusive) or RFC 3339"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, body = Page<QueueItem>),
              (status = 422, description = "A filter, `limit` or `cursor` this list does not take")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn queue_json(
    state: web::Data<AppState>,
    _staff: Staff,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(queue(&state, &query).await?))
}

pub(super) async fn set_status(
    state: &AppState,
    staff: &Staff,
    id: String,
    status: &str,
) -> Result<QueueItem, AppError> {
    let status = parse_status(status).map_err(|e| AppError::Validation(vec![e]))?;
    let actor = staff.actor();
    state
        .db
        .write(move |conn| {
            let before = store::queued_comment(conn, &id)?;
            if before.comment_status != Some(status) {
                store::set_comment_status(conn, &id, status)?;
                audit::record(
                    conn,
                    &actor,
                    Entry::new("feedback.comment_status_changed")
                        .target("feedback_vote", &id)
                        .details(json!({ "from": before.comment_status, "to": status.as_str() })),
                )?;
            }
            let after = store::queued_comment(conn, &id)?;
            Ok(with_notes(conn, vec![after])?.remove(0))
        })
        .await
}

/// Moves a comment left with a vote to another status.
#[utoipa::path(patch, path = "/api/v1/staff/feedback/comments/{id}", tag = "staff",
    params(("id" = String, Path, description = "the vote's id")), request_body = StatusRequest,
    responses((status = 200, body = QueueItem), (status = 401), (status = 403), (status = 404),
              (status = 415), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn status_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: ApiJson<StatusRequest>,
) -> Result<HttpResponse, AppError> {
    let item = set_status(&state, &staff, path.into_inner(), &body.into_inner().status).await?;
    Ok(HttpResponse::Ok().json(item))
}

fn parse_note(input: &str) -> Result<String, AppError> {
    let body = clean_text(input).map_err(|m| AppError::field("body", m))?;
    if body.is_empty() {
        return Err(AppError::field("body", "Write a note."));
    }
    if body.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::field(
            "body",
            format!("A note has at most {MAX_NOTE_CHARS} characters."),
        ));
    }
    Ok(body)
}

pub(super) async fn add_note(
    state: &AppState,
    staff: &Staff,
    id: String,
    body: &str,
) -> Result<NoteItem, AppError> {
    let body = parse_note(body)?;
    let actor = staff.actor();
    state
        .db
        .write(move |conn| {
            store::queued_comment(conn, &id)?;
            let note = store::add_note(conn, &id, &actor.label, &body)?;
            audit::record(
                conn,
                &actor,
                Entry::new("feedback.note_added")
                    .target("feedback_vote", &id)
                    .details(json!({ "note_id": note.id })),
            )?;
            Ok(NoteItem::from(note))
        })
        .await
}

/// Adds an internal note to a comment left with a vote.
#[utoipa::path(post, path = "/api/v1/staff/feedback/comments/{id}/notes", operation_id = "add_feedback_note", tag = "staff",
    params(("id" = String, Path, description = "the vote's id")), request_body = NoteRequest,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_bounds_accept_dates_and_times() {
        let from = range_bound("2026-03-01", false).expect("date");
        let to = range_bound("2026-03-01", true).expect("date");
        assert_eq!(from.to_string(), "2026-03-01 00:00:00");
        assert_eq!(to.to_string(), "2026-03-02 00:00:00", "a date is inclusive");
        let exact = range_bound("2026-03-01T10:00:00+02:00", false).expect("time");
        assert_eq!(exact.to_string(), "2026-03-01 08:00:00");
        assert!(range_bound("yesterday", false).is_err());
        let mut errors = Vec::new();
        parse_range(
            &Some("2026-03-05".into()),
            &Some("2026-03-01".into()),
            &mut errors,
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "to");
    }

    #[test]
    fn notes_are_checked() {
        assert!(parse_note("  ").is_err());
        assert!(parse_note("bell\u{7}").is_err());
        assert!(parse_note(&"x".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert_eq!(parse_note(" Call back. ").expect("ok"), "Call back.");
    }
}
