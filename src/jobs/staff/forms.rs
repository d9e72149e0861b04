//! What the staff side reads from requests: list filters, a review's changes, and the
//! posting form's fields.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{AppError, FieldError};
use crate::jobs::model::{
    EmploymentType, NoteBody, PostingInput, PostingStatus, QuestionInput, QuestionKind, Rating,
    SalaryInput, SalaryPeriod, Stage, Workplace,
};
use crate::jobs::store::{ApplicationFilter, ApplicationSort};
use crate::staff::ui::present;
use crate::web::pagination::PageRequest;

use super::api::ApplicationPatch;

/// `GET /api/v1/staff/jobs` query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostingsQuery {
    /// A notice code for the staff page after a form (read by the frame).
    #[allow(dead_code)]
    pub notice: Option<String>,
    pub status: Option<String>,
}

pub(super) fn parse_posting_status(value: Option<&str>) -> Result<Option<PostingStatus>, AppError> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => PostingStatus::parse(s)
            .map(Some)
            .ok_or_else(|| AppError::field("status", "Use one of: draft, open, closed.")),
    }
}

/// `GET /api/v1/staff/jobs/{slug}/applications` query.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationsQuery {
    #[allow(dead_code)]
    pub notice: Option<String>,
    pub stage: Option<String>,
    pub email: Option<String>,
    /// date (newest first, the default), oldest or rating.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub(super) fn stage_names() -> Vec<&'static str> {
    Stage::ALL.iter().map(|s| s.as_str()).collect()
}

pub(super) fn parse_stage(field: &str, value: &str) -> Result<Stage, FieldError> {
    Stage::parse(value.trim())
        .ok_or_else(|| FieldError::new(field, format!("Use one of: {}.", stage_names().join(", "))))
}

impl ApplicationsQuery {
    pub(super) fn filter(&self) -> Result<ApplicationFilter, AppError> {
        let request = PageRequest::parse(self.cursor.as_deref(), self.limit)?;
        let mut errors = Vec::new();
        let stage = present(&self.stage)
            .and_then(|s| parse_stage("stage", s).map_err(|e| errors.push(e)).ok());
        let sort = match present(&self.sort) {
            None | Some("date") | Some("newest") => ApplicationSort::Newest,
            Some("oldest") => ApplicationSort::Oldest,
            Some("rating") => ApplicationSort::Rating,
            Some(_) => {
                errors.push(FieldError::new("sort", "Use date, oldest or rating."));
                ApplicationSort::Newest
            }
        };
        // An address is compared whole: something that is not one is refused rather than
        // matching nothing.
        let email = present(&self.email).and_then(|v| {
            crate::domain::EmailAddress::parse(v)
                .map(|e| e.normalized())
                .map_err(|m| errors.push(FieldError::new("email", m)))
                .ok()
        });
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(ApplicationFilter {
            stage,
            email,
            sort,
            cursor: request.cursor,
            limit: request.limit,
        })
    }
}

/// A valid set of changes to one application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub stage: Option<Stage>,
    pub note: Option<NoteBody>,
    pub rating: Option<Rating>,
    /// `Some` when the rejection email is to be sent (with the optional custom text).
    pub rejection_email: Option<Option<String>>,
}

/// The longest rejection message, in characters.
pub const MAX_REJECTION_MESSAGE_CHARS: usize = 5_000;

impl TryFrom<ApplicationPatch> for Review {
    type Error = AppError;

    fn try_from(p: ApplicationPatch) -> Result<Review, AppError> {
        let mut errors = Vec::new();
        let stage = p
            .stage
            .as_deref()
            .and_then(|s| parse_stage("stage", s).map_err(|e| errors.push(e)).ok());
        let note = p.note.as_deref().and_then(|n| {
            NoteBody::parse(n)
                .map_err(|m| errors.push(FieldError::new("note", m)))
                .ok()
        });
        let rating = p.rating.and_then(|r| {
            Rating::new(r)
                .map_err(|m| errors.push(FieldError::new("rating", m)))
                .ok()
        });
        let send = p.send_rejection_email.unwrap_or(false);
        let message = match p.rejection_message.as_deref() {
            Some(m) => {
                match crate::jobs::model::clean_text(m, MAX_REJECTION_MESSAGE_CHARS, false) {
                    Ok(m) => Some(m).filter(|m| !m.is_empty()),
                    Err(e) => {
                        errors.push(FieldError::new("rejection_message", e));
                        None
                    }
                }
            }
            None => None,
        };
        let stage_invalid = p.stage.is_some() && stage.is_none();
        let wants_email = send || p.rejection_message.is_some();
        if wants_email && !stage_invalid && stage != Some(Stage::Rejected) {
            errors.push(FieldError::new(
                "send_rejection_email",
                "A rejection email goes only with a move to rejected.",
            ));
        } else if p.rejection_message.is_some() && !send {
            errors.push(FieldError::new(
                "send_rejection_email",
                "Set send_rejection_email to true to send this message.",
            ));
        }
        if p.stage.is_none() && p.note.is_none() && p.rating.is_none() && errors.is_empty() {
            errors.push(FieldError::new("body", "Send stage, note or rating."));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Review {
            stage,
            note,
            rating,
            rejection_email: send.then_some(message),
        })
    }
}

pub(super) fn blank_input() -> PostingInput {
    PostingInput {
        slug: String::new(),
        title: String::new(),
        summary: String::new(),
        description_markdown: String::new(),
        location: String::new(),
        country: None,
        remote: Workplace::OnSite,
        employment_type: EmploymentType::FullTime,
        salary: None,
        hiring_contacts: Vec::new(),
        opens_at: None,
        closes_at: None,
        status: PostingStatus::Draft,
        questions: Vec::new(),
    }
}

/// The posted form as name/value pairs (question rows are `q<N>_id`, `q<N>_kind`,
/// `q<N>_label`, `q<N>_required`).
#[derive(Debug, Clone)]
pub struct PostingForm(pub Vec<(String, String)>);

impl PostingForm {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_string()
    }

    fn optional(&self, name: &str) -> Option<String> {
        let value = self.get(name).map(String::from);
        present(&value).map(String::from)
    }

    /// The values to show again after a failed save.
    pub(super) fn echo(&self) -> Value {
        let mut rows = Vec::new();
        for i in 0.. {
            let Some(label) = self.get(&format!("q{i}_label")) else {
                break;
            };
            rows.push(json!({
                "id": self.optional(&format!("q{i}_id")),
                "kind": self.text(&format!("q{i}_kind")),
                "label": label,
                "required": self.get(&format!("q{i}_required")).is_some(),
            }));
        }
        let mut v = json!({ "questions": rows });
        for name in [
            "slug",
            "title",
            "summary",
            "description_markdown",
            "location",
            "country",
            "remote",
            "employment_type",
            "status",
            "salary_currency",
            "salary_min",
            "salary_max",
            "salary_period",
            "hiring_contacts",
            "opens_at",
            "closes_at",
        ] {
            v[name] = json!(self.text(name));
        }
        v
    }

    /// The form as the API's input; unreadable values are named all at once.
    pub fn to_input(&self) -> Result<PostingInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        fn pick<T: Copy>(
            errors: &mut Vec<FieldError>,
            field: &str,
            value: &str,
            parse: fn(&str) -> Option<T>,
            fallback: T,
        ) -> T {
            parse(value.trim()).unwrap_or_else(|| {
                errors.push(FieldError::new(field, "Choose one of the options."));
                fallback
            })
        }
        let remote = pick(
            &mut errors,
            "remote",
            &self.text("remote"),
            Workplace::parse,
            Workplace::OnSite,
        );
        let employment_type = pick(
            &mut errors,
            "employment_type",
            &self.text("employment_type"),
            EmploymentType::parse,
            EmploymentType::FullTime,
        );
        let status = pick(
            &mut errors,
            "status",
            &self.text("status"),
            PostingStatus::parse,
            PostingStatus::Draft,
        );
        let mut amount = |field: &str| -> Option<i64> {
            let v = self.optional(field)?;
            v.parse::<i64>()
                .map_err(|_| {
                    errors.push(FieldError::new(
                        field,
                        "A whole number of minor units (cents).",
                    ))
                })
                .ok()
        };
        let (min, max) = (amount("salary_min"), amount("salary_max"));
        let salary = match self.optional("salary_currency") {
            None if min.is_none() && max.is_none() => None,
            currency => Some(SalaryInput {
                currency: currency.unwrap_or_default().to_ascii_uppercase(),
                min_minor: min,
                max_minor: max,
                period: SalaryPeriod::parse(self.text("salary_period").trim())
                    .unwrap_or(SalaryPeriod::Year),
            }),
        };
        let mut when = |field: &str| -> Option<DateTime<Utc>> {
            let v = self.optional(field)?;
            NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M:%S"))
                .map(|t| t.and_utc())
                .map_err(|_| {
                    errors.push(FieldError::new(
                        field,
                        "A date and time, e.g. 2026-12-01T09:00 (UTC).",
                    ))
                })
                .ok()
        };
        let (opens_at, closes_at) = (when("opens_at"), when("closes_at"));
        let mut questions = Vec::new();
        for i in 0.. {
            let Some(label) = self.get(&format!("q{i}_label")) else {
                break;
            };
            if label.trim().is_empty() {
                continue;
            }
            let kind = pick(
                &mut errors,
                &format!("q{i}_kind"),
                &self.text(&format!("q{i}_kind")),
                QuestionKind::parse,
                QuestionKind::ShortText,
            );
            questions.push(QuestionInput {
                id: self.optional(&format!("q{i}_id")),
                kind,
                label: label.to_string(),
                required: self.get(&format!("q{i}_required")).is_some(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PostingInput {
            slug: self.text("slug"),
            title: self.text("title"),
            summary: self.text("summary"),
            description_markdown: self.text("description_markdown"),
            location: self.text("location"),
            country: self.optional("country"),
            remote,
            employment_type,
            salary,
            hiring_contacts: self
                .text("hiring_contacts")
                .split(['\n', ',', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            opens_at,
            closes_at,
            status,
            questions,
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct StageForm {
    pub stage: String,
    #[serde(default)]
    pub send_rejection_email: Option<String>,
    #[serde(default)]
    pub rejection_message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    pub body: String,
}

#[derive(Debug, Deserialize)]
pub struct RatingForm {
    pub rating: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(err: AppError) -> Vec<String> {
        match err {
            AppError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reviews_name_every_bad_field() {
        let err = Review::try_from(ApplicationPatch {
            stage: Some("archived".into()),
            rating: Some(9),
            note: Some("  ".into()),
            ..Default::default()
        })
        .expect_err("invalid");
        assert_eq!(fields(err), ["stage", "note", "rating"]);
        let err = Review::try_from(ApplicationPatch::default()).expect_err("empty");
        assert_eq!(fields(err), ["body"]);
        let err = Review::try_from(ApplicationPatch {
            stage: Some("screening".into()),
            send_rejection_email: Some(true),
            ..Default::default()
        })
        .expect_err("email off a rejection");
        assert_eq!(fields(err), ["send_rejection_email"]);
    }

    #[test]
    fn only_a_rejection_asked_to_email_carries_an_email() {
        let quiet = Review::try_from(ApplicationPatch {
            stage: Some("rejected".into()),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(quiet.rejection_email, None);
        let told = Review::try_from(ApplicationPatch {
            stage: Some("rejected".into()),
            send_rejection_email: Some(true),
            rejection_message: Some("Thank you.".into()),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(told.rejection_email, Some(Some("Thank you.".into())));
    }
}
