//! Applying for a position: the one path behind both the JSON API
//! (`POST /api/v1/jobs/{slug}/applications`) and the page's form (`POST /jobs/{slug}/apply`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use actix_web::http::header::HeaderMap;
use actix_web::web;

use super::cv::{self, CvKind, CvRejection};
use super::emails;
use super::model::{ApplicationInput, Posting, Question};
use super::store::{self, NewApplication, StoredCv};
use super::upload::{self, ReceivedForm, StagedFile, UploadLimits};
use crate::error::{AppError, FieldError};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::ClientIp;

/// What the applicant is told on a second application to the same posting.
pub const DUPLICATE_MESSAGE: &str = "You have already applied for this position with this \
     email address. Thank you! We have your application and will be in touch; there is no \
     need to apply again.";

/// What the applicant is told when the posting no longer takes applications.
pub const CLOSED_MESSAGE: &str =
    "This position is no longer accepting applications. Thank you for your interest.";

const MISSING_CV: &str = "Attach your CV as a PDF, Word (.docx) or OpenDocument (.odt) file.";

/// A public posting and its active questions.
#[derive(Debug, Clone)]
pub struct PublicPosting {
    pub posting: Posting,
    pub questions: Vec<Question>,
}

/// Loads a posting the public may see (404 for drafts, unknown slugs and postings not open
/// yet). Postings past their closing time are closed first.
pub async fn find_public(state: &AppState, slug: &str) -> Result<PublicPosting, AppError> {
    let slug = slug.to_string();
    state
        .db
        .run(move |conn| {
            let now = crate::db::now();
            store::close_expired(conn, now)?;
            let posting = store::find_posting_by_slug(conn, &slug)?;
            if !posting.is_public(now) {
                return Err(AppError::NotFound);
            }
            let questions = store::posting_questions(conn, &posting.id, true)?;
            Ok(PublicPosting { posting, questions })
        })
        .await
}

/// [`find_public`] for a request that carries an application: when the posting cannot be
/// had, the body is read and discarded (bounded) before the refusal, so the client reads it.
pub async fn find_for_application(
    state: &AppState,
    slug: &str,
    payload: web::Payload,
) -> Result<(PublicPosting, web::Payload), AppError> {
    match find_public(state, slug).await {
        Ok(public) => Ok((public, payload)),
        Err(e) => {
            upload::discard(payload, limits(state)).await;
            Err(e)
        }
    }
}

/// The upload limits from configuration.
pub fn limits(state: &AppState) -> UploadLimits {
    UploadLimits {
        file_bytes: state.settings.uploads.max_bytes,
        text_bytes: state.settings.server.max_body_bytes,
    }
}

/// A stored application.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub name: String,
    pub email: String,
    /// The language stored with the application.
    pub lang: Lang,
}

/// A refused application, with the text the applicant sent (to show the form again).
#[derive(Debug)]
pub struct Rejected {
    pub error: AppError,
    pub values: BTreeMap<String, String>,
}

impl From<AppError> for Rejected {
    fn from(error: AppError) -> Self {
        Rejected {
            error,
            values: BTreeMap::new(),
        }
    }
}

/// Receives, checks and stores an application to `public`, with its acknowledgement and
/// notifications queued in the same transaction. Nothing is kept when anything fails.
#[tracing::instrument(skip_all, fields(slug = %public.posting.slug))]
pub async fn apply(
    state: &AppState,
    public: &PublicPosting,
    headers: &HeaderMap,
    payload: web::Payload,
    ip: ClientIp,
) -> Result<Received, Rejected> {
    let limits = limits(state);
    if !public.posting.accepts_applications(crate::db::now()) {
        upload::discard(payload, limits).await;
        return Err(AppError::Conflict(CLOSED_MESSAGE.into()).into());
    }
    let uploads_dir = state.settings.uploads.dir.clone();
    let mut form = upload::receive(headers, payload, limits, &uploads_dir).await?;
    let values = std::mem::take(&mut form.fields);
    let accept_language = headers
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    // The form's `lang` field, else the browser's languages, else the site default.
    let lang = state
        .languages
        .choose(values.get("lang").map(String::as_str), accept_language);
    match check(state, public, &values, form, lang, ip).await {
        Ok(received) => Ok(received),
        Err(error) => Err(Rejected { error, values }),
    }
}

async fn check(
    state: &AppState,
    public: &PublicPosting,
    values: &BTreeMap<String, String>,
    form: ReceivedForm,
    lang: Result<Lang, String>,
    ip: ClientIp,
) -> Result<Received, AppError> {
    let ReceivedForm {
        cv: staged,
        mut problems,
        ..
    } = form;
    let input = ApplicationInput::parse(values, &public.questions);
    let lang = lang
        .map_err(|m| problems.push(FieldError::new("lang", m)))
        .ok();
    let no_file = staged
        .as_ref()
        .is_none_or(|f| f.size == 0 && f.original_name.as_deref().unwrap_or_default().is_empty());
    let kind = match staged.as_ref() {
        Some(file) if !no_file => match recognise(file).await? {
            Ok(kind) => Some(kind),
            Err(rejection) => {
                problems.push(FieldError::new("cv", rejection.to_string()));
                None
            }
        },
        _ => {
            problems.push(FieldError::new("cv", MISSING_CV));
            None
        }
    };
    let (input, kind, staged, lang) = match (input, kind, staged, lang) {
        (Ok(input), Some(kind), Some(staged), Some(lang)) if problems.is_empty() => {
            (input, kind, staged, lang)
        }
        (input, _, _, _) => {
            if let Err(errors) = input {
                problems.extend(errors);
            }
            return Err(AppError::Validation(problems));
        }
    };

    let posting = &public.posting;
    let id = crate::db::new_id();
    let contacts = {
        let posting_id = posting.id.clone();
        state
            .db
            .run(move |conn| Ok(store::hiring_contacts(conn, &posting_id)?))
            .await?
    };
    let mut emails = vec![emails::acknowledgement(
        &state.mailer,
        &state.settings,
        posting,
        &input,
        &id,
        &lang,
    )?];
    emails.extend(emails::notifications(
        &state.mailer,
        &state.settings,
        posting,
        &input,
        &id,
        &contacts,
    )?);

    let cv = StoredCv {
        filename: cv::download_name(staged.original_name.as_deref(), kind),
        content_type: kind.content_type().to_string(),
        size: i64::try_from(staged.size).unwrap_or(i64::MAX),
        sha256: staged.sha256.clone(),
        stored_name: staged.persist().await.map_err(|e| {
            AppError::unexpected(anyhow::Error::new(e).context("cannot store an uploaded CV"))
        })?,
    };
    let stored_path = upload::cv_path(&state.settings.uploads.dir, &cv.stored_name);
    let ip_hash = state
        .keys
        .hash("job_application_ip", ip.0.to_string().as_bytes());
    let version = state.settings.jobs.privacy_notice_version.clone();
    let received = Received {
        id: id.clone(),
        name: input.name.as_str().to_string(),
        email: input.email.as_str().to_string(),
        lang: lang.clone(),
    };
    let posting_id = posting.id.clone();
    let stored = state
        .db
        .write(move |conn| {
            let now = crate::db::now();
            let current = store::find_posting(conn, &posting_id)?;
            if !current.accepts_applications(now) {
                return Err(AppError::Conflict(CLOSED_MESSAGE.into()));
            }
            if store::application_exists(conn, &posting_id, &input.email.normalized())? {
                return Err(AppError::Conflict(DUPLICATE_MESSAGE.into()));
            }
            store::insert_application(
                conn,
                &NewApplication {
                    id: &id,
                    posting_id: &posting_id,
                    input: &input,
                    cv: &cv,
                    privacy_notice_version: &version,
                    ip_hash: Some(&ip_hash),
                    now,
                    lang: &lang,
                },
            )
            .map_err(|e| match AppError::from(e) {
                // Two submissions racing past the check above.
                AppError::Conflict(_) => AppError::Conflict(DUPLICATE_MESSAGE.into()),
                other => other,
            })?;
            crate::mail::outbox::enqueue(conn, &emails)?;
            Ok(())
        })
        .await;
    if let Err(error) = stored {
        if let Err(e) = tokio::fs::remove_file(&stored_path).await {
            tracing::error!(error = %e, "cannot remove the CV of a refused application");
        }
        return Err(error);
    }
    state.mailer.wake();
    tracing::info!(application_id = %received.id, "application received");
    Ok(received)
}

/// What the staged CV really is; an I/O failure is the server's fault, not the applicant's.
async fn recognise(file: &StagedFile) -> Result<Result<CvKind, CvRejection>, AppError> {
    let Some(path) = file.path().map(PathBuf::from) else {
        return Ok(Err(CvRejection::Empty));
    };
    match web::block(move || cv::inspect(&path))
        .await
        .map_err(AppError::unexpected)?
    {
        Err(CvRejection::Io(e)) => Err(AppError::unexpected(
            anyhow::Error::new(e).context("cannot read an uploaded CV"),
        )),
        other => Ok(other),
    }
}
