//! The editors' comment figures on the staff dashboard: how many comments wait for an answer
//! and since when (over the `comments_status` index). Counts only: no comment's content.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::Status;
use crate::db::schema::comments;
use crate::db::DbConnection;

/// Comments waiting for the newsroom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Unanswered {
    pub count: i64,
    /// When the one that has waited longest arrived.
    pub oldest_at: Option<DateTime<Utc>>,
}

/// The statuses that wait for an answer.
pub fn unanswered_statuses() -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|s| s.is_unanswered())
        .collect()
}

pub fn unanswered(conn: &mut DbConnection) -> QueryResult<Unanswered> {
    let waiting = unanswered_statuses();
    let count = comments::table
        .filter(comments::status.eq_any(waiting.clone()))
        .count()
        .get_result(conn)?;
    let oldest_at: Option<NaiveDateTime> = comments::table
        .filter(comments::status.eq_any(waiting))
        .select(diesel::dsl::min(comments::created_at))
        .get_result(conn)?;
    Ok(Unanswered {
        count,
        oldest_at: oldest_at.map(|t| t.and_utc()),
    })
}
