//! Applicants for the staff search: applications whose applicant's name or address holds
//! the query (any case), on the postings the viewer reviews; erased applications never.

use diesel::prelude::*;

use super::figures::Reviewing;
use super::store;
use crate::db::schema::{job_applications as apps, job_postings as postings};
use crate::db::{contains_pattern, lower, DbConnection};
use crate::staff::search::Hit;

pub fn search(
    conn: &mut DbConnection,
    q: &str,
    who: &Reviewing,
    limit: i64,
) -> QueryResult<Vec<Hit>> {
    let pattern = contains_pattern(&q.to_lowercase());
    let mut query = apps::table
        .inner_join(postings::table)
        .filter(apps::anonymised_at.is_null())
        .filter(
            lower(apps::name)
                .like(pattern.clone())
                .escape('\\')
                .or(apps::email_normalized.like(pattern).escape('\\')),
        )
        .into_boxed();
    if let Reviewing::ContactOf(email) = who {
        let mine: Vec<String> = store::postings_for_contact(conn, email)?
            .into_iter()
            .map(|p| p.id)
            .collect();
        query = query.filter(apps::posting_id.eq_any(mine));
    }
    let rows: Vec<(String, String, String, String, chrono::NaiveDateTime)> = query
        .order(apps::created_at.desc())
        .limit(limit)
        .select((
            apps::id,
            apps::name,
            postings::slug,
            postings::title,
            apps::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, slug, title, at)| Hit {
            kind: "applicant".into(),
            title: name,
            detail: Some(format!("applied for {title}")),
            href: format!("/staff/jobs/{slug}/applications/{id}"),
            at: at.and_utc(),
        })
        .collect())
}
