//! One result of the staff search (`/staff/search`), as every feature's `search` module
//! returns it: what it is, a title and a line of context the signed-in role may see, and
//! the staff page that shows it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// The longest query the search takes, in characters.
pub const MAX_QUERY: usize = 200;
/// The most results of each kind.
pub const PER_KIND: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Hit {
    /// `comment`, `donor`, `applicant`, `subscriber`.
    pub kind: String,
    pub title: String,
    pub detail: Option<String>,
    /// The staff page of the record.
    pub href: String,
    pub at: DateTime<Utc>,
}
