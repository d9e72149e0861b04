//! Receiving an application form (`multipart/form-data`) as a stream.
//!
//! Text fields are collected in memory up to a small budget; the `cv` part is written to a
//! temporary file under `uploads.dir/cvs` while it arrives, hashed (SHA-256) on the way, and
//! refused with 413 the moment it passes `uploads.max_bytes`: the partial file is deleted and
//! nothing is kept. The body as a whole is capped too (CV + text + framing), so a client
//! cannot make the parser buffer without bound. After a refusal a bounded amount of the rest
//! of the body is read and discarded, so the client gets to read the answer.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{self, Bytes};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{AppError, FieldError};

/// Room for boundaries and part headers on top of the CV and text budgets.
const FRAMING_BYTES: usize = 64 * 1024;
/// More parts than any form of ours has.
const MAX_PARTS: usize = 100;
/// How long a refused upload's remainder is read before the answer goes out anyway.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// The folder CVs live in: `uploads.dir/cvs` (never served).
pub fn cv_dir(uploads_dir: &Path) -> PathBuf {
    uploads_dir.join("cvs")
}

/// A stored CV's full path.
pub fn cv_path(uploads_dir: &Path, stored_name: &str) -> PathBuf {
    cv_dir(uploads_dir).join(stored_name)
}

/// Creates `uploads.dir/cvs` when missing, readable by the service's user only.
pub async fn ensure_cv_dir(uploads_dir: &Path) -> std::io::Result<PathBuf> {
    let dir = cv_dir(uploads_dir);
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(&dir).await?;
    Ok(dir)
}

/// How much a form may carry.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// The CV (`uploads.max_bytes`).
    pub file_bytes: usize,
    /// All text fields together (`server.max_body_bytes`).
    pub text_bytes: usize,
}

impl UploadLimits {
    fn body_bytes(self) -> usize {
        self.file_bytes
            .saturating_add(self.text_bytes)
            .saturating_add(FRAMING_BYTES)
    }

    /// How much of a refused body is read and thrown away: enough for a client that sent
    /// a little over the limit to finish and read the answer; bounded in time as well.
    fn drain_bytes(self) -> usize {
        self.body_bytes().saturating_mul(2)
    }
}

/// A received file in `uploads.dir/cvs`: deleted when dropped, unless [`StagedFile::persist`]ed.
#[derive(Debug)]
pub struct StagedFile {
    path: Option<PathBuf>,
    pub size: u64,
    pub sha256: String,
    /// The name the client gave it (untrusted; see `cv::download_name`).
    pub original_name: Option<String>,
}

impl StagedFile {
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Moves the file to a new random name in the same folder and keeps it; returns the name.
    pub async fn persist(mut self) -> std::io::Result<String> {
        let Some(from) = self.path.clone() else {
            return Err(std::io::Error::other("the staged file is gone"));
        };
        let name = random_name();
        let to = from.with_file_name(&name);
        tokio::fs::rename(&from, &to).await?;
        self.path = None;
        Ok(name)
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            if let Err(e) = std::fs::remove_file(&path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::error!(error = %e, "cannot remove a refused upload");
                }
            }
        }
    }
}

/// 128 random bits, hex: a stored CV's name (no extension: nothing treats it as executable or typed).
fn random_name() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A received form: its text fields, its CV (if any) and what was wrong with its shape.
#[derive(Debug, Default)]
pub struct ReceivedForm {
    pub fields: BTreeMap<String, String>,
    pub cv: Option<StagedFile>,
    /// Fields sent twice or not in UTF-8 (reported as 422 with the rest).
    pub problems: Vec<FieldError>,
}

/// The request body shared between the multipart parser and the drain that follows a refusal.
#[derive(Clone)]
struct SharedBody {
    payload: Rc<RefCell<web::Payload>>,
    read: usize,
    limit: usize,
}

impl Stream for SharedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut *this.payload.borrow_mut()).poll_next(cx);
        match polled {
            Poll::Ready(Some(Ok(chunk))) => {
                this.read = this.read.saturating_add(chunk.len());
                if this.read > this.limit {
                    Poll::Ready(Some(Err(PayloadError::Overflow)))
                } else {
                    Poll::Ready(Some(Ok(chunk)))
                }
            }
            other => other,
        }
    }
}

/// Reads and discards up to `cap` more bytes of the body (for at most [`DRAIN_TIME`]), so a
/// client still sending gets to read the refusal.
async fn drain(payload: &Rc<RefCell<web::Payload>>, cap: usize) {
    let mut body = SharedBody {
        payload: payload.clone(),
        read: 0,
        limit: cap,
    };
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(_)) = body.next().await {}
    })
    .await;
}

/// Discards the body of a request refused before it was read (unknown or closed posting).
pub async fn discard(payload: web::Payload, limits: UploadLimits) {
    drain(&Rc::new(RefCell::new(payload)), limits.drain_bytes()).await;
}

fn too_large(limits: UploadLimits) -> AppError {
    AppError::PayloadTooLarge(format!(
        "The CV must be at most {} bytes ({} MiB).",
        limits.file_bytes,
        limits.file_bytes / (1024 * 1024)
    ))
}

fn multipart_error(e: MultipartError, limits: UploadLimits) -> AppError {
    match e {
        MultipartError::Payload(PayloadError::Overflow) => too_large(limits),
        MultipartError::Payload(_) => AppError::BadRequest("The upload was interrupted.".into()),
        other => AppError::BadRequest(format!(
            "The body is not valid multipart/form-data: {other}."
        )),
    }
}

/// Receives an application form. 415 when it is not `multipart/form-data`, 400 when it is
/// malformed, 413 when the CV or the whole body is over its limit (no file is left behind).
pub async fn receive(
    headers: &HeaderMap,
    payload: web::Payload,
    limits: UploadLimits,
    uploads_dir: &Path,
) -> Result<ReceivedForm, AppError> {
    let payload = Rc::new(RefCell::new(payload));
    let result = read_form(headers, &payload, limits, uploads_dir).await;
    if result.is_err() {
        drain(&payload, limits.drain_bytes()).await;
    }
    result
}

async fn read_form(
    headers: &HeaderMap,
    payload: &Rc<RefCell<web::Payload>>,
    limits: UploadLimits,
    uploads_dir: &Path,
) -> Result<ReceivedForm, AppError> {
    let is_form_data = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.type_() == mime::MULTIPART && m.subtype() == mime::FORM_DATA);
    if !is_form_data {
        return Err(AppError::UnsupportedMediaType(
            "Send the application as multipart/form-data.".into(),
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limits.body_bytes()) {
        return Err(too_large(limits));
    }
    let body = SharedBody {
        payload: payload.clone(),
        read: 0,
        limit: limits.body_bytes(),
    };
    let mut multipart = Multipart::new(headers, body);
    let mut form = ReceivedForm::default();
    let mut text_budget = limits.text_bytes;
    let mut parts = 0;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| multipart_error(e, limits))?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(AppError::BadRequest("The form has too many fields.".into()));
        }
        let name = field.name().unwrap_or_default().to_string();
        if name == "cv" {
            if form.cv.is_some() {
                form.problems
                    .push(FieldError::new("cv", "Send one file only."));
                skip(&mut field, limits).await?;
                continue;
            }
            let original_name = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .map(String::from);
            let mut staged = stage(&mut field, limits, uploads_dir).await?;
            staged.original_name = original_name;
            form.cv = Some(staged);
            continue;
        }
        let bytes = read_text(&mut field, &mut text_budget, limits).await?;
        if form.fields.contains_key(&name) {
            form.problems
                .push(FieldError::new(&name, "Sent more than once."));
            continue;
        }
        match String::from_utf8(bytes) {
            Ok(text) => {
                form.fields.insert(name, text);
            }
            Err(_) => form
                .problems
                .push(FieldError::new(&name, "Must be UTF-8 text.")),
        }
    }
    Ok(form)
}

async fn read_text(
    field: &mut Field,
    budget: &mut usize,
    limits: UploadLimits,
) -> Result<Vec<u8>, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| multipart_error(e, limits))?;
        if chunk.len() > *budget {
            return Err(AppError::PayloadTooLarge(format!(
                "The form's text fields are larger than {} bytes.",
                limits.text_bytes
            )));
        }
        *budget -= chunk.len();
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

async fn skip(field: &mut Field, limits: UploadLimits) -> Result<(), AppError> {
    while let Some(chunk) = field.next().await {
        chunk.map_err(|e| multipart_error(e, limits))?;
    }
    Ok(())
}

/// Writes the `cv` part to a temporary file, hashing it, and stops at the limit.
async fn stage(
    field: &mut Field,
    limits: UploadLimits,
    uploads_dir: &Path,
) -> Result<StagedFile, AppError> {
    let io_error = |e: std::io::Error| {
        AppError::unexpected(anyhow::Error::new(e).context("cannot store an uploaded CV"))
    };
    let dir = ensure_cv_dir(uploads_dir).await.map_err(io_error)?;
    let path = dir.join(format!(".upload-{}.part", random_name()));
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&path).await.map_err(io_error)?;
    // From here on the file is removed whatever happens, unless it is persisted.
    let mut staged = StagedFile {
        path: Some(path),
        size: 0,
        sha256: String::new(),
        original_name: None,
    };
    let mut hasher = Sha256::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| multipart_error(e, limits))?;
        staged.size += chunk.len() as u64;
        if staged.size > limits.file_bytes as u64 {
            return Err(too_large(limits));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(io_error)?;
    }
    file.sync_all().await.map_err(io_error)?;
    staged.sha256 = hex::encode(hasher.finalize());
    Ok(staged)
}
