//! Donors for the staff search: gifts whose donor's name or address holds the query (any
//! case), one result per address, newest gift first, linking to the donor's page.

use diesel::prelude::*;

use crate::db::schema::donations;
use crate::db::{contains_pattern, lower, lower_nullable, DbConnection};
use crate::staff::search::Hit;

pub fn search(conn: &mut DbConnection, q: &str, limit: i64) -> QueryResult<Vec<Hit>> {
    let pattern = contains_pattern(&q.to_lowercase());
    let rows: Vec<(String, Option<String>, chrono::NaiveDateTime)> = donations::table
        .filter(
            lower(donations::email_normalized)
                .like(pattern.clone())
                .escape('\\')
                .or(lower_nullable(donations::name)
                    .like(pattern)
                    .escape('\\')
                    .assume_not_null()),
        )
        .order(donations::created_at.desc())
        // Several gifts of one donor make one result.
        .limit(limit * 5)
        .select((
            donations::email_normalized,
            donations::name,
            donations::created_at,
        ))
        .load(conn)?;
    let mut hits: Vec<Hit> = Vec::new();
    for (email, name, at) in rows {
        if hits.len() as i64 >= limit {
            break;
        }
        let href = format!(
            "/staff/donors?email={}",
            url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>()
        );
        if hits.iter().any(|h| h.href == href) {
            continue;
        }
        hits.push(Hit {
            kind: "donor".into(),
            title: name.unwrap_or_else(|| email.clone()),
            detail: Some(email),
            href,
            at: at.and_utc(),
        });
    }
    Ok(hits)
}
