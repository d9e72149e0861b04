//! Bounce and complaint reports from the mail provider:
//! `POST /api/v1/webhooks/mail/{provider}`.
//!
//! - `generic`: `{"email": "...", "kind": "hard"|"soft"|"complaint"|"delivered"}`, with the
//!   header `X-Frontdesk-Timestamp: <unix seconds>` and the header
//!   `X-Frontdesk-Signature: sha256=<hex HMAC-SHA256 of timestamp + "." + raw body>` under
//!   `newsletter.webhook_secret`; the timestamp may be at most 5 minutes off.
//! - `mailgun`: Mailgun's JSON webhooks, verified as Mailgun documents it (hex HMAC-SHA256
//!   of `timestamp` + `token` under the webhook signing key, `newsletter.mailgun_signing_key`),
//!   with a timestamp no more than 5 minutes off. `failed` with severity `permanent` is a
//!   hard bounce, `temporary` a soft one; `complained` a complaint; `delivered` ends a run of
//!   soft bounces; other events are acknowledged and ignored.
//!
//! A bad, missing or stale signature is 401 and changes nothing; comparisons are
//! constant-time. A report already taken (the same generic signature, or the same Mailgun
//! token, remembered in the database for twice the tolerance) is answered 200
//! `{"result": "duplicate"}` and changes nothing: a provider that retries a delivery whose
//! answer it lost stops there, and a captured report replayed by someone else does nothing.

use actix_web::{web, HttpRequest, HttpResponse};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::config::Secret;
use crate::db::schema::webhook_replays as replays;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::mail::mask_email;
use crate::state::AppState;
use crate::web::json::parse_json;

use super::model::EmailAddress;
use super::store::{self, EventOutcome, MailEvent};

/// The header carrying the generic webhook's signature.
pub const SIGNATURE_HEADER: &str = "x-frontdesk-signature";
/// The header carrying the generic webhook's timestamp (unix seconds), covered by the signature.
pub const TIMESTAMP_HEADER: &str = "x-frontdesk-timestamp";

/// How far a signed timestamp may be from now, in seconds (as Mailgun and Stripe).
const TOLERANCE_SECONDS: i64 = 300;

/// The generic, signed report.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenericMailEvent {
    pub email: String,
    pub kind: MailEvent,
}

/// What the webhook did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookAnswer {
    /// `suppressed`, `recorded`, `ignored` (an event that changes nothing) or `duplicate` (a
    /// report already taken).
    pub result: &'static str,
}

fn mac(secret: &Secret) -> Result<Hmac<Sha256>, AppError> {
    <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes())
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("HMAC key: {e}")))
}

fn fresh(timestamp: &str, now: i64) -> bool {
    timestamp
        .parse::<i64>()
        .is_ok_and(|t| now.abs_diff(t) <= TOLERANCE_SECONDS.unsigned_abs())
}

/// Checks `sha256=<hex>` against `timestamp + "." + body`, in constant time, and the
/// timestamp's age. Returns the key that identifies this report for the replay check.
fn verify_generic(
    secret: Option<&Secret>,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<String, AppError> {
    let Some(secret) = secret else {
        tracing::warn!("mail webhook refused: newsletter.webhook_secret is not set");
        return Err(AppError::Unauthorized);
    };
    let timestamp = timestamp.map(str::trim).ok_or(AppError::Unauthorized)?;
    let signature = signature
        .and_then(|h| h.trim().strip_prefix("sha256="))
        .and_then(|hex_sig| hex::decode(hex_sig).ok())
        .ok_or(AppError::Unauthorized)?;
    let mut mac = mac(secret)?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&signature)
        .map_err(|_| AppError::Unauthorized)?;
    if !fresh(timestamp, now) {
        return Err(AppError::Unauthorized);
    }
    Ok(format!("generic:{}", hex::encode(signature)))
}

/// Checks Mailgun's signature block, in constant time, and its age. Returns the key that
/// identifies this report for the replay check (Mailgun's token).
fn verify_mailgun(
    secret: Option<&Secret>,
    body: &serde_json::Value,
    now: i64,
) -> Result<String, AppError> {
    let Some(secret) = secret else {
        tracing::warn!("mail webhook refused: newsletter.mailgun_signing_key is not set");
        return Err(AppError::Unauthorized);
    };
    let sig = &body["signature"];
    let (Some(timestamp), Some(token), Some(signature)) = (
        sig["timestamp"].as_str(),
        sig["token"].as_str(),
        sig["signature"].as_str(),
    ) else {
        return Err(AppError::Unauthorized);
    };
    let signature = hex::decode(signature).map_err(|_| AppError::Unauthorized)?;
    let mut mac = mac(secret)?;
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| AppError::Unauthorized)?;
    if !fresh(timestamp, now) {
        return Err(AppError::Unauthorized);
    }
    Ok(format!("mailgun:{token}"))
}

/// Remembers a report's key until `now` + twice the tolerance (by then its timestamp fails
/// the age check anyway); `false` when it was already remembered (a replay). Forgets keys
/// past their time on the way. Call inside the transaction that applies the report.
fn remember(conn: &mut DbConnection, key: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::delete(replays::table.filter(replays::expires_at.le(now))).execute(conn)?;
    let seen = diesel::select(diesel::dsl::exists(replays::table.find(key))).get_result(conn)?;
    if seen {
        return Ok(false);
    }
    diesel::insert_into(replays::table)
        .values((
            replays::key.eq(key),
            replays::seen_at.eq(now),
            replays::expires_at.eq(now + TimeDelta::seconds(2 * TOLERANCE_SECONDS)),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Mailgun's event → ours (None: nothing to do).
fn mailgun_event(body: &serde_json::Value) -> Result<Option<(String, MailEvent)>, AppError> {
    let data = &body["event-data"];
    let event = data["event"].as_str().unwrap_or("");
    let kind = match (event, data["severity"].as_str()) {
        ("failed", Some("permanent")) => MailEvent::Hard,
        ("failed", _) => MailEvent::Soft,
        ("complained", _) => MailEvent::Complaint,
        ("delivered", _) => MailEvent::Delivered,
        _ => return Ok(None),
    };
    let recipient = data["recipient"]
        .as_str()
        .ok_or_else(|| AppError::field("event-data.recipient", "Missing."))?;
    Ok(Some((recipient.to_string(), kind)))
}

/// Report a bounce, a complaint or a delivery.
///
/// `provider` is `generic` (signed with `X-Frontdesk-Signature` over `X-Frontdesk-Timestamp`
/// and the body) or `mailgun`. A report already taken is answered `duplicate`.
#[utoipa::path(post, path = "/api/v1/webhooks/mail/{provider}", tag = "newsletter",
    params(("provider" = String, Path, description = "`generic` or `mailgun`")),
    request_body = GenericMailEvent,
    responses(
        (status = 200, body = WebhookAnswer),
        (status = 401, description = "Missing, wrong or stale signature", body = crate::error::Problem),
        (status = 404, description = "Unknown provider", body = crate::error::Problem),
        (status = 422, description = "Signed, but not a valid report", body = crate::error::Problem),
    ))]
#[tracing::instrument(skip_all, fields(provider = %path.as_str()))]
pub async fn mail_webhook(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let settings = &state.settings.newsletter;
    let now = chrono::Utc::now().timestamp();
    let (email, kind, key) = match path.as_str() {
        "generic" => {
            let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
            let key = verify_generic(
                settings.webhook_secret.as_ref(),
                header(SIGNATURE_HEADER),
                header(TIMESTAMP_HEADER),
                &body,
                now,
            )?;
            let event: GenericMailEvent = parse_json(&body)?;
            (event.email, event.kind, key)
        }
        "mailgun" => {
            let value: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| AppError::BadRequest(format!("The body is not valid JSON: {e}")))?;
            let key = verify_mailgun(settings.mailgun_signing_key.as_ref(), &value, now)?;
            match mailgun_event(&value)? {
                Some((email, kind)) => (email, kind, key),
                None => return Ok(HttpResponse::Ok().json(WebhookAnswer { result: "ignored" })),
            }
        }
        _ => return Err(AppError::NotFound),
    };
    let email = EmailAddress::parse(&email).map_err(|m| AppError::field("email", m))?;
    let hash = email.suppression_hash(&state.keys);
    let limit = settings.soft_bounce_limit;
    let masked = mask_email(email.as_str());
    let outcome = state
        .db
        .write(move |conn| {
            let now = crate::db::now();
            if !remember(conn, &key, now)? {
                return Ok(None);
            }
            Ok(Some(store::record_mail_event(
                conn, &email, &hash, kind, limit, now,
            )?))
        })
        .await?;
    let Some(outcome) = outcome else {
        tracing::warn!(to = %masked, kind = ?kind, "mail event already taken: ignored");
        return Ok(HttpResponse::Ok().json(WebhookAnswer {
            result: "duplicate",
        }));
    };
    tracing::info!(to = %masked, kind = ?kind, outcome = ?outcome, "mail event");
    Ok(HttpResponse::Ok().json(WebhookAnswer {
        result: match outcome {
            EventOutcome::Suppressed => "suppressed",
            EventOutcome::Recorded => "recorded",
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(key: &str, data: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("key");
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn generic_signature_must_cover_the_timestamp_and_body() {
        let secret = Secret::new("s3cret");
        let now = 1_800_000_000;
        let body = br#"{"email":"a@example.org","kind":"hard"}"#;
        let signed = |ts: i64, body: &[u8]| {
            let mut data = format!("{ts}.").into_bytes();
            data.extend_from_slice(body);
            format!("sha256={}", sign("s3cret", &data))
        };
        let good = signed(now, body);
        let ts = now.to_string();
        let check = |sig: Option<&str>, ts: Option<&str>, body: &[u8], now: i64| {
            verify_generic(Some(&secret), sig, ts, body, now)
        };
        let key = check(Some(&good), Some(&ts), body, now).expect("good");
        assert!(key.starts_with("generic:"));
        assert!(check(Some(&good), Some(&ts), body, now + 300).is_ok());
        assert!(
            check(Some(&good), Some(&ts), body, now + 301).is_err(),
            "stale"
        );
        assert!(
            check(Some(&good), Some(&ts), body, now - 301).is_err(),
            "future"
        );
        let later = (now + 1).to_string();
        assert!(
            check(Some(&good), Some(&later), body, now).is_err(),
            "other time"
        );
        assert!(check(Some(&good), None, body, now).is_err(), "no timestamp");
        assert!(
            check(Some(&good), Some(&ts), b"{}", now).is_err(),
            "other body"
        );
        let body_only = format!("sha256={}", sign("s3cret", body));
        assert!(
            check(Some(&body_only), Some(&ts), body, now).is_err(),
            "old scheme"
        );
        assert!(check(Some("sha256=zz"), Some(&ts), body, now).is_err());
        assert!(check(None, Some(&ts), body, now).is_err());
        assert!(verify_generic(None, Some(&good), Some(&ts), body, now).is_err());
    }

    #[test]
    fn mailgun_signature_and_age() {
        let secret = Secret::new("key-1");
        let now = 1_800_000_000;
        let body = |ts: i64, sig: String| {
            serde_json::json!({
                "signature": {"timestamp": ts.to_string(), "token": "tok", "signature": sig},
                "event-data": {"event": "failed", "severity": "permanent", "recipient": "a@example.org"}
            })
        };
        let good = body(now, sign("key-1", format!("{now}tok").as_bytes()));
        assert_eq!(
            verify_mailgun(Some(&secret), &good, now).expect("good"),
            "mailgun:tok"
        );
        assert!(verify_mailgun(Some(&secret), &good, now + 301).is_err());
        let forged = body(now, sign("other", format!("{now}tok").as_bytes()));
        assert!(verify_mailgun(Some(&secret), &forged, now).is_err());
        assert_eq!(
            mailgun_event(&good).expect("event"),
            Some(("a@example.org".to_string(), MailEvent::Hard))
        );
        let opened =
            serde_json::json!({"event-data": {"event": "opened", "recipient": "a@example.org"}});
        assert_eq!(mailgun_event(&opened).expect("event"), None);
    }
}
