//! One person across Frontdesk: everything stored about an address, gathered from each
//! feature's `privacy` module; its export (JSON, or a zip with the CV files); and its erasure
//! in one transaction. Used by the staff view and by readers' self-service.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::comments::privacy::CommentRecord;
use crate::config::Settings;
use crate::db::{Db, DbConnection};
use crate::domain::{EmailAddress, Erasure};
use crate::donations::privacy::DonationRecord;
use crate::donations::Donations;
use crate::error::AppError;
use crate::feedback::privacy::VoteRecord;
use crate::jobs::privacy::ApplicationRecord;
use crate::keys::Keys;
use crate::mail::transport::stored_copies;
use crate::mail::{mask_email, outbox};
use crate::newsletter::privacy::NewsletterRecord;
use crate::sealed::TipsKey;
use crate::staff::audit::{self, Actor, Entry};

/// How a person is named in the audit log: `target_id` is a keyed hash of the address.
pub const TARGET_KIND: &str = "person";

/// The keyed hash naming an address in the audit log (the address itself is never stored
/// there by this module).
pub fn address_hash(keys: &Keys, email: &EmailAddress) -> String {
    keys.address_hash(&email.normalized())
}

/// Everything Frontdesk stores about one address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Person {
    /// The address asked about (lower-cased).
    pub email: String,
    pub generated_at: DateTime<Utc>,
    pub newsletter: NewsletterRecord,
    pub donations: Vec<DonationRecord>,
    /// Votes whose comment names the address (votes themselves are anonymous).
    pub feedback_votes: Vec<VoteRecord>,
    pub comments: Vec<CommentRecord>,
    pub job_applications: Vec<ApplicationRecord>,
    /// Emails sent or queued to the address (content not included).
    pub emails: Vec<EmailRecord>,
}

impl Person {
    /// True when nothing at all is stored about the address.
    pub fn is_empty(&self) -> bool {
        self.newsletter.subscriber.is_none()
            && !self.newsletter.blocked
            && self.donations.is_empty()
            && self.feedback_votes.is_empty()
            && self.comments.is_empty()
            && self.job_applications.is_empty()
            && self.emails.is_empty()
    }

    /// The CV files to put in the zip export: `(name in the zip, file on disk)`.
    pub fn cv_files(&self) -> Vec<(String, PathBuf)> {
        self.job_applications
            .iter()
            .filter_map(|a| {
                let file = a.cv_file.clone()?;
                let name = a.cv.as_ref().map_or("cv", |cv| cv.filename.as_str());
                Some((format!("cv/{}-{}", a.id, safe_name(name)), file))
            })
            .collect()
    }
}

/// An email to the address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmailRecord {
    pub id: String,
    /// What kind of email it is (its template), e.g. `newsletter_confirm`.
    pub template: String,
    pub subject: String,
    /// `queued`, `sent`, `failed` or `cancelled`.
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The staff outbox page.
    pub staff_url: String,
}

/// A file name safe inside a zip: letters, digits, `.`, `-` and `_` only.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "cv".into()
    } else {
        cleaned
    }
}

/// Gathers everything about `email` (read only; call inside a transaction for a consistent view).
/// Confidential tips are found and withheld (`tips.open` false), or opened for the reader's
/// own verified export.
pub fn gather(
    conn: &mut DbConnection,
    keys: &Keys,
    uploads_dir: &Path,
    email: &EmailAddress,
    tips: crate::comments::privacy::Tips<'_>,
) -> Result<Person, AppError> {
    let address = email.normalized();
    Ok(Person {
        newsletter: crate::newsletter::privacy::find_by_email(conn, keys, &address)?,
        donations: crate::donations::privacy::find_by_email(conn, &address)?,
        feedback_votes: crate::feedback::privacy::find_by_email(conn, &address)?,
        comments: crate::comments::privacy::find_by_email(conn, &address, tips)?,
        job_applications: crate::jobs::privacy::find_by_email(conn, uploads_dir, &address)?,
        emails: outbox::find_by_recipient(conn, &address)?
            .into_iter()
            .map(|row| EmailRecord {
                id: row.id,
                template: row.template,
                subject: row.subject,
                state: row.state,
                created_at: row.created_at.and_utc(),
                sent_at: row.sent_at.map(|t| t.and_utc()),
                staff_url: "/staff/outbox".into(),
            })
            .collect(),
        email: address,
        generated_at: Utc::now(),
    })
}

/// What is being done with one person's data, as the audit log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Staff looked at it.
    View,
    /// Exported as JSON.
    ExportJson,
    /// Exported as a zip with the CV files.
    ExportZip,
}

impl Purpose {
    fn action(self) -> &'static str {
        match self {
            Purpose::View => "person.viewed",
            Purpose::ExportJson => "person.exported_json",
            Purpose::ExportZip => "person.exported_zip",
        }
    }
}

/// Gathers everything about `email` and audits the access in the same transaction (the
/// entry names the address by its keyed hash only).
pub async fn look_up(
    db: &Db,
    keys: &Keys,
    uploads_dir: &Path,
    email: &EmailAddress,
    actor: Actor,
    purpose: Purpose,
    tips: (Option<TipsKey>, bool),
) -> Result<Person, AppError> {
    let (keys, dir, email) = (keys.clone(), uploads_dir.to_path_buf(), email.clone());
    db.write(move |conn| {
        let (key, open) = tips;
        let tips = crate::comments::privacy::Tips {
            key: key.as_ref(),
            open,
        };
        let person = gather(conn, &keys, &dir, &email, tips)?;
        let hash = address_hash(&keys, &email);
        audit::record(
            conn,
            &actor,
            Entry::new(purpose.action())
                .target(TARGET_KIND, &hash)
                .details(json!({
                    "found": !person.is_empty(),
                    "donations": person.donations.len(),
                    "comments": person.comments.len(),
                    "job_applications": person.job_applications.len(),
                    "emails": person.emails.len(),
                })),
        )?;
        Ok(person)
    })
    .await
}

/// The zip export: `person.json` and every CV file under `cv/`.
pub async fn zip(person: &Person) -> Result<Vec<u8>, AppError> {
    let json = serde_json::to_vec_pretty(person)
        .map_err(|e| AppError::unexpected(anyhow::Error::new(e)))?;
    let files = person.cv_files();
    tokio::task::spawn_blocking(move || build_zip(&json, &files))
        .await
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("zip task failed: {e}")))?
}

fn build_zip(json: &[u8], files: &[(String, PathBuf)]) -> Result<Vec<u8>, AppError> {
    use zip::write::SimpleFileOptions;
    let fail = |e: zip::result::ZipError| {
        AppError::unexpected(anyhow::Error::new(e).context("cannot build the export zip"))
    };
    let io = |e: std::io::Error| {
        AppError::unexpected(anyhow::Error::new(e).context("cannot build the export zip"))
    };
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        w.start_file("person.json", options).map_err(fail)?;
        w.write_all(json).map_err(io)?;
        for (name, path) in files {
            let bytes = match std::fs::read(path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!("a CV file named by an application is missing");
                    continue;
                }
                Err(e) => return Err(io(e)),
            };
            w.start_file(name.as_str(), options).map_err(fail)?;
            w.write_all(&bytes).map_err(io)?;
        }
        w.finish().map_err(fail)?;
    }
    Ok(out.into_inner())
}

/// What an erasure did, per part (counts only: nothing that names the person).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErasureReport {
    /// Subscribers deleted (the address is blocked from the newsletter either way).
    pub newsletter_subscribers: usize,
    /// Gifts anonymised (amounts, dates and receipts kept).
    pub donations: usize,
    /// Monthly gifts stopped at their processor.
    pub recurring_stopped: usize,
    /// Votes whose reason and comment were removed.
    pub feedback_votes: usize,
    pub comments: usize,
    /// Applications anonymised, their CVs deleted.
    pub job_applications: usize,
    /// Queued emails cancelled.
    pub emails_cancelled: usize,
    /// Emails whose content and personal fields were cleared.
    pub emails_cleared: usize,
    /// Audit entries whose snapshots named the person.
    pub audit_entries_scrubbed: usize,
    pub cv_files_deleted: usize,
    /// Copies of erased emails deleted (the `.eml` files of the `file` mail transport).
    pub email_files_deleted: usize,
}

/// What an erasure leaves to delete once its transaction has committed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErasedFiles {
    /// CV files.
    pub cvs: Vec<PathBuf>,
    /// Stored copies of the erased emails.
    pub emails: Vec<PathBuf>,
}

/// Erases everything about `email`: monthly gifts are first stopped at their processor, then
/// one transaction erases every feature's records, the emails to and about the person, the
/// pending self-service requests and the person's values in audit snapshots, and records the
/// erasure (by the address's keyed hash); the CV files and the stored copies of the emails
/// are deleted after the commit.
/// With `request` (the hash of a reader's emailed token), the transaction first uses that
/// request up and erases nothing when it is no longer valid (404). Erasing again is harmless.
pub async fn erase(
    db: &Db,
    keys: &Keys,
    settings: &Settings,
    donations: &Donations,
    email: &EmailAddress,
    actor: Actor,
    request: Option<String>,
) -> Result<ErasureReport, AppError> {
    let address = email.normalized();
    let recurring_stopped =
        crate::donations::privacy::stop_recurring(db, donations, &address).await?;
    let (keys, settings, email) = (keys.clone(), settings.clone(), email.clone());
    let (mut report, files) = db
        .write(move |conn| {
            if let Some(token_hash) = request {
                let used = super::store::use_request(conn, &token_hash, crate::db::now())?;
                if used.as_deref() != Some(email.normalized().as_str()) {
                    return Err(AppError::NotFound);
                }
            }
            erase_in(conn, &keys, &settings, &email, &actor)
        })
        .await?;
    report.recurring_stopped = recurring_stopped;
    (report.cv_files_deleted, report.email_files_deleted) = delete_files(files).await;
    tracing::info!(to = %mask_email(&address), ?report, "a person's data was erased");
    Ok(report)
}

/// The transaction of [`erase`]: returns the report and the files to delete after commit.
pub fn erase_in(
    conn: &mut DbConnection,
    keys: &Keys,
    settings: &Settings,
    email: &EmailAddress,
    actor: &Actor,
) -> Result<(ErasureReport, ErasedFiles), AppError> {
    let address = email.normalized();
    let now = crate::db::now();
    let mut all = Erasure::default();
    all.needle(&address);
    all.needle(email.as_str());
    let newsletter = crate::newsletter::privacy::erase_by_email(conn, keys, &address, now)?;
    let gifts = crate::donations::privacy::erase_by_email(conn, &address)?;
    let votes = crate::feedback::privacy::erase_by_email(conn, &address)?;
    // A tips key that cannot be read stopped start-up already; here it only finds tips.
    let tips = settings.security.load_tips_key().ok().flatten();
    let comments = crate::comments::privacy::erase_by_email(conn, &address, tips.as_ref())?;
    let applications =
        crate::jobs::privacy::erase_by_email(conn, &settings.uploads.dir, &address, now)?;
    let mut report = ErasureReport {
        newsletter_subscribers: newsletter.records,
        donations: gifts.records,
        feedback_votes: votes.records,
        comments: comments.records,
        job_applications: applications.records,
        ..ErasureReport::default()
    };
    for part in [newsletter, gifts, votes, comments, applications] {
        all.merge(part);
    }
    let emails = outbox::erase_recipient(conn, email, &all.refs)?;
    report.emails_cancelled = emails.cancelled;
    report.emails_cleared = emails.cleared;
    all.emails.extend(emails.ids);
    super::store::delete_requests_for(conn, &address)?;
    let needles: Vec<&str> = all.needles.iter().map(String::as_str).collect();
    report.audit_entries_scrubbed = all.audit_entries + audit::scrub_everywhere(conn, &needles)?;
    audit::record(
        conn,
        actor,
        Entry::new("person.erased")
            .target(TARGET_KIND, &address_hash(keys, email))
            .details(json!(report)),
    )?;
    let files = ErasedFiles {
        emails: stored_copies(&settings.mail, &all.emails),
        cvs: all.files,
    };
    Ok((report, files))
}

/// Deletes the erased CV files and email copies (after the commit): how many of each. A CV
/// that cannot be deleted now is logged; the retention sweep of the CV folder removes it
/// later, as no application names it.
async fn delete_files(files: ErasedFiles) -> (usize, usize) {
    tokio::task::spawn_blocking(move || {
        (
            crate::domain::privacy::delete_files(&files.cvs),
            crate::domain::privacy::delete_files(&files.emails),
        )
    })
    .await
    .unwrap_or_default()
}

/// Staff lift the newsletter block on `email` (left by an erasure, a bounce or a complaint):
/// audited by the address's keyed hash. Returns whether a block was lifted.
pub async fn lift_block(
    db: &Db,
    keys: &Keys,
    email: &EmailAddress,
    actor: Actor,
) -> Result<bool, AppError> {
    let (keys, email) = (keys.clone(), email.clone());
    db.write(move |conn| {
        let lifted = crate::newsletter::privacy::lift_block(
            conn,
            &keys,
            &email.normalized(),
            crate::db::now(),
        )?;
        if lifted {
            audit::record(
                conn,
                &actor,
                Entry::new("person.newsletter_block_lifted")
                    .target(TARGET_KIND, &address_hash(&keys, &email)),
            )?;
        }
        Ok(lifted)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_names_are_safe() {
        assert_eq!(safe_name("My CV (final).pdf"), "My_CV__final_.pdf");
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(""), "cv");
    }
}
