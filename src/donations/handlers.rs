//! The public donation API: create a gift (idempotently), read its status, the processor's
//! webhook, and the donor's request for a self-service link.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::TimeDelta;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::domain::EmailAddress;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::mail::{outbox, Email, ServiceText, UnverifiedContext};
use crate::state::AppState;
use crate::web::{ApiJson, ClientIp, ReaderLang};

use super::model::{
    CreatedDonation, DonationInput, DonationOptions, DonationRequest, Frequency, ManageRequest,
    PublicDonation, Status, RECURRING_ACTIVE,
};
use super::payments::PaymentProvider;
use super::service::{self, Ctx};
use super::signature;
use super::store::{self, Donation};
use super::token;
use super::webhook::{self, Event, Outcome};
use super::Donations;

/// How long an `Idempotency-Key` holds its first answer.
const IDEMPOTENCY_HOURS: i64 = 24;
/// A key still marked in flight after this long belongs to a request that died; it may be reused.
const IN_FLIGHT_SECS: i64 = 60;
/// Largest webhook body read (processor events can outgrow `server.max_body_bytes`).
const WEBHOOK_MAX_BYTES: usize = 512 * 1024;

/// The `Idempotency-Key` header: 1–255 visible ASCII characters; anything else is 400.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()) && k.chars().all(|c| c.is_ascii_graphic()))
        .ok_or_else(|| {
            AppError::BadRequest(
                "Idempotency-Key must be 1 to 255 visible ASCII characters.".into(),
            )
        })?;
    Ok(Some(key.to_string()))
}

enum Claim {
    /// This request owns the key now.
    Claimed,
    /// The first request with this key and body answered this.
    Replay(String),
}

/// Claims `key` for this request, or answers as the first request with it did.
async fn claim_key(state: &AppState, key: String, request_hash: String) -> Result<Claim, AppError> {
    state
        .db
        .write(move |conn| {
            let now = crate::db::now();
            store::delete_expired_idempotency(conn, now - TimeDelta::hours(IDEMPOTENCY_HOURS))?;
            if let Some(found) = store::find_idempotency(conn, &key)? {
                if found.request_hash != request_hash {
                    return Err(AppError::Unprocessable(
                        "This Idempotency-Key was used with a different request body.".into(),
                    ));
                }
                match found.response {
                    Some(response) => return Ok(Claim::Replay(response)),
                    None if now - found.created_at < TimeDelta::seconds(IN_FLIGHT_SECS) => {
                        return Err(AppError::Conflict(
                            "A request with this Idempotency-Key is still in flight.".into(),
                        ))
                    }
                    // Its request died before answering; this one takes over.
                    None => {
                        store::delete_idempotency(conn, &key)?;
                    }
                }
            }
            match store::insert_idempotency(conn, &key, &request_hash, now) {
                Ok(()) => Ok(Claim::Claimed),
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Err(AppError::Conflict(
                    "A request with this Idempotency-Key is still in flight.".into(),
                )),
                Err(e) => Err(e.into()),
            }
        })
        .await
}

/// Lets a key go again after its request failed, so a retry can succeed.
async fn release_key(state: &AppState, key: String) {
    let released = state
        .db
        .write(move |conn| Ok(store::delete_idempotency(conn, &key)?))
        .await;
    if let Err(e) = released {
        tracing::warn!(error = %e, "an idempotency key could not be released");
    }
}

/// What a donation form may offer: the currencies with their bounds and suggested amounts per
/// frequency (`donations.currencies`, `donations.presets`), whether the donor is sent to a
/// checkout, and the fee gross-up. Cached briefly: it changes only with the configuration.
#[utoipa::path(get, path = "/api/v1/donations/options", operation_id = "donation_options", tag = "donations",
    responses((status = 200, body = DonationOptions)))]
#[tracing::instrument(skip_all)]
pub async fn options(state: web::Data<AppState>) -> HttpResponse {
    let settings = &state.settings;
    let redirects = settings.payments.provider == crate::config::PaymentProviderKind::Stripe;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(DonationOptions::from_settings(settings, redirects))
}

fn created(d: &Donation) -> CreatedDonation {
    CreatedDonation {
        id: d.id.clone(),
        status: d.status,
        amount_minor: d.amount_minor,
        fee_minor: d.fee_minor,
        total_minor: d.total_minor,
        currency: d.currency.clone(),
        frequency: d.frequency,
        checkout_url: d.checkout_url.clone(),
    }
}

/// Makes a gift. With the `manual` provider it is `pledged` and the donor is emailed the
/// payment instructions; with `stripe` it is `pending` and `checkout_url` leads to the
/// processor's checkout. The same `Idempotency-Key` and body within 24 hours answers the
/// first answer again and makes nothing; another body gets 422; a first request still in
/// flight gets 409.
#[utoipa::path(post, path = "/api/v1/donations", tag = "donations",
    request_body = DonationRequest,
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[!-~]{1,255}$", description = "1–255 visible ASCII characters; retries with the same key and body get the first answer")),
    responses(
        (status = 201, body = CreatedDonation),
        (status = 400, description = "not JSON, or a malformed Idempotency-Key", body = crate::error::Problem),
        (status = 409, description = "a request with this Idempotency-Key is in flight", body = crate::error::Problem),
        (status = 422, description = "invalid fields (all named), or a reused Idempotency-Key with another body", body = crate::error::Problem),
        (status = 429, description = "rate limited or cooling down after failed payments", body = crate::error::Problem)))]
#[tracing::instrument(skip_all)]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    data: web::Data<Donations>,
    ip: ClientIp,
    reader: ReaderLang,
    body: ApiJson<DonationRequest>,
) -> Result<HttpResponse, AppError> {
    let key = idempotency_key(&req)?;
    let request = body.into_inner();
    let request_hash = hex::encode(Sha256::digest(
        serde_json::to_vec(&request).map_err(AppError::unexpected)?,
    ));
    let lang = reader.pick(request.lang.as_deref());
    let (input, lang) = AppError::both(DonationInput::parse(request, &state.settings), lang)?;
    let newsletter_wish =
        input
            .newsletter_opt_in
            .then(|| crate::newsletter::model::SubscriptionRequest {
                email: input.email.as_str().to_string(),
                name: input.name.clone(),
                lists: None,
                source_url: input.attribution.source_url.clone(),
                lang: None,
            });
    if let Some(key) = &key {
        if let Claim::Replay(body) = claim_key(&state, key.clone(), request_hash).await? {
            return Ok(HttpResponse::Created()
                .insert_header(("Idempotent-Replayed", "true"))
                .content_type("application/json")
                .body(body));
        }
    }
    let result = create_donation(&state, &data, ip, input, &lang, key.clone()).await;
    if let (Err(_), Some(key)) = (&result, key) {
        release_key(&state, key).await;
    }
    let donation = result?;
    if let Some(wish) = newsletter_wish {
        // The wish is stored with the gift; the newsletter's double opt-in takes it from here.
        let requested = match crate::newsletter::model::Subscription::try_from(wish) {
            Ok(subscription) => {
                crate::newsletter::request_subscription(&state, subscription, &lang).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = requested {
            tracing::warn!(donation = %donation.id, error = %e, "newsletter opt-in could not be requested; the wish stays on the gift");
        }
    }
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/donations/{}", donation.id),
        ))
        .json(donation))
}

async fn create_donation(
    state: &AppState,
    data: &Donations,
    ip: ClientIp,
    input: DonationInput,
    lang: &Lang,
    key: Option<String>,
) -> Result<CreatedDonation, AppError> {
    let email_normalized = input.email.normalized();
    data.per_ip.check_ip("donation-ip", ip.0).await?;
    data.per_email
        .check("donation-email", &email_normalized)
        .await?;
    let ip_hash = state.keys.hash("donation-ip", ip.0.to_string().as_bytes());
    if state.settings.limits.enabled {
        cool_down(state, ip_hash.clone(), email_normalized.clone()).await?;
    }
    let provider = data.payments.current()?;
    let now = crate::db::now();
    let a = input.attribution;
    let mut donation = Donation {
        id: crate::db::new_id(),
        status: provider.initial_status(),
        provider: provider.kind().into(),
        frequency: input.frequency,
        recurring_status: (input.frequency == Frequency::Monthly).then(|| RECURRING_ACTIVE.into()),
        amount_minor: input.amount_minor,
        fee_minor: input.fee_minor,
        total_minor: input.total_minor,
        currency: input.currency,
        email: input.email.into_inner(),
        email_normalized,
        name: input.name,
        anonymous: input.anonymous,
        dedication_kind: input.dedication.as_ref().map(|d| d.kind.to_string()),
        dedication_name: input.dedication.map(|d| d.name),
        message: input.message,
        source_url: a.source_url,
        campaign: a.campaign,
        utm_source: a.utm_source,
        utm_medium: a.utm_medium,
        utm_campaign: a.utm_campaign,
        utm_term: a.utm_term,
        utm_content: a.utm_content,
        newsletter_opt_in: input.newsletter_opt_in,
        ip_hash: Some(ip_hash),
        provider_session_id: None,
        provider_customer_id: None,
        provider_subscription_id: None,
        checkout_url: None,
        created_at: now,
        updated_at: now,
        lang: Some(lang.to_string()),
    };
    let ctx = Ctx::from_state(state);

    if provider.initial_status() == Status::Pledged {
        // The pledge, its email and the idempotent answer commit together.
        let answer = created(&donation);
        let response = serde_json::to_string(&answer).map_err(AppError::unexpected)?;
        state
            .db
            .write(move |conn| {
                store::insert_donation(conn, &donation)?;
                let email = service::pledge_email(conn, &ctx, &donation)?;
                outbox::enqueue(conn, &[email])?;
                if let Some(key) = key {
                    store::complete_idempotency(conn, &key, &donation.id, &response)?;
                }
                Ok(())
            })
            .await?;
        state.mailer.wake();
        tracing::info!(donation = %answer.id, "donation pledged");
        return Ok(answer);
    }

    // A processor checkout: store the gift first, so every later event finds it.
    let stored = donation.clone();
    state
        .db
        .write(move |conn| Ok(store::insert_donation(conn, &stored)?))
        .await?;
    let checkout = match provider.begin_checkout(&donation).await {
        Ok(c) => c,
        Err(e) => {
            let id = donation.id.clone();
            let _ = state
                .db
                .write(move |conn| Ok(store::delete_donation(conn, &id)?))
                .await;
            return Err(e);
        }
    };
    donation.provider_session_id = checkout.session_id.clone();
    donation.checkout_url = checkout.url.clone();
    let answer = created(&donation);
    let response = serde_json::to_string(&answer).map_err(AppError::unexpected)?;
    let id = donation.id.clone();
    state
        .db
        .write(move |conn| {
            if let Some(session) = &checkout.session_id {
                store::set_checkout(conn, &id, session, checkout.url.as_deref())?;
            }
            if let Some(key) = key {
                store::complete_idempotency(conn, &key, &id, &response)?;
            }
            Ok(())
        })
        .await?;
    tracing::info!(donation = %answer.id, "donation checkout started");
    Ok(answer)
}

/// After `donations.failure_threshold` failed payments within an hour from one IP or address,
/// new attempts from it wait `donations.failure_cooldown_minutes`.
async fn cool_down(state: &AppState, ip_hash: String, email: String) -> Result<(), AppError> {
    let threshold = i64::from(state.settings.donations.failure_threshold);
    if threshold == 0 {
        return Ok(());
    }
    let minutes = i64::from(state.settings.donations.failure_cooldown_minutes);
    let window = TimeDelta::minutes(minutes.max(60));
    let failures = state
        .db
        .run(move |conn| {
            Ok(store::failures_since(
                conn,
                Some(&ip_hash),
                &email,
                crate::db::now() - window,
            )?)
        })
        .await?;
    if failures >= threshold {
        tracing::warn!(
            failures,
            "donation attempts cooling down after failed payments"
        );
        return Err(AppError::RateLimited {
            retry_after_secs: (minutes * 60).max(1) as u64,
        });
    }
    Ok(())
}

/// A gift's status, without personal data.
#[utoipa::path(get, path = "/api/v1/donations/{id}", tag = "donations",
    params(("id" = String, Path)),
    responses((status = 200, body = PublicDonation), (status = 404, body = crate::error::Problem)))]
#[tracing::instrument(skip_all)]
pub async fn show(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let d = state
        .db
        .run(move |conn| Ok(store::find_donation(conn, &id)?))
        .await?;
    Ok(HttpResponse::Ok().json(PublicDonation {
        id: d.id,
        status: d.status,
        amount_minor: d.amount_minor,
        currency: d.currency,
        frequency: d.frequency,
        recurring_status: d.recurring_status,
        created_at: d.created_at.and_utc().to_rfc3339(),
    }))
}

/// Stripe's events. Verified by `Stripe-Signature` over the raw body; each event applied once.
#[utoipa::path(post, path = "/api/v1/webhooks/stripe", tag = "donations",
    request_body(content = String, description = "the raw Stripe event", content_type = "application/json"),
    params(("Stripe-Signature" = String, Header)),
    responses(
        (status = 200, description = "verified (applied, replayed or ignored)"),
        (status = 400, description = "missing, bad or stale signature; a body that is not JSON", body = crate::error::Problem),
        (status = 422, description = "signed, but not an event: `errors` names `id` or `type`"),
        (status = 409, description = "the event refers to a payment not stored yet; deliver it again later", body = crate::error::Problem)))]
#[tracing::instrument(skip_all)]
pub async fn stripe_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let mut payload = payload.into_inner();
    let body = crate::web::json::read_limited(&mut payload, WEBHOOK_MAX_BYTES).await?;
    let Some(secret) = &state.settings.payments.stripe.webhook_secret else {
        return Err(AppError::BadRequest(
            "Stripe webhooks are not configured here.".into(),
        ));
    };
    let header = req
        .headers()
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    signature::verify(
        header,
        &body,
        secret.expose(),
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| AppError::BadRequest(format!("Stripe-Signature: {e}.")))?;
    let event = Event::parse(&body)?;
    let (event_id, kind) = (event.id.clone(), event.kind.clone());
    let ctx = Ctx::from_state(&state);
    let outcome = match state
        .db
        .write(move |conn| webhook::apply(conn, &ctx, &event))
        .await
    {
        Ok(outcome) => outcome,
        // The same event, delivered twice at once: the other delivery applied it.
        Err(AppError::Conflict(_)) => Outcome::Duplicate,
        Err(AppError::Unprocessable(m)) => {
            tracing::info!(event = %event_id, %kind, "webhook event before its payment; asked for a retry");
            return Err(AppError::Conflict(m));
        }
        Err(e) => return Err(e),
    };
    if outcome == Outcome::Applied {
        state.mailer.wake();
    }
    tracing::info!(event = %event_id, %kind, ?outcome, "webhook event");
    let outcome = match outcome {
        Outcome::Applied => "applied",
        Outcome::Duplicate => "duplicate",
        Outcome::Ignored | Outcome::Retry => "ignored",
    };
    Ok(HttpResponse::Ok().json(json!({ "received": true, "outcome": outcome })))
}

/// Emails a new, expiring link to the donor's self-service page, when the address has
/// given; the new link revokes the older ones. Always 202, so nobody learns who gave.
#[utoipa::path(post, path = "/api/v1/donations/manage", tag = "donations",
    request_body = ManageRequest,
    responses((status = 202, description = "`{\"status\": \"accepted\"}`"),
              (status = 422, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
#[tracing::instrument(skip_all)]
pub async fn manage(
    state: web::Data<AppState>,
    data: web::Data<Donations>,
    body: ApiJson<ManageRequest>,
) -> Result<HttpResponse, AppError> {
    let email =
        EmailAddress::parse(&body.into_inner().email).map_err(|m| AppError::field("email", m))?;
    let accepted = HttpResponse::Accepted().json(json!({ "status": "accepted" }));
    let normalized = email.normalized();
    // At most one link per address per minute; the answer stays the same.
    if data
        .manage
        .check("donor-manage", &normalized)
        .await
        .is_err()
    {
        return Ok(accepted);
    }
    let lookup = normalized.clone();
    let gifts = state
        .db
        .run(move |conn| Ok(store::donations_for_email(conn, &lookup)?))
        .await?;
    let Some(latest) = gifts.first() else {
        return Ok(accepted);
    };
    let ctx = Ctx::from_state(&state);
    let address = service::donor_address(latest)?;
    let lang = ctx.lang_of(latest);
    let hours = state.settings.donations.manage_link_hours;
    let normalized_for_link = normalized.clone();
    state
        .db
        .write(move |conn| {
            // A new link replaces every older one.
            token::revoke_all(conn, &normalized_for_link, crate::db::now())?;
            let row = ctx.mailer.compose(
                Email::unverified(
                    "donation_manage",
                    address,
                    UnverifiedContext::new()
                        .with(
                            "manage_url",
                            ServiceText::new(ctx.manage_url(conn, &normalized_for_link)?),
                        )
                        .with("hours", hours),
                )
                .lang(&lang),
            )?;
            Ok(outbox::enqueue(conn, &[row])?)
        })
        .await?;
    state.mailer.wake();
    tracing::info!(
        email = %crate::mail::mask_email(&normalized),
        "donor self-service link sent"
    );
    Ok(accepted)
}
