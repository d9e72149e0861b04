//! The staff pages of feedback: the ranking and the queue in the staff frame, and the forms
//! that answer with a 303 and a `?notice=`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::AppError;
use crate::feedback::model::CommentStatus;
use crate::feedback::store::RankOrder;
use crate::staff::handlers::page;
use crate::staff::ui::{present, see_other};
use crate::staff::Staff;
use crate::state::AppState;

use super::api::{add_note, queue, ranking, set_status};
use super::{QueueQuery, RankingQuery};

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
    let text = |v: &Option<String>| present(v).unwrap_or_default().to_string();
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
    let text = |v: &Option<String>| present(v).unwrap_or_default().to_string();
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
