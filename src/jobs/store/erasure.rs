//! Erasing applicants: anonymising one application, and what the retention job needs to
//! find the applications and CV files to remove.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{ERASED_NAME, REF_KIND};
use crate::db::schema::{
    job_application_answers as answers, job_application_notes as notes, job_applications as apps,
    job_postings as postings, outbox,
};
use crate::db::DbConnection;
use crate::jobs::model::PostingStatus;

/// What [`anonymise_application`] removed that lives on outside the row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anonymised {
    /// The stored name of the CV file, for the caller to delete after the commit.
    pub cv_stored_name: Option<String>,
    /// The ids of the emails about the application that were deleted.
    pub emails: Vec<String>,
}

/// The database half of erasing one applicant ([`crate::jobs::privacy::erase_application`] is the
/// whole): name, email, phone, letter, links, CV metadata, answers, notes, the IP hash and
/// the emails sent about the application are removed; the stage, ratings and dates stay for
/// statistics. `None` when the application was already anonymised.
pub(crate) fn anonymise_application(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Anonymised>> {
    let (stored_name, anonymised): (Option<String>, Option<NaiveDateTime>) = apps::table
        .find(id)
        .select((apps::cv_stored_name, apps::anonymised_at))
        .first(conn)?;
    if anonymised.is_some() {
        return Ok(None);
    }
    diesel::update(apps::table.find(id))
        .set((
            (
                apps::name.eq(ERASED_NAME),
                apps::email.eq(""),
                apps::email_normalized.eq(format!("erased:{id}")),
                apps::phone.eq(None::<String>),
                apps::cover_letter.eq(None::<String>),
                apps::links.eq(None::<String>),
                apps::cv_stored_name.eq(None::<String>),
                apps::cv_filename.eq(None::<String>),
            ),
            (
                apps::cv_content_type.eq(None::<String>),
                apps::cv_size.eq(None::<i64>),
                apps::cv_sha256.eq(None::<String>),
                apps::ip_hash.eq(None::<String>),
                apps::keep_on_file.eq(false),
                apps::anonymised_at.eq(Some(now)),
                apps::updated_at.eq(now),
            ),
        ))
        .execute(conn)?;
    diesel::delete(answers::table.filter(answers::application_id.eq(id))).execute(conn)?;
    diesel::delete(notes::table.filter(notes::application_id.eq(id))).execute(conn)?;
    let emails: Vec<String> = outbox::table
        .filter(outbox::ref_kind.eq(REF_KIND))
        .filter(outbox::ref_id.eq(id))
        .select(outbox::id)
        .load(conn)?;
    diesel::delete(outbox::table.filter(outbox::id.eq_any(&emails))).execute(conn)?;
    Ok(Some(Anonymised {
        cv_stored_name: stored_name,
        emails,
    }))
}

/// Applications of postings closed at or before `closed_before` that are not anonymised yet:
/// `(to erase, kept on file by consent)`.
pub fn retention_candidates(
    conn: &mut DbConnection,
    closed_before: NaiveDateTime,
) -> QueryResult<(Vec<String>, Vec<String>)> {
    let rows: Vec<(String, bool)> = apps::table
        .inner_join(postings::table)
        .filter(postings::status.eq(PostingStatus::Closed))
        .filter(postings::closed_at.le(closed_before))
        .filter(apps::anonymised_at.is_null())
        .select((apps::id, apps::keep_on_file))
        .order(apps::id)
        .load(conn)?;
    let (kept, erase): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(_, keep)| *keep);
    Ok((
        erase.into_iter().map(|(id, _)| id).collect(),
        kept.into_iter().map(|(id, _)| id).collect(),
    ))
}

/// Every CV file name still referenced (to tell leftovers from live files).
pub fn stored_cv_names(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    apps::table
        .filter(apps::cv_stored_name.is_not_null())
        .select(apps::cv_stored_name.assume_not_null())
        .load(conn)
}
