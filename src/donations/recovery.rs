//! Monthly gifts whose payment failed, followed until they are paid again. The first failure
//! of an episode opens it (the donor gets the "did not go through" email with a one-step link
//! to fix their card); reminders follow on `donations.followup_days`; the episode closes as
//! `recovered` when a payment succeeds, or `lost` when the processor gives up or the donor
//! cancels, and no reminder is sent after that. The processor's own retries of the same
//! invoice fail again inside the open episode and send nothing more.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;
use tokio::sync::watch;

use crate::config::Settings;
use crate::db::schema::{donation_recoveries, donations};
use crate::db::{Db, DbConnection};
use crate::error::AppError;
use crate::keys::Keys;
use crate::mail::{outbox, Mailer};

use super::service::{self, Ctx};
use super::store::{self, Donation};

crate::text_enum! {
    /// Where a failure episode stands.
    pub enum RecoveryState {
        Open => "open",
        /// A payment succeeded after the failure.
        Recovered => "recovered",
        /// The processor gave up, or the donor cancelled.
        Lost => "lost",
    }
}

/// One failure episode of a monthly gift.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = donation_recoveries)]
pub struct Recovery {
    pub id: String,
    pub donation_id: String,
    pub state: RecoveryState,
    pub failed_at: NaiveDateTime,
    pub amount_minor: i64,
    pub currency: String,
    pub followups_sent: i32,
    pub next_followup_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub recovered_minor: i64,
}

/// When reminder number `sent + 1` is due, counted from the failure; `None` after the last.
fn next_due(days: &[u32], failed_at: NaiveDateTime, sent: i32) -> Option<NaiveDateTime> {
    let index = usize::try_from(sent).ok()?;
    days.get(index)
        .map(|d| failed_at + TimeDelta::days(i64::from(*d)))
}

fn open_episode(conn: &mut DbConnection, donation_id: &str) -> QueryResult<Option<Recovery>> {
    donation_recoveries::table
        .filter(donation_recoveries::donation_id.eq(donation_id))
        .filter(donation_recoveries::state.eq(RecoveryState::Open))
        .select(Recovery::as_select())
        .first(conn)
        .optional()
}

/// A monthly payment failed: opens an episode unless one is open. True when this failure
/// opened it (the donor is told now; a failure inside an open episode is the processor
/// retrying and tells nobody again).
pub fn failed(
    conn: &mut DbConnection,
    settings: &Settings,
    donation: &Donation,
    amount_minor: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    if open_episode(conn, &donation.id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(donation_recoveries::table)
        .values(Recovery {
            id: crate::db::new_id(),
            donation_id: donation.id.clone(),
            state: RecoveryState::Open,
            failed_at: now,
            amount_minor,
            currency: donation.currency.clone(),
            followups_sent: 0,
            next_followup_at: next_due(&settings.donations.followup_days, now, 0),
            closed_at: None,
            recovered_minor: 0,
        })
        .execute(conn)?;
    Ok(true)
}

/// Closes the gift's open episode, if any: `Recovered` with the amount paid, or `Lost`.
pub fn close(
    conn: &mut DbConnection,
    donation_id: &str,
    state: RecoveryState,
    recovered_minor: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        donation_recoveries::table
            .filter(donation_recoveries::donation_id.eq(donation_id))
            .filter(donation_recoveries::state.eq(RecoveryState::Open)),
    )
    .set((
        donation_recoveries::state.eq(state),
        donation_recoveries::closed_at.eq(Some(now)),
        donation_recoveries::next_followup_at.eq(None::<NaiveDateTime>),
        donation_recoveries::recovered_minor.eq(recovered_minor),
    ))
    .execute(conn)
}

/// Queues every reminder due at `now`, each in its own transaction with its claim (the
/// claim moves the episode to its next reminder only if nobody moved it first, so workers
/// sharing a database send each reminder once). Answers how many were queued.
pub async fn send_due(db: &Db, ctx: &Ctx, now: NaiveDateTime) -> Result<usize, AppError> {
    let due: Vec<Recovery> = db
        .run(move |conn| {
            Ok(donation_recoveries::table
                .filter(donation_recoveries::state.eq(RecoveryState::Open))
                .filter(donation_recoveries::next_followup_at.le(now))
                .order(donation_recoveries::next_followup_at.asc())
                .limit(500)
                .select(Recovery::as_select())
                .load(conn)?)
        })
        .await?;
    let mut queued = 0;
    for episode in due {
        let ctx = ctx.clone();
        let sent = db
            .write(move |conn| {
                let next = next_due(
                    &ctx.settings.donations.followup_days,
                    episode.failed_at,
                    episode.followups_sent + 1,
                );
                let claimed = diesel::update(
                    donation_recoveries::table
                        .find(&episode.id)
                        .filter(donation_recoveries::state.eq(RecoveryState::Open))
                        .filter(donation_recoveries::followups_sent.eq(episode.followups_sent)),
                )
                .set((
                    donation_recoveries::followups_sent.eq(episode.followups_sent + 1),
                    donation_recoveries::next_followup_at.eq(next),
                ))
                .execute(conn)?;
                if claimed == 0 {
                    return Ok(false);
                }
                let donation = store::find_donation(conn, &episode.donation_id)?;
                if donation.email.is_empty() {
                    // Erased since: nobody to remind.
                    return Ok(false);
                }
                let email =
                    service::followup_email(conn, &ctx, &donation, episode.followups_sent + 1)?;
                outbox::enqueue(conn, &[email])?;
                Ok(true)
            })
            .await?;
        queued += usize::from(sent);
    }
    Ok(queued)
}

/// Runs [`send_due`] and the pledge reminders ([`super::reminders::send_due`]) every minute
/// beside the outbox worker.
pub struct Scheduler {
    db: Db,
    ctx: Ctx,
}

impl Scheduler {
    pub fn new(settings: Arc<Settings>, db: Db, mailer: Mailer, keys: Keys) -> Scheduler {
        Scheduler {
            db,
            ctx: Ctx {
                mailer,
                settings,
                keys,
            },
        }
    }

    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let now = crate::db::now();
                    let failed = send_due(&self.db, &self.ctx, now).await;
                    let pledged = super::reminders::send_due(&self.db, &self.ctx, now).await;
                    for (what, result) in [("failed-payment", failed), ("pledge", pledged)] {
                        match result {
                            Ok(0) => {}
                            Ok(n) => {
                                tracing::info!(reminders = n, kind = what, "donor reminders queued");
                                self.ctx.mailer.wake();
                            }
                            Err(e) => tracing::error!(error = ?e, kind = what, "donor reminders"),
                        }
                    }
                }
                _ = stop.changed() => break,
            }
        }
    }
}

/// Open episodes with their gifts (oldest failure first), and what was recovered.
pub struct Overview {
    pub open: Vec<(Recovery, Donation)>,
    /// `(currency, episodes, recovered_minor)` of recovered episodes closed since `since`.
    pub recovered: Vec<(String, i64, i64)>,
    /// Episodes closed as lost since `since`.
    pub lost: i64,
}

pub fn overview(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<Overview> {
    let open = donation_recoveries::table
        .inner_join(donations::table)
        .filter(donation_recoveries::state.eq(RecoveryState::Open))
        .order(donation_recoveries::failed_at.asc())
        .limit(500)
        .select((Recovery::as_select(), Donation::as_select()))
        .load(conn)?;
    let closed: Vec<Recovery> = donation_recoveries::table
        .filter(donation_recoveries::state.ne(RecoveryState::Open))
        .filter(donation_recoveries::closed_at.ge(since))
        .select(Recovery::as_select())
        .load(conn)?;
    let mut recovered: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    let mut lost = 0;
    for r in closed {
        if r.state == RecoveryState::Recovered {
            let e = recovered.entry(r.currency).or_default();
            e.0 += 1;
            e.1 += r.recovered_minor;
        } else {
            lost += 1;
        }
    }
    Ok(Overview {
        open,
        recovered: recovered.into_iter().map(|(c, (n, m))| (c, n, m)).collect(),
        lost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_fall_on_the_configured_days_after_the_failure() {
        let failed = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(9, 30, 0))
            .expect("time");
        let days = [1, 3, 7];
        let due: Vec<String> = (0..4)
            .map(|sent| {
                next_due(&days, failed, sent).map_or("none".into(), |t| t.date().to_string())
            })
            .collect();
        assert_eq!(due, ["2026-12-02", "2026-12-04", "2026-12-08", "none"]);
        assert_eq!(next_due(&[], failed, 0), None);
    }
}
