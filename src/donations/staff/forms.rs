//! The staff filters of donations: query parameters read into the store's `Filter` (or a
//! report's date range), with one field error per unreadable field.

use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::json;

use crate::domain::EmailAddress;
use crate::error::{AppError, FieldError};
use crate::staff::ui::{present, range_bound};

use super::super::model::{article_url, Frequency, Status};
use super::super::store::Filter;

/// List filters, as query parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub frequency: Option<String>,
    /// `YYYY-MM-DD` (inclusive) or RFC 3339.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (inclusive) or RFC 3339 (exclusive).
    pub to: Option<String>,
    pub campaign: Option<String>,
    pub email: Option<String>,
    pub source_url: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl ListQuery {
    pub(super) fn filter(&self, settings: &crate::config::Settings) -> Result<Filter, AppError> {
        let mut errors = Vec::new();
        let status = present(&self.status).and_then(|s| {
            Status::parse(s).or_else(|| {
                errors.push(FieldError::new(
                    "status",
                    "Use pending, pledged, paid, failed, refunded or disputed.",
                ));
                None
            })
        });
        let frequency = present(&self.frequency).and_then(|f| {
            Frequency::parse(f)
                .map(|f| f.as_str().to_string())
                .or_else(|| {
                    errors.push(FieldError::new("frequency", "Use one_time or monthly."));
                    None
                })
        });
        let from = date(&mut errors, "from", &self.from, false);
        let to = date(&mut errors, "to", &self.to, true);
        let email = present(&self.email).and_then(|e| match EmailAddress::parse(e) {
            Ok(e) => Some(e.normalized()),
            Err(m) => {
                errors.push(FieldError::new("email", m));
                None
            }
        });
        let source_url = present(&self.source_url).and_then(|u| {
            article_url(u, &settings.site.article_hosts)
                .map_err(|m| errors.push(FieldError::new("source_url", m)))
                .ok()
        });
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Filter {
            status,
            frequency,
            from,
            to,
            campaign: present(&self.campaign).map(String::from),
            email,
            source_url,
        })
    }

    /// The filters as they go back into links (without the cursor).
    pub(super) fn echo(&self) -> serde_json::Value {
        json!({
            "status": self.status.clone().unwrap_or_default(),
            "frequency": self.frequency.clone().unwrap_or_default(),
            "from": self.from.clone().unwrap_or_default(),
            "to": self.to.clone().unwrap_or_default(),
            "campaign": self.campaign.clone().unwrap_or_default(),
            "email": self.email.clone().unwrap_or_default(),
            "source_url": self.source_url.clone().unwrap_or_default(),
        })
    }
}

/// Report filters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl ReportQuery {
    /// The report's range: the payments received in `[from, to)`, either end open.
    pub(super) fn range(&self) -> Result<(Option<NaiveDateTime>, Option<NaiveDateTime>), AppError> {
        let mut errors = Vec::new();
        let from = date(&mut errors, "from", &self.from, false);
        let to = date(&mut errors, "to", &self.to, true);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok((from, to))
    }
}

/// An optional date-range bound read by `ui::range_bound`, reported with donations' own field
/// error: the wording is part of the API's answer, so it did not change with the helper.
fn date(
    errors: &mut Vec<FieldError>,
    name: &str,
    value: &Option<String>,
    end: bool,
) -> Option<NaiveDateTime> {
    let value = present(value)?;
    range_bound(value, end)
        .map_err(|_| errors.push(FieldError::new(name, "Use a date like 2026-11-28.")))
        .ok()
}
