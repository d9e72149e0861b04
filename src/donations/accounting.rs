//! Money as an accountant sees it. Payments live in `store`;
//! here are their refunds and disputes, each a dated row of its own (so a refund made in
//! March of a January gift is March's), the corrections of gifts staff recorded by hand, and
//! the rows of the accounting export.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{donation_adjustments, donation_payments, donations};
use crate::db::DbConnection;

use super::model::{AdjustmentKind, PaymentMethod};
use super::store::Payment;

/// A refund or dispute of a payment, dated when it happened.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = donation_adjustments)]
pub struct Adjustment {
    pub id: String,
    pub payment_id: String,
    pub kind: AdjustmentKind,
    pub amount_minor: i64,
    pub currency: String,
    pub occurred_at: NaiveDateTime,
}

/// Sets how much of a payment is refunded in all (`refunded_minor`, as the processor reports
/// it) and dates what is new: the difference to what was stored becomes one refund row. A
/// second report of the same total adds nothing, whichever of staff's refund call and the
/// processor's event comes first.
pub fn set_refunded(
    conn: &mut DbConnection,
    payment: &Payment,
    refunded_minor: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let stored: i64 = donation_payments::table
        .find(&payment.id)
        .select(donation_payments::refunded_minor)
        .first(conn)?;
    let new = refunded_minor.min(payment.amount_minor);
    if new <= stored {
        return Ok(());
    }
    diesel::update(donation_payments::table.find(&payment.id))
        .set(donation_payments::refunded_minor.eq(new))
        .execute(conn)?;
    insert_adjustment(conn, payment, AdjustmentKind::Refund, new - stored, at)
}

/// Stores one refund or dispute row of `payment`.
pub fn insert_adjustment(
    conn: &mut DbConnection,
    payment: &Payment,
    kind: AdjustmentKind,
    amount_minor: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(donation_adjustments::table)
        .values(Adjustment {
            id: crate::db::new_id(),
            payment_id: payment.id.clone(),
            kind,
            amount_minor,
            currency: payment.currency.clone(),
            occurred_at: at,
        })
        .execute(conn)?;
    Ok(())
}

/// The refunds and disputes of the given payments, oldest first.
pub fn adjustments_for(
    conn: &mut DbConnection,
    payment_ids: &[String],
) -> QueryResult<Vec<Adjustment>> {
    donation_adjustments::table
        .filter(donation_adjustments::payment_id.eq_any(payment_ids))
        .order(donation_adjustments::occurred_at.asc())
        .select(Adjustment::as_select())
        .load(conn)
}

/// New values for a gift staff recorded by hand, and its one payment.
pub struct OfflineCorrection<'a> {
    pub donation_id: &'a str,
    pub payment_id: &'a str,
    pub name: Option<&'a str>,
    pub campaign: Option<&'a str>,
    pub amount_minor: i64,
    pub paid_at: NaiveDateTime,
    pub method: PaymentMethod,
    pub reference: Option<&'a str>,
}

pub fn correct_offline(conn: &mut DbConnection, c: &OfflineCorrection<'_>) -> QueryResult<()> {
    diesel::update(donations::table.find(c.donation_id))
        .set((
            donations::name.eq(c.name),
            donations::campaign.eq(c.campaign),
            donations::amount_minor.eq(c.amount_minor),
            donations::total_minor.eq(c.amount_minor),
            donations::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    diesel::update(donation_payments::table.find(c.payment_id))
        .set((
            donation_payments::amount_minor.eq(c.amount_minor),
            donation_payments::paid_at.eq(c.paid_at),
            donation_payments::method.eq(c.method),
            donation_payments::reference.eq(c.reference),
        ))
        .execute(conn)?;
    Ok(())
}

/// What a row of the accounting export records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    Payment,
    Refund,
    Dispute,
}

impl Movement {
    pub fn as_str(self) -> &'static str {
        match self {
            Movement::Payment => "payment",
            Movement::Refund => "refund",
            Movement::Dispute => "dispute",
        }
    }
}

/// One movement of money: a payment in, or a refund or dispute out (negative `gross_minor`).
#[derive(Debug, Clone)]
pub struct LedgerRow {
    pub at: NaiveDateTime,
    pub movement: Movement,
    pub donation_id: String,
    pub payment_id: String,
    pub email: String,
    pub name: Option<String>,
    pub gross_minor: i64,
    /// The processor's fee, when known (payments only).
    pub fee_minor: Option<i64>,
    pub currency: String,
    pub receipt_number: String,
    pub method: PaymentMethod,
    pub campaign: Option<String>,
    pub source_url: Option<String>,
}

type PaymentColumns = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    String,
    NaiveDateTime,
    PaymentMethod,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every payment received and every refund or dispute that happened in `[from, to)` (either
/// end open), oldest first; at most `max` of each.
pub fn rows(
    conn: &mut DbConnection,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
    max: i64,
) -> QueryResult<Vec<LedgerRow>> {
    let columns = (
        donation_payments::id,
        donation_payments::donation_id,
        donation_payments::receipt_number,
        donation_payments::amount_minor,
        donation_payments::fee_minor,
        donation_payments::currency,
        donation_payments::paid_at,
        donation_payments::method,
        donations::email,
        donations::name,
        donations::campaign,
        donations::source_url,
    );
    let mut payments = donation_payments::table
        .inner_join(donations::table)
        .into_boxed();
    if let Some(from) = from {
        payments = payments.filter(donation_payments::paid_at.ge(from));
    }
    if let Some(to) = to {
        payments = payments.filter(donation_payments::paid_at.lt(to));
    }
    let payments: Vec<PaymentColumns> = payments
        .order((
            donation_payments::paid_at.asc(),
            donation_payments::id.asc(),
        ))
        .limit(max)
        .select(columns)
        .load(conn)?;
    let mut adjustments = donation_adjustments::table
        .inner_join(donation_payments::table.inner_join(donations::table))
        .into_boxed();
    if let Some(from) = from {
        adjustments = adjustments.filter(donation_adjustments::occurred_at.ge(from));
    }
    if let Some(to) = to {
        adjustments = adjustments.filter(donation_adjustments::occurred_at.lt(to));
    }
    let adjustments: Vec<(Adjustment, PaymentColumns)> = adjustments
        .order((
            donation_adjustments::occurred_at.asc(),
            donation_adjustments::id.asc(),
        ))
        .limit(max)
        .select((Adjustment::as_select(), columns))
        .load(conn)?;

    let row = |c: PaymentColumns, movement, at, gross_minor, fee_minor| {
        let (
            id,
            donation_id,
            receipt_number,
            _,
            _,
            currency,
            _,
            method,
            email,
            name,
            campaign,
            source_url,
        ) = c;
        LedgerRow {
            at,
            movement,
            donation_id,
            payment_id: id,
            email,
            name,
            gross_minor,
            fee_minor,
            currency,
            receipt_number,
            method,
            campaign,
            source_url,
        }
    };
    let mut out: Vec<LedgerRow> = payments
        .into_iter()
        .map(|c| {
            let (amount, fee, at) = (c.3, c.4, c.6);
            row(c, Movement::Payment, at, amount, fee)
        })
        .collect();
    out.extend(adjustments.into_iter().map(|(a, c)| {
        let movement = match a.kind {
            AdjustmentKind::Refund => Movement::Refund,
            AdjustmentKind::Dispute => Movement::Dispute,
        };
        row(c, movement, a.occurred_at, -a.amount_minor, None)
    }));
    out.sort_by(|a, b| a.at.cmp(&b.at).then(a.payment_id.cmp(&b.payment_id)));
    Ok(out)
}
