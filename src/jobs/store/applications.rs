//! Applications as they arrive (with their answers) and the staff list of a posting's
//! applications, filtered, sorted and cursor-paginated.

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::rating_average;
use crate::db::schema::{job_application_answers as answers, job_applications as apps};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::jobs::model::{ApplicationInput, Stage};

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
    /// The applicant's language, for later emails (a rejection).
    pub lang: &'a crate::i18n::Lang,
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
                apps::stage.eq(Stage::New),
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
                apps::lang.eq(Some(new.lang.as_str())),
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
        query = query.filter(apps::stage.eq(stage));
    }
    if let Some(email) = &filter.email {
        query = query.filter(apps::email_normalized.eq(crate::jobs::model::normalize_email(email)));
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
