//! The `stripe` provider: a small typed client over Stripe's REST API (form-encoded requests,
//! JSON answers) for the few calls Frontdesk needs: Checkout Sessions, cancelling a
//! subscription at period end, refunds. Every call carries an `Idempotency-Key` derived from
//! our own ids, so a retried call never charges, cancels or refunds twice.

use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::config::{Secret, Settings};
use crate::donations::model::{Frequency, Status};
use crate::donations::store::{Donation, Payment};
use crate::error::AppError;

use super::{Checkout, PaymentProvider};

/// The Stripe API version every request is pinned to (`Stripe-Version`), so a change of the
/// account's default version at Stripe never changes the answers Frontdesk parses. The webhook
/// endpoint must be created with the same version (docs/donations.md): events are rendered in
/// the endpoint's version. `2025-02-24.acacia` is the last version whose invoices still carry
/// `subscription`, `payment_intent` and `charge` at the top level; the webhook reads the newer
/// places too.
pub const API_VERSION: &str = "2025-02-24.acacia";

#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    api_base: String,
    secret_key: Secret,
    public_url: String,
    site_name: String,
}

/// The fields of a Checkout Session we use.
#[derive(Debug, Deserialize)]
struct Session {
    id: String,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: String,
}

/// A subscription's first item: its id and its price's product, which an amount change keeps.
#[derive(Debug, Deserialize)]
struct Subscription {
    items: List<Item>,
}

#[derive(Debug, Deserialize)]
struct List<T> {
    data: Vec<T>,
}

#[derive(Debug, Deserialize)]
struct Item {
    id: String,
    price: Price,
}

#[derive(Debug, Deserialize)]
struct Price {
    product: String,
}

/// Stripe's error body: `{"error": {"message": "..."}}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
}

impl StripeClient {
    pub fn new(settings: &Settings, secret_key: Secret) -> anyhow::Result<StripeClient> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("frontdesk/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(StripeClient {
            http,
            api_base: settings
                .payments
                .stripe
                .api_base
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            secret_key,
            public_url: settings
                .server
                .public_url
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            site_name: settings.site.name.clone(),
        })
    }

    /// POSTs a form to `path` with an idempotency key; answers the JSON body.
    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        params: &[(String, String)],
        idempotency_key: &str,
    ) -> Result<T, AppError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let request = self
            .http
            .post(format!("{}{path}", self.api_base))
            .header("Idempotency-Key", idempotency_key)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request, "POST", path).await
    }

    /// GETs `path`; answers the JSON body.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, AppError> {
        let request = self.http.get(format!("{}{path}", self.api_base));
        self.send(request, "GET", path).await
    }

    /// Sends a request with the key and the pinned version; reads Stripe's answer or error.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        method: &str,
        path: &str,
    ) -> Result<T, AppError> {
        let response = request
            .bearer_auth(self.secret_key.expose())
            .header("Stripe-Version", API_VERSION)
            .send()
            .await
            .map_err(|e| {
                AppError::ProcessorUnavailable(
                    anyhow::Error::new(e).context(format!("payment processor: {method} {path}")),
                )
            })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| {
            AppError::ProcessorUnavailable(
                anyhow::Error::new(e).context("payment processor answer"),
            )
        })?;
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|b| b.error.message)
                .unwrap_or_default();
            let error =
                anyhow::anyhow!("payment processor: {method} {path} answered {status}: {message}");
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                AppError::ProcessorUnavailable(error)
            } else {
                AppError::Unexpected(error)
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            AppError::unexpected(
                anyhow::Error::new(e)
                    .context(format!("payment processor: {method} {path}: answer")),
            )
        })
    }

    /// The Checkout Session request for a gift (form pairs, as Stripe expects them).
    pub fn checkout_params(&self, d: &Donation) -> Vec<(String, String)> {
        let monthly = d.frequency == Frequency::Monthly;
        let mut p: Vec<(String, String)> = Vec::new();
        let mut push = |k: &str, v: &str| p.push((k.to_string(), v.to_string()));
        push("mode", if monthly { "subscription" } else { "payment" });
        if !monthly {
            push("submit_type", "donate");
        }
        push("client_reference_id", &d.id);
        push("customer_email", &d.email);
        push(
            "success_url",
            &format!("{}/donate/thanks?donation={}", self.public_url, d.id),
        );
        push(
            "cancel_url",
            &format!(
                "{}/donate/thanks?donation={}&cancelled=1",
                self.public_url, d.id
            ),
        );
        push("line_items[0][quantity]", "1");
        push(
            "line_items[0][price_data][currency]",
            &d.currency.to_ascii_lowercase(),
        );
        push(
            "line_items[0][price_data][unit_amount]",
            &d.total_minor.to_string(),
        );
        let product = if monthly {
            format!("Monthly donation to {}", self.site_name)
        } else {
            format!("Donation to {}", self.site_name)
        };
        push("line_items[0][price_data][product_data][name]", &product);
        if monthly {
            push("line_items[0][price_data][recurring][interval]", "month");
        }
        // The gift and its attribution travel with the session, and with the payment intent
        // or subscription, so every later event names the gift even when it arrives first.
        let attribution = [
            ("donation_id", Some(d.id.as_str())),
            ("campaign", d.campaign.as_deref()),
            ("source_url", d.source_url.as_deref()),
            ("utm_source", d.utm_source.as_deref()),
            ("utm_medium", d.utm_medium.as_deref()),
            ("utm_campaign", d.utm_campaign.as_deref()),
            ("utm_term", d.utm_term.as_deref()),
            ("utm_content", d.utm_content.as_deref()),
        ];
        let nested = if monthly {
            "subscription_data"
        } else {
            "payment_intent_data"
        };
        for (key, value) in attribution {
            if let Some(value) = value {
                // Stripe metadata values hold at most 500 characters.
                let value: String = value.chars().take(500).collect();
                push(&format!("metadata[{key}]"), &value);
                push(&format!("{nested}[metadata][{key}]"), &value);
            }
        }
        p
    }
}

impl PaymentProvider for StripeClient {
    fn kind(&self) -> &'static str {
        "stripe"
    }

    fn initial_status(&self) -> Status {
        Status::Pending
    }

    async fn begin_checkout(&self, donation: &Donation) -> Result<Checkout, AppError> {
        let params = self.checkout_params(donation);
        let session: Session = self
            .post(
                "/v1/checkout/sessions",
                &params,
                &format!("donation-{}-checkout", donation.id),
            )
            .await?;
        Ok(Checkout {
            status: Status::Pending,
            session_id: Some(session.id),
            url: session.url,
        })
    }

    async fn cancel_recurring(&self, donation: &Donation) -> Result<(), AppError> {
        let Some(subscription) = &donation.provider_subscription_id else {
            return Err(AppError::Conflict(
                "This monthly gift has no subscription at the processor yet.".into(),
            ));
        };
        let _: Created = self
            .post(
                &format!("/v1/subscriptions/{subscription}"),
                &[("cancel_at_period_end".into(), "true".into())],
                &format!("donation-{}-cancel", donation.id),
            )
            .await?;
        Ok(())
    }

    /// `pause_collection` with `behavior=void` (the invoices of the paused months are voided,
    /// so nothing is charged and nothing is owed) and `resumes_at`; an empty
    /// `pause_collection` resumes.
    async fn pause(
        &self,
        donation: &Donation,
        until: Option<NaiveDateTime>,
    ) -> Result<(), AppError> {
        let Some(subscription) = &donation.provider_subscription_id else {
            return Err(AppError::Conflict(
                "This monthly gift has no subscription at the processor yet.".into(),
            ));
        };
        let params: Vec<(String, String)> = match until {
            Some(until) => vec![
                ("pause_collection[behavior]".into(), "void".into()),
                (
                    "pause_collection[resumes_at]".into(),
                    until.and_utc().timestamp().to_string(),
                ),
            ],
            None => vec![("pause_collection".into(), String::new())],
        };
        let key = match until {
            Some(until) => format!(
                "donation-{}-pause-{}",
                donation.id,
                until.and_utc().timestamp()
            ),
            None => format!("donation-{}-resume-{}", donation.id, crate::db::new_id()),
        };
        let _: Created = self
            .post(&format!("/v1/subscriptions/{subscription}"), &params, &key)
            .await?;
        Ok(())
    }

    /// A Billing Portal session that opens straight on updating the payment method
    /// (`flow_data[type]=payment_method_update`), for the gift's customer.
    async fn card_page(
        &self,
        donation: &Donation,
        return_url: &str,
    ) -> Result<Option<String>, AppError> {
        let Some(customer) = &donation.provider_customer_id else {
            return Ok(None);
        };
        let session: Session = self
            .post(
                "/v1/billing_portal/sessions",
                &[
                    ("customer".into(), customer.clone()),
                    ("return_url".into(), return_url.to_string()),
                    ("flow_data[type]".into(), "payment_method_update".into()),
                ],
                &format!("donation-{}-card-{}", donation.id, crate::db::new_id()),
            )
            .await?;
        Ok(session.url)
    }

    /// Changes the monthly amount from the next invoice on (no proration): the subscription's
    /// item gets a new monthly price for the same product.
    async fn change_amount(&self, donation: &Donation, total_minor: i64) -> Result<(), AppError> {
        let Some(subscription) = &donation.provider_subscription_id else {
            return Err(AppError::Conflict(
                "This monthly gift has no subscription at the processor yet.".into(),
            ));
        };
        let path = format!("/v1/subscriptions/{subscription}");
        let current: Subscription = self.get(&path).await?;
        let item = current.items.data.first().ok_or_else(|| {
            AppError::unexpected(anyhow::anyhow!("subscription {subscription} has no item"))
        })?;
        let params: Vec<(String, String)> = [
            ("items[0][id]", item.id.as_str()),
            (
                "items[0][price_data][currency]",
                &donation.currency.to_ascii_lowercase(),
            ),
            ("items[0][price_data][product]", item.price.product.as_str()),
            (
                "items[0][price_data][unit_amount]",
                &total_minor.to_string(),
            ),
            ("items[0][price_data][recurring][interval]", "month"),
            ("proration_behavior", "none"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let _: Created = self
            .post(
                &path,
                &params,
                &format!(
                    "donation-{}-amount-{total_minor}-{}",
                    donation.id,
                    crate::db::new_id()
                ),
            )
            .await?;
        Ok(())
    }

    async fn refund(&self, payment: &Payment) -> Result<String, AppError> {
        let mut params = vec![(
            "metadata[donation_id]".to_string(),
            payment.donation_id.clone(),
        )];
        match (&payment.provider_payment_intent, &payment.provider_charge) {
            (Some(pi), _) => params.push(("payment_intent".into(), pi.clone())),
            (None, Some(ch)) => params.push(("charge".into(), ch.clone())),
            (None, None) => {
                return Err(AppError::Conflict(
                    "The processor has not told us the charge of this payment yet.".into(),
                ))
            }
        }
        let refund: Created = self
            .post("/v1/refunds", &params, &format!("refund-{}", payment.id))
            .await?;
        Ok(refund.id)
    }
}
