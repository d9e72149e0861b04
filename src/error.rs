//! One error type for the web layer, answered as RFC 9457 problem details.
//!
//! 4xx variants carry what the client may see; `Unexpected` and `Unavailable` carry the
//! cause for the server log only: the body never holds SQL, paths or stack traces.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// A failing input field, as reported in a problem document's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// How long a client is asked to wait after the payment processor failed to answer.
pub const PROCESSOR_RETRY_SECS: u64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the body is not valid JSON/form/multipart, or a required header is malformed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: no or bad credentials.
    #[error("authentication required")]
    Unauthorized,
    /// 403: authenticated but not allowed, or a CSRF check failed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 403: the account must enrol a second factor first (`staff.require_two_factor`).
    #[error("two-factor enrolment required")]
    TwoFactorRequired,
    /// 404.
    #[error("not found")]
    NotFound,
    /// 409: a state conflict.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 413.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// 415.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but invalid input; names every failing field.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 422 without a field (e.g. an idempotency key reused with another body).
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// 429, always answered with `Retry-After`.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// 503: a dependency (the database) is unreachable; the cause is logged only.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// 503 with `Retry-After`: the payment processor timed out, refused the connection or
    /// answered 5xx/429. Nothing was charged and nothing was kept; the same request may be sent
    /// again. The cause is logged only.
    #[error("payment processor unavailable")]
    ProcessorUnavailable(#[source] anyhow::Error),
    /// 503 from `/readyz`: the process is alive but must not get traffic yet; the detail says
    /// why (nothing internal: "2 database migrations are pending").
    #[error("not ready: {0}")]
    NotReady(String),
    /// 500: a real server fault; the cause is logged only.
    #[error("unexpected error")]
    Unexpected(#[source] anyhow::Error),
}

impl AppError {
    pub fn unexpected(e: impl Into<anyhow::Error>) -> Self {
        AppError::Unexpected(e.into())
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// Both values, or one problem naming every failing field of the two when both are
    /// validation failures (otherwise the first error).
    pub fn both<A, B>(a: Result<A, AppError>, b: Result<B, AppError>) -> Result<(A, B), AppError> {
        match (a, b) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            (Err(AppError::Validation(mut x)), Err(AppError::Validation(y))) => {
                x.extend(y);
                Err(AppError::Validation(x))
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }

    fn title_and_type(&self) -> (&'static str, &'static str) {
        match self {
            AppError::BadRequest(_) => ("Bad request", "about:blank"),
            AppError::Unauthorized => ("Authentication required", "about:blank"),
            AppError::Forbidden(_) => ("Forbidden", "about:blank"),
            AppError::TwoFactorRequired => (
                "Two-factor enrolment required",
                "urn:frontdesk:problem:two-factor-enrolment-required",
            ),
            AppError::NotFound => ("Not found", "about:blank"),
            AppError::Conflict(_) => ("Conflict", "about:blank"),
            AppError::PayloadTooLarge(_) => ("Payload too large", "about:blank"),
            AppError::UnsupportedMediaType(_) => ("Unsupported media type", "about:blank"),
            AppError::Validation(_) => ("Invalid input", "urn:frontdesk:problem:validation"),
            AppError::Unprocessable(_) => ("Unprocessable request", "about:blank"),
            AppError::RateLimited { .. } => ("Too many requests", "about:blank"),
            AppError::Unavailable(_) => ("Service unavailable", "about:blank"),
            AppError::ProcessorUnavailable(_) => ("Payment processor unavailable", "about:blank"),
            AppError::NotReady(_) => ("Not ready", "about:blank"),
            AppError::Unexpected(_) => ("Internal server error", "about:blank"),
        }
    }

    fn detail(&self) -> String {
        match self {
            AppError::BadRequest(d)
            | AppError::Forbidden(d)
            | AppError::Conflict(d)
            | AppError::PayloadTooLarge(d)
            | AppError::UnsupportedMediaType(d)
            | AppError::Unprocessable(d)
            | AppError::NotReady(d) => d.clone(),
            AppError::Unauthorized => "Sign in or send a valid API token.".into(),
            AppError::TwoFactorRequired => "This account must set up a second factor (two-factor \
                enrolment, at /staff/account/two-factor) before it can do anything else."
                .into(),
            AppError::NotFound => "There is nothing here.".into(),
            AppError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("Please correct: {}.", fields.join(", "))
            }
            AppError::RateLimited { retry_after_secs } => {
                format!("Too many requests; try again in {retry_after_secs} seconds.")
            }
            AppError::Unavailable(_) => {
                "The service is temporarily unavailable; please try again shortly.".into()
            }
            AppError::ProcessorUnavailable(_) => format!(
                "The payment processor did not answer. Nothing was charged; please try again in \
                 {PROCESSOR_RETRY_SECS} seconds."
            ),
            AppError::Unexpected(_) => {
                "Something went wrong on our side; it has been logged.".into()
            }
        }
    }
}

/// The problem document sent to clients.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::TwoFactorRequired => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_) | AppError::Unprocessable(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_)
            | AppError::ProcessorUnavailable(_)
            | AppError::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Unexpected(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            AppError::Unavailable(cause) | AppError::ProcessorUnavailable(cause) => {
                tracing::warn!(error = format!("{cause:#}"), "dependency unavailable")
            }
            _ => {}
        }
        let status = self.status_code();
        let (title, kind) = self.title_and_type();
        let problem = Problem {
            kind: kind.into(),
            title: title.into(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: match self {
                AppError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let AppError::RateLimited { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let AppError::ProcessorUnavailable(_) = self {
            response.insert_header((header::RETRY_AFTER, PROCESSOR_RETRY_SECS.to_string()));
        }
        if let AppError::Unauthorized = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::Conflict("This record already exists.".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                AppError::Unavailable(anyhow::Error::new(e))
            }
            other => AppError::Unexpected(anyhow::Error::new(other)),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(anyhow::Error::new(e).context("no database connection"))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Unexpected(e)
    }
}

/// Answers every unmatched route with a problem document.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
