//! What every feature's staff pages and staff API share: the redirect after a form, with its
//! flash notice; reading optional filter fields; date-range bounds; time formatting.

use std::future::Future;

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use chrono::{NaiveDate, NaiveDateTime, SecondsFormat};
use serde_json::{json, Value};

use crate::error::AppError;

/// The query parameter that carries a flash notice to the page a form redirects to.
pub const NOTICE: &str = "notice";

/// 303 See Other to `location` (the answer to every staff form).
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.into()))
        .finish()
}

/// `path` with the flash notice `code` added to its query (`?notice=saved`).
pub fn with_notice(path: &str, code: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}{NOTICE}={code}")
}

/// 303 to `path`, showing the flash notice `code` there.
pub fn redirect_with_notice(path: &str, code: &str) -> HttpResponse {
    see_other(with_notice(path, code))
}

/// The answer of a staff form whose page is shown again rather than redirected to: `render`
/// with `ok`'s context on success, or with the fields' `errors` and 422; any other error is
/// passed on (to the staff error page).
pub async fn form_page<T, Fut>(
    result: Result<T, AppError>,
    ok: impl FnOnce(T) -> Value,
    render: impl FnOnce(StatusCode, Value) -> Fut,
) -> Result<HttpResponse, AppError>
where
    Fut: Future<Output = Result<HttpResponse, AppError>>,
{
    match result {
        Ok(value) => render(StatusCode::OK, ok(value)).await,
        Err(AppError::Validation(errors)) => {
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "errors": errors }),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// An optional text field, trimmed; `None` when missing or blank.
pub fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A stored UTC time as RFC 3339 with its full precision (`2026-12-03T13:16:49.768694+00:00`).
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339()
}

/// A stored UTC time as RFC 3339 to the second (`2026-12-03T13:16:49Z`).
pub fn rfc3339_seconds(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A date-range bound: `YYYY-MM-DD` (a whole UTC day) or an RFC 3339 time. `end` makes a date
/// inclusive (the bound is the start of the next day).
pub fn range_bound(value: &str, end: bool) -> Result<NaiveDateTime, String> {
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let day = if end { date.succ_opt() } else { Some(date) };
        return day
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .ok_or_else(|| "This date is out of range.".to_string());
    }
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.naive_utc())
        .map_err(|_| "Use a date (YYYY-MM-DD) or an RFC 3339 time.".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_join_the_query() {
        assert_eq!(with_notice("/staff/x", "saved"), "/staff/x?notice=saved");
        assert_eq!(
            with_notice("/staff/x?status=new", "saved"),
            "/staff/x?status=new&notice=saved"
        );
    }

    #[test]
    fn range_bounds_take_days_and_times() {
        let from = range_bound("2026-03-01", false).expect("date");
        let to = range_bound("2026-03-01", true).expect("date");
        assert_eq!((to - from).num_hours(), 24);
        let exact = range_bound("2026-03-01T10:00:00+02:00", false).expect("time");
        assert_eq!(exact.to_string(), "2026-03-01 08:00:00");
        assert!(range_bound("yesterday", false).is_err());
    }

    #[test]
    fn blank_fields_are_absent() {
        assert_eq!(present(&Some("  x ".into())), Some("x"));
        assert_eq!(present(&Some("   ".into())), None);
        assert_eq!(present(&None), None);
    }

    #[test]
    fn times_format_with_and_without_fractions() {
        let t = NaiveDate::from_ymd_opt(2026, 12, 3)
            .and_then(|d| d.and_hms_micro_opt(13, 16, 49, 768_694))
            .expect("time");
        assert_eq!(rfc3339(t), "2026-12-03T13:16:49.768694+00:00");
        assert_eq!(rfc3339_seconds(t), "2026-12-03T13:16:49Z");
    }
}
