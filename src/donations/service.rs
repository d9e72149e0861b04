//! The flows that several entry points share (public API, webhooks, staff): recording a
//! payment with its one receipt, marking a pledge paid, telling staff when failures spike.
//! Each runs inside the caller's write transaction.

use std::sync::Arc;

use chrono::{Datelike, NaiveDateTime, TimeDelta};
use lettre::message::Mailbox;
use serde_json::json;

use crate::config::Settings;
use crate::db::DbConnection;
use crate::donations::model::{Frequency, PaymentMethod};
use crate::error::AppError;
use crate::i18n::{Lang, Languages};
use crate::keys::Keys;
use crate::mail::{outbox, Email, Mailer, NewOutboxEmail, ServiceText, UnverifiedContext};
use crate::staff::audit::{self, Actor, Entry};
use crate::state::AppState;

use super::model::{format_amount, Status};
use super::store::{self, Donation, Payment};
use super::token;

/// What the flows need from the application.
#[derive(Clone)]
pub struct Ctx {
    pub mailer: Mailer,
    pub settings: Arc<Settings>,
    pub keys: Keys,
}

impl Ctx {
    pub fn from_state(state: &AppState) -> Ctx {
        Ctx {
            mailer: state.mailer.clone(),
            settings: state.settings.clone(),
            keys: state.keys.clone(),
        }
    }

    /// The language of `d`'s donor: the one they gave in, else the site default.
    pub fn lang_of(&self, d: &Donation) -> Lang {
        let languages = Languages::from_settings(&self.settings);
        match d.lang.as_deref() {
            Some(l) => languages.stored(l),
            None => languages.default_lang().clone(),
        }
    }

    fn public_url(&self) -> &str {
        self.settings
            .server
            .public_url
            .as_str()
            .trim_end_matches('/')
    }

    /// A new link to the donor's self-service page, valid `donations.manage_link_hours`
    /// (stored in the caller's transaction; the URL names no address).
    pub fn manage_url(
        &self,
        conn: &mut DbConnection,
        email_normalized: &str,
    ) -> Result<String, AppError> {
        let hours = self.settings.donations.manage_link_hours;
        let token = token::issue(conn, email_normalized, crate::db::now(), hours)?;
        Ok(format!(
            "{}/donations/manage?token={token}",
            self.public_url()
        ))
    }

    /// A new link that takes the donor of a monthly gift straight to fixing their card (the
    /// processor's page for it; the self-service page when the processor has none), valid
    /// `donations.manage_link_hours` like every self-service link.
    pub fn card_url(&self, conn: &mut DbConnection, d: &Donation) -> Result<String, AppError> {
        let hours = self.settings.donations.manage_link_hours;
        let token = token::issue(conn, &d.email_normalized, crate::db::now(), hours)?;
        Ok(format!(
            "{}/donations/manage/card?token={token}&donation={}",
            self.public_url(),
            d.id
        ))
    }
}

/// The donor's address as an email recipient (typed, never string-built). Nobody verified
/// it (a donor types it into the form), so the donor's emails are [`Email::unverified`]:
/// no display name, nothing the donor wrote.
pub fn donor_address(d: &Donation) -> Result<lettre::Address, AppError> {
    d.email
        .parse()
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("stored donor address: {e}")))
}

/// The email context every donation email to the donor shares: amounts and references, no
/// name, dedication or message (the donor typed those).
fn donation_context(d: &Donation) -> UnverifiedContext {
    UnverifiedContext::new()
        .with("donation_id", ServiceText::new(&d.id))
        // Minor units and the currency: the templates' `money` filter writes them in the
        // donor's language.
        .with("currency", ServiceText::new(&d.currency))
        .with("amount_minor", d.amount_minor)
        .with("fee_minor", d.fee_minor)
        .with("total_minor", d.total_minor)
        .with("monthly", d.frequency == Frequency::Monthly)
        // `honor` or `memory`, one of the service's own values.
        .with(
            "dedication_kind",
            d.dedication_kind.as_deref().map(ServiceText::new),
        )
}

/// The pledge email of the manual provider: the configured payment instructions. Call inside
/// the transaction that stores the pledge (its link is stored there).
pub fn pledge_email(
    conn: &mut DbConnection,
    ctx: &Ctx,
    d: &Donation,
) -> Result<NewOutboxEmail, AppError> {
    ctx.mailer.compose(
        Email::unverified(
            "donation_pledge",
            donor_address(d)?,
            donation_context(d)
                .with(
                    "instructions",
                    ServiceText::new(&ctx.settings.payments.manual.instructions),
                )
                .with(
                    "manage_url",
                    ServiceText::new(ctx.manage_url(conn, &d.email_normalized)?),
                ),
        )
        .lang(&ctx.lang_of(d))
        .reference("donation", d.id.clone()),
    )
}

/// The monthly reminder of a pledged monthly gift (manual provider) with the payment
/// instructions, for `month` (as readers read it: "January 2027"). Call inside the
/// transaction that claims the reminder.
pub fn manual_reminder_email(
    conn: &mut DbConnection,
    ctx: &Ctx,
    d: &Donation,
    month: &str,
) -> Result<NewOutboxEmail, AppError> {
    ctx.mailer.compose(
        Email::unverified(
            "donation_manual_reminder",
            donor_address(d)?,
            donation_context(d)
                .with("month", ServiceText::new(month))
                .with(
                    "instructions",
                    ServiceText::new(&ctx.settings.payments.manual.instructions),
                )
                .with(
                    "manage_url",
                    ServiceText::new(ctx.manage_url(conn, &d.email_normalized)?),
                ),
        )
        .lang(&ctx.lang_of(d))
        .reference("donation", d.id.clone()),
    )
}

pub fn receipt_email(
    conn: &mut DbConnection,
    ctx: &Ctx,
    d: &Donation,
    p: &Payment,
) -> Result<NewOutboxEmail, AppError> {
    let site = &ctx.settings.site;
    ctx.mailer.compose(
        Email::unverified(
            "donation_receipt",
            donor_address(d)?,
            donation_context(d)
                .with("receipt_number", ServiceText::new(&p.receipt_number))
                .with("legal_name", ServiceText::new(&site.legal_name))
                .with("tax_id", site.tax_id.as_deref().map(ServiceText::new))
                .with(
                    "paid_at",
                    ServiceText::new(p.paid_at.and_utc().to_rfc3339()),
                )
                .with("paid_minor", p.amount_minor)
                .with("currency", ServiceText::new(&p.currency))
                .with(
                    "no_goods_or_services",
                    ctx.settings.donations.no_goods_or_services,
                )
                .with(
                    "manage_url",
                    ServiceText::new(ctx.manage_url(conn, &d.email_normalized)?),
                ),
        )
        .lang(&ctx.lang_of(d))
        .reference("donation_payment", p.id.clone()),
    )
}

/// A kind note to the donor when a payment did not go through. Call inside the transaction
/// that records the failure.
pub fn failed_payment_email(
    conn: &mut DbConnection,
    ctx: &Ctx,
    d: &Donation,
) -> Result<NewOutboxEmail, AppError> {
    ctx.mailer.compose(
        Email::unverified(
            "donation_payment_failed",
            donor_address(d)?,
            donation_context(d)
                .with(
                    "manage_url",
                    ServiceText::new(ctx.manage_url(conn, &d.email_normalized)?),
                )
                .with("card_url", card_url(conn, ctx, d)?),
        )
        .lang(&ctx.lang_of(d))
        .reference("donation", d.id.clone()),
    )
}

/// The one-step card link, for a monthly gift at the processor (a pledge has no card).
fn card_url(
    conn: &mut DbConnection,
    ctx: &Ctx,
    d: &Donation,
) -> Result<Option<ServiceText>, AppError> {
    let at_processor = d.frequency == Frequency::Monthly && d.provider_customer_id.is_some();
    Ok(if at_processor {
        Some(ServiceText::new(ctx.card_url(conn, d)?))
    } else {
        None
    })
}

/// Reminder number `n` that a monthly gift's payment still fails, with the one-step card
/// link. Call inside the transaction that claims the reminder.
pub fn followup_email(
    conn: &mut DbConnection,
    ctx: &Ctx,
    d: &Donation,
    n: i32,
) -> Result<NewOutboxEmail, AppError> {
    ctx.mailer.compose(
        Email::unverified(
            "donation_payment_followup",
            donor_address(d)?,
            donation_context(d)
                .with(
                    "manage_url",
                    ServiceText::new(ctx.manage_url(conn, &d.email_normalized)?),
                )
                .with("card_url", card_url(conn, ctx, d)?)
                .with("reminder", i64::from(n)),
        )
        .lang(&ctx.lang_of(d))
        .reference("donation", d.id.clone()),
    )
}

fn staff_inbox(ctx: &Ctx) -> Result<Mailbox, AppError> {
    ctx.settings
        .mail
        .staff_inbox
        .parse()
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("mail.staff_inbox: {e}")))
}

/// A note to staff that a donor disputed a payment.
pub fn dispute_email(ctx: &Ctx, d: &Donation, p: &Payment) -> Result<NewOutboxEmail, AppError> {
    ctx.mailer.compose(
        Email::new(
            "donation_dispute",
            staff_inbox(ctx)?,
            json!({
                "donation_id": d.id,
                "receipt_number": p.receipt_number,
                "paid": format_amount(p.amount_minor, &p.currency),
                "staff_url": format!("{}/staff/donations/{}", ctx.public_url(), d.id),
            }),
        )
        .reference("donation", d.id.clone()),
    )
}

/// What a payment is, as the processor (or staff) reports it.
#[derive(Debug, Clone)]
pub struct PaymentSpec {
    /// Unique per payment: a checkout session or invoice id, or `manual:<donation id>`.
    pub provider_ref: String,
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub paid_at: NaiveDateTime,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub fee_minor: Option<i64>,
    /// Queue the receipt email (always for the processor's and pledges' payments; when staff
    /// ask for money they recorded).
    pub send_receipt: bool,
}

/// Stores a payment and queues its one receipt; does nothing when this payment is already
/// stored. Call inside the write transaction of whatever reported it.
pub fn record_payment(
    conn: &mut DbConnection,
    ctx: &Ctx,
    donation: &Donation,
    spec: PaymentSpec,
) -> Result<Option<Payment>, AppError> {
    if store::find_payment_by_ref(conn, &spec.provider_ref)?.is_some() {
        return Ok(None);
    }
    let receipt_number = store::next_receipt_number(conn, spec.paid_at.year())?;
    let payment = Payment {
        id: crate::db::new_id(),
        donation_id: donation.id.clone(),
        receipt_number,
        provider_ref: spec.provider_ref,
        provider_payment_intent: spec.payment_intent,
        provider_charge: spec.charge,
        status: Status::Paid,
        amount_minor: spec.amount_minor,
        refunded_minor: 0,
        currency: spec.currency,
        paid_at: spec.paid_at,
        created_at: crate::db::now(),
        method: spec.method,
        reference: spec.reference,
        fee_minor: spec.fee_minor,
    };
    store::insert_payment(conn, &payment)?;
    if spec.send_receipt {
        // The receipt number exists only inside this transaction, so the receipt is rendered
        // here.
        let receipt = receipt_email(conn, ctx, donation, &payment)?;
        outbox::enqueue(conn, &[receipt])?;
    }
    Ok(Some(payment))
}

/// Staff confirm that a pledge's money arrived: the gift is paid, one payment is stored and
/// its receipt queued, all audited. A monthly pledge gets one payment per calendar month
/// (marked each month while the gift is active). A second call for the same money: 409,
/// nothing changes.
pub fn mark_paid(
    conn: &mut DbConnection,
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
) -> Result<Payment, AppError> {
    let donation = store::find_donation(conn, id)?;
    if donation.provider != "manual" {
        return Err(AppError::Conflict(
            "Only pledges (manual provider) are marked paid by hand; the processor reports the others."
                .into(),
        ));
    }
    let now = crate::db::now();
    let monthly = donation.frequency == Frequency::Monthly;
    let next_installment = monthly
        && donation.status == Status::Paid
        && donation.recurring_status.as_deref() == Some(super::model::RECURRING_ACTIVE);
    if !next_installment && store::transition(conn, id, &[Status::Pledged], Status::Paid)? == 0 {
        return Err(AppError::Conflict(format!(
            "This gift is {}, not pledged.",
            donation.status.as_str()
        )));
    }
    let provider_ref = if monthly {
        format!("manual:{id}:{}", now.format("%Y-%m"))
    } else {
        format!("manual:{id}")
    };
    let payment = record_payment(
        conn,
        ctx,
        &donation,
        PaymentSpec {
            provider_ref,
            payment_intent: None,
            charge: None,
            amount_minor: donation.total_minor,
            currency: donation.currency.clone(),
            paid_at: now,
            method: PaymentMethod::Manual,
            reference: None,
            fee_minor: None,
            send_receipt: true,
        },
    )?
    .ok_or_else(|| {
        AppError::Conflict(if monthly {
            "This month's installment was already marked paid.".into()
        } else {
            "This pledge was already marked paid.".into()
        })
    })?;
    audit::record(
        conn,
        actor,
        Entry::new("donation.marked_paid")
            .target("donation", id)
            .details(json!({
                "payment_id": payment.id,
                "receipt_number": payment.receipt_number,
                "amount_minor": payment.amount_minor,
                "currency": payment.currency,
            })),
    )?;
    Ok(payment)
}

/// Call after a payment failure is stored: when failures in the last hour reach
/// `donations.failure_alert_threshold`, queue one alert to the staff inbox (at most hourly).
pub fn note_failure(conn: &mut DbConnection, ctx: &Ctx) -> Result<(), AppError> {
    let now = crate::db::now();
    let threshold = i64::from(ctx.settings.donations.failure_alert_threshold);
    if threshold == 0 {
        return Ok(());
    }
    let failures = store::all_failures_since(conn, now - TimeDelta::hours(1))?;
    if failures < threshold {
        return Ok(());
    }
    let now_secs = now.and_utc().timestamp();
    let last = store::get_counter(conn, "failure-alert")?;
    if last.is_some_and(|t| now_secs - t < 3600) {
        return Ok(());
    }
    store::set_counter(conn, "failure-alert", now_secs)?;
    let alert = ctx.mailer.compose(Email::new(
        "donation_failure_alert",
        staff_inbox(ctx)?,
        json!({
            "failures": failures,
            "staff_url": format!("{}/staff/donations?status=failed", ctx.public_url()),
        }),
    ))?;
    tracing::warn!(failures, "donation payment failures spiked; staff alerted");
    outbox::enqueue(conn, &[alert])?;
    Ok(())
}
