//! The staff side of "Was this content helpful?": articles ranked by Wilson lower bounds
//! (those most surely needing improvement first, with a minimum vote count,
//! filtered by date range and reason), and the queue of comments left with votes with a
//! status and internal notes. Editors and admins only; every change is audited in its
//! transaction.

use std::collections::HashMap;

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::db::DbConnection;
use crate::error::{AppError, FieldError};
use crate::feedback::model::{clean_text, CommentStatus};
use crate::feedback::store::{
    self, ArticleRank, CommentQueueFilter, FeedbackNote, QueuedComment, RankFilter, RankOrder,
};
use crate::staff::audit::{self, Entry};
use crate::staff::handlers::page;
use crate::staff::{NavItem, Role, Staff, StaffRoutes};
use crate::web::pagination::{Page, PageRequest};
use crate::web::ApiJson;

/// Who may open the feedback report (admin always may).
const EDITORS: &[Role] = &[Role::Editor];

/// Longest internal note, in characters.
pub const MAX_NOTE_CHARS: usize = 5_000;
/// Every staff route of this feature, each with the roles that may use it.
pub fn staff_routes(r: &mut StaffRoutes) {
    use Method as M;
    r.api(M::GET, "/feedback", EDITORS, ranking_json)
        .api(M::GET, "/feedback/comments", EDITORS, queue_json)
        .api(M::PATCH, "/feedback/comments/{id}", EDITORS, status_json)
        .api(M::POST, "/feedback/comments/{id}/notes", EDITORS, note_json)
        .page(M::GET, "/feedback", EDITORS, ranking_page)
        .page(M::GET, "/feedback/comments", EDITORS, queue_page)
        .page(
            M::POST,
            "/feedback/comments/{id}/status",
            EDITORS,
            status_form,
        )
        .page(M::POST, "/feedback/comments/{id}/notes", EDITORS, note_form);
}

/// The staff navigation section.
pub fn staff_nav() -> Vec<NavItem> {
    vec![NavItem {
        key: "feedback",
        label: "Feedback",
        href: "/staff/feedback",
        hint: "Which articles readers found helpful, and their comments",
        roles: EDITORS,
    }]
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339()
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A date range bound: `YYYY-MM-DD` (a whole UTC day) or an RFC 3339 time. `end` makes a
/// date inclusive (up to the start of the next day).
fn parse_time(value: &str, end: bool) -> Result<NaiveDateTime, String> {
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let day = if end { date.succ_opt() } else { Some(date) };
        return day
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .ok_or_else(|| "This date is out of range.".to_string());
    }
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.naive_utc())
        .map_err(|_| "Use a date (YYYY-MM-DD) or an RFC 3339 time.".to_string())
}

fn parse_range(
    from: &Option<String>,
    to: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
    let mut bound = |field: &str, value: &Option<String>, end: bool| {
        non_empty(value).and_then(|v| {
            parse_time(v, end)
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
    let reason = non_empty(value)?;
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

// ---- the ranking ----

/// `GET /api/v1/staff/feedback` and `/staff/feedback` query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingQuery {
    /// A notice code for the staff page after a form (read by the frame).
    #[allow(dead_code)]
    notice: Option<String>,
    from: Option<String>,
    to: Option<String>,
    reason: Option<String>,
    min_votes: Option<String>,
    order: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

impl RankingQuery {
    fn filter(&self, state: &AppState) -> Result<RankFilter, AppError> {
        let mut errors = Vec::new();
        let (from, to) = parse_range(&self.from, &self.to, &mut errors);
        let reason = parse_reason(state, &self.reason, &mut errors);
        let min_votes = match non_empty(&self.min_votes) {
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
        let order = match non_empty(&self.order) {
            None | Some("needs_improvement") => RankOrder::NeedsImprovementFirst,
            Some("most_helpful") => RankOrder::MostHelpfulFirst,
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
            reason,
            min_votes,
            order,
        })
    }
}

/// One article in the helpfulness report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleItem {
    pub article_url: String,
    pub helpful: i64,
    pub not_helpful: i64,
    pub total: i64,
    /// `helpful / total`.
    pub helpful_share: f64,
    /// The Wilson score interval's lower bound (95 %) of the helpful share: the order of
    /// `order=most_helpful` (highest first).
    pub wilson_lower_bound: f64,
    /// The Wilson score interval's lower bound (95 %) of the not-helpful share: the order of
    /// `order=needs_improvement` (highest first).
    pub not_helpful_lower_bound: f64,
    /// Votes per reason given.
    #[schema(value_type = Object)]
    pub reasons: std::collections::BTreeMap<String, i64>,
}

impl From<ArticleRank> for ArticleItem {
    fn from(a: ArticleRank) -> Self {
        ArticleItem {
            article_url: a.article_url,
            helpful: a.helpful,
            not_helpful: a.not_helpful,
            total: a.total,
            helpful_share: a.helpful_share,
            wilson_lower_bound: a.wilson_lower_bound,
            not_helpful_lower_bound: a.not_helpful_lower_bound,
            reasons: a.reasons,
        }
    }
}

async fn ranking(
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
           ("min_votes" = Option<i64>, Query, description = "default feedback.min_votes"),
           ("order" = Option<String>, Query, description = "needs_improvement (default) or most_helpful"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, description = "`{items: [ArticleItem], next_cursor}`"),
              (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn ranking_json(
    state: web::Data<AppState>,
    _staff: Staff,
    query: web::Query<RankingQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(ranking(&state, &query).await?.0))
}

// ---- the queue of comments left with votes ----

/// `GET /api/v1/staff/feedback/comments` and `/staff/feedback/comments` query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// A notice code for the staff page after a form (read by the frame).
    #[allow(dead_code)]
    notice: Option<String>,
    status: Option<String>,
    reason: Option<String>,
    article_url: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
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
            non_empty(&self.status).and_then(|s| parse_status(s).map_err(|e| errors.push(e)).ok());
        let reason = parse_reason(state, &self.reason, &mut errors);
        let (from, to) = parse_range(&self.from, &self.to, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(CommentQueueFilter {
            status,
            article_url: non_empty(&self.article_url).map(String::from),
            reason,
            from,
            to,
        })
    }
}

/// An internal note on a comment left with a vote.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteItem {
    pub id: String,
    pub author: String,
    pub body: String,
    pub created_at: String,
}

impl From<FeedbackNote> for NoteItem {
    fn from(n: FeedbackNote) -> Self {
        NoteItem {
            id: n.id,
            author: n.author,
            body: n.body,
            created_at: rfc3339(n.created_at),
        }
    }
}

/// A comment left with a vote, with its notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    /// The vote's id.
    pub id: String,
    pub article_url: String,
    pub helpful: bool,
    pub reason: Option<String>,
    pub comment: Option<String>,
    /// new, in_progress, resolved or dismissed.
    pub status: Option<String>,
    pub comment_at: Option<String>,
    pub notes: Vec<NoteItem>,
}

impl QueueItem {
    fn new(c: QueuedComment, notes: Vec<NoteItem>) -> Self {
        QueueItem {
            id: c.id,
            article_url: c.article_url,
            helpful: c.helpful,
            reason: c.reason,
            comment: c.comment,
            status: c.comment_status,
            comment_at: c.comment_at.map(rfc3339),
            notes,
        }
    }
}

/// Joins comments with their notes.
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

async fn queue(state: &AppState, query: &QueueQuery) -> Result<Page<QueueItem>, AppError> {
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
    params(("status" = Option<String>, Query, description = "new, in_progress, resolved or dismissed"),
           ("reason" = Option<String>, Query), ("article_url" = Option<String>, Query),
           ("from" = Option<String>, Query, description = "YYYY-MM-DD or RFC 3339"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD (inclusive) or RFC 3339"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, description = "`{items: [QueueItem], next_cursor}`"),
              (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn queue_json(
    state: web::Data<AppState>,
    _staff: Staff,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(queue(&state, &query).await?))
}

/// `PATCH /api/v1/staff/feedback/comments/{id}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// new, in_progress, resolved or dismissed.
    pub status: String,
}

async fn set_status(
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
            if before.comment_status.as_deref() != Some(status.as_str()) {
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

/// `POST /api/v1/staff/feedback/comments/{id}/notes` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// 1 to 5,000 characters, seen by staff only.
    pub body: String,
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

async fn add_note(
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
#[utoipa::path(post, path = "/api/v1/staff/feedback/comments/{id}/notes", tag = "staff",
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

// ---- pages ----

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

/// The helpfulness report page.
pub async fn ranking_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<RankingQuery>,
) -> Result<HttpResponse, AppError> {
    let (data, filter) = ranking(&state, &query).await?;
    let items: Vec<Value> = data
        .items
        .iter()
        .map(|a| {
            let mut v = json!(a);
            v["share_text"] = json!(percent(a.helpful_share));
            v["bound_text"] = json!(percent(match filter.order {
                RankOrder::NeedsImprovementFirst => a.not_helpful_lower_bound,
                RankOrder::MostHelpfulFirst => a.wilson_lower_bound,
            }));
            v
        })
        .collect();
    let text = |v: &Option<String>| non_empty(v).unwrap_or_default().to_string();
    let order = match filter.order {
        RankOrder::NeedsImprovementFirst => "needs_improvement",
        RankOrder::MostHelpfulFirst => "most_helpful",
    };
    page(
        &req,
        &state,
        Some(&staff),
        "feedback",
        "staff/feedback/ranking.html",
        StatusCode::OK,
        json!({
            "items": items, "next_cursor": data.next_cursor,
            "reasons": state.settings.feedback.reasons,
            "q": {
                "from": text(&query.from), "to": text(&query.to), "reason": text(&query.reason),
                "min_votes": filter.min_votes.to_string(), "order": order,
            },
        }),
    )
}

fn statuses() -> Vec<&'static str> {
    CommentStatus::ALL.iter().map(|s| s.as_str()).collect()
}

/// The queue page: comments left with votes, a status form and a notes form each.
pub async fn queue_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AppError> {
    let data = queue(&state, &query).await?;
    let text = |v: &Option<String>| non_empty(v).unwrap_or_default().to_string();
    page(
        &req,
        &state,
        Some(&staff),
        "feedback",
        "staff/feedback/queue.html",
        StatusCode::OK,
        json!({
            "items": data.items, "next_cursor": data.next_cursor,
            "statuses": statuses(), "reasons": state.settings.feedback.reasons,
            "q": {
                "status": text(&query.status), "reason": text(&query.reason),
                "article_url": text(&query.article_url),
                "from": text(&query.from), "to": text(&query.to),
            },
        }),
    )
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: String,
}

pub async fn status_form(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    set_status(&state, &staff, path.into_inner(), &form.status).await?;
    Ok(see_other("/staff/feedback/comments?notice=saved"))
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
    match add_note(&state, &staff, path.into_inner(), &form.body).await {
        Ok(_) => Ok(see_other("/staff/feedback/comments?notice=saved")),
        Err(AppError::Validation(errors)) => {
            let data = queue(&state, &QueueQuery::default()).await?;
            page(
                &req,
                &state,
                Some(&staff),
                "feedback",
                "staff/feedback/queue.html",
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({
                    "items": data.items, "next_cursor": data.next_cursor,
                    "statuses": statuses(), "reasons": state.settings.feedback.reasons,
                    "q": {}, "errors": errors,
                    "alert": errors.first().map(|e| e.message.clone()),
                }),
            )
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_bounds_accept_dates_and_times() {
        let from = parse_time("2026-03-01", false).expect("date");
        let to = parse_time("2026-03-01", true).expect("date");
        assert_eq!(from.to_string(), "2026-03-01 00:00:00");
        assert_eq!(to.to_string(), "2026-03-02 00:00:00", "a date is inclusive");
        let exact = parse_time("2026-03-01T10:00:00+02:00", false).expect("time");
        assert_eq!(exact.to_string(), "2026-03-01 08:00:00");
        assert!(parse_time("yesterday", false).is_err());
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
