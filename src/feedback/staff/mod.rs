//! The staff side of "Was this content helpful?": articles ranked by Wilson lower bounds
//! (those most surely needing improvement first, with a minimum vote count,
//! filtered by date range and reason), and the queue of comments left with votes with a
//! status and internal notes. Editors and admins only; every change is audited in its
//! transaction.
//!
//! `mod.rs` holds the route table, the navigation and the shapes of requests and answers;
//! `api` reads the filters, does the work and answers JSON; `pages` renders the same work.

mod api;
mod pages;

use actix_web::http::Method;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::feedback::model::CommentStatus;
use crate::feedback::store::{ArticleRank, FeedbackNote, QueuedComment};
use crate::staff::ui::rfc3339;
use crate::staff::{NavItem, Role, StaffRoutes};

// The JSON handlers are re-exported whole: the OpenAPI document in `feedback` names them as
// `staff::ranking_json`, and utoipa looks for the hidden `__path_*` items next to each.
pub use api::*;
use pages::{note_form, queue_page, ranking_page, status_form};

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

/// An internal note on a comment left with a vote.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FeedbackNoteItem)]
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
    pub status: Option<CommentStatus>,
    pub comment_at: Option<String>,
    pub notes: Vec<NoteItem>,
}

impl QueueItem {
    pub(super) fn new(c: QueuedComment, notes: Vec<NoteItem>) -> Self {
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

/// `PATCH /api/v1/staff/feedback/comments/{id}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    #[schema(value_type = crate::feedback::CommentStatus)]
    pub status: String,
}

fn note_schema() -> utoipa::openapi::Object {
    crate::domain::text::schema(crate::domain::text::Lines::Many, MAX_NOTE_CHARS, true)
}

/// `POST /api/v1/staff/feedback/comments/{id}/notes` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FeedbackNoteRequest)]
pub struct NoteRequest {
    /// Seen by staff only.
    #[schema(schema_with = note_schema)]
    pub body: String,
}
