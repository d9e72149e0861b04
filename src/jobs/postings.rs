//! Creating and changing postings: the one path behind the staff API
//! (`POST /api/v1/staff/jobs`, `PATCH /api/v1/staff/jobs/{slug}`) and the staff pages' forms,
//! with who may change a posting and who may be its hiring contacts.
//!
//! A posting's hiring contacts are emailed every applicant's name and see its applicants, so:
//! - only admins choose them. A hiring user's new posting has its author as its one contact
//!   (an empty list means that too); a hiring user's edit must leave them as they are (403
//!   [`CONTACTS_ADMIN_ONLY`]); an edit that leaves them unchanged goes through;
//! - a new or changed list names only enabled staff accounts with the hiring or admin role
//!   (422 on `hiring_contacts`), never an outside address;
//! - hiring staff change only the postings they are a contact of, the same postings whose
//!   applicants they see ([`looks_after`]; 403 [`NOT_A_CONTACT`] otherwise); admins change all;
//! - every change of the list is audited with the list before and after.
//!
//! Everything runs inside the caller's write transaction.

use diesel::QueryResult;
use serde_json::json;

use super::model::{normalize_email, NewPosting, Posting, PostingInput};
use super::store;
use crate::db::DbConnection;
use crate::error::{AppError, FieldError};
use crate::staff::audit::{self, Actor, Entry};
use crate::staff::{Role, Staff};

/// How postings are named in the audit log.
pub const POSTING: &str = "job_posting";

/// The answer to a hiring user's change of a posting's hiring contacts.
pub const CONTACTS_ADMIN_ONLY: &str = "Only admins change a posting's hiring contacts: send \
     hiring_contacts as they are (or leave the field out), or ask an admin to change them.";

/// The answer to a hiring user's change of a posting they are not a hiring contact of.
pub const NOT_A_CONTACT: &str =
    "Only this posting's hiring contacts and admins change it (or see its applicants).";

/// Who is creating or changing a posting, movable into a database closure.
#[derive(Debug, Clone)]
pub struct Editor {
    role: Role,
    email: String,
    actor: Actor,
}

impl Editor {
    pub fn of(staff: &Staff) -> Editor {
        Editor {
            role: staff.role,
            email: normalize_email(&staff.user.email),
            actor: staff.actor(),
        }
    }

    fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Whether a staff member looks after a posting: admins every posting, hiring staff those
/// they are a hiring contact of. They alone see its applicants and change it.
pub fn looks_after(
    conn: &mut DbConnection,
    role: Role,
    email: &str,
    posting_id: &str,
) -> QueryResult<bool> {
    match role {
        Role::Admin => Ok(true),
        Role::Hiring => store::is_hiring_contact(conn, posting_id, email),
        _ => Ok(false),
    }
}

/// Creates a posting from `input`, audited.
pub fn create(
    conn: &mut DbConnection,
    editor: &Editor,
    input: PostingInput,
) -> Result<Posting, AppError> {
    let mut new = NewPosting::try_from(input).map_err(AppError::Validation)?;
    if !editor.is_admin() && new.hiring_contacts.is_empty() {
        new.hiring_contacts = vec![editor.email.clone()];
    }
    settle_contacts(conn, editor, None, &new.hiring_contacts)?;
    let posting = store::insert_posting(conn, &new, crate::db::now())?;
    audit::record(
        conn,
        &editor.actor,
        Entry::new("job_posting.created")
            .target(POSTING, &posting.id)
            .details(json!({
                "slug": posting.slug,
                "status": posting.status.as_str(),
                "hiring_contacts": new.hiring_contacts,
            })),
    )?;
    Ok(posting)
}

/// Changes the posting at `slug` to what `change` makes of its current input, audited.
pub fn update(
    conn: &mut DbConnection,
    editor: &Editor,
    slug: &str,
    change: impl FnOnce(&PostingInput) -> Result<PostingInput, AppError>,
) -> Result<Posting, AppError> {
    let current = store::find_posting_by_slug(conn, slug)?;
    if !looks_after(conn, editor.role, &editor.email, &current.id)? {
        return Err(AppError::Forbidden(NOT_A_CONTACT.into()));
    }
    let before = store::hiring_contacts(conn, &current.id)?;
    let questions = store::posting_questions(conn, &current.id, true)?;
    let input = change(&PostingInput::from_posting(&current, &before, &questions))?;
    let new = NewPosting::try_from(input).map_err(AppError::Validation)?;
    let changed = settle_contacts(conn, editor, Some(&before), &new.hiring_contacts)?;
    let updated = store::update_posting(conn, &current.id, &new, crate::db::now())?;
    audit::record(
        conn,
        &editor.actor,
        Entry::new("job_posting.updated")
            .target(POSTING, &updated.id)
            .details(json!({
                "slug": updated.slug,
                "previous_slug": (current.slug != updated.slug).then_some(&current.slug),
                "status": updated.status.as_str(),
            })),
    )?;
    if changed {
        audit::record(
            conn,
            &editor.actor,
            Entry::new("job_posting.contacts_changed")
                .target(POSTING, &updated.id)
                .details(json!({ "before": before, "after": new.hiring_contacts })),
        )?;
    }
    Ok(updated)
}

/// Checks a posting's hiring contacts going from `before` (`None` for a new posting) to
/// `after` (both normalised); returns whether they change. Only an admin changes them, or a
/// hiring user names themselves alone on their new posting; every contact of a new or
/// changed list is an enabled hiring or admin account.
fn settle_contacts(
    conn: &mut DbConnection,
    editor: &Editor,
    before: Option<&[String]>,
    after: &[String],
) -> Result<bool, AppError> {
    let allowed = match before {
        Some(before) if same_contacts(before, after) => return Ok(false),
        _ if editor.is_admin() => true,
        Some(_) => false,
        None => after == [editor.email.clone()],
    };
    if !allowed {
        return Err(AppError::Forbidden(CONTACTS_ADMIN_ONLY.into()));
    }
    let mut errors = Vec::new();
    for email in after {
        let role = crate::staff::service::enabled_role(conn, email)?;
        if !matches!(role, Some(Role::Hiring | Role::Admin)) {
            errors.push(FieldError::new(
                "hiring_contacts",
                format!("{email} is not an enabled staff account with the hiring or admin role."),
            ));
        }
    }
    if errors.is_empty() {
        Ok(true)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The same addresses, in any order.
fn same_contacts(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_compare_as_sets() {
        let ab = ["a@x.org".to_string(), "b@x.org".to_string()];
        let ba = ["b@x.org".to_string(), "a@x.org".to_string()];
        assert!(same_contacts(&ab, &ba));
        assert!(!same_contacts(&ab, &ab[..1]));
        assert!(same_contacts(&[], &[]));
    }
}
