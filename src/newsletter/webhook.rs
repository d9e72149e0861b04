//! Bounce and complaint reports from the mail provider:
//! `POST /api/v1/webhooks/mail/{provider}`.
//!
//! - `generic`: `{"email": "...", "kind": "hard"|"soft"|"complaint"|"delivered"}`, signed
//!   with the header `X-Frontdesk-Signature: sha256=<hex HMAC-SHA256 of the raw body>` under
//!   `newsletter.webhook_secret`.
//! - `mailgun`: Mailgun's JSON webhooks, verified as Mailgun documents it (hex HMAC-SHA256
//!   of `timestamp` + `token` under the webhook signing key, `newsletter.mailgun_signing_key`),
//!   with a timestamp no more than 5 minutes off. `failed` with severity `permanent` is a
//!   hard bounce, `temporary` a soft one; `complained` a complaint; `delivered` ends a run of
//!   soft bounces; other events are acknowledged and ignored.
//!
//! A bad or missing signature is 401 and changes nothing; comparisons are constant-time.

use actix_web::{post, web, HttpRequest, HttpResponse};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::app::AppState;
use crate::config::Secret;
use crate::error::AppError;
use crate::mail::mask_email;
use crate::web::json::parse_json;

use super::model::EmailAddress;
use super::store::{self, EventOutcome, MailEvent};

/// The header carrying the generic webhook's signature.
pub const SIGNATURE_HEADER: &str = "x-frontdesk-signature";

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
    /// `suppressed`, `recorded`, or `ignored` (an event that changes nothing).
    pub result: &'static str,
}

fn mac(secret: &Secret) -> Result<Hmac<Sha256>, AppError> {
    <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes())
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("HMAC key: {e}")))
}

/// Checks `sha256=<hex>` against the body, in constant time.
fn verify_generic(
    secret: Option<&Secret>,
    header: Option<&str>,
    body: &[u8],
) -> Result<(), AppError> {
    let Some(secret) = secret else {
        tracing::warn!("mail webhook refused: newsletter.webhook_secret is not set");
        return Err(AppError::Unauthorized);
    };
    let signature = header
        .and_then(|h| h.trim().strip_prefix("sha256="))
        .and_then(|hex_sig| hex::decode(hex_sig).ok())
        .ok_or(AppError::Unauthorized)?;
    let mut mac = mac(secret)?;
    mac.update(body);
    mac.verify_slice(&signature)
        .map_err(|_| AppError::Unauthorized)
}

/// Checks Mailgun's signature block, in constant time, and its age.
fn verify_mailgun(
    secret: Option<&Secret>,
    body: &serde_json::Value,
    now: i64,
) -> Result<(), AppError> {
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
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|t| (now - t).abs() <= 300);
    let signature = hex::decode(signature).map_err(|_| AppError::Unauthorized)?;
    let mut mac = mac(secret)?;
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| AppError::Unauthorized)?;
    if !fresh {
        return Err(AppError::Unauthorized);
    }
    Ok(())
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
/// `provider` is `generic` (signed with `X-Frontdesk-Signature`) or `mailgun`.
#[utoipa::path(post, path = "/api/v1/webhooks/mail/{provider}", tag = "newsletter",
    params(("provider" = String, Path, description = "`generic` or `mailgun`")),
    request_body = GenericMailEvent,
    responses(
        (status = 200, body = WebhookAnswer),
        (status = 401, description = "Missing or wrong signature", body = crate::error::Problem),
        (status = 404, description = "Unknown provider", body = crate::error::Problem),
        (status = 422, description = "Signed, but not a valid report", body = crate::error::Problem),
    ))]
#[post("/webhooks/mail/{provider}")]
#[tracing::instrument(skip_all, fields(provider = %path.as_str()))]
pub async fn mail_webhook(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let settings = &state.settings.newsletter;
    let (email, kind) = match path.as_str() {
        "generic" => {
            let header = req
                .headers()
                .get(SIGNATURE_HEADER)
                .and_then(|v| v.to_str().ok());
            verify_generic(settings.webhook_secret.as_ref(), header, &body)?;
            let event: GenericMailEvent = parse_json(&body)?;
            (event.email, event.kind)
        }
        "mailgun" => {
            let value: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| AppError::BadRequest(format!("The body is not valid JSON: {e}")))?;
            verify_mailgun(
                settings.mailgun_signing_key.as_ref(),
                &value,
                chrono::Utc::now().timestamp(),
            )?;
            match mailgun_event(&value)? {
                Some(found) => found,
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
            Ok(store::record_mail_event(
                conn,
                &email,
                &hash,
                kind,
                limit,
                crate::db::now(),
            )?)
        })
        .await?;
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
    fn generic_signature_must_match_the_body() {
        let secret = Secret::new("s3cret");
        let body = br#"{"email":"a@example.org","kind":"hard"}"#;
        let good = format!("sha256={}", sign("s3cret", body));
        assert!(verify_generic(Some(&secret), Some(&good), body).is_ok());
        assert!(verify_generic(Some(&secret), Some(&good), b"{}").is_err());
        assert!(verify_generic(Some(&secret), Some("sha256=zz"), body).is_err());
        assert!(verify_generic(Some(&secret), None, body).is_err());
        assert!(verify_generic(None, Some(&good), body).is_err());
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
        assert!(verify_mailgun(Some(&secret), &good, now).is_ok());
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
