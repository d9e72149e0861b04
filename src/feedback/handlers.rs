//! `POST /api/v1/feedback` and `GET /api/v1/feedback/summary`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::ArticleUrl;
use crate::error::{AppError, FieldError};
use crate::feedback::model::{
    Ballot, NewVote, OptionsResponse, SummaryResponse, VoteRequest, VoteResponse, MAX_COMMENT_CHARS,
};
use crate::feedback::{store, voter};
use crate::state::AppState;
use crate::web::{ApiJson, ClientIp, ReaderLang};

/// Records a vote. The first vote of a voter on an article answers 201; a changed or repeated
/// vote answers 200 and changes the same row. Sets the `fd_voter` cookie when absent.
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback",
    request_body = VoteRequest,
    responses(
        (status = 201, description = "First vote of this voter on this article", body = VoteResponse),
        (status = 200, description = "The voter changed or repeated their vote", body = VoteResponse),
        (status = 415, body = crate::error::Problem),
        (status = 422, description = "Invalid field, e.g. an article on another host", body = crate::error::Problem),
        (status = 429, body = crate::error::Problem),
    ))]
// No handler span here, unlike the other handlers: this is the busiest route, and the
// request's own span already names it.
pub async fn vote(
    state: web::Data<AppState>,
    feedback: web::Data<super::Feedback>,
    req: HttpRequest,
    ip: ClientIp,
    reader: ReaderLang,
    body: ApiJson<VoteRequest>,
) -> Result<HttpResponse, AppError> {
    let settings = &state.settings;
    let body = body.into_inner();
    let lang = reader.pick(body.lang.as_deref());
    let (ballot, _) = AppError::both(
        Ballot::parse(body, &settings.feedback, &settings.site.article_hosts),
        lang,
    )?;
    let cookie = voter::cookie_value(&req);
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let (today, day_key) = feedback.voter_keys.today(&state.db).await?;
    let voter = voter::voter(&state.keys, cookie.as_deref(), today, || {
        voter::fingerprint(&day_key, ip.0, &String::from_utf8_lossy(user_agent))
    })?;
    let helpful = ballot.helpful;
    let outcome = feedback.writer.submit(NewVote { ballot, voter }).await?;

    let mut response = if outcome.created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    if cookie.is_none() {
        response.cookie(voter::new_cookie(settings.is_https(), today));
    }
    Ok(response.json(VoteResponse {
        id: outcome.id,
        helpful,
    }))
}

/// Counts of one article's votes, for "87% found this helpful".
#[utoipa::path(get, path = "/api/v1/feedback/summary", tag = "feedback",
    params(("article_url" = String, Query, description = "The article's address (normalised before counting)")),
    responses(
        (status = 200, body = SummaryResponse),
        (status = 422, body = crate::error::Problem),
    ))]
#[tracing::instrument(skip_all)]
pub async fn summary(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let raw = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "article_url")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| {
            AppError::Validation(vec![FieldError::new(
                "article_url",
                "Give the article's address.",
            )])
        })?;
    let article_url = ArticleUrl::parse(&raw, &state.settings.site.article_hosts)
        .map_err(|m| AppError::field("article_url", m))?;
    let url = article_url.as_str().to_string();
    let (helpful, not_helpful) = state
        .db
        .run(move |conn| Ok(store::summary(conn, &url)?))
        .await?;
    Ok(HttpResponse::Ok().json(SummaryResponse {
        article_url: article_url.into_inner(),
        helpful,
        not_helpful,
        total: helpful + not_helpful,
    }))
}

/// The reasons a vote may give and the longest comment, for the widget's follow-up form.
#[utoipa::path(get, path = "/api/v1/feedback/options", operation_id = "feedback_options", tag = "feedback",
    responses((status = 200, body = OptionsResponse)))]
#[tracing::instrument(skip_all)]
pub async fn options(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(OptionsResponse {
            reasons: state.settings.feedback.reasons.clone(),
            comment_max_chars: MAX_COMMENT_CHARS,
        })
}
