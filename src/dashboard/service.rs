//! The dashboard's numbers for one signed-in role, gathered from each feature's `figures`
//! module in one read: fundraising, newsletter, editors, hiring, and for administrators the
//! service's health.

use std::path::Path;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::windows::{self, Window};
use crate::comments::figures::{self as comments, Unanswered};
use crate::config::Settings;
use crate::db::DbConnection;
use crate::donations::figures::{self as donations, CurrencySum, Source};
use crate::error::AppError;
use crate::feedback::figures::{self as feedback, Article, Day};
use crate::jobs::figures::{self as jobs, Hiring, Reviewing};
use crate::newsletter::figures::{self as newsletter, IssueReport, Week};
use crate::staff::model::Role;
use crate::templates::time::Moment;

/// How many rows each "top" list shows.
pub const TOP: i64 = 5;
/// Weeks in the subscriber chart.
pub const WEEKS: u64 = 12;
/// Days in the votes chart (and the window of "needs improvement").
pub const DAYS: u64 = 30;

/// Which panels a role sees (an administrator sees every one).
pub const FUNDRAISING: &[Role] = &[Role::Fundraising];
pub const NEWSLETTER: &[Role] = &[Role::Fundraising, Role::Editor];
pub const EDITORS: &[Role] = &[Role::Editor];
pub const HIRING: &[Role] = &[Role::Hiring];

/// Everything the signed-in role may see; a panel it may not see is absent (`null`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    /// When the numbers were read.
    pub generated_at: DateTime<Utc>,
    /// The zone months, weeks and days are cut in (`site.timezone`).
    pub timezone: String,
    pub fundraising: Option<Fundraising>,
    pub newsletter: Option<Newsletter>,
    pub editors: Option<Editors>,
    pub hiring: Option<Hiring>,
    pub health: Option<ServiceHealth>,
}

/// One calendar month of giving.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Month {
    /// "December 2026".
    pub name: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Paid gifts created in the month, per currency.
    pub gifts: Vec<CurrencySum>,
    /// Payments received in the month less refunds, per currency.
    pub revenue: Vec<CurrencySum>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fundraising {
    pub this_month: Month,
    pub last_month: Month,
    pub same_month_last_year: Month,
    /// Active monthly gifts: donors and what they give each month, per currency.
    pub active_monthly: Vec<CurrencySum>,
    /// Monthly gifts started this month.
    pub new_monthly: i64,
    /// Monthly gifts cancelled this month.
    pub cancelled_monthly: i64,
    /// Articles that raised most this month.
    pub top_articles: Vec<Source>,
    /// Campaigns that raised most this month.
    pub top_campaigns: Vec<Source>,
    /// Failed monthly charges still being followed up.
    pub failed_payments_waiting: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusCount {
    pub status: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Newsletter {
    /// Subscribers per state.
    pub subscribers: Vec<StatusCount>,
    /// The last 12 weeks, oldest first.
    pub weeks: Vec<Week>,
    /// The issues that went out last, newest first.
    pub last_issues: Vec<IssueReport>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Editors {
    /// The last 30 days, oldest first.
    pub votes_per_day: Vec<Day>,
    /// By the votes of the last 30 days, most surely unhelpful first.
    pub needing_improvement: Vec<Article>,
    pub unanswered_comments: Unanswered,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceHealth {
    /// Emails per outbox state.
    pub outbox: Vec<StatusCount>,
    /// When the email that has waited longest in the queue was queued.
    pub oldest_queued_at: Option<DateTime<Utc>>,
    /// `off`, `every 6h`, `daily 03:30 (Europe/Berlin)`.
    pub backup_schedule: String,
    pub last_backup_at: Option<DateTime<Utc>>,
    pub last_failed_backup_at: Option<DateTime<Utc>>,
    /// Why an administrator should look at backups, if they should.
    pub backup_warning: Option<String>,
    /// Bytes and files under `uploads.dir` (CVs).
    pub uploads_bytes: u64,
    pub uploads_files: u64,
}

/// Reads the panels `role` may see at `now` (`reviewer` is the viewer's address, for the
/// hiring panel's postings).
pub fn load(
    conn: &mut DbConnection,
    settings: &Settings,
    role: Role,
    reviewer: &str,
    now: NaiveDateTime,
) -> Result<Dashboard, AppError> {
    let tz = settings.site.tz();
    let fundraising = if role.permits(FUNDRAISING) {
        Some(fundraising(conn, tz, now)?)
    } else {
        None
    };
    let newsletter = if role.permits(NEWSLETTER) {
        let weeks = windows::week_starts(tz, now, WEEKS);
        Some(Newsletter {
            subscribers: counts(newsletter::by_status(conn)?),
            weeks: newsletter::weekly(conn, &weeks)?,
            last_issues: newsletter::last_issues(conn, TOP)?,
        })
    } else {
        None
    };
    let editors = if role.permits(EDITORS) {
        let days = windows::day_starts(tz, now, DAYS);
        // The ranking covers the days the chart shows, the last one whole.
        let from = days.first().copied().unwrap_or(now);
        let to = days.last().map_or(now, |d| *d + TimeDelta::days(1));
        Some(Editors {
            votes_per_day: feedback::per_day(conn, &days)?,
            needing_improvement: feedback::needing_improvement(conn, from, to, TOP)?,
            unanswered_comments: comments::unanswered(conn)?,
        })
    } else {
        None
    };
    let hiring = if role.permits(HIRING) {
        let who = if role == Role::Admin {
            Reviewing::Every
        } else {
            Reviewing::ContactOf(reviewer.to_string())
        };
        Some(jobs::hiring(conn, &who, TOP)?)
    } else {
        None
    };
    let health = if role == Role::Admin {
        Some(health(conn, settings, now)?)
    } else {
        None
    };
    Ok(Dashboard {
        generated_at: now.and_utc(),
        timezone: tz.name().to_string(),
        fundraising,
        newsletter,
        editors,
        hiring,
        health,
    })
}

fn counts(rows: Vec<(String, i64)>) -> Vec<StatusCount> {
    rows.into_iter()
        .map(|(status, count)| StatusCount { status, count })
        .collect()
}

fn fundraising(
    conn: &mut DbConnection,
    tz: chrono_tz::Tz,
    now: NaiveDateTime,
) -> diesel::QueryResult<Fundraising> {
    let [this, last, year_ago] = windows::months(tz, now);
    let month = |conn: &mut DbConnection, w: &Window| -> diesel::QueryResult<Month> {
        let p = donations::period(conn, w.from, w.to)?;
        Ok(Month {
            name: w.name.clone(),
            from: w.from.and_utc(),
            to: w.to.and_utc(),
            gifts: p.gifts,
            revenue: p.revenue,
        })
    };
    Ok(Fundraising {
        active_monthly: donations::active_monthly(conn)?,
        new_monthly: donations::new_monthly(conn, this.from, this.to)?,
        cancelled_monthly: donations::cancelled_monthly(conn, this.from, this.to)?,
        top_articles: donations::top_sources(conn, this.from, this.to, false, TOP)?,
        top_campaigns: donations::top_sources(conn, this.from, this.to, true, TOP)?,
        failed_payments_waiting: donations::failed_waiting(conn)?,
        this_month: month(conn, &this)?,
        last_month: month(conn, &last)?,
        same_month_last_year: month(conn, &year_ago)?,
    })
}

fn health(
    conn: &mut DbConnection,
    settings: &Settings,
    now: NaiveDateTime,
) -> Result<ServiceHealth, AppError> {
    let backups = crate::backup::runs::health(conn, settings, now)?;
    let at = |run: Option<&crate::backup::runs::RunView>| {
        run.and_then(|r| Moment::parse(&r.at))
            .and_then(|m| match m {
                Moment::At(t) => Some(t.and_utc()),
                Moment::Day(_) => None,
            })
    };
    let (uploads_bytes, uploads_files) = disk_use(&settings.uploads.dir);
    Ok(ServiceHealth {
        outbox: counts(crate::mail::outbox::counts_by_state(conn)?),
        oldest_queued_at: crate::mail::outbox::oldest_queued(conn)?.map(|t| t.and_utc()),
        backup_schedule: backups.schedule.clone(),
        last_backup_at: at(backups.last_good.as_ref()),
        last_failed_backup_at: at(backups.last_failed.as_ref()),
        backup_warning: backups.warning.clone(),
        uploads_bytes,
        uploads_files,
    })
}

/// Bytes and files under `dir` (0 when it does not exist yet).
fn disk_use(dir: &Path) -> (u64, u64) {
    let mut bytes = 0;
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => {
                    bytes += m.len();
                    files += 1;
                }
                Err(_) => {}
            }
        }
    }
    (bytes, files)
}
