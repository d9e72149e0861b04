//! The editors' feedback figures on the staff dashboard: votes per day and the articles that
//! most need improvement (the ranking of the helpfulness report, over the votes cast in the
//! same days). Both are answered from the covering index `feedback_votes_created` without
//! reading the vote table.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::store::{self, RankFilter, RankOrder, RankTime};
use crate::db::schema::feedback_votes as fv;
use crate::db::DbConnection;

/// Votes cast in one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Day {
    /// The day's first moment.
    pub from: DateTime<Utc>,
    pub helpful: i64,
    pub not_helpful: i64,
}

/// An article whose readers said it needs improvement.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Article {
    pub article_url: String,
    pub not_helpful: i64,
    pub total: i64,
}

/// Votes of each day starting at `starts` (each day is 24 hours).
pub fn per_day(conn: &mut DbConnection, starts: &[NaiveDateTime]) -> QueryResult<Vec<Day>> {
    let mut days = Vec::with_capacity(starts.len());
    for &from in starts {
        let to = from + TimeDelta::days(1);
        let counts: Vec<(bool, i64)> = fv::table
            .filter(fv::created_at.ge(from))
            .filter(fv::created_at.lt(to))
            .group_by(fv::helpful)
            .select((fv::helpful, diesel::dsl::count_star()))
            .load(conn)?;
        let of = |h: bool| counts.iter().find(|(x, _)| *x == h).map_or(0, |(_, n)| *n);
        days.push(Day {
            from: from.and_utc(),
            helpful: of(true),
            not_helpful: of(false),
        });
    }
    Ok(days)
}

/// The `limit` articles that most surely need improvement by the votes cast in `[from, to)`.
///
/// The window is closed on both ends: with an open end SQLite's planner guesses that a
/// quarter of the table matches and scans all of it instead of the index.
pub fn needing_improvement(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Article>> {
    let filter = RankFilter {
        from: Some(from),
        to: Some(to),
        time: RankTime::Cast,
        reason: None,
        min_votes: 1,
        order: RankOrder::NeedsImprovementFirst,
    };
    let (ranked, _) = store::ranked_articles(conn, &filter, None, limit)?;
    Ok(ranked
        .into_iter()
        .filter(|a| a.not_helpful > 0)
        .map(|a| Article {
            article_url: a.article_url,
            not_helpful: a.not_helpful,
            total: a.total,
        })
        .collect())
}
