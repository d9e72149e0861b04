//! Payment providers and donations: currencies, bounds, presets, card-testing limits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettings {
    pub provider: PaymentProviderKind,
    pub manual: ManualPaymentSettings,
    pub stripe: StripeSettings,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PaymentProviderKind {
    Manual,
    Stripe,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ManualPaymentSettings {
    pub instructions: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StripeSettings {
    pub secret_key: Option<Secret>,
    pub webhook_secret: Option<Secret>,
    pub api_base: url::Url,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DonationSettings {
    pub currencies: BTreeMap<String, CurrencyBounds>,
    /// Processor fee in percent of the charged total, for the optional "cover the fees" gross-up.
    pub fee_percent: f64,
    /// Fixed processor fee per charge in minor units, for the same gross-up.
    pub fee_fixed_minor: i64,
    /// First month (1-12) of the fiscal year used by yearly statements; 1 means calendar years.
    pub fiscal_year_start_month: u32,
    /// Print "No goods or services were provided in exchange for this contribution" on receipts.
    pub no_goods_or_services: bool,
    /// Hours a donor's self-service link stays valid.
    pub manage_link_hours: u32,
    /// Donation attempts per minute per client IP (card-testing defence; off with limits.enabled = false).
    pub per_ip_per_minute: u32,
    /// Donation attempts per minute per donor email address.
    pub per_email_per_minute: u32,
    /// Failed payments within an hour from one IP or email address before a cool-down starts.
    pub failure_threshold: u32,
    /// Minutes of that cool-down.
    pub failure_cooldown_minutes: u32,
    /// Failed payments within an hour, across all donors, that trigger one alert to mail.staff_inbox per hour.
    pub failure_alert_threshold: u32,
    /// Suggested amounts (minor units) per currency and frequency, offered by the donate widget.
    pub presets: BTreeMap<String, DonationPresets>,
    /// Days after a monthly payment failed on which the donor is reminded to fix their card
    /// (each day once, increasing; empty for no reminders). They stop as soon as a payment
    /// succeeds, the processor gives up or the donor cancels.
    pub followup_days: Vec<u32>,
}

/// The amounts the donate widget offers for one currency, in minor units.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DonationPresets {
    pub one_time: Vec<i64>,
    pub monthly: Vec<i64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CurrencyBounds {
    pub min: i64,
    pub max: i64,
}

impl DonationSettings {
    /// Presets name accepted currencies, at most six amounts per frequency, each within bounds.
    pub(super) fn preset_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (code, presets) in &self.presets {
            let Some(bounds) = self.currencies.get(code) else {
                problems.push(format!(
                    "donations.presets.{code}: not one of donations.currencies"
                ));
                continue;
            };
            for (frequency, amounts) in [
                ("one_time", &presets.one_time),
                ("monthly", &presets.monthly),
            ] {
                if amounts.len() > 6 {
                    problems.push(format!(
                        "donations.presets.{code}.{frequency}: at most six amounts"
                    ));
                }
                if let Some(bad) = amounts
                    .iter()
                    .find(|a| **a < bounds.min || **a > bounds.max)
                {
                    problems.push(format!(
                        "donations.presets.{code}.{frequency}: {bad} is outside {}..={}",
                        bounds.min, bounds.max
                    ));
                }
            }
        }
        problems
    }
}
