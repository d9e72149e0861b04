//! Job applications' part of one person's data: the applications sent with an address (with
//! their answers and CV metadata, and where the CV file lies, for the export), and their
//! erasure inside the caller's transaction (the CV files are handed back to be deleted after
//! the commit; the hourly sweep of the CV folder removes any left by a crash in between).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::job_applications as apps;
use crate::db::DbConnection;
use crate::domain::Erasure;

use super::store::{self, CvInfo, REF_KIND};
use super::upload::cv_path;

/// One application as the person sent it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationRecord {
    pub id: String,
    pub posting_id: String,
    pub posting_title: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub cover_letter: Option<String>,
    pub links: Vec<String>,
    pub stage: String,
    pub answers: Vec<AnswerRecord>,
    /// The CV's metadata; the file itself is in the zip export.
    pub cv: Option<CvInfo>,
    pub consent_at: DateTime<Utc>,
    pub privacy_notice_version: String,
    pub keep_on_file: bool,
    pub created_at: DateTime<Utc>,
    /// The staff page of the application.
    pub staff_url: String,
    /// Where the CV file is stored (never shown).
    #[serde(skip)]
    pub cv_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnswerRecord {
    pub question: String,
    pub value: String,
}

fn ids_of(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<(String, Option<String>)>> {
    apps::table
        .filter(apps::email_normalized.eq(email.to_lowercase()))
        .filter(apps::anonymised_at.is_null())
        .order(apps::id.asc())
        .select((apps::id, apps::cv_stored_name))
        .load(conn)
}

/// Every application of `email` (normalised, lower-case) not yet anonymised, oldest first.
pub fn find_by_email(
    conn: &mut DbConnection,
    uploads_dir: &Path,
    email: &str,
) -> QueryResult<Vec<ApplicationRecord>> {
    let mut out = Vec::new();
    for (id, stored) in ids_of(conn, email)? {
        let d = store::get_application(conn, &id)?;
        out.push(ApplicationRecord {
            staff_url: format!("/staff/jobs/{}/applications/{}", d.posting_slug, d.id),
            id: d.id,
            posting_id: d.posting_id,
            posting_title: d.posting_title,
            name: d.name,
            email: d.email,
            phone: d.phone,
            cover_letter: d.cover_letter,
            links: d.links,
            stage: d.stage.as_str().to_string(),
            answers: d
                .answers
                .into_iter()
                .map(|a| AnswerRecord {
                    question: a.label,
                    value: a.value,
                })
                .collect(),
            cv_file: d
                .cv
                .as_ref()
                .and(stored.as_deref())
                .map(|name| cv_path(uploads_dir, name)),
            cv: d.cv,
            consent_at: d.consent_at,
            privacy_notice_version: d.privacy_notice_version,
            keep_on_file: d.keep_on_file,
            created_at: d.created_at,
        });
    }
    Ok(out)
}

/// Erases every application of `email` inside the caller's transaction (as
/// [`store::erase_application`] does, kept-on-file ones included: the person asked), and
/// returns the CV files to delete once it has committed.
pub fn erase_by_email(
    conn: &mut DbConnection,
    uploads_dir: &Path,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<Erasure> {
    let mut erasure = Erasure::default();
    for (id, _) in ids_of(conn, email)? {
        let (name, phone): (String, Option<String>) = apps::table
            .find(&id)
            .select((apps::name, apps::phone))
            .first(conn)?;
        erasure.needle(&name);
        if let Some(phone) = phone {
            erasure.needle(&phone);
        }
        if let Some(stored) = store::anonymise_application(conn, &id, now)? {
            erasure.records += 1;
            erasure
                .files
                .extend(stored.map(|name| cv_path(uploads_dir, &name)));
        }
        erasure.refs.push((REF_KIND.to_string(), id));
    }
    Ok(erasure)
}
