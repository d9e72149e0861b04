//! Job applications' part of one person's data: the applications sent with an address (with
//! their answers and CV metadata, and where the CV file lies, for the export), and their
//! erasure inside the caller's transaction (the CV files are handed back to be deleted after
//! the commit; the hourly sweep of the CV folder removes any left by a crash in between).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::MailSettings;
use crate::db::schema::job_applications as apps;
use crate::db::DbConnection;
use crate::domain::privacy::delete_files;
use crate::domain::Erasure;
use crate::mail::transport::stored_copies;
use crate::staff::audit;

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

/// Erases every application of `email` inside the caller's transaction (each through
/// [`erase_application`], kept-on-file ones included: the person asked), and returns the CV
/// files and emails to delete once it has committed.
pub fn erase_by_email(
    conn: &mut DbConnection,
    uploads_dir: &Path,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<Erasure> {
    let mut erasure = Erasure::default();
    for (id, _) in ids_of(conn, email)? {
        if let Some(one) = erase_application(conn, uploads_dir, &id, now)? {
            erasure.merge(one);
        }
    }
    Ok(erasure)
}

/// Erases one applicant: the one erasure of an application, whoever asks for it (staff on
/// request, the retention pass, or the erasure of a person, which then scrubs the whole
/// audit log too). Inside the caller's transaction the record is anonymised (see
/// [`store::anonymise_application`]: the emails about it are deleted) and the audit entries
/// about the application are scrubbed of the applicant's name, address and phone. Returns
/// `None` when it was already anonymised; otherwise what the caller finishes after the
/// commit: the CV file (`files`) and the deleted emails' ids (`emails`, for their copies
/// outside the database).
#[tracing::instrument(skip_all, fields(application_id = id))]
pub fn erase_application(
    conn: &mut DbConnection,
    uploads_dir: &Path,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Erasure>> {
    let (name, email, phone): (String, String, Option<String>) = apps::table
        .find(id)
        .select((apps::name, apps::email, apps::phone))
        .first(conn)?;
    let Some(done) = store::anonymise_application(conn, id, now)? else {
        return Ok(None);
    };
    let mut erasure = Erasure {
        records: 1,
        refs: vec![(REF_KIND.to_string(), id.to_string())],
        files: done
            .cv_stored_name
            .map(|name| cv_path(uploads_dir, &name))
            .into_iter()
            .collect(),
        emails: done.emails,
        ..Erasure::default()
    };
    for value in [Some(&email), Some(&name), phone.as_ref()]
        .into_iter()
        .flatten()
    {
        erasure.needle(value);
    }
    let needles: Vec<&str> = erasure.needles.iter().map(String::as_str).collect();
    erasure.audit_entries = audit::scrub(conn, REF_KIND, id, &needles)?;
    Ok(Some(erasure))
}

/// After the commit of [`erase_application`] (or [`erase_by_email`]): deletes the CV files
/// and the stored copies of the deleted emails. Returns how many files were deleted.
pub fn delete_files_of(mail: &MailSettings, erasure: &Erasure) -> usize {
    let mut files = erasure.files.clone();
    files.extend(stored_copies(mail, &erasure.emails));
    delete_files(&files)
}

/// [`delete_files_of`] off the async runtime.
pub async fn delete_after_commit(mail: &MailSettings, erasure: Erasure) -> usize {
    let mail = mail.clone();
    match tokio::task::spawn_blocking(move || delete_files_of(&mail, &erasure)).await {
        Ok(deleted) => deleted,
        Err(e) => {
            tracing::warn!(error = %e, "the erased files could not be deleted");
            0
        }
    }
}
