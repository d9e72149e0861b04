//! Donation domain types: what a request must be to become a donation, money in minor units,
//! the statuses a gift goes through. Constructors are the only way in.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::Settings;
use crate::domain::text::{self, Lines};
use crate::domain::{ArticleUrl, EmailAddress};
use crate::error::{AppError, FieldError};
use crate::web::openapi::{or_null, string_enum};

/// Currencies whose minor unit is the major unit (no decimals), as payment processors count them.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
    "VUV", "XAF", "XOF", "XPF",
];
/// Currencies with three decimals.
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// Decimals of a currency's minor unit (2 unless listed otherwise).
pub fn decimals(currency: &str) -> u32 {
    if ZERO_DECIMAL.contains(&currency) {
        0
    } else if THREE_DECIMAL.contains(&currency) {
        3
    } else {
        2
    }
}

/// `2500, "USD"` → `"25.00 USD"`; `2500, "JPY"` → `"2,500 JPY"`.
pub fn format_amount(minor: i64, currency: &str) -> String {
    let places = decimals(currency);
    let unit = 10i64.pow(places);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let major = group_thousands(abs / unit as u64);
    if places == 0 {
        format!("{sign}{major} {currency}")
    } else {
        let frac = abs % unit as u64;
        format!(
            "{sign}{major}.{frac:0width$} {currency}",
            width = places as usize
        )
    }
}

/// What a donor types as an amount (`20`, `20.5`, `20.50` for USD; `2500` for JPY) in minor
/// units; `None` unless it is digits with at most the currency's decimals.
pub fn parse_major(input: &str, currency: &str) -> Option<i64> {
    let places = decimals(currency) as usize;
    let (whole, fraction) = input.trim().split_once('.').unwrap_or((input.trim(), ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 12 || !digits(whole) || !digits(fraction) {
        return None;
    }
    if fraction.len() > places || (input.contains('.') && fraction.is_empty()) {
        return None;
    }
    let unit = 10i64.pow(places as u32);
    let fraction: i64 = format!("{fraction:0<places$}").parse().unwrap_or(0);
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(unit)?
        .checked_add(fraction)
}

/// `2500, "USD"` → `"25.00"` (for CSV files: no grouping, no code).
pub fn plain_amount(minor: i64, currency: &str) -> String {
    let places = decimals(currency);
    if places == 0 {
        return minor.to_string();
    }
    let unit = 10u64.pow(places);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / unit,
        abs % unit,
        width = places as usize
    )
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The "cover the fees" gross-up: the smallest total whose processor fee
/// (`percent` of it plus `fixed`) leaves at least `amount`:
/// `total = ceil((amount + fixed) / (1 - percent / 100))`. Returns `(fee, total)`.
pub fn gross_up(amount: i64, percent: f64, fixed: i64) -> (i64, i64) {
    // Percent in hundredths of a percent, so the division is exact integer arithmetic.
    let bp = (percent * 100.0).round() as i128;
    let numerator = (i128::from(amount) + i128::from(fixed)) * 10_000;
    let denominator = 10_000 - bp;
    let total = (numerator + denominator - 1) / denominator;
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    (total - amount, total)
}

crate::text_enum! {
    /// How often a gift is given.
    pub enum Frequency {
        OneTime => "one_time",
        Monthly => "monthly",
    }
}

crate::text_enum! {
    /// Where a gift stands.
    #[schema(as = DonationStatus)]
    pub enum Status {
        /// Waiting for the processor's checkout.
        Pending => "pending",
        /// Manual provider: promised, waiting for the money.
        Pledged => "pledged",
        Paid => "paid",
        Failed => "failed",
        Refunded => "refunded",
        Disputed => "disputed",
    }
}

crate::text_enum! {
    /// How the money of a payment came in.
    pub enum PaymentMethod {
        /// Through the payment processor (Stripe Checkout).
        Card => "card",
        /// A pledge (manual provider) paid as its instructions said, marked paid by staff.
        Manual => "manual",
        /// Recorded by staff: money that arrived outside the site.
        BankTransfer => "bank_transfer",
        Cheque => "cheque",
        Cash => "cash",
    }
}

crate::text_enum! {
    /// Money that went back out after a payment.
    pub enum AdjustmentKind {
        Refund => "refund",
        /// Withdrawn by the processor while the donor's bank disputes the charge.
        Dispute => "dispute",
    }
}

/// A monthly gift's standing.
pub const RECURRING_ACTIVE: &str = "active";
pub const RECURRING_CANCELLED: &str = "cancelled";

/// The donation body of `POST /api/v1/donations`. Only deserialised (and serialised again to
/// compare idempotent retries); [`DonationInput::parse`] turns it into something valid.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DonationRequest {
    /// In the currency's minor unit (cents for USD, yen for JPY).
    #[schema(minimum = 1)]
    pub amount_minor: i64,
    /// ISO 4217 code, one of `donations.currencies`.
    #[schema(schema_with = currency_schema)]
    pub currency: String,
    #[schema(value_type = Frequency)]
    pub frequency: String,
    #[schema(schema_with = email_schema)]
    pub email: String,
    #[serde(default)]
    #[schema(schema_with = name_schema)]
    pub name: Option<String>,
    /// Do not show the donor's name publicly (staff still see who gave).
    #[serde(default)]
    pub anonymous: Option<bool>,
    #[serde(default)]
    pub dedication: Option<DedicationRequest>,
    #[serde(default)]
    #[schema(schema_with = message_schema)]
    pub message: Option<String>,
    /// Add the processor's fee so the whole `amount_minor` reaches the newsroom.
    #[serde(default)]
    pub cover_fees: Option<bool>,
    /// The article the donor came from.
    #[serde(default)]
    #[schema(schema_with = source_url_schema)]
    pub source_url: Option<String>,
    #[serde(default)]
    #[schema(schema_with = campaign_schema)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub utm: Option<UtmRequest>,
    /// The donor's wish to get the newsletter (confirmed through its double opt-in).
    #[serde(default)]
    pub newsletter_opt_in: Option<bool>,
    #[serde(default)]
    #[schema(schema_with = crate::web::openapi::lang_schema)]
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DedicationRequest {
    #[schema(schema_with = dedication_kind_schema)]
    pub kind: String,
    #[schema(schema_with = dedication_name_schema)]
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UtmRequest {
    #[serde(default)]
    #[schema(schema_with = utm_schema)]
    pub source: Option<String>,
    #[serde(default)]
    #[schema(schema_with = utm_schema)]
    pub medium: Option<String>,
    #[serde(default)]
    #[schema(schema_with = utm_schema)]
    pub campaign: Option<String>,
    #[serde(default)]
    #[schema(schema_with = utm_schema)]
    pub term: Option<String>,
    #[serde(default)]
    #[schema(schema_with = utm_schema)]
    pub content: Option<String>,
}

/// A dedication: in honour or in memory of someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dedication {
    pub kind: &'static str,
    pub name: String,
}

/// Where a gift came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    pub source_url: Option<String>,
    pub campaign: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
}

/// A valid donation request.
#[derive(Debug, Clone)]
pub struct DonationInput {
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub total_minor: i64,
    pub currency: String,
    pub frequency: Frequency,
    pub email: EmailAddress,
    pub name: Option<String>,
    pub anonymous: bool,
    pub dedication: Option<Dedication>,
    pub message: Option<String>,
    pub attribution: Attribution,
    pub newsletter_opt_in: bool,
}

impl DonationInput {
    /// Checks every field and reports every failing one at once.
    pub fn parse(req: DonationRequest, settings: &Settings) -> Result<DonationInput, AppError> {
        let mut errors = Vec::new();
        let currency =
            currency_and_amount(&mut errors, settings, &req.currency, req.amount_minor, true);
        let frequency = Frequency::parse(req.frequency.trim());
        if frequency.is_none() {
            errors.push(FieldError::new("frequency", "Use one_time or monthly."));
        }
        let email = EmailAddress::parse(&req.email)
            .map_err(|m| errors.push(FieldError::new("email", m)))
            .ok();
        let name = line(&mut errors, "name", req.name.as_deref(), MAX_NAME_CHARS);
        let dedication = match req.dedication {
            None => None,
            Some(d) => {
                let kind = match d.kind.trim() {
                    "honor" => Some("honor"),
                    "memory" => Some("memory"),
                    _ => {
                        errors.push(FieldError::new("dedication.kind", "Use honor or memory."));
                        None
                    }
                };
                let name = line(
                    &mut errors,
                    "dedication.name",
                    Some(&d.name),
                    MAX_NAME_CHARS,
                );
                if name.is_none() && !errors.iter().any(|e| e.field == "dedication.name") {
                    errors.push(FieldError::new(
                        "dedication.name",
                        "Name the person the gift honours.",
                    ));
                }
                kind.zip(name).map(|(kind, name)| Dedication { kind, name })
            }
        };
        let message = text(
            &mut errors,
            "message",
            req.message.as_deref(),
            MAX_MESSAGE_CHARS,
        );
        let source_url = match req
            .source_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(raw) => match article_url(raw, &settings.site.article_hosts) {
                Ok(u) => Some(u),
                Err(m) => {
                    errors.push(FieldError::new("source_url", m));
                    None
                }
            },
        };
        let campaign = line(
            &mut errors,
            "campaign",
            req.campaign.as_deref(),
            MAX_CAMPAIGN_CHARS,
        );
        let utm = req.utm.unwrap_or_default();
        let attribution = Attribution {
            source_url,
            campaign,
            utm_source: line(
                &mut errors,
                "utm.source",
                utm.source.as_deref(),
                MAX_UTM_CHARS,
            ),
            utm_medium: line(
                &mut errors,
                "utm.medium",
                utm.medium.as_deref(),
                MAX_UTM_CHARS,
            ),
            utm_campaign: line(
                &mut errors,
                "utm.campaign",
                utm.campaign.as_deref(),
                MAX_UTM_CHARS,
            ),
            utm_term: line(&mut errors, "utm.term", utm.term.as_deref(), MAX_UTM_CHARS),
            utm_content: line(
                &mut errors,
                "utm.content",
                utm.content.as_deref(),
                MAX_UTM_CHARS,
            ),
        };
        let (Some(frequency), Some(email), true) = (frequency, email, errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let amount_minor = req.amount_minor;
        let (fee_minor, total_minor) = if req.cover_fees.unwrap_or(false) {
            gross_up(
                amount_minor,
                settings.donations.fee_percent,
                settings.donations.fee_fixed_minor,
            )
        } else {
            (0, amount_minor)
        };
        Ok(DonationInput {
            amount_minor,
            fee_minor,
            total_minor,
            currency,
            frequency,
            email,
            name,
            anonymous: req.anonymous.unwrap_or(false),
            dedication,
            message,
            attribution,
            newsletter_opt_in: req.newsletter_opt_in.unwrap_or(false),
        })
    }
}

/// Longest donor name (and dedication name), message, campaign and UTM value, in characters.
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_MESSAGE_CHARS: usize = 2000;
pub const MAX_CAMPAIGN_CHARS: usize = 100;
pub const MAX_UTM_CHARS: usize = 200;

fn line_schema(max: usize) -> utoipa::openapi::Object {
    or_null(text::schema(Lines::One, max, false))
}
fn name_schema() -> utoipa::openapi::Object {
    line_schema(MAX_NAME_CHARS)
}
fn dedication_name_schema() -> utoipa::openapi::Object {
    text::schema(Lines::One, MAX_NAME_CHARS, true)
}
fn message_schema() -> utoipa::openapi::Object {
    or_null(text::schema(Lines::Many, MAX_MESSAGE_CHARS, false))
}
fn campaign_schema() -> utoipa::openapi::Object {
    line_schema(MAX_CAMPAIGN_CHARS)
}
fn utm_schema() -> utoipa::openapi::Object {
    line_schema(MAX_UTM_CHARS)
}
pub(super) fn email_schema() -> utoipa::openapi::Object {
    EmailAddress::schema()
}
fn source_url_schema() -> utoipa::openapi::Object {
    or_null(ArticleUrl::schema(true))
}
pub(super) fn currency_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .pattern(Some(r"^\s*[A-Za-z]{3}\s*$"))
        .description(Some(
            "ISO 4217, one of `donations.currencies` (see `GET /api/v1/donations/options`)",
        ))
        .build()
}
fn dedication_kind_schema() -> utoipa::openapi::Object {
    string_enum(&["honor", "memory"])
}

/// The currency code (upper case), checked against `donations.currencies`, and the amount:
/// positive, and within that currency's bounds when `bounded` (online gifts; money recorded by
/// staff may be any size). Failures are added to `errors`.
pub(super) fn currency_and_amount(
    errors: &mut Vec<FieldError>,
    settings: &Settings,
    currency: &str,
    amount_minor: i64,
    bounded: bool,
) -> String {
    let currency = currency.trim().to_ascii_uppercase();
    match settings.donations.currencies.get(&currency) {
        None => {
            let accepted: Vec<&str> = settings
                .donations
                .currencies
                .keys()
                .map(String::as_str)
                .collect();
            errors.push(FieldError::new(
                "currency",
                format!("Use one of: {}.", accepted.join(", ")),
            ));
            if amount_minor <= 0 {
                errors.push(FieldError::new("amount_minor", "Give a positive amount."));
            }
        }
        Some(b) if bounded && (amount_minor < b.min || amount_minor > b.max) => {
            errors.push(FieldError::new(
                "amount_minor",
                format!(
                    "Give between {} and {}.",
                    format_amount(b.min, &currency),
                    format_amount(b.max, &currency)
                ),
            ));
        }
        Some(_) if amount_minor <= 0 => {
            errors.push(FieldError::new("amount_minor", "Give a positive amount."));
        }
        Some(_) => {}
    }
    currency
}

/// A trimmed single line of at most `max` characters; empty means absent.
pub(super) fn line(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "Use a single line without control characters.",
        ));
        return None;
    }
    if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("Use at most {max} characters."),
        ));
        return None;
    }
    Some(value.to_string())
}

/// Trimmed text of at most `max` characters; newlines and tabs allowed.
fn text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        errors.push(FieldError::new(field, "Remove the control characters."));
        return None;
    }
    if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("Use at most {max} characters."),
        ));
        return None;
    }
    Some(value.replace("\r\n", "\n").replace('\r', "\n"))
}

/// An article address in the one normalised form ([`ArticleUrl`]), as the text donations
/// store and filter by; kept under this name for the staff filter.
pub fn article_url(raw: &str, hosts: &[String]) -> Result<String, String> {
    ArticleUrl::parse(raw, hosts).map(ArticleUrl::into_inner)
}

/// `201` answer of `POST /api/v1/donations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedDonation {
    pub id: String,
    pub status: Status,
    /// The intended gift.
    pub amount_minor: i64,
    /// The processor fee the donor chose to cover (0 when not).
    pub fee_minor: i64,
    /// What is charged: `amount_minor + fee_minor`.
    pub total_minor: i64,
    pub currency: String,
    pub frequency: Frequency,
    /// Where to send the donor to pay (the processor's checkout); null for pledges.
    pub checkout_url: Option<String>,
}

/// `GET /api/v1/donations/options`: what a donation form may offer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DonationOptions {
    /// The accepted currencies, the first being the default.
    pub currencies: Vec<CurrencyOptions>,
    pub frequencies: Vec<Frequency>,
    /// True when the donor is sent to the processor's checkout; false for pledges
    /// (the manual provider emails payment instructions).
    pub redirects_to_checkout: bool,
    /// The "cover the fees" gross-up: `total = ceil((amount + fee_fixed_minor) / (1 - fee_percent / 100))`.
    pub fee_percent: f64,
    pub fee_fixed_minor: i64,
}

/// One accepted currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrencyOptions {
    /// ISO 4217 code.
    pub code: String,
    /// Decimals of the minor unit (2 for USD, 0 for JPY).
    pub decimals: u32,
    pub min_minor: i64,
    pub max_minor: i64,
    /// Suggested amounts in minor units, per frequency (empty: offer a custom amount only).
    pub presets: PresetAmounts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PresetAmounts {
    pub one_time: Vec<i64>,
    pub monthly: Vec<i64>,
}

impl DonationOptions {
    pub fn from_settings(settings: &Settings, redirects_to_checkout: bool) -> DonationOptions {
        let donations = &settings.donations;
        let currencies = donations
            .currencies
            .iter()
            .map(|(code, bounds)| {
                let presets = donations.presets.get(code);
                CurrencyOptions {
                    code: code.clone(),
                    decimals: decimals(code),
                    min_minor: bounds.min,
                    max_minor: bounds.max,
                    presets: PresetAmounts {
                        one_time: presets.map(|p| p.one_time.clone()).unwrap_or_default(),
                        monthly: presets.map(|p| p.monthly.clone()).unwrap_or_default(),
                    },
                }
            })
            .collect();
        DonationOptions {
            currencies,
            frequencies: vec![Frequency::OneTime, Frequency::Monthly],
            redirects_to_checkout,
            fee_percent: donations.fee_percent,
            fee_fixed_minor: donations.fee_fixed_minor,
        }
    }
}

/// `GET /api/v1/donations/{id}`: no personal data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicDonation {
    pub id: String,
    pub status: Status,
    pub amount_minor: i64,
    pub currency: String,
    pub frequency: Frequency,
    /// `active` or `cancelled` for monthly gifts; absent for one-time gifts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurring_status: Option<String>,
    pub created_at: String,
}

/// `POST /api/v1/donations/manage`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManageRequest {
    #[schema(schema_with = email_schema)]
    pub email: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: serde_json::Value) -> DonationRequest {
        serde_json::from_value(body).expect("shape")
    }

    fn fields(e: AppError) -> Vec<String> {
        match e {
            AppError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn typed_amounts_become_minor_units() {
        assert_eq!(parse_major("20", "USD"), Some(2000));
        assert_eq!(parse_major(" 20.5 ", "USD"), Some(2050));
        assert_eq!(parse_major("20.05", "USD"), Some(2005));
        assert_eq!(parse_major("2500", "JPY"), Some(2500));
        assert_eq!(parse_major("1.234", "KWD"), Some(1234));
        for bad in ["", ".5", "20.505", "2,000", "-5", "20.", "1e3", "25.0"] {
            let currency = if bad == "25.0" { "JPY" } else { "USD" };
            assert_eq!(parse_major(bad, currency), None, "{bad}");
        }
    }

    #[test]
    fn amounts_print_with_the_currency_decimals() {
        assert_eq!(format_amount(2500, "USD"), "25.00 USD");
        assert_eq!(format_amount(123_456_789, "USD"), "1,234,567.89 USD");
        assert_eq!(format_amount(2500, "JPY"), "2,500 JPY");
        assert_eq!(format_amount(1234, "KWD"), "1.234 KWD");
        assert_eq!(plain_amount(-5, "EUR"), "-0.05");
        assert_eq!(plain_amount(5000, "KRW"), "5000");
    }

    #[test]
    fn gross_up_leaves_the_gift_after_fees() {
        // ceil((2500 + 30) / 0.971) = 2606
        assert_eq!(gross_up(2500, 2.9, 30), (106, 2606));
        assert_eq!(gross_up(1000, 0.0, 0), (0, 1000));
        for amount in [100, 999, 2500, 1_000_000] {
            let (_, total) = gross_up(amount, 2.9, 30);
            let fee = (total as f64 * 0.029).round() as i64 + 30;
            assert!(total - fee >= amount - 1, "{amount}: {total}");
        }
    }

    #[test]
    fn valid_request_becomes_input() {
        let s = Settings::default();
        let input = DonationInput::parse(
            request(serde_json::json!({
                "amount_minor": 2500, "currency": "usd", "frequency": "monthly",
                "email": " Jane@Example.ORG ", "name": " Jane ", "cover_fees": true,
                "dedication": {"kind": "memory", "name": "Ada"},
                "source_url": "http://LOCALHOST/news/story/?utm_source=x#top",
                "utm": {"source": "newsletter"}
            })),
            &s,
        )
        .expect("valid");
        assert_eq!(input.currency, "USD");
        assert_eq!(input.frequency, Frequency::Monthly);
        assert_eq!(input.email.as_str(), "Jane@example.org");
        assert_eq!(input.name.as_deref(), Some("Jane"));
        assert_eq!(input.total_minor, 2606);
        assert_eq!(input.fee_minor, 106);
        assert_eq!(
            input.attribution.source_url.as_deref(),
            Some("http://localhost/news/story")
        );
        assert_eq!(input.dedication.map(|d| d.kind), Some("memory"));
    }

    #[test]
    fn every_failing_field_is_named() {
        let s = Settings::default();
        let e = DonationInput::parse(
            request(serde_json::json!({
                "amount_minor": 50, "currency": "USD", "frequency": "weekly",
                "email": "nope", "name": "a\u{7}b",
                "dedication": {"kind": "love", "name": ""},
                "source_url": "https://elsewhere.example/x"
            })),
            &s,
        )
        .expect_err("invalid");
        assert_eq!(
            fields(e),
            [
                "amount_minor",
                "frequency",
                "email",
                "name",
                "dedication.kind",
                "dedication.name",
                "source_url"
            ]
        );
        let e = DonationInput::parse(
            request(serde_json::json!({
                "amount_minor": 50, "currency": "XYZ", "frequency": "one_time", "email": "a@example.org"
            })),
            &s,
        )
        .expect_err("invalid");
        assert_eq!(fields(e), ["currency"]);
    }
}
