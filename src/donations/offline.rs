//! Gifts that arrived outside the site (a bank transfer, a cheque, cash), recorded by staff.
//! Each becomes a paid one-time gift of the `manual` provider (money that does not go through
//! the processor, like a pledge) with one payment whose method says how it came, and whose receipt
//! number comes from the same yearly sequence as every other receipt; the receipt email goes
//! out only when staff ask for it. Recording and every later edit are audited with what
//! changed.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::config::Settings;
use crate::db::DbConnection;
use crate::domain::EmailAddress;
use crate::error::{AppError, FieldError};
use crate::staff::audit::{self, Actor, Entry};

use super::accounting;
use super::model::{
    currency_and_amount, currency_schema, email_schema, line, Frequency, PaymentMethod, Status,
    MAX_CAMPAIGN_CHARS, MAX_NAME_CHARS,
};
use super::service::{self, Ctx, PaymentSpec};
use super::store::{self, Donation, Payment};

/// Gifts staff record are the `manual` provider's: the processor never sees them.
const PROVIDER: &str = "manual";
/// A cheque number or bank reference: one line of at most this many characters.
const MAX_REFERENCE_CHARS: usize = 100;

/// `POST /api/v1/staff/donations/offline`: money that arrived outside the site.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineGiftRequest {
    /// The donor's address (receipts and the donor's history are kept by it).
    #[schema(schema_with = email_schema)]
    pub email: String,
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// In the currency's minor unit; any positive amount (the online bounds do not apply).
    #[schema(minimum = 1)]
    pub amount_minor: i64,
    #[schema(schema_with = currency_schema)]
    pub currency: String,
    /// The day the money arrived, `YYYY-MM-DD`; not in the future. It dates the payment and
    /// picks the year of its receipt number.
    #[schema(format = Date)]
    pub received_on: String,
    #[schema(schema_with = method_schema)]
    pub method: String,
    /// A cheque number or bank reference.
    #[schema(max_length = 100)]
    pub reference: Option<String>,
    #[schema(max_length = 100)]
    pub campaign: Option<String>,
    /// Email the donor their receipt now (default false).
    #[serde(default)]
    pub send_receipt: bool,
}

/// A recorded gift's fields as staff may correct them later (`PATCH`); absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineGiftPatch {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(minimum = 1)]
    pub amount_minor: Option<i64>,
    #[schema(format = Date)]
    pub received_on: Option<String>,
    #[schema(schema_with = method_schema_or_null)]
    pub method: Option<String>,
    #[schema(max_length = 100)]
    pub reference: Option<String>,
    #[schema(max_length = 100)]
    pub campaign: Option<String>,
}

/// `bank_transfer`, `cheque` or `cash`: how money recorded by staff came.
fn method_schema() -> utoipa::openapi::Object {
    crate::web::openapi::string_enum(&["bank_transfer", "cheque", "cash"])
}

fn method_schema_or_null() -> utoipa::openapi::Object {
    crate::web::openapi::or_null(method_schema())
}

/// A checked offline gift.
#[derive(Debug, Clone)]
pub struct OfflineGift {
    pub email: EmailAddress,
    pub name: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub paid_at: NaiveDateTime,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub campaign: Option<String>,
    pub send_receipt: bool,
}

/// The methods staff record; the others belong to the processor and to pledges.
const METHODS: [PaymentMethod; 3] = [
    PaymentMethod::BankTransfer,
    PaymentMethod::Cheque,
    PaymentMethod::Cash,
];

fn method(errors: &mut Vec<FieldError>, raw: &str) -> Option<PaymentMethod> {
    let found = PaymentMethod::parse(raw.trim()).filter(|m| METHODS.contains(m));
    if found.is_none() {
        errors.push(FieldError::new(
            "method",
            "Use bank_transfer, cheque or cash.",
        ));
    }
    found
}

/// The day as a moment: noon UTC, so the date reads the same in every time zone's receipt.
fn received_on(errors: &mut Vec<FieldError>, raw: &str, today: NaiveDate) -> Option<NaiveDateTime> {
    match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        Ok(day) if day > today => {
            errors.push(FieldError::new(
                "received_on",
                "The money cannot have arrived after today.",
            ));
            None
        }
        Ok(day) => Some(day.and_time(NaiveTime::from_hms_opt(12, 0, 0)?)),
        Err(_) => {
            errors.push(FieldError::new(
                "received_on",
                "Give the day as YYYY-MM-DD.",
            ));
            None
        }
    }
}

impl OfflineGift {
    /// Checks every field and reports every failing one at once.
    pub fn parse(
        req: OfflineGiftRequest,
        settings: &Settings,
        today: NaiveDate,
    ) -> Result<OfflineGift, AppError> {
        let mut errors = Vec::new();
        let email = EmailAddress::parse(&req.email)
            .map_err(|m| errors.push(FieldError::new("email", m)))
            .ok();
        let name = line(&mut errors, "name", req.name.as_deref(), MAX_NAME_CHARS);
        let currency = currency_and_amount(
            &mut errors,
            settings,
            &req.currency,
            req.amount_minor,
            false,
        );
        let paid_at = received_on(&mut errors, &req.received_on, today);
        let method = method(&mut errors, &req.method);
        let reference = line(
            &mut errors,
            "reference",
            req.reference.as_deref(),
            MAX_REFERENCE_CHARS,
        );
        let campaign = line(
            &mut errors,
            "campaign",
            req.campaign.as_deref(),
            MAX_CAMPAIGN_CHARS,
        );
        match (email, paid_at, method) {
            (Some(email), Some(paid_at), Some(method)) if errors.is_empty() => Ok(OfflineGift {
                email,
                name,
                amount_minor: req.amount_minor,
                currency,
                paid_at,
                method,
                reference,
                campaign,
                send_receipt: req.send_receipt,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }

    /// The stored gift: paid, one-time, attributed to nothing but its campaign.
    fn donation(&self) -> Donation {
        let now = crate::db::now();
        Donation {
            id: crate::db::new_id(),
            status: Status::Paid,
            provider: PROVIDER.into(),
            frequency: Frequency::OneTime,
            recurring_status: None,
            amount_minor: self.amount_minor,
            fee_minor: 0,
            total_minor: self.amount_minor,
            currency: self.currency.clone(),
            email: self.email.as_str().to_string(),
            email_normalized: self.email.normalized(),
            name: self.name.clone(),
            anonymous: false,
            dedication_kind: None,
            dedication_name: None,
            message: None,
            source_url: None,
            campaign: self.campaign.clone(),
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            utm_term: None,
            utm_content: None,
            newsletter_opt_in: false,
            ip_hash: None,
            provider_session_id: None,
            provider_customer_id: None,
            provider_subscription_id: None,
            checkout_url: None,
            created_at: self.paid_at.min(now),
            updated_at: now,
            lang: None,
        }
    }
}

/// Stores the gift and its payment (receipt number from the shared sequence; the receipt
/// email queued when asked) and audits it, in the caller's transaction.
pub fn record(
    conn: &mut DbConnection,
    ctx: &Ctx,
    actor: &Actor,
    gift: OfflineGift,
) -> Result<(Donation, Payment), AppError> {
    let donation = gift.donation();
    store::insert_donation(conn, &donation)?;
    let payment = service::record_payment(
        conn,
        ctx,
        &donation,
        PaymentSpec {
            provider_ref: format!("offline:{}", donation.id),
            payment_intent: None,
            charge: None,
            amount_minor: gift.amount_minor,
            currency: gift.currency.clone(),
            paid_at: gift.paid_at,
            method: gift.method,
            reference: gift.reference.clone(),
            fee_minor: Some(0),
            send_receipt: gift.send_receipt,
        },
    )?
    .ok_or_else(|| AppError::unexpected(anyhow::anyhow!("a new gift already had a payment")))?;
    audit::record(
        conn,
        actor,
        Entry::new("donation.offline_recorded")
            .target("donation", &donation.id)
            .details(json!({
                "payment_id": payment.id,
                "receipt_number": payment.receipt_number,
                "amount_minor": payment.amount_minor,
                "currency": payment.currency,
                "method": payment.method.as_str(),
                "received_on": payment.paid_at.date().to_string(),
                "receipt_sent": gift.send_receipt,
            })),
    )?;
    Ok((donation, payment))
}

/// Corrects a recorded gift: only gifts staff recorded, never a refunded one; the receipt
/// number stays (it has been issued). Audited with the fields before and after.
pub fn correct(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    patch: OfflineGiftPatch,
    today: NaiveDate,
) -> Result<(Donation, Payment), AppError> {
    let donation = store::find_donation(conn, id)?;
    let payment = store::payments_for(conn, id)?.into_iter().next();
    let Some(payment) = payment.filter(|p| METHODS.contains(&p.method)) else {
        return Err(AppError::Conflict(
            "Only gifts recorded by staff are corrected here; the processor's and pledges' come from their payments."
                .into(),
        ));
    };
    if payment.status != Status::Paid || payment.refunded_minor > 0 {
        return Err(AppError::Conflict(format!(
            "This gift is {}; it is no longer corrected.",
            payment.status.as_str()
        )));
    }
    let mut errors = Vec::new();
    let name = match &patch.name {
        Some(raw) => line(&mut errors, "name", Some(raw), MAX_NAME_CHARS),
        None => donation.name.clone(),
    };
    let amount_minor = match patch.amount_minor {
        Some(amount) if amount <= 0 => {
            errors.push(FieldError::new("amount_minor", "Give a positive amount."));
            payment.amount_minor
        }
        Some(amount) => amount,
        None => payment.amount_minor,
    };
    let paid_at = match &patch.received_on {
        Some(raw) => received_on(&mut errors, raw, today).unwrap_or(payment.paid_at),
        None => payment.paid_at,
    };
    let method = match &patch.method {
        Some(raw) => method(&mut errors, raw).unwrap_or(payment.method),
        None => payment.method,
    };
    let reference = match &patch.reference {
        Some(raw) => line(&mut errors, "reference", Some(raw), MAX_REFERENCE_CHARS),
        None => payment.reference.clone(),
    };
    let campaign = match &patch.campaign {
        Some(raw) => line(&mut errors, "campaign", Some(raw), MAX_CAMPAIGN_CHARS),
        None => donation.campaign.clone(),
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let before = json!({
        "name": donation.name, "amount_minor": payment.amount_minor,
        "received_on": payment.paid_at.date().to_string(), "method": payment.method.as_str(),
        "reference": payment.reference, "campaign": donation.campaign,
    });
    let after = json!({
        "name": name, "amount_minor": amount_minor,
        "received_on": paid_at.date().to_string(), "method": method.as_str(),
        "reference": reference, "campaign": campaign,
    });
    accounting::correct_offline(
        conn,
        &accounting::OfflineCorrection {
            donation_id: id,
            payment_id: &payment.id,
            name: name.as_deref(),
            campaign: campaign.as_deref(),
            amount_minor,
            paid_at,
            method,
            reference: reference.as_deref(),
        },
    )?;
    audit::record(
        conn,
        actor,
        Entry::new("donation.offline_corrected")
            .target("donation", id)
            .details(json!({"payment_id": payment.id, "before": before, "after": after})),
    )?;
    Ok((
        store::find_donation(conn, id)?,
        store::find_payment(conn, &payment.id)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: serde_json::Value) -> OfflineGiftRequest {
        serde_json::from_value(body).expect("request")
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).expect("date")
    }

    #[test]
    fn a_cheque_becomes_a_gift_dated_at_noon() {
        let gift = OfflineGift::parse(
            request(
                json!({"email": "Ana@Example.org", "amount_minor": 2_500_000, "currency": "usd",
                "received_on": "2026-11-30", "method": "cheque", "reference": " 001234 "}),
            ),
            &Settings::default(),
            today(),
        )
        .expect("valid");
        assert_eq!(gift.currency, "USD");
        assert_eq!(gift.method, PaymentMethod::Cheque);
        assert_eq!(gift.reference.as_deref(), Some("001234"));
        assert_eq!(gift.paid_at.to_string(), "2026-11-30 12:00:00");
        assert!(!gift.send_receipt);
    }

    #[test]
    fn every_failing_field_is_named() {
        let Err(AppError::Validation(errors)) = OfflineGift::parse(
            request(
                json!({"email": "nobody", "amount_minor": 0, "currency": "XXX",
                "received_on": "2026-12-04", "method": "card", "reference": "a\u{7}b"}),
            ),
            &Settings::default(),
            today(),
        ) else {
            panic!("expected a validation error");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for field in [
            "email",
            "amount_minor",
            "currency",
            "received_on",
            "method",
            "reference",
        ] {
            assert!(fields.contains(&field), "{field} missing in {fields:?}");
        }
    }
}
