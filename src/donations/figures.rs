//! The fundraising figures of the staff dashboard: aggregate queries over gifts and payments,
//! each answered from an index (`donations_created`, `donation_payments_paid_at`,
//! `donations_recurring`, `donation_recoveries_due`).

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::format_amount;
use super::recovery::RecoveryState;
use crate::db::dialect::sql;
use crate::db::schema::donation_recoveries;
use crate::db::DbConnection;

/// One row of a per-currency aggregate (sums cast to BIGINT: PostgreSQL's SUM of a BIGINT
/// is NUMERIC).
#[derive(QueryableByName)]
struct SumRow {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// A count and a sum in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CurrencySum {
    pub currency: String,
    pub count: i64,
    /// In the currency's minor unit.
    pub amount_minor: i64,
    /// The amount as people read it ("1,250.00 USD").
    pub amount: String,
}

impl CurrencySum {
    fn new(currency: String, count: i64, amount_minor: i64) -> CurrencySum {
        let amount = format_amount(amount_minor, &currency);
        CurrencySum {
            currency,
            count,
            amount_minor,
            amount,
        }
    }
}

/// One month (or any window) of giving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Period {
    /// Paid gifts created in the window, per currency (what the donations list shows).
    pub gifts: Vec<CurrencySum>,
    /// Payments received in the window less what was refunded of them, per currency.
    pub revenue: Vec<CurrencySum>,
}

/// A source (an article or a campaign) and what it raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Source {
    pub name: String,
    pub currency: String,
    pub count: i64,
    pub amount_minor: i64,
    pub amount: String,
}

/// Gifts and revenue in `[from, to)`.
pub fn period(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Period> {
    let gifts: Vec<SumRow> = sql(
        conn,
        "SELECT NULL AS name, currency, COUNT(*) AS n, CAST(COALESCE(SUM(total_minor), 0) AS BIGINT) AS total \
         FROM donations WHERE created_at >= $1 AND created_at < $2 AND status = 'paid' \
         GROUP BY currency ORDER BY currency",
    )
    .bind::<Timestamp, _>(from)
    .bind::<Timestamp, _>(to)
    .load(conn)?;
    let revenue: Vec<SumRow> = sql(
        conn,
        "SELECT NULL AS name, currency, COUNT(*) AS n, \
         CAST(COALESCE(SUM(amount_minor - refunded_minor), 0) AS BIGINT) AS total \
         FROM donation_payments WHERE paid_at >= $1 AND paid_at < $2 \
         GROUP BY currency ORDER BY currency",
    )
    .bind::<Timestamp, _>(from)
    .bind::<Timestamp, _>(to)
    .load(conn)?;
    Ok(Period {
        gifts: gifts.into_iter().map(CurrencySum::from).collect(),
        revenue: revenue.into_iter().map(CurrencySum::from).collect(),
    })
}

impl From<SumRow> for CurrencySum {
    fn from(r: SumRow) -> CurrencySum {
        CurrencySum::new(r.currency, r.n, r.total)
    }
}

/// Active monthly gifts and what they bring each month, per currency.
pub fn active_monthly(conn: &mut DbConnection) -> QueryResult<Vec<CurrencySum>> {
    let rows: Vec<SumRow> = sql(
        conn,
        "SELECT NULL AS name, currency, COUNT(*) AS n, CAST(COALESCE(SUM(total_minor), 0) AS BIGINT) AS total \
         FROM donations WHERE frequency = 'monthly' AND recurring_status = 'active' AND status = 'paid' \
         GROUP BY currency ORDER BY currency",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(CurrencySum::from).collect())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Monthly gifts started (paid) in `[from, to)`.
pub fn new_monthly(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<i64> {
    let row: Count = sql(
        conn,
        "SELECT COUNT(*) AS n FROM donations \
         WHERE created_at >= $1 AND created_at < $2 AND frequency = 'monthly' AND status = 'paid'",
    )
    .bind::<Timestamp, _>(from)
    .bind::<Timestamp, _>(to)
    .get_result(conn)?;
    Ok(row.n)
}

/// Monthly gifts cancelled in `[from, to)` (their last change was the cancellation).
pub fn cancelled_monthly(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<i64> {
    let row: Count = sql(
        conn,
        "SELECT COUNT(*) AS n FROM donations \
         WHERE frequency = 'monthly' AND recurring_status = 'cancelled' \
         AND updated_at >= $1 AND updated_at < $2",
    )
    .bind::<Timestamp, _>(from)
    .bind::<Timestamp, _>(to)
    .get_result(conn)?;
    Ok(row.n)
}

/// The articles (`by_campaign` false) or campaigns that raised most in `[from, to)`,
/// at most `limit`.
pub fn top_sources(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    by_campaign: bool,
    limit: i64,
) -> QueryResult<Vec<Source>> {
    // The column is chosen here, never from input.
    let column = if by_campaign {
        "d.campaign"
    } else {
        "d.source_url"
    };
    let statement = format!(
        "SELECT {column} AS name, p.currency AS currency, COUNT(*) AS n, \
         CAST(COALESCE(SUM(p.amount_minor - p.refunded_minor), 0) AS BIGINT) AS total \
         FROM donation_payments p JOIN donations d ON d.id = p.donation_id \
         WHERE p.paid_at >= $1 AND p.paid_at < $2 AND {column} IS NOT NULL \
         GROUP BY {column}, p.currency ORDER BY total DESC, name LIMIT $3"
    );
    let rows: Vec<SumRow> = sql(conn, &statement)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(to)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Source {
                name: r.name?,
                amount: format_amount(r.total, &r.currency),
                currency: r.currency,
                count: r.n,
                amount_minor: r.total,
            })
        })
        .collect())
}

/// Failed monthly charges still being followed up.
pub fn failed_waiting(conn: &mut DbConnection) -> QueryResult<i64> {
    donation_recoveries::table
        .filter(donation_recoveries::state.eq(RecoveryState::Open))
        .select(count_star())
        .first(conn)
}
