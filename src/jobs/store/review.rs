//! *Staff*: what reviewers change on an application: its stage (with the one email a
//! stage change may send), internal notes and ratings.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{rating_average, Note};
use crate::db::dialect::on_backend;
use crate::db::schema::{
    job_application_notes as notes, job_application_ratings as ratings, job_applications as apps,
};
use crate::db::DbConnection;
use crate::jobs::model::{NoteBody, Rating, Stage};
use crate::mail::NewOutboxEmail;

/// What a stage change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StageChange {
    pub from: Stage,
    pub to: Stage,
    /// True when the rejection email was queued.
    pub email_queued: bool,
}

/// *Staff*: moves an application to `to` (use `Db::write`). `rejection` (see
/// [`crate::jobs::emails::rejection`]) is queued only on a move into `rejected` from another
/// stage; every other change is internal and never emails the applicant.
#[tracing::instrument(skip_all, fields(application_id = id, to = to.as_str()))]
pub fn set_stage(
    conn: &mut DbConnection,
    id: &str,
    to: Stage,
    rejection: Option<&NewOutboxEmail>,
    now: NaiveDateTime,
) -> QueryResult<StageChange> {
    let (from, anonymised): (String, Option<NaiveDateTime>) = apps::table
        .find(id)
        .select((apps::stage, apps::anonymised_at))
        .first(conn)?;
    let from = Stage::parse(&from).unwrap_or(Stage::New);
    diesel::update(apps::table.find(id))
        .set((apps::stage.eq(to), apps::updated_at.eq(now)))
        .execute(conn)?;
    let mut email_queued = false;
    if let Some(email) = rejection {
        if to == Stage::Rejected && from != Stage::Rejected && anonymised.is_none() {
            crate::mail::outbox::enqueue(conn, std::slice::from_ref(email))?;
            email_queued = true;
        }
    }
    Ok(StageChange {
        from,
        to,
        email_queued,
    })
}

/// *Staff*: adds an internal note (`NotFound` for an unknown application).
pub fn add_note(
    conn: &mut DbConnection,
    application_id: &str,
    author: &str,
    body: &NoteBody,
    now: NaiveDateTime,
) -> QueryResult<Note> {
    apps::table
        .find(application_id)
        .select(apps::id)
        .first::<String>(conn)?;
    let id = crate::db::new_id();
    diesel::insert_into(notes::table)
        .values((
            notes::id.eq(&id),
            notes::application_id.eq(application_id),
            notes::author.eq(author),
            notes::body.eq(body.as_str()),
            notes::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(Note {
        id,
        author: author.to_string(),
        body: body.as_str().to_string(),
        created_at: now.and_utc(),
    })
}

/// The ratings of an application after a change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RatingSummary {
    pub average: Option<f64>,
    pub count: i32,
}

/// *Staff*: sets `reviewer`'s rating of an application, replacing their earlier one
/// (use `Db::write`: the average kept for sorting is updated with it).
pub fn set_rating(
    conn: &mut DbConnection,
    application_id: &str,
    reviewer: &str,
    rating: Rating,
    now: NaiveDateTime,
) -> QueryResult<RatingSummary> {
    apps::table
        .find(application_id)
        .select(apps::id)
        .first::<String>(conn)?;
    let value = i32::from(rating.get());
    let row = (
        ratings::application_id.eq(application_id),
        ratings::reviewer.eq(reviewer),
        ratings::rating.eq(value),
        ratings::updated_at.eq(now),
    );
    // An upsert: the multi-backend connection has none, so it runs on the concrete one.
    on_backend!(conn, |c| diesel::insert_into(ratings::table)
        .values(row)
        .on_conflict((ratings::application_id, ratings::reviewer))
        .do_update()
        .set((ratings::rating.eq(value), ratings::updated_at.eq(now)))
        .execute(c))?;
    let all: Vec<i32> = ratings::table
        .filter(ratings::application_id.eq(application_id))
        .select(ratings::rating)
        .load(conn)?;
    let count = i32::try_from(all.len()).unwrap_or(i32::MAX);
    let sum: i32 = all.iter().sum();
    // Average times 100, rounded half up: what the list sorts by.
    let score = if count == 0 {
        0
    } else {
        (sum * 200 + count) / (2 * count)
    };
    diesel::update(apps::table.find(application_id))
        .set((
            apps::rating_score.eq(score),
            apps::rating_count.eq(count),
            apps::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(RatingSummary {
        average: rating_average(score, count),
        count,
    })
}
