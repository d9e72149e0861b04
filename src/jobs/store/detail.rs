//! *Staff*: one application read whole (answers, notes, ratings, CV metadata) and its CV
//! file for download.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::rating_average;
use crate::db::schema::{
    job_application_answers as answers, job_application_notes as notes,
    job_application_ratings as ratings, job_applications as apps, job_postings as postings,
    job_questions as questions,
};
use crate::db::DbConnection;
use crate::jobs::model::{QuestionKind, Stage};

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
    /// The applicant's language (`NULL` on applications older than languages: the default).
    pub lang: Option<String>,
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
    stage: Stage,
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
    lang: Option<String>,
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
        stage: row.stage,
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
        lang: row.lang,
    })
}

/// Where a CV is and what to call it when downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvDownload {
    pub posting_id: String,
    /// The file under `uploads.dir/cvs` (see [`crate::jobs::upload::cv_path`]).
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
