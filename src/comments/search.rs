//! Comments for the staff search: by the reference a reader quotes, or by text in the
//! comment, the reader's name and address, or a staff note. Confidential tips are sealed, so
//! text never finds them; a tip is found by its exact reference only, by staff holding the
//! tips permission, and shown without its content.

use diesel::prelude::*;

use super::model::Clearance;
use crate::db::schema::{comment_notes, comments};
use crate::db::{contains_pattern, lower, lower_nullable, DbConnection};
use crate::staff::search::Hit;

/// Comments matching `q` (already trimmed, not empty), newest first.
pub fn search(
    conn: &mut DbConnection,
    q: &str,
    clearance: Clearance,
    tips: bool,
    limit: i64,
) -> QueryResult<Vec<Hit>> {
    let pattern = contains_pattern(&q.to_lowercase());
    // A reference as quoted, with or without its hyphen and in any case.
    let compact = q.to_uppercase().replace([' ', '-'], "");
    let reference = if compact.len() == 10 && compact.is_ascii() {
        format!("{}-{}", &compact[..5], &compact[5..])
    } else {
        compact
    };
    let noted = comment_notes::table
        .filter(
            lower(comment_notes::body)
                .like(pattern.clone())
                .escape('\\'),
        )
        .select(comment_notes::comment_id);
    let mut query = comments::table
        .filter(
            comments::reference
                .eq(reference.clone())
                .or(comments::confidential.eq(false).and(
                    lower(comments::message)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(lower_nullable(comments::subject)
                            .like(pattern.clone())
                            .escape('\\')
                            .assume_not_null())
                        .or(lower(comments::name).like(pattern.clone()).escape('\\'))
                        .or(lower(comments::email).like(pattern.clone()).escape('\\'))
                        .or(comments::id.eq_any(noted)),
                )),
        )
        .into_boxed();
    if !tips {
        query = query.filter(comments::confidential.eq(false));
    }
    if clearance == Clearance::Standard {
        query = query.filter(comments::sensitive.eq(false));
    }
    let rows: Vec<(
        String,
        String,
        bool,
        Option<String>,
        String,
        chrono::NaiveDateTime,
    )> = query
        .order(comments::created_at.desc())
        .limit(limit)
        .select((
            comments::id,
            comments::reference,
            comments::confidential,
            comments::subject,
            comments::message,
            comments::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, reference, confidential, subject, message, at)| {
            let (title, detail) = if confidential {
                (format!("Confidential tip {reference}"), None)
            } else {
                let excerpt: String = message.chars().take(120).collect();
                (
                    format!(
                        "Comment {reference}{}",
                        subject.map(|s| format!(": {s}")).unwrap_or_default()
                    ),
                    Some(excerpt),
                )
            };
            Hit {
                kind: "comment".into(),
                title,
                detail,
                href: format!("/staff/comments/{id}"),
                at: at.and_utc(),
            }
        })
        .collect())
}
