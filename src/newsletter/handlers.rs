//! The reader side: subscribe, lists, confirm and unsubscribe/preferences pages.

use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::AppError;
use crate::i18n::Lang;
use crate::mail::{mask_email, Email, ServiceText, UnverifiedContext};
use crate::state::AppState;
use crate::web::page;
use crate::web::{ApiJson, ClientIp, RateLimiter, ReaderLang};

use super::model::{ListSlug, Subscription, SubscriptionRequest};
use super::store::{self, SubscribeInput, SubscribeOutcome, TokenLookup};

/// The per-address limit on subscription requests, made on first use from the settings.
#[derive(Default)]
pub struct AddressLimiter(OnceLock<RateLimiter>);

impl AddressLimiter {
    fn get(&self, state: &AppState) -> &RateLimiter {
        self.0.get_or_init(|| {
            let limiter = state.limits.per_minute(
                state.settings.limits.enabled,
                state.settings.newsletter.per_address_per_minute,
            );
            let cleanup = limiter.clone();
            actix_web::rt::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    cleanup.shrink();
                }
            });
            limiter
        })
    }
}

/// The answer to every valid subscription request, whatever the address's state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionAccepted {
    /// Always `pending`: a confirmation email may be on its way.
    pub status: &'static str,
}

/// Subscribe to the newsletter (double opt-in).
///
/// The same 202 for a new, pending, confirmed or unsubscribed address, so nobody can find
/// out who subscribes. A confirmation email goes to new, pending and unsubscribed addresses,
/// at most one per address per `newsletter.confirmation_interval_minutes`.
#[utoipa::path(post, path = "/api/v1/newsletter/subscriptions", tag = "newsletter",
    request_body = SubscriptionRequest,
    responses(
        (status = 202, body = SubscriptionAccepted),
        (status = 422, description = "Invalid email, name, source_url, lang, or an unknown list", body = crate::error::Problem),
        (status = 429, description = "Too many requests for this address or from this client", body = crate::error::Problem),
    ))]
#[tracing::instrument(skip_all)]
pub async fn subscribe(
    state: web::Data<AppState>,
    limiter: web::Data<AddressLimiter>,
    reader: ReaderLang,
    body: ApiJson<SubscriptionRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let lang = reader.pick(body.lang.as_deref());
    let (subscription, lang) = AppError::both(Subscription::try_from(body), lang)?;
    let address_key = state
        .keys
        .hash("newsletter-rate", subscription.email.as_str().as_bytes());
    limiter
        .get(&state)
        .check("newsletter-address", &address_key)
        .await?;

    request_subscription(&state, subscription, &lang).await?;
    Ok(HttpResponse::Accepted().json(SubscriptionAccepted { status: "pending" }))
}

/// Asks for a subscription: the same double opt-in whoever asks (the subscribe endpoint, or a
/// donation made with `newsletter_opt_in`). Sends a confirmation email when the address's state
/// calls for one; tells the caller nothing about that state.
pub async fn request_subscription(
    state: &AppState,
    subscription: Subscription,
    lang: &Lang,
) -> Result<(), AppError> {
    let slugs = subscription.lists.clone();
    let lists = state
        .db
        .run(move |conn| match &slugs {
            Some(slugs) => store::resolve_lists(conn, slugs, true),
            None => Ok(store::public_lists(conn)?),
        })
        .await?;

    let settings = &state.settings.newsletter;
    let token = crate::keys::random_token(32);
    let confirm_url = format!(
        "{}/newsletter/confirm?token={token}",
        state
            .settings
            .server
            .public_url
            .as_str()
            .trim_end_matches('/')
    );
    // Not verified yet (this email is how it gets verified): nothing the reader typed.
    let to: lettre::Address = subscription
        .email
        .as_str()
        .parse()
        .map_err(|e| AppError::field("email", format!("This is not an email address: {e}")))?;
    let email = state.mailer.compose(
        Email::unverified(
            "newsletter_confirm",
            to,
            UnverifiedContext::new()
                .with("confirm_url", ServiceText::new(confirm_url))
                // The lists' names are staff's.
                .with(
                    "lists",
                    lists
                        .iter()
                        .map(|l| ServiceText::new(&l.name))
                        .collect::<Vec<_>>(),
                )
                .with("valid_days", settings.confirm_token_days),
        )
        .lang(lang),
    )?;
    let now = crate::db::now();
    let masked = mask_email(subscription.email.as_str());
    let input = SubscribeInput {
        suppression_hash: subscription.email.suppression_hash(&state.keys),
        list_ids: lists.into_iter().map(|l| l.id).collect(),
        subscription,
        token_hash: crate::keys::token_hash(&token),
        wording_version: settings.consent_wording_version.clone(),
        now,
        token_valid_until: now + chrono::TimeDelta::days(i64::from(settings.confirm_token_days)),
        min_interval: chrono::TimeDelta::minutes(i64::from(settings.confirmation_interval_minutes)),
        lang: lang.clone(),
    };
    let outcome = state
        .db
        .write(move |conn| {
            let outcome = store::subscribe(conn, &input)?;
            if let SubscribeOutcome::SendConfirmation { subscriber_id } = &outcome {
                let mut email = email;
                email.ref_kind = Some("newsletter_subscriber".into());
                email.ref_id = Some(subscriber_id.clone());
                crate::mail::outbox::enqueue(conn, &[email])?;
            }
            Ok(outcome)
        })
        .await?;
    tracing::info!(to = %masked, outcome = ?outcome, "newsletter subscription request");
    if matches!(outcome, SubscribeOutcome::SendConfirmation { .. }) {
        state.mailer.wake();
    }
    Ok(())
}

/// A list readers can choose.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicList {
    pub slug: String,
    pub name: String,
    pub description: String,
}

/// The public lists.
#[utoipa::path(get, path = "/api/v1/newsletter/lists", tag = "newsletter",
    responses((status = 200, body = [PublicList])))]
#[tracing::instrument(skip_all)]
pub async fn public_lists(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let lists = state.db.run(|conn| Ok(store::public_lists(conn)?)).await?;
    let body: Vec<PublicList> = lists
        .into_iter()
        .map(|l| PublicList {
            slug: l.slug,
            name: l.name,
            description: l.description,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .json(body))
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

impl TokenQuery {
    fn token(&self) -> Option<&str> {
        clean_token(self.token.as_deref())
    }
}

fn clean_token(token: Option<&str>) -> Option<&str> {
    token
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 200)
}

/// The preferences page's query: its token, and `language=saved` after a language change.
#[derive(Debug, Deserialize)]
pub struct PreferencesQuery {
    token: Option<String>,
    language: Option<String>,
}

impl PreferencesQuery {
    fn token(&self) -> Option<&str> {
        clean_token(self.token.as_deref())
    }
}

/// The language stored with a subscriber.
async fn stored_lang(state: &AppState, subscriber_id: &str) -> Result<Option<String>, AppError> {
    let id = subscriber_id.to_string();
    state
        .db
        .run(move |conn| Ok(store::subscriber_lang(conn, &id)?))
        .await
}

/// `POST /newsletter/language?token=T`: the preferences page's language form. Stores the
/// subscriber's language (every later email follows it) and answers 303 back to the
/// preferences page; an unoffered tag is a 422 problem naming `lang`. The token is the
/// preferences link's, as for unsubscribing (no cookie, no CSRF token).
#[utoipa::path(post, path = "/newsletter/language", tag = "newsletter", operation_id = "change_newsletter_language",
    params(("token" = String, Query, description = "the preferences link's token")),
    request_body(content = page::LanguageForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Stored; back to the preferences page (`Location`), which says so"),
        (status = 404, description = "No token, or an unknown or expired one: the page's own \"link not valid\" page", content_type = "text/html", body = String),
        (status = 422, description = "`lang` is not an offered language", body = crate::error::Problem),
    ))]
#[tracing::instrument(skip_all)]
pub async fn change_language(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
    form: web::Form<page::LanguageForm>,
) -> Result<HttpResponse, AppError> {
    let Some(token) = query.token().map(str::to_string) else {
        return not_found_page(&state, &req);
    };
    let Some(subscriber_id) = super::verify_unsubscribe_token(&state.keys, &token) else {
        return not_found_page(&state, &req);
    };
    let lang = page::offered_lang(&state.languages, form.lang.as_deref())?;
    let tag = lang.to_string();
    let changed = state
        .db
        .write(move |conn| {
            Ok(store::set_subscriber_lang(
                conn,
                &subscriber_id,
                &tag,
                crate::db::now(),
            )?)
        })
        .await?;
    if changed == 0 {
        return not_found_page(&state, &req);
    }
    tracing::info!(lang = %lang, "newsletter subscriber changed their language");
    Ok(page::language_saved("/newsletter/unsubscribe", &token))
}

fn not_found_page(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, AppError> {
    page::render(
        &state.templates,
        &state.settings,
        StatusCode::NOT_FOUND,
        "pages/newsletter/not_found.html",
        json!({
            "valid_days": state.settings.newsletter.confirm_token_days,
            "lang": page::lang(req, None),
        }),
    )
    .map(no_store)
}

/// Pages behind a personal link are never cached or stored.
fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `GET /newsletter/confirm?token=T`: the page with the button. Changes nothing.
#[tracing::instrument(skip_all)]
pub async fn confirm_page(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let Some(token) = query.token().map(str::to_string) else {
        return not_found_page(&state, &req);
    };
    let hash = crate::keys::token_hash(&token);
    let lookup = state
        .db
        .run(move |conn| Ok(store::find_confirm_token(conn, &hash, crate::db::now())?))
        .await?;
    let (subscriber, lists, already) = match lookup {
        TokenLookup::NotFound => return not_found_page(&state, &req),
        TokenLookup::AlreadyUsed { subscriber } => (subscriber, Vec::new(), true),
        TokenLookup::Valid { subscriber, lists } => (subscriber, lists, false),
    };
    let stored = stored_lang(&state, &subscriber.id).await?;
    page::render(
        &state.templates,
        &state.settings,
        StatusCode::OK,
        "pages/newsletter/confirm.html",
        json!({
            "token": token,
            "email": subscriber.email,
            "lists": lists,
            "already": already,
            "lang": page::lang(&req, stored.as_deref()),
        }),
    )
    .map(no_store)
}

/// `POST /newsletter/confirm?token=T`: confirms, records the consent. Idempotent.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
    ip: ClientIp,
) -> Result<HttpResponse, AppError> {
    let Some(token) = query.token().map(str::to_string) else {
        return not_found_page(&state, &req);
    };
    let hash = crate::keys::token_hash(&token);
    let ip_hash = state
        .keys
        .hash("newsletter-consent-ip", ip.0.to_string().as_bytes());
    let lookup = state
        .db
        .write(move |conn| Ok(store::confirm(conn, &hash, &ip_hash, crate::db::now())?))
        .await?;
    let subscriber = match lookup {
        TokenLookup::NotFound => return not_found_page(&state, &req),
        TokenLookup::AlreadyUsed { subscriber } | TokenLookup::Valid { subscriber, .. } => {
            subscriber
        }
    };
    tracing::info!(to = %mask_email(&subscriber.email), "newsletter subscription confirmed");
    let stored = stored_lang(&state, &subscriber.id).await?;
    page::render(
        &state.templates,
        &state.settings,
        StatusCode::OK,
        "pages/newsletter/confirmed.html",
        json!({ "email": subscriber.email, "lang": page::lang(&req, stored.as_deref()) }),
    )
    .map(no_store)
}

#[derive(Debug, Serialize)]
struct ListChoice {
    slug: String,
    name: String,
    description: String,
    subscribed: bool,
}

/// `GET /newsletter/unsubscribe?token=T`: the unsubscribe button and the list choices.
/// Changes nothing.
#[tracing::instrument(skip_all)]
pub async fn unsubscribe_page(
    state: web::Data<AppState>,
    query: web::Query<PreferencesQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let Some(subscriber_id) = query
        .token()
        .and_then(|t| super::verify_unsubscribe_token(&state.keys, t))
    else {
        return not_found_page(&state, &req);
    };
    let found = state
        .db
        .run(move |conn| {
            let Some(subscriber) = optional(store::find_subscriber(conn, &subscriber_id))? else {
                return Ok(None);
            };
            let choices = list_choices(conn, &subscriber.id)?;
            let lang = store::subscriber_lang(conn, &subscriber.id)?;
            Ok(Some((subscriber, choices, lang)))
        })
        .await?;
    let Some((subscriber, choices, stored)) = found else {
        return not_found_page(&state, &req);
    };
    page::render(
        &state.templates,
        &state.settings,
        StatusCode::OK,
        "pages/newsletter/unsubscribe.html",
        json!({
            "token": query.token(),
            "email": subscriber.email,
            "status": subscriber.status,
            "lists": choices,
            "lang": page::lang(&req, stored.as_deref()),
            "languages": page::language_choices(&state.templates, &state.languages),
            "language_changed": query.language.is_some(),
        }),
    )
    .map(no_store)
}

fn optional<T>(r: diesel::QueryResult<T>) -> diesel::QueryResult<Option<T>> {
    use diesel::OptionalExtension;
    r.optional()
}

/// Public lists plus any list the subscriber belongs to, each with whether it is confirmed.
fn list_choices(
    conn: &mut crate::db::DbConnection,
    subscriber_id: &str,
) -> diesel::QueryResult<Vec<ListChoice>> {
    let mine = store::memberships(conn, subscriber_id)?;
    let mut choices: Vec<ListChoice> = store::public_lists(conn)?
        .into_iter()
        .map(|l| ListChoice {
            subscribed: mine.iter().any(|(m, st)| m.id == l.id && st == "confirmed"),
            slug: l.slug,
            name: l.name,
            description: l.description,
        })
        .collect();
    for (list, status) in mine {
        if !choices.iter().any(|c| c.slug == list.slug) {
            choices.push(ListChoice {
                slug: list.slug,
                name: list.name,
                description: list.description,
                subscribed: status == "confirmed",
            });
        }
    }
    Ok(choices)
}

/// `POST /newsletter/unsubscribe?token=T`: unsubscribes from everything, or (the
/// preferences form, `action=lists`) keeps only the lists ticked. Works without cookie,
/// CSRF token or login: the RFC 8058 one-click body `List-Unsubscribe=One-Click` (urlencoded
/// or multipart), an empty body, or any other body unsubscribes from everything. Idempotent.
#[tracing::instrument(skip_all)]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    req: HttpRequest,
    ip: ClientIp,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let Some(subscriber_id) = query
        .token()
        .and_then(|t| super::verify_unsubscribe_token(&state.keys, t))
    else {
        return not_found_page(&state, &req);
    };
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut wants_lists = false;
    let mut chosen = Vec::new();
    if is_form {
        for (key, value) in url::form_urlencoded::parse(&body) {
            match key.as_ref() {
                "action" => wants_lists = value == "lists",
                "list" => {
                    if let Ok(slug) = ListSlug::parse(&value) {
                        chosen.push(slug.as_str().to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let ip_hash = state
        .keys
        .hash("newsletter-consent-ip", ip.0.to_string().as_bytes());
    let result = state
        .db
        .write(move |conn| {
            let Some(subscriber) = optional(store::find_subscriber(conn, &subscriber_id))? else {
                return Ok(None);
            };
            let now = crate::db::now();
            let kept = if wants_lists {
                // Only lists the page offered: public ones and the subscriber's own.
                let offered = list_choices(conn, &subscriber.id)?;
                let slugs: Vec<String> = chosen
                    .into_iter()
                    .filter(|s| offered.iter().any(|c| &c.slug == s))
                    .collect();
                let ids: Vec<String> = slugs
                    .iter()
                    .filter_map(|s| store::find_list(conn, s).ok().map(|l| l.id))
                    .collect();
                store::set_preferences(conn, &subscriber.id, &ids, &ip_hash, now)?
            } else {
                store::unsubscribe_all(conn, &subscriber.id, now)?;
                Vec::new()
            };
            let lang = store::subscriber_lang(conn, &subscriber.id)?;
            Ok(Some((subscriber, kept, lang)))
        })
        .await?;
    let Some((subscriber, kept, stored)) = result else {
        return not_found_page(&state, &req);
    };
    tracing::info!(
        to = %mask_email(&subscriber.email),
        lists_kept = kept.len(),
        "newsletter unsubscribe or preferences"
    );
    page::render(
        &state.templates,
        &state.settings,
        StatusCode::OK,
        "pages/newsletter/unsubscribed.html",
        json!({
            "email": subscriber.email,
            "unsubscribed": kept.is_empty(),
            "lists": kept,
            "token": query.token(),
            "lang": page::lang(&req, stored.as_deref()),
        }),
    )
    .map(no_store)
}
