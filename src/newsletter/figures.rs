//! The newsletter figures of the staff dashboard and of an issue's report: subscribers per
//! state, the week-by-week flow (confirmed, unsubscribed, suppressed), and what became of
//! an issue. Every count is answered from an index (`newsletter_subscribers_status`,
//! `newsletter_subscribers_confirmed`, `newsletter_subscribers_unsubscribed`,
//! `newsletter_suppressions_created`, the deliveries' `(issue_id, subscriber_id)` key).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::SuppressionReason;
use super::store::{self, IssueProgress};
use crate::db::schema::{
    newsletter_deliveries as deliveries, newsletter_issues as issues,
    newsletter_subscribers as subscribers, newsletter_suppressions as suppressions,
};
use crate::db::DbConnection;

/// How long after an issue went out its unsubscribes and bounces are counted as its own.
pub const AFTER_ISSUE: TimeDelta = TimeDelta::days(7);

/// One week of the subscriber flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Week {
    /// The week's first moment.
    pub from: DateTime<Utc>,
    pub confirmed: i64,
    pub unsubscribed: i64,
    /// Addresses suppressed (bounces, complaints, erasures, by hand).
    pub suppressed: i64,
}

/// An issue that went out, with what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IssueReport {
    pub id: String,
    pub subject: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub progress: IssueProgress,
    /// Recipients who unsubscribed within 7 days of the issue going out.
    pub unsubscribed_after: i64,
    /// Addresses suppressed for a hard bounce or a complaint within 7 days of the issue going out.
    pub bounced_after: i64,
}

/// Subscribers per state: `(status, count)`.
pub fn by_status(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    subscribers::table
        .group_by(subscribers::status)
        .select((subscribers::status, count_star()))
        .order(subscribers::status)
        .load(conn)
}

/// The flow of each week starting at `starts` (each week is 7 days).
pub fn weekly(conn: &mut DbConnection, starts: &[NaiveDateTime]) -> QueryResult<Vec<Week>> {
    let mut weeks = Vec::with_capacity(starts.len());
    for &from in starts {
        let to = from + TimeDelta::days(7);
        let confirmed = subscribers::table
            .filter(subscribers::confirmed_at.ge(from))
            .filter(subscribers::confirmed_at.lt(to))
            .count()
            .get_result(conn)?;
        let unsubscribed = subscribers::table
            .filter(subscribers::unsubscribed_at.ge(from))
            .filter(subscribers::unsubscribed_at.lt(to))
            .count()
            .get_result(conn)?;
        let suppressed = suppressions::table
            .filter(suppressions::created_at.ge(from))
            .filter(suppressions::created_at.lt(to))
            .count()
            .get_result(conn)?;
        weeks.push(Week {
            from: from.and_utc(),
            confirmed,
            unsubscribed,
            suppressed,
        });
    }
    Ok(weeks)
}

/// The report of one issue.
pub fn issue_report(conn: &mut DbConnection, id: &str) -> QueryResult<IssueReport> {
    let issue = store::find_issue(conn, id)?;
    let progress = store::issue_progress(conn, id)?;
    let (unsubscribed_after, bounced_after) = match issue.started_at {
        Some(start) => {
            let end = issue.finished_at.unwrap_or(start).max(start) + AFTER_ISSUE;
            let theirs = deliveries::table
                .filter(deliveries::issue_id.eq(id))
                .filter(deliveries::subscriber_id.is_not_null())
                .select(deliveries::subscriber_id.assume_not_null());
            let unsubscribed = subscribers::table
                .filter(subscribers::id.eq_any(theirs))
                .filter(subscribers::unsubscribed_at.ge(start))
                .filter(subscribers::unsubscribed_at.lt(end))
                .count()
                .get_result(conn)?;
            let bounced = suppressions::table
                .filter(suppressions::reason.eq_any([
                    SuppressionReason::HardBounce.as_str(),
                    SuppressionReason::Complaint.as_str(),
                ]))
                .filter(suppressions::created_at.ge(start))
                .filter(suppressions::created_at.lt(end))
                .count()
                .get_result(conn)?;
            (unsubscribed, bounced)
        }
        None => (0, 0),
    };
    Ok(IssueReport {
        id: issue.id,
        subject: issue.subject,
        started_at: issue.started_at.map(|t| t.and_utc()),
        finished_at: issue.finished_at.map(|t| t.and_utc()),
        progress,
        unsubscribed_after,
        bounced_after,
    })
}

/// The reports of the `limit` issues that went out last, newest first.
pub fn last_issues(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<IssueReport>> {
    let ids: Vec<String> = issues::table
        .filter(issues::started_at.is_not_null())
        .order(issues::started_at.desc())
        .limit(limit)
        .select(issues::id)
        .load(conn)?;
    ids.iter().map(|id| issue_report(conn, id)).collect()
}
