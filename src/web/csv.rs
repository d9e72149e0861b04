//! CSV for exports that staff and donors open in spreadsheets: every feature's export goes
//! through here, so cells a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR)
//! are always prefixed with `'`, and cells are quoted when needed (RFC 4180).
//!
//! A large export is streamed ([`stream`]): read page by page (keyset pagination), each page
//! a short read on a pooled connection outside any write transaction, so an export of any
//! size never holds SQLite's write lock and never sits whole in memory.

use actix_web::web::Bytes;
use futures_util::Stream;

use crate::db::{Db, DbConnection};
use crate::error::AppError;

/// Rows read per page of a streamed export.
pub const PAGE_ROWS: i64 = 500;

/// One page of a streamed export: its CSV lines, and the key of its last row when more
/// may follow (`None`: this was the last page).
pub struct CsvPage<K> {
    pub lines: String,
    pub next: Option<K>,
}

enum Step<K> {
    Header(String),
    After(Option<K>),
    Done,
}

/// A CSV response body: `header`, then the lines of each page `fetch` reads after the key of
/// the previous page (`None` for the first). A page is read only once the client has taken
/// the previous one. A read that fails ends the body early (logged), so the download is
/// visibly incomplete rather than silently short.
pub fn stream<K, F>(db: Db, header: String, fetch: F) -> impl Stream<Item = Result<Bytes, AppError>>
where
    K: Send + 'static,
    F: Fn(&mut DbConnection, Option<K>) -> Result<CsvPage<K>, AppError> + Clone + Send + 'static,
{
    futures_util::stream::unfold(Step::Header(header), move |step| {
        let (db, fetch) = (db.clone(), fetch.clone());
        async move {
            match step {
                Step::Header(header) => Some((Ok(Bytes::from(header)), Step::After(None))),
                Step::After(after) => match db.run(move |conn| fetch(conn, after)).await {
                    Ok(page) => {
                        let next = page.next.map_or(Step::Done, |k| Step::After(Some(k)));
                        Some((Ok(Bytes::from(page.lines)), next))
                    }
                    Err(e) => {
                        tracing::error!(error = ?e, "CSV export stopped: a page could not be read");
                        Some((Err(e), Step::Done))
                    }
                },
                Step::Done => None,
            }
        }
    })
}

/// Defuses a value a spreadsheet would run as a formula (for writers that quote themselves).
pub fn defuse(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// One cell: defused, and quoted when it holds a comma, a quote or a line break.
pub fn cell(value: &str) -> String {
    let value = defuse(value);
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One line of cells, ending in CRLF (RFC 4180).
pub fn row<S: AsRef<str>>(cells: &[S]) -> String {
    row_with_numbers(cells, &[])
}

/// A plain decimal number (`-20.00`, `7`): nothing a spreadsheet could run.
fn is_plain_number(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// One line like [`row`], except that the cells at `numbers` are written as they are when they
/// are plain numbers (a negative amount stays a number an accountant can sum); anything else
/// there is defused like every other cell.
pub fn row_with_numbers<S: AsRef<str>>(cells: &[S], numbers: &[usize]) -> String {
    let mut line = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = c.as_ref();
            if numbers.contains(&i) && is_plain_number(c) {
                c.to_string()
            } else {
                cell(c)
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_stay_numbers_only_where_asked_and_only_when_plain() {
        assert_eq!(
            row_with_numbers(&["-20.00", "-20.00", "-1+1", "=1", "7"], &[0, 2, 3, 4]),
            "-20.00,'-20.00,'-1+1,'=1,7\r\n"
        );
        for bad in ["-", "-.5", "1.", "1e5", "-0x1", "- 1", "1.2.3"] {
            assert!(!is_plain_number(bad), "{bad}");
        }
    }

    #[test]
    fn formulas_are_defused_and_quotes_doubled() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\"\nbye"), "\"say \"\"hi\"\"\nbye\"");
        assert_eq!(cell("=a,b"), "\"'=a,b\"");
        assert_eq!(defuse("=1"), "'=1");
        assert_eq!(defuse(""), "");
        assert_eq!(row(&["a", "b"]), "a,b\r\n");
    }
}
