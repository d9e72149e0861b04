//! Monthly reminders for pledged monthly gifts (the `manual` provider, paid by transfer): on
//! the gift's day of each month after the first (the pledge email covered the first month),
//! the donor gets the payment instructions again, unless the gift is paused, cancelled or
//! erased. Each (gift, month) is claimed in `donation_reminders` in the transaction that
//! queues its email, so workers sharing a database send it once, and a worker that was down
//! sends a missed month's reminder when it is back (the current month only, never a backlog).

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{donation_reminders, donation_subscriptions, donations};
use crate::db::{Db, DbConnection};
use crate::error::AppError;
use crate::mail::outbox;

use super::model::{Frequency, Status, RECURRING_ACTIVE};
use super::service::{self, Ctx};
use super::store::{self, Donation};

/// The month (`YYYY-MM`) whose reminder is due at `now` for a gift made at `created`: from the
/// month after the first on, once the gift's day of the month has come (the last day of a
/// shorter month standing in for the 29th to 31st).
pub fn period_due(created: NaiveDateTime, now: NaiveDateTime) -> Option<String> {
    if (now.year(), now.month()) <= (created.year(), created.month()) {
        return None;
    }
    let day = created.day().min(days_in_month(now.year(), now.month()));
    (now.day() >= day).then(|| now.format("%Y-%m").to_string())
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|n| n.pred_opt())
        .map_or(28, |last| last.day())
}

/// The month as the reminder names it ("January 2027").
fn month_label(now: NaiveDateTime) -> String {
    now.format("%B %Y").to_string()
}

/// Claims the reminder of `period` for a gift; 0 when it was claimed already.
fn claim(conn: &mut DbConnection, id: &str, period: &str) -> QueryResult<usize> {
    crate::db::dialect::on_backend!(conn, |c| diesel::insert_into(donation_reminders::table)
        .values((
            donation_reminders::donation_id.eq(id),
            donation_reminders::period.eq(period),
            donation_reminders::queued_at.eq(crate::db::now()),
        ))
        .on_conflict_do_nothing()
        .execute(c))
}

/// Pledged monthly gifts that may owe this month's reminder: active, unpaused, made before
/// this month, not reminded for it yet.
fn candidates(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<Donation>> {
    let period = now.format("%Y-%m").to_string();
    let month_start = NaiveDate::from_ymd_opt(now.year(), now.month(), 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(now);
    let reminded = donation_reminders::table
        .filter(donation_reminders::donation_id.eq(donations::id))
        .filter(donation_reminders::period.eq(period));
    let paused = donation_subscriptions::table
        .filter(donation_subscriptions::donation_id.eq(donations::id))
        .filter(donation_subscriptions::paused_until.gt(now));
    donations::table
        .filter(donations::provider.eq("manual"))
        .filter(donations::frequency.eq(Frequency::Monthly))
        .filter(donations::recurring_status.eq(RECURRING_ACTIVE))
        .filter(donations::status.eq_any([Status::Pledged, Status::Paid]))
        .filter(donations::email.ne(""))
        .filter(donations::created_at.lt(month_start))
        .filter(diesel::dsl::not(diesel::dsl::exists(paused)))
        .filter(diesel::dsl::not(diesel::dsl::exists(reminded)))
        .order(donations::created_at.asc())
        .limit(500)
        .select(Donation::as_select())
        .load(conn)
}

/// Queues every reminder due at `now`, each in its own transaction with its claim; answers
/// how many were queued.
pub async fn send_due(db: &Db, ctx: &Ctx, now: NaiveDateTime) -> Result<usize, AppError> {
    let due: Vec<(String, String)> = db
        .run(move |conn| Ok(candidates(conn, now)?))
        .await?
        .into_iter()
        .filter_map(|d| period_due(d.created_at, now).map(|p| (d.id, p)))
        .collect();
    let mut queued = 0;
    for (id, period) in due {
        let ctx = ctx.clone();
        let sent = db
            .write(move |conn| {
                if claim(conn, &id, &period)? == 0 {
                    return Ok(false);
                }
                let donation = store::find_donation(conn, &id)?;
                let email =
                    service::manual_reminder_email(conn, &ctx, &donation, &month_label(now))?;
                outbox::enqueue(conn, &[email])?;
                Ok(true)
            })
            .await?;
        queued += usize::from(sent);
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time")
    }

    #[test]
    fn a_reminder_falls_on_the_gifts_day_from_the_second_month_on() {
        let created = at("2026-01-31 18:00");
        assert_eq!(period_due(created, at("2026-01-31 19:00")), None);
        assert_eq!(period_due(created, at("2026-02-27 09:00")), None);
        assert_eq!(
            period_due(created, at("2026-02-28 09:00")).as_deref(),
            Some("2026-02")
        );
        assert_eq!(period_due(created, at("2026-03-30 09:00")), None);
        assert_eq!(
            period_due(created, at("2026-03-31 00:00")).as_deref(),
            Some("2026-03")
        );
        assert_eq!(
            period_due(at("2026-12-05 10:00"), at("2027-01-05 00:00")).as_deref(),
            Some("2027-01")
        );
        assert_eq!(days_in_month(2028, 2), 29);
        assert_eq!(days_in_month(2026, 12), 31);
    }
}
