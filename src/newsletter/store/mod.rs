//! Newsletter storage: lists, subscribers and their per-list membership, double opt-in
//! tokens, consent records, suppressions, issues and their deliveries.
//!
//! Plain synchronous functions over a [`DbConnection`]; callers run them through
//! `Db::run` / `Db::write`. Functions that change several rows expect to run inside one
//! write transaction.

mod imports;
mod issues;
mod lists;
mod queue;
mod staff_views;
mod subscribers;
mod suppressions;

pub use imports::*;
pub use issues::*;
pub use lists::*;
pub use queue::*;
pub use staff_views::*;
pub use subscribers::*;
pub use suppressions::*;

use chrono::NaiveDateTime;
use serde::Serialize;

/// `next_attempt_at` of outbox rows held back while their issue is paused.
pub fn held_until() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(9000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(NaiveDateTime::MAX)
}

const MEMBER_PENDING: &str = "pending";
const MEMBER_CONFIRMED: &str = "confirmed";
const MEMBER_UNSUBSCRIBED: &str = "unsubscribed";

/// One page of a cursor-paginated list.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
