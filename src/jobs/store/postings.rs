//! Postings: writing them with their hiring contacts and questions, reading them for the
//! public pages and the staff list, and closing them at their closing time.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    job_posting_contacts as contacts, job_postings as postings, job_questions as questions,
};
use crate::db::DbConnection;
use crate::error::{AppError, FieldError};
use crate::jobs::model::{
    EmploymentType, NewPosting, NewQuestion, Posting, PostingStatus, Question, QuestionKind,
    Salary, SalaryPeriod, Workplace,
};

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
    status: PostingStatus,
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
            status: r.status,
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
        .filter(postings::status.eq(PostingStatus::Open))
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
        query = query.filter(postings::status.eq(status));
    }
    Ok(query.load(conn)?.into_iter().map(Posting::from).collect())
}

/// *Staff*: the postings a hiring contact looks after, newest first.
pub fn postings_for_contact(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<Posting>> {
    Ok(postings::table
        .inner_join(contacts::table)
        .filter(contacts::email.eq(crate::jobs::model::normalize_email(email)))
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
            .filter(contacts::email.eq(crate::jobs::model::normalize_email(email))),
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
        .filter(postings::status.eq(PostingStatus::Open))
        .filter(postings::closes_at.le(now))
        .select(postings::id)
        .load(conn)?;
    if due.is_empty() {
        return Ok(0);
    }
    let closed = diesel::update(
        postings::table
            .filter(postings::id.eq_any(&due))
            .filter(postings::status.eq(PostingStatus::Open)),
    )
    .set((
        postings::status.eq(PostingStatus::Closed),
        postings::closed_at.eq(postings::closes_at),
        postings::updated_at.eq(now),
    ))
    .execute(conn)?;
    if closed > 0 {
        tracing::info!(closed, "job postings closed at their closing time");
    }
    Ok(closed)
}
