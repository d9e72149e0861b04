//! Domain types for open positions. Request bodies only deserialize; the constructors here
//! (`TryFrom<PostingInput>`, [`ApplicationInput::parse`], [`Rating::new`], …) are the only
//! way to the validated values the store accepts.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A string-valued enum stored as text and sent as JSON in snake_case.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

text_enum! {
    /// A posting's lifecycle: only `open` postings take applications.
    pub enum PostingStatus {
        Draft => "draft",
        Open => "open",
        Closed => "closed",
    }
}

text_enum! {
    /// Where the work happens.
    pub enum Workplace {
        Remote => "remote",
        Hybrid => "hybrid",
        OnSite => "on_site",
    }
}

text_enum! {
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

text_enum! {
    /// What a salary figure is paid for.
    pub enum SalaryPeriod {
        Hour => "hour",
        Day => "day",
        Week => "week",
        Month => "month",
        Year => "year",
    }
}

text_enum! {
    /// A custom question's answer form.
    pub enum QuestionKind {
        ShortText => "short_text",
        LongText => "long_text",
        YesNo => "yes_no",
    }
}

text_enum! {
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

/// Trims `value` and checks it: no control characters except `\n`/`\t` (none at all when
/// `single_line`), at most `max_chars` characters.
pub fn clean_text(value: &str, max_chars: usize, single_line: bool) -> Result<String, String> {
    let value = value.trim();
    let bad_control = value
        .chars()
        .any(|c| c.is_control() && (single_line || (c != '\n' && c != '\t' && c != '\r')));
    if bad_control {
        return Err(if single_line {
            "Must be a single line without control characters.".into()
        } else {
            "Must not contain control characters.".into()
        });
    }
    // Browsers send CRLF in text areas; store plain newlines.
    let value = value.replace("\r\n", "\n");
    if value.contains('\r') {
        return Err("Must not contain control characters.".into());
    }
    if value.chars().count() > max_chars {
        return Err(format!("Must be at most {max_chars} characters."));
    }
    Ok(value)
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

/// An email address as typed (trimmed), with its lower-cased form for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(lettre::Address);

impl EmailAddress {
    pub fn parse(value: &str) -> Result<EmailAddress, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("This field is required.".into());
        }
        if value.chars().count() > 255 {
            return Err("Must be at most 255 characters.".into());
        }
        value
            .parse::<lettre::Address>()
            .map(EmailAddress)
            .map_err(|_| "Enter an email address like name@example.org.".into())
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    pub fn address(&self) -> &lettre::Address {
        &self.0
    }

    /// The form duplicates are detected by.
    pub fn normalized(&self) -> String {
        normalize_email(self.as_str())
    }
}

/// Lower-cases an address for comparison (how hiring contacts and applicants are matched).
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
    pub fn parse(value: &str) -> Result<NoteBody, String> {
        required_text(value, 10_000, false).map(NoteBody)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// --- postings ------------------------------------------------------------------------------

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
    pub(super) id: Option<String>,
    pub(super) kind: QuestionKind,
    pub(super) label: String,
    pub(super) required: bool,
}

/// A validated posting, ready for [`super::store::insert_posting`] / [`super::store::update_posting`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPosting {
    pub(super) slug: Slug,
    pub(super) title: String,
    pub(super) summary: String,
    pub(super) description_markdown: String,
    pub(super) description_html: String,
    pub(super) location: String,
    pub(super) country: Option<String>,
    pub(super) remote: Workplace,
    pub(super) employment_type: EmploymentType,
    pub(super) salary: Option<Salary>,
    pub(super) hiring_contacts: Vec<String>,
    pub(super) opens_at: Option<NaiveDateTime>,
    pub(super) closes_at: Option<NaiveDateTime>,
    pub(super) status: PostingStatus,
    pub(super) questions: Vec<NewQuestion>,
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

impl TryFrom<PostingInput> for NewPosting {
    type Error = Vec<FieldError>;

    fn try_from(input: PostingInput) -> Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let mut check = |field: &str, result: Result<String, String>| match result {
            Ok(v) => Some(v),
            Err(message) => {
                errors.push(FieldError::new(field, message));
                None
            }
        };
        let slug = check(
            "slug",
            Slug::parse(&input.slug).map(|s| s.as_str().to_string()),
        );
        let title = check("title", required_text(&input.title, 200, true));
        let summary = check("summary", clean_text(&input.summary, 1_000, false));
        let description = check(
            "description_markdown",
            required_text(&input.description_markdown, 50_000, false),
        );
        let location = check("location", required_text(&input.location, 200, true));
        let country = match input.country.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => {
                Some(c.to_ascii_uppercase())
            }
            Some(_) => {
                check(
                    "country",
                    Err("Use a two-letter ISO 3166 country code, e.g. `CO`.".into()),
                );
                None
            }
        };
        let salary = input.salary.as_ref().and_then(|s| {
            let currency = s.currency.trim();
            let mut ok = true;
            if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
                check(
                    "salary.currency",
                    Err("Use a three-letter ISO 4217 code, e.g. `USD`.".into()),
                );
                ok = false;
            }
            for (field, value) in [
                ("salary.min_minor", s.min_minor),
                ("salary.max_minor", s.max_minor),
            ] {
                if value.is_some_and(|v| v < 0) {
                    check(field, Err("Must not be negative.".into()));
                    ok = false;
                }
            }
            match (s.min_minor, s.max_minor) {
                (None, None) => {
                    check("salary", Err("Give a minimum, a maximum or both.".into()));
                    ok = false;
                }
                (Some(min), Some(max)) if min > max => {
                    check(
                        "salary.max_minor",
                        Err("Must not be below the minimum.".into()),
                    );
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
        });
        if input.hiring_contacts.len() > MAX_CONTACTS {
            check(
                "hiring_contacts",
                Err(format!("At most {MAX_CONTACTS} hiring contacts.")),
            );
        }
        let mut contacts: Vec<String> = Vec::new();
        for (i, contact) in input.hiring_contacts.iter().enumerate() {
            if let Some(email) = check(
                &format!("hiring_contacts[{i}]"),
                EmailAddress::parse(contact).map(|e| e.normalized()),
            ) {
                if !contacts.contains(&email) {
                    contacts.push(email);
                }
            }
        }
        let opens_at = input.opens_at.map(to_stored);
        let closes_at = input.closes_at.map(to_stored);
        if let (Some(opens), Some(closes)) = (opens_at, closes_at) {
            if closes <= opens {
                check("closes_at", Err("Must be after opens_at.".into()));
            }
        }
        if input.questions.len() > MAX_QUESTIONS {
            check(
                "questions",
                Err(format!("At most {MAX_QUESTIONS} questions.")),
            );
        }
        let mut seen_ids = HashSet::new();
        let mut questions = Vec::new();
        for (i, q) in input.questions.iter().enumerate() {
            let id = q.id.as_deref().map(str::trim).filter(|id| !id.is_empty());
            if let Some(id) = id {
                if !seen_ids.insert(id.to_string()) {
                    check(
                        &format!("questions[{i}].id"),
                        Err("Each question appears once.".into()),
                    );
                }
            }
            if let Some(label) = check(
                &format!("questions[{i}].label"),
                required_text(&q.label, 300, true),
            ) {
                questions.push(NewQuestion {
                    id: id.map(String::from),
                    kind: q.kind,
                    label,
                    required: q.required,
                });
            }
        }
        let (
            Some(slug),
            Some(title),
            Some(summary),
            Some(description_markdown),
            Some(location),
            true,
        ) = (
            slug,
            title,
            summary,
            description,
            location,
            errors.is_empty(),
        )
        else {
            return Err(errors);
        };
        Ok(NewPosting {
            slug: Slug(slug),
            description_html: super::markdown::to_safe_html(&description_markdown),
            title,
            summary,
            description_markdown,
            location,
            country,
            remote: input.remote,
            employment_type: input.employment_type,
            salary,
            hiring_contacts: contacts,
            opens_at,
            closes_at,
            status: input.status,
            questions,
        })
    }
}

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

// --- applications --------------------------------------------------------------------------

/// The multipart fields an application may carry besides `cv` and `answer_<question id>`.
pub const APPLICATION_FIELDS: [&str; 7] = [
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
