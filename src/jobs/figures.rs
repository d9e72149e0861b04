//! The hiring figures of the staff dashboard: open postings, applications per stage and the
//! applications that have waited longest, limited to the postings the viewer reviews (an
//! administrator reviews all). Counts run over `job_applications_stage` and
//! `job_postings_status`.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{PostingStatus, Stage};
use super::store;
use crate::db::schema::{job_applications as apps, job_postings as postings};
use crate::db::DbConnection;

/// Whose postings the figures cover.
#[derive(Debug, Clone)]
pub enum Reviewing {
    Every,
    /// The postings whose hiring contact is this address.
    ContactOf(String),
}

/// An application waiting for a first look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Waiting {
    pub id: String,
    pub posting_slug: String,
    pub posting_title: String,
    pub created_at: DateTime<Utc>,
}

/// The hiring panel's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Hiring {
    pub open_postings: i64,
    /// `(stage, count)` for every stage, in pipeline order.
    pub stages: Vec<StageCount>,
    /// New applications, oldest first.
    pub waiting_longest: Vec<Waiting>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StageCount {
    pub stage: Stage,
    pub count: i64,
}

pub fn hiring(conn: &mut DbConnection, who: &Reviewing, limit: i64) -> QueryResult<Hiring> {
    let ids: Option<Vec<String>> = match who {
        Reviewing::Every => None,
        Reviewing::ContactOf(email) => Some(
            store::postings_for_contact(conn, email)?
                .into_iter()
                .map(|p| p.id)
                .collect(),
        ),
    };
    let mut open = postings::table
        .filter(postings::status.eq(PostingStatus::Open))
        .into_boxed();
    let mut by_stage = apps::table
        .filter(apps::anonymised_at.is_null())
        .group_by(apps::stage)
        .select((apps::stage, count_star()))
        .into_boxed();
    let mut waiting = apps::table
        .inner_join(postings::table)
        .filter(apps::stage.eq(Stage::New))
        .filter(apps::anonymised_at.is_null())
        .order((apps::created_at.asc(), apps::id.asc()))
        .limit(limit)
        .select((apps::id, postings::slug, postings::title, apps::created_at))
        .into_boxed();
    if let Some(ids) = &ids {
        open = open.filter(postings::id.eq_any(ids.clone()));
        by_stage = by_stage.filter(apps::posting_id.eq_any(ids.clone()));
        waiting = waiting.filter(apps::posting_id.eq_any(ids.clone()));
    }
    let open_postings = open.count().get_result(conn)?;
    let counted: Vec<(Stage, i64)> = by_stage.load(conn)?;
    let stages = Stage::ALL
        .into_iter()
        .map(|stage| StageCount {
            stage,
            count: counted
                .iter()
                .find(|(s, _)| *s == stage)
                .map_or(0, |(_, n)| *n),
        })
        .collect();
    let waiting_longest = waiting
        .load::<(String, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, posting_slug, posting_title, created_at)| Waiting {
            id,
            posting_slug,
            posting_title,
            created_at: created_at.and_utc(),
        })
        .collect();
    Ok(Hiring {
        open_postings,
        stages,
        waiting_longest,
    })
}
