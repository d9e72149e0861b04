//! Payment providers behind one trait: `manual` (pledges paid by bank transfer and marked
//! paid by staff) and `stripe` (Checkout Sessions over Stripe's REST API).

pub mod manual;
pub mod stripe;

use std::future::Future;

use chrono::NaiveDateTime;

use crate::config::{PaymentProviderKind, Settings};
use crate::error::AppError;

use super::model::Status;
use super::store::{Donation, Payment};

pub use manual::Manual;
pub use stripe::StripeClient;

/// How a new gift continues after it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// `pledged` (manual) or `pending` (waiting for the processor's checkout).
    pub status: Status,
    /// The processor's checkout session, when there is one.
    pub session_id: Option<String>,
    /// Where to send the donor to pay; `None` for pledges.
    pub url: Option<String>,
}

/// What every payment provider does.
pub trait PaymentProvider {
    /// `manual` or `stripe`, as stored on each gift.
    fn kind(&self) -> &'static str;

    /// The status a new gift starts in.
    fn initial_status(&self) -> Status;

    /// Starts paying for a stored gift.
    fn begin_checkout(
        &self,
        donation: &Donation,
    ) -> impl Future<Output = Result<Checkout, AppError>> + Send;

    /// Stops a monthly gift at the end of the period already paid for.
    fn cancel_recurring(
        &self,
        donation: &Donation,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Gives a payment back in full; returns the processor's refund id.
    fn refund(&self, payment: &Payment) -> impl Future<Output = Result<String, AppError>> + Send;

    /// Changes a monthly gift's amount from its next payment on.
    fn change_amount(
        &self,
        donation: &Donation,
        total_minor: i64,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Pauses a monthly gift's collection until `until` (nothing is charged before it, and it
    /// resumes by itself then); `None` resumes it now.
    fn pause(
        &self,
        donation: &Donation,
        until: Option<NaiveDateTime>,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Where the donor of a monthly gift updates their card (the processor's page, coming
    /// back to `return_url`); `None` when the provider has no card to update.
    fn card_page(
        &self,
        donation: &Donation,
        return_url: &str,
    ) -> impl Future<Output = Result<Option<String>, AppError>> + Send;
}

/// One of the providers (static dispatch over the trait).
#[derive(Clone)]
pub enum Provider {
    Manual(Manual),
    Stripe(StripeClient),
}

impl PaymentProvider for Provider {
    fn kind(&self) -> &'static str {
        match self {
            Provider::Manual(p) => p.kind(),
            Provider::Stripe(p) => p.kind(),
        }
    }

    fn initial_status(&self) -> Status {
        match self {
            Provider::Manual(p) => p.initial_status(),
            Provider::Stripe(p) => p.initial_status(),
        }
    }

    async fn begin_checkout(&self, donation: &Donation) -> Result<Checkout, AppError> {
        match self {
            Provider::Manual(p) => p.begin_checkout(donation).await,
            Provider::Stripe(p) => p.begin_checkout(donation).await,
        }
    }

    async fn change_amount(&self, donation: &Donation, total_minor: i64) -> Result<(), AppError> {
        match self {
            Provider::Manual(p) => p.change_amount(donation, total_minor).await,
            Provider::Stripe(p) => p.change_amount(donation, total_minor).await,
        }
    }

    async fn pause(
        &self,
        donation: &Donation,
        until: Option<NaiveDateTime>,
    ) -> Result<(), AppError> {
        match self {
            Provider::Manual(p) => p.pause(donation, until).await,
            Provider::Stripe(p) => p.pause(donation, until).await,
        }
    }

    async fn card_page(
        &self,
        donation: &Donation,
        return_url: &str,
    ) -> Result<Option<String>, AppError> {
        match self {
            Provider::Manual(p) => p.card_page(donation, return_url).await,
            Provider::Stripe(p) => p.card_page(donation, return_url).await,
        }
    }

    async fn cancel_recurring(&self, donation: &Donation) -> Result<(), AppError> {
        match self {
            Provider::Manual(p) => p.cancel_recurring(donation).await,
            Provider::Stripe(p) => p.cancel_recurring(donation).await,
        }
    }

    async fn refund(&self, payment: &Payment) -> Result<String, AppError> {
        match self {
            Provider::Manual(p) => p.refund(payment).await,
            Provider::Stripe(p) => p.refund(payment).await,
        }
    }
}

/// The configured provider for new gifts, and every provider that existing gifts may name.
#[derive(Clone)]
pub struct Payments {
    default: PaymentProviderKind,
    manual: Manual,
    stripe: Option<StripeClient>,
}

impl Payments {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Payments> {
        let stripe = match &settings.payments.stripe.secret_key {
            Some(key) => Some(StripeClient::new(settings, key.clone())?),
            None => None,
        };
        Ok(Payments {
            default: settings.payments.provider,
            manual: Manual,
            stripe,
        })
    }

    /// The provider new gifts use.
    pub fn current(&self) -> Result<Provider, AppError> {
        match self.default {
            PaymentProviderKind::Manual => Ok(Provider::Manual(self.manual)),
            PaymentProviderKind::Stripe => self.named("stripe"),
        }
    }

    /// The provider a stored gift names.
    pub fn named(&self, kind: &str) -> Result<Provider, AppError> {
        match kind {
            "manual" => Ok(Provider::Manual(self.manual)),
            "stripe" => self.stripe.clone().map(Provider::Stripe).ok_or_else(|| {
                AppError::unexpected(anyhow::anyhow!(
                    "payments.stripe.secret_key is not configured"
                ))
            }),
            other => Err(AppError::unexpected(anyhow::anyhow!(
                "unknown payment provider {other:?}"
            ))),
        }
    }
}
