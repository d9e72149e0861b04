//! Donations' part of one person's data: the gifts and payments of an address for the people
//! view and export, stopping its monthly gifts, and its erasure. Amounts, currencies, dates,
//! statuses and receipt numbers stay (accounting and receipts need them); everything that
//! names or reaches the donor goes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{donation_idempotency, donation_payments, donation_statements, donations};
use crate::db::DbConnection;
use crate::domain::Erasure;
use crate::error::AppError;

use super::model::{Frequency, Status, RECURRING_ACTIVE, RECURRING_CANCELLED};
use super::payments::PaymentProvider;
use super::store::{self, Donation, Payment};
use super::Donations;

/// How gifts are named in the audit log and in the outbox.
pub const REF_KIND: &str = "donation";
/// How payments are named in the outbox (receipts).
pub const PAYMENT_REF_KIND: &str = "donation_payment";

/// One gift with its payments.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DonationRecord {
    pub id: String,
    pub status: Status,
    pub provider: String,
    /// `one_time` or `monthly`.
    pub frequency: Frequency,
    pub recurring_status: Option<String>,
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub total_minor: i64,
    pub currency: String,
    pub email: String,
    pub name: Option<String>,
    pub anonymous: bool,
    pub dedication_kind: Option<String>,
    pub dedication_name: Option<String>,
    pub message: Option<String>,
    pub source_url: Option<String>,
    pub campaign: Option<String>,
    pub newsletter_opt_in: bool,
    pub created_at: DateTime<Utc>,
    pub payments: Vec<PaymentRecord>,
    /// The staff page of the gift.
    pub staff_url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentRecord {
    pub id: String,
    pub receipt_number: String,
    pub status: Status,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub paid_at: DateTime<Utc>,
}

fn payment_record(p: Payment) -> PaymentRecord {
    PaymentRecord {
        id: p.id,
        receipt_number: p.receipt_number,
        status: p.status,
        amount_minor: p.amount_minor,
        refunded_minor: p.refunded_minor,
        currency: p.currency,
        paid_at: p.paid_at.and_utc(),
    }
}

fn record(d: Donation, payments: Vec<PaymentRecord>) -> DonationRecord {
    DonationRecord {
        staff_url: format!("/staff/donations/{}", d.id),
        id: d.id,
        status: d.status,
        provider: d.provider,
        frequency: d.frequency,
        recurring_status: d.recurring_status,
        amount_minor: d.amount_minor,
        fee_minor: d.fee_minor,
        total_minor: d.total_minor,
        currency: d.currency,
        email: d.email,
        name: d.name,
        anonymous: d.anonymous,
        dedication_kind: d.dedication_kind,
        dedication_name: d.dedication_name,
        message: d.message,
        source_url: d.source_url,
        campaign: d.campaign,
        newsletter_opt_in: d.newsletter_opt_in,
        created_at: d.created_at.and_utc(),
        payments,
    }
}

/// Every gift of `email` (normalised, lower-case) with its payments, newest first.
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<DonationRecord>> {
    let gifts = store::donations_for_email(conn, email)?;
    let ids: Vec<&str> = gifts.iter().map(|d| d.id.as_str()).collect();
    let mut payments: Vec<Payment> = donation_payments::table
        .filter(donation_payments::donation_id.eq_any(&ids))
        .order(donation_payments::paid_at.asc())
        .select(Payment::as_select())
        .load(conn)?;
    Ok(gifts
        .into_iter()
        .map(|d| {
            let (mine, rest) = payments.drain(..).partition(|p| p.donation_id == d.id);
            payments = rest;
            record(d, mine.into_iter().map(payment_record).collect())
        })
        .collect())
}

/// Stops the active monthly gifts of `email` at their processor before an erasure (for
/// `stripe` gifts the processor stops charging; `manual` pledges need no call). Runs outside
/// the erasure's transaction, which then marks them cancelled.
pub async fn stop_recurring(
    db: &crate::db::Db,
    donations: &Donations,
    email: &str,
) -> Result<usize, AppError> {
    let lookup = email.to_string();
    let active: Vec<Donation> = db
        .run(move |conn| {
            Ok(store::donations_for_email(conn, &lookup)?
                .into_iter()
                .filter(|d| d.recurring_status.as_deref() == Some(RECURRING_ACTIVE))
                .collect())
        })
        .await?;
    for d in &active {
        donations
            .payments
            .named(&d.provider)?
            .cancel_recurring(d)
            .await?;
    }
    Ok(active.len())
}

/// Erases the donor `email` inside the caller's transaction: each gift keeps its amounts,
/// currency, dates, status, campaign and payments (receipt numbers and refunds), and loses the
/// address, name, dedication, message, hashed IP, processor customer id and checkout link;
/// monthly gifts still active are marked cancelled; stored idempotent answers are deleted.
pub fn erase_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Erasure> {
    let mut erasure = Erasure::default();
    let gifts = store::donations_for_email(conn, email)?;
    for d in &gifts {
        for value in [&d.name, &d.dedication_name].into_iter().flatten() {
            erasure.needle(value);
        }
        erasure.refs.push((REF_KIND.to_string(), d.id.clone()));
        let payments: Vec<String> = donation_payments::table
            .filter(donation_payments::donation_id.eq(&d.id))
            .select(donation_payments::id)
            .load(conn)?;
        erasure.refs.extend(
            payments
                .into_iter()
                .map(|id| (PAYMENT_REF_KIND.to_string(), id)),
        );
        let recurring = match d.recurring_status.as_deref() {
            Some(RECURRING_ACTIVE) => Some(RECURRING_CANCELLED.to_string()),
            other => other.map(str::to_string),
        };
        diesel::update(donations::table.find(&d.id))
            .set((
                donations::email.eq(""),
                donations::email_normalized.eq(format!("erased:{}", d.id)),
                donations::name.eq(None::<String>),
                donations::anonymous.eq(true),
                donations::dedication_kind.eq(None::<String>),
                donations::dedication_name.eq(None::<String>),
                donations::message.eq(None::<String>),
                donations::ip_hash.eq(None::<String>),
                donations::provider_customer_id.eq(None::<String>),
                donations::checkout_url.eq(None::<String>),
                donations::recurring_status.eq(recurring),
                donations::updated_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
        diesel::delete(
            donation_idempotency::table.filter(donation_idempotency::donation_id.eq(&d.id)),
        )
        .execute(conn)?;
        // A cheque's or transfer's reference can carry the donor's name.
        diesel::update(donation_payments::table.filter(donation_payments::donation_id.eq(&d.id)))
            .set(donation_payments::reference.eq(None::<String>))
            .execute(conn)?;
        erasure.records += 1;
    }
    // Which years' statements were sent to the address.
    diesel::delete(
        donation_statements::table.filter(donation_statements::email_normalized.eq(email)),
    )
    .execute(conn)?;
    Ok(erasure)
}
