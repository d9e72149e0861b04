//! Readers' own "download my data" and "delete my data", offered on the newsletter
//! preferences page and the donor's page. Both pages are opened from a link only the address
//! received (the preferences token, or the donor's link), and name it here as
//! `source` + `token`.
//!
//! - `POST /privacy/my-data?source=S&token=T`: emails the address a download link (a random
//!   token, stored as its SHA-256, valid `retention.erasure_link_hours`). The pages' own
//!   links can travel (a forwarded newsletter carries its preferences link), so the export,
//!   which may hold a source's tip, goes only to the inbox of the address itself.
//! - `GET /privacy/my-data/download?token=D`: the JSON export of the address, as a download.
//! - `POST /privacy/delete?source=S&token=T`: emails the address a second link (a random
//!   token, stored as its SHA-256, single use, valid `retention.erasure_link_hours`); nothing
//!   is erased yet. At most one email of each kind per address every ten minutes.
//! - `GET /privacy/delete/confirm?token=C`: a page with one button (a GET never erases).
//! - `POST /privacy/delete/confirm?token=C`: erases everything about the address, exactly as
//!   the staff erasure does, and uses the token up.
//!
//! Each export and erasure is audited (by the address's keyed hash) as done by the reader.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::service::{self, Purpose};
use super::store::{self, LinkKind};
use crate::domain::EmailAddress;
use crate::donations::Donations;
use crate::error::AppError;
use crate::keys::{random_token, token_hash};
use crate::mail::{mask_email, outbox, Email, ServiceText, UnverifiedContext};
use crate::staff::audit::Actor;
use crate::state::AppState;
use crate::web::page::render;

/// At most one "delete my data" email per address in this interval.
const REQUEST_INTERVAL_MINUTES: i64 = 10;

/// The reader's pages (registered at the top level).
pub fn pages(cfg: &mut web::ServiceConfig) {
    cfg.route("/privacy/my-data", web::post().to(request_download))
        .route("/privacy/my-data/download", web::get().to(download))
        .route("/privacy/delete", web::post().to(request_erasure))
        .service(
            web::resource("/privacy/delete/confirm")
                .route(web::get().to(confirm_page))
                .route(web::post().to(confirm)),
        );
}

#[derive(Debug, Deserialize)]
pub struct SourceQuery {
    source: Option<String>,
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn reader() -> Actor {
    Actor::system("the reader (self-service)")
}

fn no_store(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A page in the request's language (`?lang=`, which the preferences and donor pages' forms
/// carry, else `Accept-Language`).
fn page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    template: &str,
    mut context: serde_json::Value,
) -> Result<HttpResponse, AppError> {
    if let Some(map) = context.as_object_mut() {
        map.insert("lang".into(), json!(crate::web::page::lang(req, None)));
    }
    render(&state.templates, &state.settings, status, template, context).map(no_store)
}

fn link_expired(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, AppError> {
    page(
        state,
        req,
        StatusCode::NOT_FOUND,
        "pages/people/link_expired.html",
        json!({}),
    )
}

/// The address a page's link names: the newsletter preferences token or the donor's link.
async fn address_of(
    state: &AppState,
    query: &SourceQuery,
) -> Result<Option<EmailAddress>, AppError> {
    let token = query.token.as_deref().unwrap_or_default();
    let raw = match query.source.as_deref() {
        Some("newsletter") => {
            let Some(id) = crate::newsletter::verify_unsubscribe_token(&state.keys, token) else {
                return Ok(None);
            };
            state
                .db
                .run(move |conn| {
                    Ok(crate::newsletter::privacy::address_of_subscriber(
                        conn, &id,
                    )?)
                })
                .await?
        }
        Some("donor") => {
            let token = token.to_string();
            state
                .db
                .run(move |conn| {
                    Ok(crate::donations::token::donor_of(
                        conn,
                        &token,
                        crate::db::now(),
                    )?)
                })
                .await?
        }
        _ => None,
    };
    Ok(raw.and_then(|e| EmailAddress::parse(&e).ok()))
}

/// `POST /privacy/my-data`: emails the link that downloads the address's data.
#[tracing::instrument(skip_all)]
pub async fn request_download(
    state: web::Data<AppState>,
    query: web::Query<SourceQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    request_link(
        &state,
        &req,
        &query,
        LinkKind::Export,
        "people_export_link",
        "/privacy/my-data/download",
        "pages/people/export_requested.html",
    )
    .await
}

/// `GET /privacy/my-data/download`: everything stored about the address, as `person.json`.
#[tracing::instrument(skip_all)]
pub async fn download(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let found = pending(&state, &query, LinkKind::Export).await?;
    let Some(email) = found.and_then(|(_, e)| EmailAddress::parse(&e).ok()) else {
        return link_expired(&state, &req);
    };
    let person = service::look_up(
        &state.db,
        &state.keys,
        &state.settings.uploads.dir,
        &email,
        reader(),
        Purpose::ExportJson,
        // Verified by the emailed link: the reader's own tips are opened for them.
        (state.tips.clone(), true),
    )
    .await?;
    tracing::info!(to = %mask_email(email.as_str()), "a reader downloaded their data");
    super::staff::json_download(&person).map(no_store)
}

/// For the address a page's link names: stores a request of `kind` and emails its link
/// (`path?token=…`) with `template`, at most once per kind and address every
/// [`REQUEST_INTERVAL_MINUTES`], then answers with the "check your inbox" `page_template`.
async fn request_link(
    state: &AppState,
    req: &HttpRequest,
    query: &SourceQuery,
    kind: LinkKind,
    template: &'static str,
    path: &str,
    page_template: &str,
) -> Result<HttpResponse, AppError> {
    let Some(email) = address_of(state, query).await? else {
        return link_expired(state, req);
    };
    let hours = state.settings.retention.erasure_link_hours;
    let token = random_token(32);
    let base = state
        .settings
        .server
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_string();
    // Nothing stores a person's language: the email follows the page that asked (its
    // `?lang=`, else the browser's), and its link carries that language to the next page,
    // whichever device opens it.
    let lang = crate::web::page::lang(req, None);
    let message = state.mailer.compose(
        Email::unverified(
            template,
            email.address().clone(),
            UnverifiedContext::new()
                .with(
                    "link_url",
                    ServiceText::new(format!("{base}{path}?token={token}&lang={lang}")),
                )
                .with("hours", hours),
        )
        .lang(&lang),
    )?;
    let address = email.normalized();
    let sent = state
        .db
        .write(move |conn| {
            let now = crate::db::now();
            let since = now - chrono::TimeDelta::minutes(REQUEST_INTERVAL_MINUTES);
            if store::requested_since(conn, &address, kind, since)? {
                return Ok(false);
            }
            let expires = now + chrono::TimeDelta::hours(i64::from(hours));
            store::insert_request(conn, &token_hash(&token), &address, kind, now, expires)?;
            outbox::enqueue(conn, &[message])?;
            Ok(true)
        })
        .await?;
    if sent {
        state.mailer.wake();
        tracing::info!(to = %mask_email(email.as_str()), kind = kind.as_str(), "self-service link emailed");
    }
    page(
        state,
        req,
        StatusCode::OK,
        page_template,
        json!({ "email": email.as_str(), "hours": hours }),
    )
}

/// The hash and address of the unused, unexpired request of `kind` that the link's token
/// names (changes nothing); `None` for a missing, unknown, used or expired token.
async fn pending(
    state: &AppState,
    query: &TokenQuery,
    kind: LinkKind,
) -> Result<Option<(String, String)>, AppError> {
    let Some(token) = query.token.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let hash = token_hash(token);
    let lookup = hash.clone();
    let found = state
        .db
        .run(move |conn| {
            Ok(store::pending_request(
                conn,
                &lookup,
                kind,
                crate::db::now(),
            )?)
        })
        .await?;
    Ok(found.map(|email| (hash, email)))
}

/// `POST /privacy/delete`: emails the second link that confirms the erasure.
#[tracing::instrument(skip_all)]
pub async fn request_erasure(
    state: web::Data<AppState>,
    query: web::Query<SourceQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    request_link(
        &state,
        &req,
        &query,
        LinkKind::Erase,
        "people_erase_confirm",
        "/privacy/delete/confirm",
        "pages/people/delete_requested.html",
    )
    .await
}

/// `GET /privacy/delete/confirm`: the button that erases (changes nothing itself).
#[tracing::instrument(skip_all)]
pub async fn confirm_page(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let Some((_, email)) = pending(&state, &query, LinkKind::Erase).await? else {
        return link_expired(&state, &req);
    };
    page(
        &state,
        &req,
        StatusCode::OK,
        "pages/people/delete_confirm.html",
        json!({ "email": email, "token": query.token }),
    )
}

/// `POST /privacy/delete/confirm`: erases everything about the address and uses the link up.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    state: web::Data<AppState>,
    donations: web::Data<Donations>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let found = pending(&state, &query, LinkKind::Erase).await?;
    let Some((hash, email)) =
        found.and_then(|(hash, e)| Some((hash, EmailAddress::parse(&e).ok()?)))
    else {
        return link_expired(&state, &req);
    };
    let erased = service::erase(
        &state.db,
        &state.keys,
        &state.settings,
        &donations,
        &email,
        reader(),
        Some(hash),
    )
    .await;
    match erased {
        Ok(_) => page(
            &state,
            &req,
            StatusCode::OK,
            "pages/people/deleted.html",
            json!({}),
        ),
        // The link was used by a concurrent click, or expired meanwhile.
        Err(AppError::NotFound) => link_expired(&state, &req),
        Err(e) => Err(e),
    }
}
