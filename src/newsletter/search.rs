//! Subscribers for the staff search: addresses that hold the query (any case).

use diesel::prelude::*;

use crate::db::schema::newsletter_subscribers as subscribers;
use crate::db::{contains_pattern, lower, DbConnection};
use crate::staff::search::Hit;

pub fn search(conn: &mut DbConnection, q: &str, limit: i64) -> QueryResult<Vec<Hit>> {
    let pattern = contains_pattern(&q.to_lowercase());
    let rows: Vec<(String, String, String, chrono::NaiveDateTime)> = subscribers::table
        .filter(lower(subscribers::email).like(pattern).escape('\\'))
        .order(subscribers::created_at.desc())
        .limit(limit)
        .select((
            subscribers::id,
            subscribers::email,
            subscribers::status,
            subscribers::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, email, status, at)| Hit {
            kind: "subscriber".into(),
            title: email,
            detail: Some(crate::templates::labels::label(&status)),
            href: format!("/staff/subscribers/{id}"),
            at: at.and_utc(),
        })
        .collect())
}
