//! Yearly statements for every donor in one action, at the start of a year: one email per
//! donor with every payment of the fiscal year and the totals, through the outbox. A donor's
//! statement is queued in the same transaction that records it as sent for that year, so a run
//! that is interrupted and started again (or two runs at once) sends each donor exactly one.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{donation_payments, donation_statements, donations};
use crate::db::{Db, DbConnection};
use crate::error::AppError;
use crate::mail::{outbox, Email, NewOutboxEmail, ServiceRecord, ServiceText, UnverifiedContext};

use super::donor::{fiscal_year_range, year_label};
use super::service::{donor_address, Ctx};
use super::store::{self, Donation, Payment};

/// Donors whose statements are queued in one transaction.
const BATCH: usize = 100;

/// Where a year's statements stand.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub year: i32,
    /// Donors with at least one payment in the fiscal year (erased donors excluded).
    pub donors: i64,
    /// Of them, those whose statement is queued.
    pub sent: i64,
}

/// The fiscal year's `[from, to)`, or a field error naming `year`.
pub fn range(ctx: &Ctx, year: i32) -> Result<(NaiveDateTime, NaiveDateTime), AppError> {
    fiscal_year_range(year, ctx.settings.donations.fiscal_year_start_month)
        .filter(|_| (2000..=9998).contains(&year))
        .ok_or_else(|| AppError::field("year", "Give a year from 2000 on."))
}

fn donors(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    donation_payments::table
        .inner_join(donations::table)
        .filter(donation_payments::paid_at.ge(from))
        .filter(donation_payments::paid_at.lt(to))
        .filter(donations::email.ne(""))
        .select(donations::email_normalized)
        .distinct()
        .order(donations::email_normalized.asc())
        .load(conn)
}

fn sent(conn: &mut DbConnection, year: i32) -> QueryResult<Vec<String>> {
    donation_statements::table
        .filter(donation_statements::year.eq(year))
        .select(donation_statements::email_normalized)
        .load(conn)
}

/// How far the statements of `year` are.
pub async fn progress(db: &Db, ctx: &Ctx, year: i32) -> Result<Progress, AppError> {
    let (from, to) = range(ctx, year)?;
    db.run(move |conn| {
        let all = donors(conn, from, to)?;
        let done: std::collections::HashSet<String> = sent(conn, year)?.into_iter().collect();
        Ok(Progress {
            year,
            donors: all.len() as i64,
            sent: all.iter().filter(|e| done.contains(*e)).count() as i64,
        })
    })
    .await
}

/// Queues the statement of every donor of `year` who has none yet, in batches, calling
/// `report` after each batch. Safe to run again after an interruption, and beside another run.
pub async fn send_all(
    db: &Db,
    ctx: &Ctx,
    year: i32,
    mut report: impl FnMut(Progress),
) -> Result<Progress, AppError> {
    let (from, to) = range(ctx, year)?;
    let (all, done) = db
        .run(move |conn| Ok((donors(conn, from, to)?, sent(conn, year)?)))
        .await?;
    let done: std::collections::HashSet<String> = done.into_iter().collect();
    let total = all.len() as i64;
    let mut count = all.iter().filter(|e| done.contains(*e)).count() as i64;
    let todo: Vec<String> = all.into_iter().filter(|e| !done.contains(e)).collect();
    for batch in todo.chunks(BATCH) {
        let batch_len = batch.len() as i64;
        let (batch, batch_ctx) = (batch.to_vec(), ctx.clone());
        let queued = db
            .write(move |conn| {
                let mut queued = 0;
                for email in &batch {
                    queued += queue_one(conn, &batch_ctx, year, from, to, email)?;
                }
                Ok(queued)
            })
            .await?;
        ctx.mailer.wake();
        tracing::debug!(year, queued, "statements batch");
        // After its batch every donor in it has their statement, queued here or by another run.
        count += batch_len;
        report(Progress {
            year,
            donors: total,
            sent: count,
        });
    }
    progress(db, ctx, year).await
}

/// Sends one donor their statement of `year` again (staff asked for it), whether or not it
/// went before; records it as sent. False when the donor gave nothing that year (call inside
/// a transaction the caller then undoes).
pub fn send_again(
    conn: &mut DbConnection,
    ctx: &Ctx,
    year: i32,
    email: &str,
) -> Result<bool, AppError> {
    let (from, to) = range(ctx, year)?;
    record_sent(conn, year, email)?;
    queue(conn, ctx, year, from, to, email)
}

/// Records the donor's statement as sent for the year and queues it, unless it already was
/// (by an earlier or a concurrent run): 1 when queued here.
fn queue_one(
    conn: &mut DbConnection,
    ctx: &Ctx,
    year: i32,
    from: NaiveDateTime,
    to: NaiveDateTime,
    email: &str,
) -> Result<i64, AppError> {
    if record_sent(conn, year, email)? == 0 {
        return Ok(0);
    }
    Ok(i64::from(queue(conn, ctx, year, from, to, email)?))
}

/// Records the donor's statement of `year` as sent; 0 when it already was (by another run).
fn record_sent(conn: &mut DbConnection, year: i32, email: &str) -> QueryResult<usize> {
    crate::db::dialect::on_backend!(conn, |c| diesel::insert_into(donation_statements::table)
        .values((
            donation_statements::year.eq(year),
            donation_statements::email_normalized.eq(email),
            donation_statements::queued_at.eq(crate::db::now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))
}

/// Queues the donor's statement of the payments in `[from, to)`; false when there are none.
fn queue(
    conn: &mut DbConnection,
    ctx: &Ctx,
    year: i32,
    from: NaiveDateTime,
    to: NaiveDateTime,
    email: &str,
) -> Result<bool, AppError> {
    let rows = store::payments_for_email_between(conn, email, from, to)?;
    let Some((_, first)) = rows.first() else {
        return Ok(false);
    };
    let message = statement_email(ctx, year, first, &rows)?;
    outbox::enqueue(conn, &[message])?;
    Ok(true)
}

fn statement_email(
    ctx: &Ctx,
    year: i32,
    donor: &Donation,
    rows: &[(Payment, Donation)],
) -> Result<NewOutboxEmail, AppError> {
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for (p, _) in rows {
        *totals.entry(p.currency.clone()).or_default() += p.amount_minor - p.refunded_minor;
    }
    // Minor units and currencies: the template writes them in the donor's language.
    let payments: Vec<ServiceRecord> = rows
        .iter()
        .map(|(p, _)| {
            ServiceRecord::new()
                .with(
                    "paid_at",
                    ServiceText::new(p.paid_at.and_utc().to_rfc3339()),
                )
                .with("receipt", ServiceText::new(&p.receipt_number))
                .with("amount_minor", p.amount_minor)
                .with("refunded_minor", p.refunded_minor)
                .with("currency", ServiceText::new(&p.currency))
        })
        .collect();
    let totals: Vec<ServiceRecord> = totals
        .iter()
        .map(|(c, t)| {
            ServiceRecord::new()
                .with("amount_minor", *t)
                .with("currency", ServiceText::new(c))
        })
        .collect();
    let site = &ctx.settings.site;
    let start_month = ctx.settings.donations.fiscal_year_start_month;
    ctx.mailer.compose(
        Email::unverified(
            "donation_statement",
            donor_address(donor)?,
            UnverifiedContext::new()
                .with("year", ServiceText::new(year_label(year, start_month)))
                .with("payments", payments)
                .with("totals", totals)
                .with("legal_name", ServiceText::new(&site.legal_name))
                .with("tax_id", site.tax_id.as_deref().map(ServiceText::new))
                .with(
                    "no_goods_or_services",
                    ctx.settings.donations.no_goods_or_services,
                ),
        )
        .lang(&ctx.lang_of(donor))
        // Named by a gift of the donor's, so erasing the donor scrubs it from the outbox too.
        .reference(super::privacy::REF_KIND, donor.id.clone()),
    )
}
