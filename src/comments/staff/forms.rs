//! What the staff side reads from requests: the inbox filters, the changes a comment may
//! take, and the HTML forms' fields.

use serde::Deserialize;

use super::MAX_NOTE_CHARS;
use crate::comments::model::{clean_text, Status};
use crate::comments::store::CommentFilter;
use crate::error::{AppError, FieldError};
use crate::staff::ui::present;

/// `GET /api/v1/staff/comments` and `/staff/comments` query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// A notice code for the staff page after a form (read by the frame).
    #[allow(dead_code)]
    pub notice: Option<String>,
    pub status: Option<String>,
    pub email: Option<String>,
    pub assigned_to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub(super) fn parse_status(field: &str, value: &str) -> Result<Status, FieldError> {
    Status::parse(value.trim())
        .ok_or_else(|| FieldError::new(field, "Use one of: new, read, replied, archived, spam."))
}

impl InboxQuery {
    pub(super) fn filter(&self) -> Result<CommentFilter, AppError> {
        let status = match present(&self.status).map(String::from) {
            Some(s) => Some(parse_status("status", &s).map_err(|e| AppError::Validation(vec![e]))?),
            None => None,
        };
        // Both name addresses, compared whole: something that is not one is refused rather
        // than matching nothing.
        let address = |field: &str, value: &Option<String>| match present(value) {
            Some(v) => crate::domain::EmailAddress::parse(v)
                .map(|e| Some(e.normalized()))
                .map_err(|m| AppError::field(field, m)),
            None => Ok(None),
        };
        Ok(CommentFilter {
            status,
            email: address("email", &self.email)?,
            assigned_to: address("assigned_to", &self.assigned_to)?,
        })
    }
}

/// A valid set of changes to one comment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub status: Option<Status>,
    pub assigned_to: Option<Option<String>>,
    pub sensitive: Option<bool>,
    pub spam: Option<bool>,
    /// A tip kept past `retention.confidential_tip_days` (or not).
    pub keep: Option<bool>,
    /// Restrict a tip to these staff emails (empty: every holder of the tips permission).
    pub readers: Option<Vec<String>>,
}

/// A list of staff emails as a form sends it: one per line, or separated by commas.
pub(super) fn parse_readers(input: &str) -> Vec<String> {
    let mut emails: Vec<String> = input
        .split([',', '\n', ';'])
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    emails.sort_unstable();
    emails.dedup();
    emails
}

#[derive(Debug, Deserialize)]
pub struct ReadersForm {
    #[serde(default)]
    pub readers: String,
}

pub(super) fn parse_note(input: &str) -> Result<String, AppError> {
    let body =
        clean_text(input, MAX_NOTE_CHARS, "A note").map_err(|m| AppError::field("body", m))?;
    if body.is_empty() {
        return Err(AppError::field("body", "Write a note."));
    }
    Ok(body)
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    pub status: String,
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    pub assigned_to: String,
}

#[derive(Debug, Deserialize)]
pub struct FlagForm {
    pub value: String,
}

impl FlagForm {
    pub(super) fn flag(&self, field: &str) -> Result<bool, AppError> {
        match self.value.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(AppError::field(field, "Use true or false.")),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    pub body: String,
}

#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    pub message: String,
}
