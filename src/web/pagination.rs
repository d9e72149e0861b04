//! Cursor pagination for staff lists: `?cursor=…&limit=…` in, `{"items", "next_cursor"}` out.
//! (Query structs carry `cursor` and `limit` as plain fields: `serde(flatten)` breaks numbers
//! in query strings.)

use serde::Serialize;

use crate::error::AppError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub cursor: Option<String>,
    pub limit: i64,
}

impl PageRequest {
    pub fn parse(cursor: Option<&str>, limit: Option<i64>) -> Result<PageRequest, AppError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::field(
                "limit",
                format!("Use a limit from 1 to {MAX_LIMIT}."),
            ));
        }
        // A cursor is a token this list gave out, never spaced: taken as sent.
        let cursor = cursor.filter(|c| !c.is_empty());
        if cursor.is_some_and(|c| {
            c.len() > MAX_CURSOR_CHARS
                || !c
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        }) {
            return Err(AppError::field(
                "cursor",
                "This is not a cursor this list gave out.",
            ));
        }
        Ok(PageRequest {
            cursor: cursor.map(String::from),
            limit,
        })
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

/// The longest cursor a list gives out.
pub const MAX_CURSOR_CHARS: usize = 100;

/// One page of a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(max_length = 100, pattern = "^[A-Za-z0-9_-]+$")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The same page with every item turned into what the API shows.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }

    /// Builds a page from up to `fetch()` rows; `cursor_of` gives the cursor of the last item.
    pub fn from_rows(
        mut rows: Vec<T>,
        request: &PageRequest,
        cursor_of: impl Fn(&T) -> String,
    ) -> Page<T> {
        let more = rows.len() as i64 > request.limit;
        rows.truncate(request.limit as usize);
        let next_cursor = if more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked() {
        assert!(PageRequest::parse(None, Some(0)).is_err());
        assert!(PageRequest::parse(None, Some(501)).is_err());
        assert_eq!(
            PageRequest::parse(None, None).expect("ok").limit,
            DEFAULT_LIMIT
        );
        assert!(PageRequest::parse(Some("'; DROP"), None).is_err());
    }

    #[test]
    fn next_cursor_only_when_more() {
        let req = PageRequest::parse(None, Some(2)).expect("ok");
        let page = Page::from_rows(vec![1, 2, 3], &req, |n| n.to_string());
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor.as_deref(), Some("2"));
        let page = Page::from_rows(vec![1, 2], &req, |n| n.to_string());
        assert_eq!(page.next_cursor, None);
    }
}
