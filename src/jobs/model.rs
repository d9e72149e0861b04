//! Domain types for open positions. Request bodies only deserialize; the constructors here
//! (`TryFrom<PostingInput>`, [`ApplicationInput::parse`], [`Rating::new`], …) are the only
//! way to the validated values the store accepts.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::Serialize;

use crate::domain::text::{self, Lines, TextError};
pub use crate::domain::EmailAddress;
use crate::error::FieldError;

crate::text_enum! {
    /// A posting's lifecycle: only `open` postings take applications.
    pub enum PostingStatus {
        Draft => "draft",
        Open => "open",
        Closed => "closed",
    }
}

crate::text_enum! {
    /// Where the work happens.
    pub enum Workplace {
        Remote => "remote",
        Hybrid => "hybrid",
        OnSite => "on_site",
    }
}

crate::text_enum! {
    /// The kind of contract, as schema.org's `employmentType` knows them.
    pub enum EmploymentType {
        FullTime => "full_time",
        PartTime => "part_time",
        Contractor => "contractor",
        Temporary => "temporary",
        Intern => "intern",
        Volunteer => "volunteer",
        PerDiem => "per_diem",
        Other => "other",
    }
}

impl EmploymentType {
    /// schema.org's spelling (`FULL_TIME`, …).
    pub fn schema_org(self) -> String {
        self.as_str().to_ascii_uppercase()
    }
}

crate::text_enum! {
    /// What a salary figure is paid for.
    pub enum SalaryPeriod {
        Hour => "hour",
        Day => "day",
        Week => "week",
        Month => "month",
        Year => "year",
    }
}

crate::text_enum! {
    /// A custom question's answer form.
    pub enum QuestionKind {
        ShortText => "short_text",
        LongText => "long_text",
        YesNo => "yes_no",
    }
}

crate::text_enum! {
    /// Where an application stands. Only a move to `rejected` may email the applicant.
    pub enum Stage {
        New => "new",
        Screening => "screening",
        Interview => "interview",
        Offer => "offer",
        Hired => "hired",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
}

// --- text rules shared by every field ------------------------------------------------------

/// Free text by the one rule ([`crate::domain::text::clean_text`]): trimmed, CR LF as LF,
/// no control characters (none at all when `single_line`; else only `\n` and `\t`), at most
/// `max_chars` characters, refused in the jobs forms' wording.
pub fn clean_text(value: &str, max_chars: usize, single_line: bool) -> Result<String, String> {
    let lines = if single_line { Lines::One } else { Lines::Many };
    text::clean_text(value, lines, max_chars).map_err(|e| match e {
        TextError::Control(Lines::Many) => "Must not contain control characters.".into(),
        other => other.to_string(),
    })
}

/// Like [`clean_text`], and not empty.
fn required_text(value: &str, max_chars: usize, single_line: bool) -> Result<String, String> {
    let value = clean_text(value, max_chars, single_line)?;
    if value.is_empty() {
        return Err("This field is required.".into());
    }
    Ok(value)
}

/// True when `text` holds something a mail client or browser would turn into a link:
/// a scheme, `www.`, or a `host.tld` token (lower-case top-level domain, so `St.John` passes).
pub fn looks_like_url(text: &str) -> bool {
    let lower = text.to_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '<' | '>' | '"'))
        .map(|token| token.trim_end_matches(['.', '!', '?', ':']))
        .any(|token| {
            let Some((host, tld)) = token.rsplit_once('.') else {
                return false;
            };
            let label = host.rsplit('.').next().unwrap_or_default();
            label.len() >= 2
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && (2..=24).contains(&tld.len())
                && tld.chars().all(|c| c.is_ascii_lowercase())
        })
}

/// Current time as stored (microseconds, UTC).
fn to_stored(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

// --- small validated values ----------------------------------------------------------------

/// A URL-safe posting name: lower-case letters, digits and single hyphens, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(value: &str) -> Result<Slug, String> {
        let value = value.trim();
        let ok_chars = value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if value.is_empty()
            || value.len() > 100
            || !ok_chars
            || value.starts_with('-')
            || value.ends_with('-')
            || value.contains("--")
        {
            return Err(
                "Use 1–100 lower-case letters, digits and single hyphens (e.g. `data-reporter`)."
                    .into(),
            );
        }
        Ok(Slug(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lower-cases an address already stored as text (a staff account, a hiring contact) into
/// the form [`EmailAddress::normalized`] gives, which is how contacts and applicants match.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A person's name: one line, 1–255 characters, no links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(value: &str) -> Result<PersonName, String> {
        let value = required_text(value, 255, true)?;
        if looks_like_url(&value) {
            return Err("Names cannot contain web addresses.".into());
        }
        Ok(PersonName(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reviewer's 1–5 rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating(u8);

impl Rating {
    pub fn new(value: i64) -> Result<Rating, String> {
        u8::try_from(value)
            .ok()
            .filter(|v| (1..=5).contains(v))
            .map(Rating)
            .ok_or_else(|| "A rating is a whole number from 1 to 5.".into())
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// An internal note on an application: 1–10,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteBody(String);

impl NoteBody {
    /// The longest note, in characters.
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(value: &str) -> Result<NoteBody, String> {
        required_text(value, Self::MAX_CHARS, false).map(NoteBody)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

mod posting;

pub use posting::{NewPosting, NewQuestion, PostingInput, QuestionInput, Salary, SalaryInput};

/// A stored posting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub description_markdown: String,
    pub description_html: String,
    pub location: String,
    pub country: Option<String>,
    pub remote: Workplace,
    pub employment_type: EmploymentType,
    pub salary: Option<Salary>,
    pub status: PostingStatus,
    pub opens_at: Option<NaiveDateTime>,
    pub closes_at: Option<NaiveDateTime>,
    pub published_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Posting {
    /// Whether the public may see it: open (and past `opens_at`), or closed after having been open.
    pub fn is_public(&self, now: NaiveDateTime) -> bool {
        match self.status {
            PostingStatus::Draft => false,
            PostingStatus::Open => self.opens_at.is_none_or(|o| o <= now),
            PostingStatus::Closed => self.published_at.is_some(),
        }
    }

    /// The status the public sees: an open posting past `closes_at` is closed.
    pub fn effective_status(&self, now: NaiveDateTime) -> PostingStatus {
        match self.status {
            PostingStatus::Open if self.closes_at.is_some_and(|c| c <= now) => {
                PostingStatus::Closed
            }
            other => other,
        }
    }

    /// Open to applications right now.
    pub fn accepts_applications(&self, now: NaiveDateTime) -> bool {
        self.is_public(now) && self.effective_status(now) == PostingStatus::Open
    }

    /// When it was posted, for readers and search engines: the later of opening and publishing.
    pub fn date_posted(&self) -> NaiveDateTime {
        match (self.opens_at, self.published_at) {
            (Some(o), Some(p)) => o.max(p),
            (o, p) => o.or(p).unwrap_or(self.created_at),
        }
    }
}

/// A stored custom question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub label: String,
    pub required: bool,
    #[serde(skip)]
    pub position: i32,
    #[serde(skip)]
    pub active: bool,
}

impl Question {
    /// The multipart field that carries the answer: `answer_<question id>`.
    pub fn field_name(&self) -> String {
        format!("answer_{}", self.id)
    }
}

// --- applications --------------------------------------------------------------------------

/// The multipart fields an application may carry besides `cv` and `answer_<question id>`.
pub const APPLICATION_FIELDS: [&str; 8] = [
    "lang",
    "name",
    "email",
    "phone",
    "cover_letter",
    "links",
    "consent",
    "keep_on_file",
];

/// The text part of a validated application (the CV is checked separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationInput {
    pub name: PersonName,
    pub email: EmailAddress,
    pub phone: Option<String>,
    pub cover_letter: Option<String>,
    /// Absolute http(s) URLs, one per line when stored.
    pub links: Vec<String>,
    /// `(question id, answer)`; `yes_no` answers are `yes` or `no`.
    pub answers: Vec<(String, String)>,
    pub keep_on_file: bool,
}

const MAX_LINKS: usize = 10;

impl ApplicationInput {
    /// Checks the text fields of a submitted form against the posting's active questions.
    /// Every failing field is reported, named as it was sent (`answer_<question id>` for answers).
    pub fn parse(
        fields: &BTreeMap<String, String>,
        questions: &[Question],
    ) -> Result<ApplicationInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let get = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
        let mut fail = |field: &str, message: String| {
            errors.push(FieldError::new(field, message));
        };

        for name in fields.keys() {
            let known = APPLICATION_FIELDS.contains(&name.as_str())
                || questions.iter().any(|q| q.field_name() == *name);
            if !known {
                fail(name, "Unknown field.".into());
            }
        }

        let name = PersonName::parse(get("name"))
            .map_err(|m| fail("name", m))
            .ok();
        let email = EmailAddress::parse(get("email"))
            .map_err(|m| fail("email", m))
            .ok();
        let phone = match clean_text(get("phone"), 40, true) {
            Ok(p) if p.is_empty() => None,
            Ok(p)
                if p.chars()
                    .all(|c| c.is_ascii_digit() || " +-().x/".contains(c)) =>
            {
                Some(p)
            }
            Ok(_) => {
                fail("phone", "Use digits, spaces and + - ( ) only.".into());
                None
            }
            Err(m) => {
                fail("phone", m);
                None
            }
        };
        let cover_letter = match clean_text(get("cover_letter"), 10_000, false) {
            Ok(c) => Some(c).filter(|c| !c.is_empty()),
            Err(m) => {
                fail("cover_letter", m);
                None
            }
        };
        let mut links = Vec::new();
        match clean_text(get("links"), 20_000, false) {
            Ok(text) => {
                for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    match url::Url::parse(line) {
                        Ok(u)
                            if (u.scheme() == "http" || u.scheme() == "https")
                                && u.has_host()
                                && line.len() <= 2_000 =>
                        {
                            links.push(u.to_string())
                        }
                        _ => {
                            fail(
                                "links",
                                format!("Not a web address (http:// or https://): {line}"),
                            );
                            break;
                        }
                    }
                }
                if links.len() > MAX_LINKS {
                    fail("links", format!("At most {MAX_LINKS} links."));
                }
            }
            Err(m) => fail("links", m),
        }
        if get("consent") != "true" {
            fail(
                "consent",
                "Please agree to the processing of your application to apply.".into(),
            );
        }
        let keep_on_file = match get("keep_on_file") {
            "" | "false" => false,
            "true" => true,
            _ => {
                fail("keep_on_file", "Must be true or false.".into());
                false
            }
        };
        let mut answers = Vec::new();
        for q in questions.iter().filter(|q| q.active) {
            let field = q.field_name();
            let raw = get(&field);
            let parsed = match q.kind {
                QuestionKind::ShortText => clean_text(raw, 500, true),
                QuestionKind::LongText => clean_text(raw, 5_000, false),
                QuestionKind::YesNo => match raw.trim() {
                    "" | "yes" | "no" => Ok(raw.trim().to_string()),
                    _ => Err("Answer yes or no.".into()),
                },
            };
            match parsed {
                Ok(v) if v.is_empty() && q.required => {
                    fail(&field, "Please answer this question.".into())
                }
                Ok(v) if v.is_empty() => {}
                Ok(v) => answers.push((q.id.clone(), v)),
                Err(m) => fail(&field, m),
            }
        }
        match (name, email, errors.is_empty()) {
            (Some(name), Some(email), true) => Ok(ApplicationInput {
                name,
                email,
                phone,
                cover_letter,
                links,
                answers,
                keep_on_file,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    /// The API document lists each enum's values as they are sent, not the variants' names.
    #[test]
    fn documented_values_are_the_texts() {
        fn documented<T: utoipa::PartialSchema>() -> Vec<String> {
            let schema = serde_json::to_value(T::schema()).expect("json");
            serde_json::from_value(schema["enum"].clone()).expect("an enum")
        }
        fn texts<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
            all.iter().map(|v| as_str(*v).to_string()).collect()
        }
        assert_eq!(
            documented::<PostingStatus>(),
            texts(&PostingStatus::ALL, PostingStatus::as_str)
        );
        assert_eq!(
            documented::<Workplace>(),
            texts(&Workplace::ALL, Workplace::as_str)
        );
        assert_eq!(
            documented::<EmploymentType>(),
            texts(&EmploymentType::ALL, EmploymentType::as_str)
        );
        assert_eq!(
            documented::<SalaryPeriod>(),
            texts(&SalaryPeriod::ALL, SalaryPeriod::as_str)
        );
        assert_eq!(
            documented::<QuestionKind>(),
            texts(&QuestionKind::ALL, QuestionKind::as_str)
        );
        assert_eq!(documented::<Stage>(), texts(&Stage::ALL, Stage::as_str));
    }

    #[test]
    fn slugs() {
        assert!(Slug::parse("reporter-2").is_ok());
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "ä"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_refuse_links_and_line_breaks() {
        assert!(PersonName::parse("Jane O'Reader").is_ok());
        assert!(PersonName::parse("J.R.R. Tolkien").is_ok());
        assert!(PersonName::parse("María St.John").is_ok());
        for bad in [
            "",
            "Jane\nBcc: x",
            "visit https://spam.test",
            "www.spam.test",
            "cheap pills at spam.com",
            &"x".repeat(256),
        ] {
            assert!(PersonName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ratings_are_one_to_five() {
        assert_eq!(Rating::new(1).map(Rating::get), Ok(1));
        assert_eq!(Rating::new(5).map(Rating::get), Ok(5));
        assert!(Rating::new(0).is_err());
        assert!(Rating::new(6).is_err());
        assert!(Rating::new(-1).is_err());
    }

    fn question(kind: QuestionKind, required: bool) -> Question {
        Question {
            id: "q1".into(),
            kind,
            label: "Q".into(),
            required,
            position: 0,
            active: true,
        }
    }

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn application_fields_are_checked_together() {
        let q = question(QuestionKind::YesNo, true);
        let errors = fields_of(
            ApplicationInput::parse(
                &form(&[
                    ("name", "http://spam.test"),
                    ("email", "not-an-address"),
                    ("links", "javascript:alert(1)"),
                    ("phone", "call me"),
                    ("surprise", "x"),
                ]),
                &[q],
            )
            .expect_err("invalid"),
        );
        for field in [
            "name",
            "email",
            "links",
            "phone",
            "consent",
            "answer_q1",
            "surprise",
        ] {
            assert!(errors.contains(&field.to_string()), "{field} in {errors:?}");
        }
    }

    #[test]
    fn application_is_parsed() {
        let q = question(QuestionKind::LongText, false);
        let app = ApplicationInput::parse(
            &form(&[
                ("name", " Jane Reader "),
                ("email", "Jane@Example.org"),
                (
                    "links",
                    "https://portfolio.example.org/jane\r\n\r\nhttps://example.org/x",
                ),
                ("cover_letter", "Dear editor,\r\nhello"),
                ("consent", "true"),
                ("keep_on_file", "true"),
                ("answer_q1", "Because."),
            ]),
            &[q],
        )
        .expect("valid");
        assert_eq!(app.name.as_str(), "Jane Reader");
        assert_eq!(app.email.normalized(), "jane@example.org");
        assert_eq!(app.links.len(), 2);
        assert_eq!(app.cover_letter.as_deref(), Some("Dear editor,\nhello"));
        assert!(app.keep_on_file);
        assert_eq!(
            app.answers,
            vec![("q1".to_string(), "Because.".to_string())]
        );
    }

    #[test]
    fn optional_questions_may_be_left_blank() {
        let q = question(QuestionKind::ShortText, false);
        let app = ApplicationInput::parse(
            &form(&[
                ("name", "Jane"),
                ("email", "j@example.org"),
                ("consent", "true"),
            ]),
            &[q],
        )
        .expect("valid");
        assert!(app.answers.is_empty());
    }

    #[test]
    fn effective_status_closes_past_closes_at() {
        let now = crate::db::now();
        let posting = Posting {
            id: "p".into(),
            slug: "s".into(),
            title: "t".into(),
            summary: String::new(),
            description_markdown: String::new(),
            description_html: String::new(),
            location: "l".into(),
            country: None,
            remote: Workplace::Remote,
            employment_type: EmploymentType::FullTime,
            salary: None,
            status: PostingStatus::Open,
            opens_at: None,
            closes_at: Some(now - chrono::TimeDelta::seconds(1)),
            published_at: Some(now),
            closed_at: None,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(posting.effective_status(now), PostingStatus::Closed);
        assert!(!posting.accepts_applications(now));
        assert!(posting.is_public(now));
        let future = Posting {
            opens_at: Some(now + chrono::TimeDelta::days(1)),
            closes_at: None,
            ..posting
        };
        assert!(!future.is_public(now));
    }
}
