//! Posting input: what staff send to create or replace a posting, and its parsing into a
//! [`NewPosting`]. The parse is a list of small named steps, one per field group, each
//! adding its failures to one [`Problems`] list so that every failing field is named at once.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    clean_text, required_text, to_stored, EmailAddress, EmploymentType, Posting, PostingStatus,
    Question, QuestionKind, SalaryPeriod, Slug, Workplace,
};
use crate::error::FieldError;

/// A salary range as staff send it (minor units of `currency`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalaryInput {
    /// ISO 4217, e.g. `USD`.
    pub currency: String,
    #[serde(default)]
    pub min_minor: Option<i64>,
    #[serde(default)]
    pub max_minor: Option<i64>,
    pub period: SalaryPeriod,
}

/// A custom question as staff send it. `id` names an existing question to keep its answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    #[serde(default)]
    pub id: Option<String>,
    pub kind: QuestionKind,
    pub label: String,
    #[serde(default)]
    pub required: bool,
}

/// A posting as staff create or replace it (the body of `POST /api/v1/staff/jobs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostingInput {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub description_markdown: String,
    pub location: String,
    /// ISO 3166-1 alpha-2 country of the job (or of the applicants, for remote work).
    #[serde(default)]
    pub country: Option<String>,
    pub remote: Workplace,
    pub employment_type: EmploymentType,
    #[serde(default)]
    pub salary: Option<SalaryInput>,
    /// Staff email addresses notified of applications; they may see this posting's applicants
    /// and change it. Each an enabled hiring or admin account; only admins change them (a
    /// hiring user's new posting has its author as its one contact).
    #[serde(default)]
    pub hiring_contacts: Vec<String>,
    #[serde(default)]
    pub opens_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closes_at: Option<DateTime<Utc>>,
    pub status: PostingStatus,
    #[serde(default)]
    pub questions: Vec<QuestionInput>,
}

/// A validated salary range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salary {
    pub currency: String,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
    pub period: SalaryPeriod,
}

/// A validated question; `id` is kept for an existing question, made for a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuestion {
    pub(in crate::jobs) id: Option<String>,
    pub(in crate::jobs) kind: QuestionKind,
    pub(in crate::jobs) label: String,
    pub(in crate::jobs) required: bool,
}

/// A validated posting, ready for [`crate::jobs::store::insert_posting`] / [`crate::jobs::store::update_posting`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPosting {
    pub(in crate::jobs) slug: Slug,
    pub(in crate::jobs) title: String,
    pub(in crate::jobs) summary: String,
    pub(in crate::jobs) description_markdown: String,
    pub(in crate::jobs) description_html: String,
    pub(in crate::jobs) location: String,
    pub(in crate::jobs) country: Option<String>,
    pub(in crate::jobs) remote: Workplace,
    pub(in crate::jobs) employment_type: EmploymentType,
    pub(in crate::jobs) salary: Option<Salary>,
    pub(in crate::jobs) hiring_contacts: Vec<String>,
    pub(in crate::jobs) opens_at: Option<NaiveDateTime>,
    pub(in crate::jobs) closes_at: Option<NaiveDateTime>,
    pub(in crate::jobs) status: PostingStatus,
    pub(in crate::jobs) questions: Vec<NewQuestion>,
}

impl NewPosting {
    pub fn slug(&self) -> &str {
        self.slug.as_str()
    }

    pub fn status(&self) -> PostingStatus {
        self.status
    }
}

const MAX_QUESTIONS: usize = 30;
const MAX_CONTACTS: usize = 20;

/// The failures found so far, in the order the fields are checked.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message.into()));
    }

    /// The value, or `None` with the failure noted under `field`.
    fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.add(field, message)).ok()
    }
}

impl TryFrom<PostingInput> for NewPosting {
    type Error = Vec<FieldError>;

    fn try_from(input: PostingInput) -> Result<Self, Self::Error> {
        let mut problems = Problems::default();
        let slug = problems.check("slug", Slug::parse(&input.slug));
        let title = problems.check("title", required_text(&input.title, 200, true));
        let summary = problems.check("summary", clean_text(&input.summary, 1_000, false));
        let description_markdown = problems.check(
            "description_markdown",
            required_text(&input.description_markdown, 50_000, false),
        );
        let location = problems.check("location", required_text(&input.location, 200, true));
        let country = country(&mut problems, input.country.as_deref());
        let salary = input.salary.as_ref().and_then(|s| salary(&mut problems, s));
        let hiring_contacts = hiring_contacts(&mut problems, &input.hiring_contacts);
        let (opens_at, closes_at) = window(&mut problems, input.opens_at, input.closes_at);
        let questions = questions(&mut problems, &input.questions);
        let (Some(slug), Some(title), Some(summary), Some(description_markdown), Some(location)) =
            (slug, title, summary, description_markdown, location)
        else {
            return Err(problems.0);
        };
        if !problems.0.is_empty() {
            return Err(problems.0);
        }
        Ok(NewPosting {
            slug,
            description_html: crate::jobs::markdown::to_safe_html(&description_markdown),
            title,
            summary,
            description_markdown,
            location,
            country,
            remote: input.remote,
            employment_type: input.employment_type,
            salary,
            hiring_contacts,
            opens_at,
            closes_at,
            status: input.status,
            questions,
        })
    }
}

/// An ISO 3166 alpha-2 code, upper-cased; blank means none.
fn country(problems: &mut Problems, country: Option<&str>) -> Option<String> {
    match country.map(str::trim) {
        None | Some("") => None,
        Some(c) if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => {
            Some(c.to_ascii_uppercase())
        }
        Some(_) => {
            problems.add(
                "country",
                "Use a two-letter ISO 3166 country code, e.g. `CO`.",
            );
            None
        }
    }
}

/// A salary range: an ISO 4217 code, figures not negative, at least one, min ≤ max.
fn salary(problems: &mut Problems, s: &SalaryInput) -> Option<Salary> {
    let currency = s.currency.trim();
    let mut ok = true;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        problems.add(
            "salary.currency",
            "Use a three-letter ISO 4217 code, e.g. `USD`.",
        );
        ok = false;
    }
    for (field, value) in [
        ("salary.min_minor", s.min_minor),
        ("salary.max_minor", s.max_minor),
    ] {
        if value.is_some_and(|v| v < 0) {
            problems.add(field, "Must not be negative.");
            ok = false;
        }
    }
    match (s.min_minor, s.max_minor) {
        (None, None) => {
            problems.add("salary", "Give a minimum, a maximum or both.");
            ok = false;
        }
        (Some(min), Some(max)) if min > max => {
            problems.add("salary.max_minor", "Must not be below the minimum.");
            ok = false;
        }
        _ => {}
    }
    ok.then(|| Salary {
        currency: currency.to_string(),
        min_minor: s.min_minor,
        max_minor: s.max_minor,
        period: s.period,
    })
}

/// At most [`MAX_CONTACTS`] addresses, each in its normalised form, each once.
fn hiring_contacts(problems: &mut Problems, raw: &[String]) -> Vec<String> {
    if raw.len() > MAX_CONTACTS {
        problems.add(
            "hiring_contacts",
            format!("At most {MAX_CONTACTS} hiring contacts."),
        );
    }
    let mut contacts: Vec<String> = Vec::new();
    for (i, contact) in raw.iter().enumerate() {
        let parsed = EmailAddress::parse(contact).map(|e| e.normalized());
        if let Some(email) = problems.check(&format!("hiring_contacts[{i}]"), parsed) {
            if !contacts.contains(&email) {
                contacts.push(email);
            }
        }
    }
    contacts
}

/// Opening and closing times as stored; a posting closes after it opens.
fn window(
    problems: &mut Problems,
    opens_at: Option<DateTime<Utc>>,
    closes_at: Option<DateTime<Utc>>,
) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
    let opens_at = opens_at.map(to_stored);
    let closes_at = closes_at.map(to_stored);
    if let (Some(opens), Some(closes)) = (opens_at, closes_at) {
        if closes <= opens {
            problems.add("closes_at", "Must be after opens_at.");
        }
    }
    (opens_at, closes_at)
}

/// At most [`MAX_QUESTIONS`] questions, each existing id once, each label one line.
fn questions(problems: &mut Problems, raw: &[QuestionInput]) -> Vec<NewQuestion> {
    if raw.len() > MAX_QUESTIONS {
        problems.add("questions", format!("At most {MAX_QUESTIONS} questions."));
    }
    let mut seen_ids = HashSet::new();
    let mut questions = Vec::new();
    for (i, q) in raw.iter().enumerate() {
        let id = q.id.as_deref().map(str::trim).filter(|id| !id.is_empty());
        if let Some(id) = id {
            if !seen_ids.insert(id.to_string()) {
                problems.add(&format!("questions[{i}].id"), "Each question appears once.");
            }
        }
        let label = required_text(&q.label, 300, true);
        if let Some(label) = problems.check(&format!("questions[{i}].label"), label) {
            questions.push(NewQuestion {
                id: id.map(String::from),
                kind: q.kind,
                label,
                required: q.required,
            });
        }
    }
    questions
}

impl PostingInput {
    /// The input that would recreate a stored posting (to apply a partial update to).
    pub fn from_posting(posting: &Posting, contacts: &[String], questions: &[Question]) -> Self {
        PostingInput {
            slug: posting.slug.clone(),
            title: posting.title.clone(),
            summary: posting.summary.clone(),
            description_markdown: posting.description_markdown.clone(),
            location: posting.location.clone(),
            country: posting.country.clone(),
            remote: posting.remote,
            employment_type: posting.employment_type,
            salary: posting.salary.as_ref().map(|s| SalaryInput {
                currency: s.currency.clone(),
                min_minor: s.min_minor,
                max_minor: s.max_minor,
                period: s.period,
            }),
            hiring_contacts: contacts.to_vec(),
            opens_at: posting.opens_at.map(|t| t.and_utc()),
            closes_at: posting.closes_at.map(|t| t.and_utc()),
            status: posting.status,
            questions: questions
                .iter()
                .filter(|q| q.active)
                .map(|q| QuestionInput {
                    id: Some(q.id.clone()),
                    kind: q.kind,
                    label: q.label.clone(),
                    required: q.required,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PostingInput {
        PostingInput {
            slug: "data-reporter".into(),
            title: "Data reporter".into(),
            summary: "Find the story in the numbers.".into(),
            description_markdown: "# About\n\nWe **need** you.".into(),
            location: "Bogotá".into(),
            country: Some("co".into()),
            remote: Workplace::Hybrid,
            employment_type: EmploymentType::FullTime,
            salary: None,
            hiring_contacts: vec!["Editor@Example.org".into(), "editor@example.org".into()],
            opens_at: None,
            closes_at: None,
            status: PostingStatus::Open,
            questions: vec![QuestionInput {
                id: None,
                kind: QuestionKind::YesNo,
                label: "Do you speak Spanish?".into(),
                required: true,
            }],
        }
    }

    fn fields_of(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn valid_posting_is_normalised_and_rendered() {
        let p = NewPosting::try_from(input()).expect("valid");
        assert_eq!(p.slug(), "data-reporter");
        assert_eq!(p.country.as_deref(), Some("CO"));
        assert_eq!(p.hiring_contacts, vec!["editor@example.org".to_string()]);
        assert!(p.description_html.contains("<strong>need</strong>"));
    }

    #[test]
    fn every_bad_posting_field_is_named() {
        let mut bad = input();
        bad.slug = "Not A Slug".into();
        bad.title = " ".into();
        bad.country = Some("Colombia".into());
        bad.hiring_contacts = vec!["nobody".into()];
        bad.salary = Some(SalaryInput {
            currency: "usd".into(),
            min_minor: Some(5),
            max_minor: Some(1),
            period: SalaryPeriod::Year,
        });
        bad.opens_at = Some(Utc::now());
        bad.closes_at = Some(Utc::now() - chrono::TimeDelta::days(1));
        bad.questions[0].label = "line\nbreak".into();

        let errors = fields_of(NewPosting::try_from(bad).expect_err("invalid"));

        for field in [
            "slug",
            "title",
            "country",
            "hiring_contacts[0]",
            "salary.currency",
            "salary.max_minor",
            "closes_at",
            "questions[0].label",
        ] {
            assert!(errors.contains(&field.to_string()), "{field} in {errors:?}");
        }
    }
}
