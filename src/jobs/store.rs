//! Storage for postings and applications: plain synchronous functions over one connection.
//!
//! Functions that write several rows say so; call them inside `Db::write` so they commit
//! together. Functions marked *staff* are for the staff area's handlers (not public routes):
//! they do no role checks themselves; [`is_hiring_contact`] and [`application_posting_id`]
//! are what those checks need.

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::model::{
    ApplicationInput, EmploymentType, NewPosting, NewQuestion, NoteBody, Posting, PostingStatus,
    Question, QuestionKind, Rating, Salary, SalaryPeriod, Stage, Workplace,
};
use crate::db::schema::{
    job_application_answers as answers, job_application_notes as notes,
    job_application_ratings as ratings, job_applications as apps, job_posting_contacts as contacts,
    job_postings as postings, job_questions as questions, outbox,
};
use crate::db::DbConnection;
use crate::error::{AppError, FieldError};
use crate::mail::NewOutboxEmail;

/// How outbox rows caused by an application are referenced (and found again on erasure).
pub const REF_KIND: &str = "job_application";

/// The name an anonymised application keeps.
pub const ERASED_NAME: &str = "(erased)";

// --- postings ------------------------------------------------------------------------------

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = postings)]
struct PostingRow {
    id: String,
    slug: String,
    title: String,
    summary: String,
    description_markdown: String,
    description_html: String,
    location: String,
    country: Option<String>,
    remote: String,
    employment_type: String,
    salary_currency: Option<String>,
    salary_min_minor: Option<i64>,
    salary_max_minor: Option<i64>,
    salary_period: Option<String>,
    status: String,
    opens_at: Option<NaiveDateTime>,
    closes_at: Option<NaiveDateTime>,
    published_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<PostingRow> for Posting {
    fn from(r: PostingRow) -> Self {
        let salary = match (r.salary_currency, r.salary_min_minor, r.salary_max_minor) {
            (Some(currency), min, max) if min.is_some() || max.is_some() => Some(Salary {
                currency,
                min_minor: min,
                max_minor: max,
                period: r
                    .salary_period
                    .as_deref()
                    .and_then(SalaryPeriod::parse)
                    .unwrap_or(SalaryPeriod::Year),
            }),
            _ => None,
        };
        Posting {
            id: r.id,
            slug: r.slug,
            title: r.title,
            summary: r.summary,
            description_markdown: r.description_markdown,
            description_html: r.description_html,
            location: r.location,
            country: r.country,
            remote: Workplace::parse(&r.remote).unwrap_or(Workplace::OnSite),
            employment_type: EmploymentType::parse(&r.employment_type)
                .unwrap_or(EmploymentType::Other),
            salary,
            // A value the code does not know is treated as the safest one: not public.
            status: PostingStatus::parse(&r.status).unwrap_or(PostingStatus::Draft),
            opens_at: r.opens_at,
            closes_at: r.closes_at,
            published_at: r.published_at,
            closed_at: r.closed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = postings, treat_none_as_null = true)]
struct PostingValues<'a> {
    slug: &'a str,
    title: &'a str,
    summary: &'a str,
    description_markdown: &'a str,
    description_html: &'a str,
    location: &'a str,
    country: Option<&'a str>,
    remote: &'a str,
    employment_type: &'a str,
    salary_currency: Option<&'a str>,
    salary_min_minor: Option<i64>,
    salary_max_minor: Option<i64>,
    salary_period: Option<&'a str>,
    status: &'a str,
    opens_at: Option<NaiveDateTime>,
    closes_at: Option<NaiveDateTime>,
    published_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
}

impl<'a> PostingValues<'a> {
    fn new(
        p: &'a NewPosting,
        published_at: Option<NaiveDateTime>,
        closed_at: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Self {
        PostingValues {
            slug: p.slug.as_str(),
            title: &p.title,
            summary: &p.summary,
            description_markdown: &p.description_markdown,
            description_html: &p.description_html,
            location: &p.location,
            country: p.country.as_deref(),
            remote: p.remote.as_str(),
            employment_type: p.employment_type.as_str(),
            salary_currency: p.salary.as_ref().map(|s| s.currency.as_str()),
            salary_min_minor: p.salary.as_ref().and_then(|s| s.min_minor),
            salary_max_minor: p.salary.as_ref().and_then(|s| s.max_minor),
            salary_period: p.salary.as_ref().map(|s| s.period.as_str()),
            status: p.status.as_str(),
            opens_at: p.opens_at,
            closes_at: p.closes_at,
            published_at,
            closed_at,
            updated_at: now,
        }
    }
}

/// Saves a new posting with its hiring contacts and questions (several writes: use
/// `Db::write`). A taken slug is a unique violation (409).
#[tracing::instrument(skip_all, fields(slug = new.slug()))]
pub fn insert_posting(
    conn: &mut DbConnection,
    new: &NewPosting,
    now: NaiveDateTime,
) -> Result<Posting, AppError> {
    let id = crate::db::new_id();
    let published_at = (new.status == PostingStatus::Open).then_some(now);
    let closed_at = (new.status == PostingStatus::Closed).then_some(now);
    diesel::insert_into(postings::table)
        .values((
            PostingValues::new(new, published_at, closed_at, now),
            postings::id.eq(&id),
            postings::created_at.eq(now),
        ))
        .execute(conn)
        .map_err(slug_taken)?;
    replace_contacts(conn, &id, &new.hiring_contacts)?;
    save_questions(conn, &id, &new.questions, &[])?;
    Ok(find_posting(conn, &id)?)
}

/// Replaces a posting's fields, contacts and questions (several writes: use `Db::write`).
/// Questions named by id keep their answers; questions left out become inactive.
#[tracing::instrument(skip_all, fields(slug = new.slug()))]
pub fn update_posting(
    conn: &mut DbConnection,
    id: &str,
    new: &NewPosting,
    now: NaiveDateTime,
) -> Result<Posting, AppError> {
    let current = find_posting(conn, id)?;
    let published_at = current
        .published_at
        .or((new.status == PostingStatus::Open).then_some(now));
    let closed_at = match (current.status, new.status) {
        (PostingStatus::Closed, PostingStatus::Closed) => current.closed_at.or(Some(now)),
        (_, PostingStatus::Closed) => Some(now),
        _ => None,
    };
    let existing = posting_questions(conn, id, false)?;
    diesel::update(postings::table.find(id))
        .set(PostingValues::new(new, published_at, closed_at, now))
        .execute(conn)
        .map_err(slug_taken)?;
    replace_contacts(conn, id, &new.hiring_contacts)?;
    save_questions(conn, id, &new.questions, &existing)?;
    Ok(find_posting(conn, id)?)
}

fn slug_taken(e: diesel::result::Error) -> AppError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => AppError::Conflict("Another posting already uses this slug.".into()),
        other => other.into(),
    }
}

fn replace_contacts(
    conn: &mut DbConnection,
    posting_id: &str,
    emails: &[String],
) -> QueryResult<()> {
    diesel::delete(contacts::table.filter(contacts::posting_id.eq(posting_id))).execute(conn)?;
    for email in emails {
        diesel::insert_into(contacts::table)
            .values((
                contacts::posting_id.eq(posting_id),
                contacts::email.eq(email),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn save_questions(
    conn: &mut DbConnection,
    posting_id: &str,
    wanted: &[NewQuestion],
    existing: &[Question],
) -> Result<(), AppError> {
    let unknown: Vec<FieldError> = wanted
        .iter()
        .enumerate()
        .filter(|(_, q)| {
            q.id.as_ref()
                .is_some_and(|id| !existing.iter().any(|e| &e.id == id))
        })
        .map(|(i, _)| {
            FieldError::new(
                format!("questions[{i}].id"),
                "No such question on this posting.",
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(AppError::Validation(unknown));
    }
    for (position, q) in (0i32..).zip(wanted) {
        let values = (
            questions::position.eq(position),
            questions::kind.eq(q.kind.as_str()),
            questions::label.eq(&q.label),
            questions::required.eq(q.required),
            questions::active.eq(true),
        );
        match &q.id {
            Some(id) => {
                diesel::update(questions::table.find(id))
                    .set(values)
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(questions::table)
                    .values((
                        questions::id.eq(crate::db::new_id()),
                        questions::posting_id.eq(posting_id),
                        values,
                    ))
                    .execute(conn)?;
            }
        }
    }
    for old in existing {
        if !wanted.iter().any(|q| q.id.as_ref() == Some(&old.id)) {
            diesel::update(questions::table.find(&old.id))
                .set(questions::active.eq(false))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// One posting by id (diesel's `NotFound` when there is none: a 404).
pub fn find_posting(conn: &mut DbConnection, id: &str) -> QueryResult<Posting> {
    postings::table
        .find(id)
        .select(PostingRow::as_select())
        .first(conn)
        .map(Posting::from)
}

/// One posting by slug, whatever its status (`NotFound` when there is none).
pub fn find_posting_by_slug(conn: &mut DbConnection, slug: &str) -> QueryResult<Posting> {
    postings::table
        .filter(postings::slug.eq(slug))
        .select(PostingRow::as_select())
        .first(conn)
        .map(Posting::from)
}

/// The postings the public sees in the list: open, past `opens_at`, before `closes_at`;
/// newest first.
pub fn list_open_postings(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<Posting>> {
    let mut found: Vec<Posting> = postings::table
        .filter(postings::status.eq(PostingStatus::Open.as_str()))
        .filter(postings::opens_at.is_null().or(postings::opens_at.le(now)))
        .filter(
            postings::closes_at
                .is_null()
                .or(postings::closes_at.gt(now)),
        )
        .select(PostingRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Posting::from)
        .collect();
    found.sort_by(|a, b| {
        b.date_posted()
            .cmp(&a.date_posted())
            .then_with(|| a.title.cmp(&b.title))
    });
    Ok(found)
}

/// *Staff*: every posting, optionally of one status, newest first.
pub fn list_postings(
    conn: &mut DbConnection,
    status: Option<PostingStatus>,
) -> QueryResult<Vec<Posting>> {
    let mut query = postings::table
        .select(PostingRow::as_select())
        .order((postings::created_at.desc(), postings::id.desc()))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(postings::status.eq(status.as_str()));
    }
    Ok(query.load(conn)?.into_iter().map(Posting::from).collect())
}

/// *Staff*: the postings a hiring contact looks after, newest first.
pub fn postings_for_contact(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<Posting>> {
    Ok(postings::table
        .inner_join(contacts::table)
        .filter(contacts::email.eq(super::model::normalize_email(email)))
        .select(PostingRow::as_select())
        .order((postings::created_at.desc(), postings::id.desc()))
        .load(conn)?
        .into_iter()
        .map(Posting::from)
        .collect())
}

/// *Staff*: whether `email` is one of the posting's hiring contacts (who alone, with admins,
/// may see its applicants).
pub fn is_hiring_contact(
    conn: &mut DbConnection,
    posting_id: &str,
    email: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        contacts::table
            .filter(contacts::posting_id.eq(posting_id))
            .filter(contacts::email.eq(super::model::normalize_email(email))),
    ))
    .get_result(conn)
}

/// A posting's hiring contacts (lower-cased emails), in a stable order.
pub fn hiring_contacts(conn: &mut DbConnection, posting_id: &str) -> QueryResult<Vec<String>> {
    contacts::table
        .filter(contacts::posting_id.eq(posting_id))
        .select(contacts::email)
        .order(contacts::email)
        .load(conn)
}

/// A posting's questions in order; `active_only` leaves out removed ones.
pub fn posting_questions(
    conn: &mut DbConnection,
    posting_id: &str,
    active_only: bool,
) -> QueryResult<Vec<Question>> {
    let mut query = questions::table
        .filter(questions::posting_id.eq(posting_id))
        .select((
            questions::id,
            questions::kind,
            questions::label,
            questions::required,
            questions::position,
            questions::active,
        ))
        .order((questions::position, questions::id))
        .into_boxed();
    if active_only {
        query = query.filter(questions::active.eq(true));
    }
    let rows: Vec<(String, String, String, bool, i32, bool)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, label, required, position, active)| Question {
            id,
            kind: QuestionKind::parse(&kind).unwrap_or(QuestionKind::LongText),
            label,
            required,
            position,
            active,
        })
        .collect())
}

/// Closes open postings whose `closes_at` has passed (their `closed_at` is `closes_at`).
/// Reads first and writes only when something is due, so it is cheap to call on every request.
pub fn close_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    let due: Vec<String> = postings::table
        .filter(postings::status.eq(PostingStatus::Open.as_str()))
        .filter(postings::closes_at.le(now))
        .select(postings::id)
        .load(conn)?;
    if due.is_empty() {
        return Ok(0);
    }
    let closed = diesel::update(
        postings::table
            .filter(postings::id.eq_any(&due))
            .filter(postings::status.eq(PostingStatus::Open.as_str())),
    )
    .set((
        postings::status.eq(PostingStatus::Closed.as_str()),
        postings::closed_at.eq(postings::closes_at),
        postings::updated_at.eq(now),
    ))
    .execute(conn)?;
    if closed > 0 {
        tracing::info!(closed, "job postings closed at their closing time");
    }
    Ok(closed)
}

// --- applications --------------------------------------------------------------------------

/// A CV as stored: a random file name under `uploads.dir/cvs`, the applicant's file name
/// (with the extension of the recognised type), the recognised type, size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCv {
    pub stored_name: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// Everything stored for a new application.
#[derive(Debug)]
pub struct NewApplication<'a> {
    pub id: &'a str,
    pub posting_id: &'a str,
    pub input: &'a ApplicationInput,
    pub cv: &'a StoredCv,
    pub privacy_notice_version: &'a str,
    pub ip_hash: Option<&'a str>,
    pub now: NaiveDateTime,
}

/// Whether this address already applied to this posting.
pub fn application_exists(
    conn: &mut DbConnection,
    posting_id: &str,
    email_normalized: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        apps::table
            .filter(apps::posting_id.eq(posting_id))
            .filter(apps::email_normalized.eq(email_normalized)),
    ))
    .get_result(conn)
}

/// Saves an application and its answers (several writes: use `Db::write`). A second
/// application from the same address to the same posting is a unique violation.
#[tracing::instrument(skip_all, fields(posting_id = new.posting_id))]
pub fn insert_application(conn: &mut DbConnection, new: &NewApplication<'_>) -> QueryResult<()> {
    let input = new.input;
    let links = (!input.links.is_empty()).then(|| input.links.join("\n"));
    diesel::insert_into(apps::table)
        .values((
            (
                apps::id.eq(new.id),
                apps::posting_id.eq(new.posting_id),
                apps::name.eq(input.name.as_str()),
                apps::email.eq(input.email.as_str()),
                apps::email_normalized.eq(input.email.normalized()),
                apps::phone.eq(input.phone.as_deref()),
                apps::cover_letter.eq(input.cover_letter.as_deref()),
                apps::links.eq(links),
                apps::stage.eq(Stage::New.as_str()),
            ),
            (
                apps::cv_stored_name.eq(Some(&new.cv.stored_name)),
                apps::cv_filename.eq(Some(&new.cv.filename)),
                apps::cv_content_type.eq(Some(&new.cv.content_type)),
                apps::cv_size.eq(Some(new.cv.size)),
                apps::cv_sha256.eq(Some(&new.cv.sha256)),
                apps::consent_at.eq(new.now),
                apps::privacy_notice_version.eq(new.privacy_notice_version),
                apps::keep_on_file.eq(input.keep_on_file),
                apps::keep_on_file_at.eq(input.keep_on_file.then_some(new.now)),
                apps::ip_hash.eq(new.ip_hash),
                apps::created_at.eq(new.now),
                apps::updated_at.eq(new.now),
            ),
        ))
        .execute(conn)?;
    for (question_id, value) in &input.answers {
        diesel::insert_into(answers::table)
            .values((
                answers::application_id.eq(new.id),
                answers::question_id.eq(question_id),
                answers::value.eq(value),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// How a staff list of applications is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationSort {
    /// Newest first.
    #[default]
    Newest,
    Oldest,
    /// Highest average rating first (unrated last), then newest.
    Rating,
}

/// *Staff*: what to list.
#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    pub stage: Option<Stage>,
    /// Exact address (compared lower-cased).
    pub email: Option<String>,
    pub sort: ApplicationSort,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=500 (clamped).
    pub limit: i64,
}

/// *Staff*: one row of the applications list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApplicationSummary {
    pub id: String,
    pub name: String,
    pub email: String,
    pub stage: Stage,
    /// Mean of the reviewers' ratings (two decimals), null when unrated.
    pub rating_average: Option<f64>,
    pub rating_count: i32,
    pub has_cv: bool,
    pub keep_on_file: bool,
    pub anonymised: bool,
    pub created_at: DateTime<Utc>,
}

/// A page of a cursor-paginated list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

type SummaryRow = (
    String,
    String,
    String,
    String,
    i32,
    i32,
    Option<String>,
    bool,
    Option<NaiveDateTime>,
    NaiveDateTime,
);

/// The position after which a page continues: `(rating score, created_at, id)`.
fn encode_cursor(score: i32, created_at: NaiveDateTime, id: &str) -> String {
    let raw = format!("{score}|{}|{id}", created_at.and_utc().timestamp_micros());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(cursor: &str) -> Result<(i32, NaiveDateTime, String), AppError> {
    let invalid = || AppError::field("cursor", "Not a cursor from this list.");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    let mut parts = raw.splitn(3, '|');
    let (Some(score), Some(micros), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let score = score.parse::<i32>().map_err(|_| invalid())?;
    let created_at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_micros)
        .ok_or_else(invalid)?
        .naive_utc();
    Ok((score, created_at, id.to_string()))
}

fn rating_average(score: i32, count: i32) -> Option<f64> {
    (count > 0).then(|| f64::from(score) / 100.0)
}

/// *Staff*: a posting's applications, filtered, sorted and cursor-paginated.
#[tracing::instrument(skip_all, fields(posting_id))]
pub fn list_applications(
    conn: &mut DbConnection,
    posting_id: &str,
    filter: &ApplicationFilter,
) -> Result<Page<ApplicationSummary>, AppError> {
    let limit = filter.limit.clamp(1, 500);
    let mut query = apps::table
        .filter(apps::posting_id.eq(posting_id))
        .select((
            apps::id,
            apps::name,
            apps::email,
            apps::stage,
            apps::rating_score,
            apps::rating_count,
            apps::cv_stored_name,
            apps::keep_on_file,
            apps::anonymised_at,
            apps::created_at,
        ))
        .into_boxed();
    if let Some(stage) = filter.stage {
        query = query.filter(apps::stage.eq(stage.as_str()));
    }
    if let Some(email) = &filter.email {
        query = query.filter(apps::email_normalized.eq(super::model::normalize_email(email)));
    }
    let after = filter.cursor.as_deref().map(decode_cursor).transpose()?;
    query = match filter.sort {
        ApplicationSort::Newest => {
            if let Some((_, at, id)) = after {
                query = query.filter(
                    apps::created_at
                        .lt(at)
                        .or(apps::created_at.eq(at).and(apps::id.lt(id))),
                );
            }
            query.order((apps::created_at.desc(), apps::id.desc()))
        }
        ApplicationSort::Oldest => {
            if let Some((_, at, id)) = after {
                query = query.filter(
                    apps::created_at
                        .gt(at)
                        .or(apps::created_at.eq(at).and(apps::id.gt(id))),
                );
            }
            query.order((apps::created_at.asc(), apps::id.asc()))
        }
        ApplicationSort::Rating => {
            if let Some((score, at, id)) = after {
                query = query.filter(
                    apps::rating_score
                        .lt(score)
                        .or(apps::rating_score.eq(score).and(apps::created_at.lt(at)))
                        .or(apps::rating_score
                            .eq(score)
                            .and(apps::created_at.eq(at))
                            .and(apps::id.lt(id.clone()))),
                );
            }
            query.order((
                apps::rating_score.desc(),
                apps::created_at.desc(),
                apps::id.desc(),
            ))
        }
    };
    let mut rows: Vec<SummaryRow> = query.limit(limit + 1).load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last())
        .flatten()
        .map(|r| encode_cursor(r.4, r.9, &r.0));
    let items = rows
        .into_iter()
        .map(
            |(id, name, email, stage, score, count, cv, keep, anonymised, created_at)| {
                ApplicationSummary {
                    id,
                    name,
                    email,
                    stage: Stage::parse(&stage).unwrap_or(Stage::New),
                    rating_average: rating_average(score, count),
                    rating_count: count,
                    has_cv: cv.is_some(),
                    keep_on_file: keep,
                    anonymised: anonymised.is_some(),
                    created_at: created_at.and_utc(),
                }
            },
        )
        .collect();
    Ok(Page { items, next_cursor })
}

/// *Staff*: the posting an application belongs to (for the hiring-contact check).
pub fn application_posting_id(
    conn: &mut DbConnection,
    application_id: &str,
) -> QueryResult<String> {
    apps::table
        .find(application_id)
        .select(apps::posting_id)
        .first(conn)
}

/// An answer to a custom question, with the question as it reads now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Answer {
    pub question_id: String,
    pub label: String,
    pub kind: QuestionKind,
    pub value: String,
}

/// An internal note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub id: String,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One reviewer's rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReviewerRating {
    pub reviewer: String,
    pub rating: i32,
    pub updated_at: DateTime<Utc>,
}

/// The CV's metadata (the file itself only through [`cv_download`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CvInfo {
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// *Staff*: everything about one application.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApplicationDetail {
    pub id: String,
    pub posting_id: String,
    pub posting_slug: String,
    pub posting_title: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub cover_letter: Option<String>,
    pub links: Vec<String>,
    pub stage: Stage,
    pub cv: Option<CvInfo>,
    pub consent_at: DateTime<Utc>,
    pub privacy_notice_version: String,
    pub keep_on_file: bool,
    pub rating_average: Option<f64>,
    pub rating_count: i32,
    pub ratings: Vec<ReviewerRating>,
    pub answers: Vec<Answer>,
    pub notes: Vec<Note>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub anonymised_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = apps)]
struct ApplicationRow {
    id: String,
    posting_id: String,
    name: String,
    email: String,
    phone: Option<String>,
    cover_letter: Option<String>,
    links: Option<String>,
    stage: String,
    cv_filename: Option<String>,
    cv_content_type: Option<String>,
    cv_size: Option<i64>,
    cv_sha256: Option<String>,
    consent_at: NaiveDateTime,
    privacy_notice_version: String,
    keep_on_file: bool,
    rating_score: i32,
    rating_count: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    anonymised_at: Option<NaiveDateTime>,
}

/// *Staff*: one application with its answers, ratings and notes (`NotFound` when unknown).
pub fn get_application(conn: &mut DbConnection, id: &str) -> QueryResult<ApplicationDetail> {
    let (row, slug, title): (ApplicationRow, String, String) = apps::table
        .inner_join(postings::table)
        .filter(apps::id.eq(id))
        .select((ApplicationRow::as_select(), postings::slug, postings::title))
        .first(conn)?;
    let answer_rows: Vec<(String, String, String, String)> = answers::table
        .inner_join(questions::table)
        .filter(answers::application_id.eq(id))
        .select((
            answers::question_id,
            questions::label,
            questions::kind,
            answers::value,
        ))
        .order((questions::position, questions::id))
        .load(conn)?;
    let note_rows: Vec<(String, String, String, NaiveDateTime)> = notes::table
        .filter(notes::application_id.eq(id))
        .select((notes::id, notes::author, notes::body, notes::created_at))
        .order((notes::created_at, notes::id))
        .load(conn)?;
    let rating_rows: Vec<(String, i32, NaiveDateTime)> = ratings::table
        .filter(ratings::application_id.eq(id))
        .select((ratings::reviewer, ratings::rating, ratings::updated_at))
        .order(ratings::reviewer)
        .load(conn)?;
    let cv = match (
        row.cv_filename,
        row.cv_content_type,
        row.cv_size,
        row.cv_sha256,
    ) {
        (Some(filename), Some(content_type), Some(size), Some(sha256)) => Some(CvInfo {
            filename,
            content_type,
            size,
            sha256,
        }),
        _ => None,
    };
    Ok(ApplicationDetail {
        id: row.id,
        posting_id: row.posting_id,
        posting_slug: slug,
        posting_title: title,
        name: row.name,
        email: row.email,
        phone: row.phone,
        cover_letter: row.cover_letter,
        links: row
            .links
            .map(|l| l.lines().map(String::from).collect())
            .unwrap_or_default(),
        stage: Stage::parse(&row.stage).unwrap_or(Stage::New),
        cv,
        consent_at: row.consent_at.and_utc(),
        privacy_notice_version: row.privacy_notice_version,
        keep_on_file: row.keep_on_file,
        rating_average: rating_average(row.rating_score, row.rating_count),
        rating_count: row.rating_count,
        ratings: rating_rows
            .into_iter()
            .map(|(reviewer, rating, updated_at)| ReviewerRating {
                reviewer,
                rating,
                updated_at: updated_at.and_utc(),
            })
            .collect(),
        answers: answer_rows
            .into_iter()
            .map(|(question_id, label, kind, value)| Answer {
                question_id,
                label,
                kind: QuestionKind::parse(&kind).unwrap_or(QuestionKind::LongText),
                value,
            })
            .collect(),
        notes: note_rows
            .into_iter()
            .map(|(id, author, body, created_at)| Note {
                id,
                author,
                body,
                created_at: created_at.and_utc(),
            })
            .collect(),
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        anonymised_at: row.anonymised_at.map(|t| t.and_utc()),
    })
}

/// What a stage change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StageChange {
    pub from: Stage,
    pub to: Stage,
    /// True when the rejection email was queued.
    pub email_queued: bool,
}

/// *Staff*: moves an application to `to` (use `Db::write`). `rejection` (see
/// [`super::emails::rejection`]) is queued only on a move into `rejected` from another
/// stage; every other change is internal and never emails the applicant.
#[tracing::instrument(skip_all, fields(application_id = id, to = to.as_str()))]
pub fn set_stage(
    conn: &mut DbConnection,
    id: &str,
    to: Stage,
    rejection: Option<&NewOutboxEmail>,
    now: NaiveDateTime,
) -> QueryResult<StageChange> {
    let (from, anonymised): (String, Option<NaiveDateTime>) = apps::table
        .find(id)
        .select((apps::stage, apps::anonymised_at))
        .first(conn)?;
    let from = Stage::parse(&from).unwrap_or(Stage::New);
    diesel::update(apps::table.find(id))
        .set((apps::stage.eq(to.as_str()), apps::updated_at.eq(now)))
        .execute(conn)?;
    let mut email_queued = false;
    if let Some(email) = rejection {
        if to == Stage::Rejected && from != Stage::Rejected && anonymised.is_none() {
            crate::mail::outbox::enqueue(conn, std::slice::from_ref(email))?;
            email_queued = true;
        }
    }
    Ok(StageChange {
        from,
        to,
        email_queued,
    })
}

/// *Staff*: adds an internal note (`NotFound` for an unknown application).
pub fn add_note(
    conn: &mut DbConnection,
    application_id: &str,
    author: &str,
    body: &NoteBody,
    now: NaiveDateTime,
) -> QueryResult<Note> {
    apps::table
        .find(application_id)
        .select(apps::id)
        .first::<String>(conn)?;
    let id = crate::db::new_id();
    diesel::insert_into(notes::table)
        .values((
            notes::id.eq(&id),
            notes::application_id.eq(application_id),
            notes::author.eq(author),
            notes::body.eq(body.as_str()),
            notes::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(Note {
        id,
        author: author.to_string(),
        body: body.as_str().to_string(),
        created_at: now.and_utc(),
    })
}

/// The ratings of an application after a change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RatingSummary {
    pub average: Option<f64>,
    pub count: i32,
}

/// *Staff*: sets `reviewer`'s rating of an application, replacing their earlier one
/// (use `Db::write`: the average kept for sorting is updated with it).
pub fn set_rating(
    conn: &mut DbConnection,
    application_id: &str,
    reviewer: &str,
    rating: Rating,
    now: NaiveDateTime,
) -> QueryResult<RatingSummary> {
    apps::table
        .find(application_id)
        .select(apps::id)
        .first::<String>(conn)?;
    let value = i32::from(rating.get());
    let row = (
        ratings::application_id.eq(application_id),
        ratings::reviewer.eq(reviewer),
        ratings::rating.eq(value),
        ratings::updated_at.eq(now),
    );
    // An upsert is typed per backend (the multi-backend has none).
    macro_rules! upsert {
        ($c:expr) => {
            diesel::insert_into(ratings::table)
                .values(row)
                .on_conflict((ratings::application_id, ratings::reviewer))
                .do_update()
                .set((ratings::rating.eq(value), ratings::updated_at.eq(now)))
                .execute($c)
        };
    }
    match conn {
        DbConnection::Sqlite(c) => upsert!(c)?,
        DbConnection::Postgres(c) => upsert!(c)?,
    };
    let all: Vec<i32> = ratings::table
        .filter(ratings::application_id.eq(application_id))
        .select(ratings::rating)
        .load(conn)?;
    let count = i32::try_from(all.len()).unwrap_or(i32::MAX);
    let sum: i32 = all.iter().sum();
    // Average times 100, rounded half up: what the list sorts by.
    let score = if count == 0 {
        0
    } else {
        (sum * 200 + count) / (2 * count)
    };
    diesel::update(apps::table.find(application_id))
        .set((
            apps::rating_score.eq(score),
            apps::rating_count.eq(count),
            apps::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(RatingSummary {
        average: rating_average(score, count),
        count,
    })
}

/// Where a CV is and what to call it when downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvDownload {
    pub posting_id: String,
    /// The file under `uploads.dir/cvs` (see [`super::upload::cv_path`]).
    pub stored_name: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// *Staff*: the CV file of an application (`NotFound` when unknown or erased). Serve it
/// only as an attachment with `X-Content-Type-Options: nosniff`, and audit the download.
pub fn cv_download(conn: &mut DbConnection, application_id: &str) -> QueryResult<CvDownload> {
    let row: (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
    ) = apps::table
        .find(application_id)
        .select((
            apps::posting_id,
            apps::cv_stored_name,
            apps::cv_filename,
            apps::cv_content_type,
            apps::cv_size,
        ))
        .first(conn)?;
    match row {
        (posting_id, Some(stored_name), Some(filename), Some(content_type), Some(size)) => {
            Ok(CvDownload {
                posting_id,
                stored_name,
                filename,
                content_type,
                size,
            })
        }
        _ => Err(diesel::result::Error::NotFound),
    }
}

/// What [`anonymise_application`] removed that lives on outside the row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anonymised {
    /// The stored name of the CV file, for the caller to delete after the commit.
    pub cv_stored_name: Option<String>,
    /// The ids of the emails about the application that were deleted.
    pub emails: Vec<String>,
}

/// The database half of erasing one applicant ([`super::privacy::erase_application`] is the
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
        .filter(postings::status.eq(PostingStatus::Closed.as_str()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let at = crate::db::now();
        let c = encode_cursor(350, at, "0190-abc");
        assert_eq!(
            decode_cursor(&c).expect("valid"),
            (350, at, "0190-abc".to_string())
        );
        for bad in ["", "!!!", "bm9wZQ"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }
}
