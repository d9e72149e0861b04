//! Subscriber CSV export and import (the staff pages and API call these).
//!
//! Export escapes every cell that a spreadsheet would read as a formula. Import checks each
//! row, skips suppressed, unsubscribed and erased addresses (never re-added), confirms an
//! address only when its row says the person consented, and can run as a dry run that
//! reports exactly what it would do: the same code runs in a transaction that is rolled back.

use chrono::NaiveDateTime;
use diesel::Connection;
use serde::Serialize;

use crate::db::DbConnection;
use crate::error::AppError;
use crate::keys::Keys;
use crate::web::csv::CsvPage;

use super::model::{EmailAddress, ListSlug, SubscriberName, SubscriberStatus};
use super::store::{self, SubscriberFilter};

fn timestamp(t: Option<NaiveDateTime>) -> String {
    t.map(|t| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
    .unwrap_or_default()
}

/// Writes records as CSV lines (the export's own format: LF line ends, cells a spreadsheet
/// would run as formulas defused, quoted when needed).
fn csv_lines(records: impl IntoIterator<Item = [String; 6]>) -> Result<String, AppError> {
    let csv_error = |e: csv::Error| AppError::unexpected(anyhow::Error::new(e));
    let mut out = csv::Writer::from_writer(Vec::new());
    for record in records {
        out.write_record(record.iter().map(|c| crate::web::csv::defuse(c)))
            .map_err(csv_error)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("cannot finish the CSV: {e}")))?;
    String::from_utf8(bytes).map_err(AppError::unexpected)
}

/// The header line of the subscribers export: `email,name,status,lists,created_at,confirmed_at`.
pub fn export_header() -> Result<String, AppError> {
    csv_lines([[
        "email",
        "name",
        "status",
        "lists",
        "created_at",
        "confirmed_at",
    ]
    .map(String::from)])
}

/// One page of the subscribers export, newest first: at most
/// [`crate::web::csv::PAGE_ROWS`] subscribers matching `filter` (its cursor and limit
/// ignored) with an id before `before`, lists separated by spaces.
pub fn export_page(
    conn: &mut DbConnection,
    filter: &SubscriberFilter,
    before: Option<String>,
) -> Result<CsvPage<String>, AppError> {
    let page = store::list_subscribers(
        conn,
        &SubscriberFilter {
            cursor: before,
            limit: crate::web::csv::PAGE_ROWS,
            ..filter.clone()
        },
    )?;
    let lines = csv_lines(page.items.iter().map(|s| {
        [
            s.email.clone(),
            s.name.clone().unwrap_or_default(),
            s.status.as_str().into(),
            s.lists.join(" "),
            timestamp(Some(s.created_at)),
            timestamp(s.confirmed_at),
        ]
    }))?;
    Ok(CsvPage {
        lines,
        next: page.next_cursor,
    })
}

/// A row the import could not take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub field: String,
    pub message: String,
}

/// What an import did, or (dry run) would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read.
    pub rows: usize,
    pub created: usize,
    /// Existing subscribers that were confirmed or gained lists.
    pub updated: usize,
    /// Existing subscribers the row changed nothing for.
    pub unchanged: usize,
    /// Rows whose subscriber is confirmed after the import.
    pub confirmed: usize,
    /// Suppressed or erased addresses: skipped.
    pub skipped_suppressed: usize,
    /// Addresses that unsubscribed: skipped, never re-added.
    pub skipped_unsubscribed: usize,
    pub errors: Vec<ImportRowError>,
}

struct ImportRow {
    line: u64,
    email: EmailAddress,
    name: Option<SubscriberName>,
    lists: Vec<ListSlug>,
    consent: bool,
}

const YES: [&str; 4] = ["true", "yes", "y", "1"];
const NO: [&str; 5] = ["false", "no", "n", "0", ""];

/// Imports subscribers from CSV with a header row. Columns: `email` (required), `name`,
/// `lists` (slugs separated by spaces, commas or semicolons), `consent` (`true`/`yes`/`1`
/// when the person consented; anything else in `false`/`no`/`0`/empty). Rows with consent
/// become (or make their subscriber) confirmed, with a consent record of kind `imported`;
/// rows without stay pending and are sent nothing. Runs inside the caller's transaction;
/// with `dry_run` everything is rolled back and the report says what would have happened.
pub fn import_subscribers(
    conn: &mut DbConnection,
    keys: &Keys,
    input: &[u8],
    dry_run: bool,
    now: NaiveDateTime,
) -> Result<ImportReport, AppError> {
    let mut report = ImportReport {
        dry_run,
        ..ImportReport::default()
    };
    let rows = parse_rows(input, &mut report)?;
    enum Outcome {
        Done(ImportReport),
        DryRun(ImportReport),
        Failed(AppError),
    }
    impl From<diesel::result::Error> for Outcome {
        fn from(e: diesel::result::Error) -> Self {
            Outcome::Failed(e.into())
        }
    }
    // A savepoint inside the caller's transaction: a dry run rolls back to it.
    let result = conn.transaction::<_, Outcome, _>(|conn| {
        for row in rows {
            if let Err(e) = import_row(conn, keys, &row, now, &mut report) {
                return Err(Outcome::Failed(e));
            }
        }
        if dry_run {
            Err(Outcome::DryRun(report))
        } else {
            Ok(Outcome::Done(report))
        }
    });
    match result {
        Ok(Outcome::Done(r)) | Err(Outcome::DryRun(r)) => Ok(r),
        Err(Outcome::Failed(e)) => Err(e),
        Ok(Outcome::DryRun(_) | Outcome::Failed(_)) | Err(Outcome::Done(_)) => Err(
            AppError::unexpected(anyhow::anyhow!("the import ended in an impossible state")),
        ),
    }
}

fn parse_rows(input: &[u8], report: &mut ImportReport) -> Result<Vec<ImportRow>, AppError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| AppError::field("file", format!("The CSV cannot be read: {e}")))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let Some(email_col) = column("email") else {
        return Err(AppError::field("file", "The CSV needs an `email` column."));
    };
    let (name_col, lists_col, consent_col) = (column("name"), column("lists"), column("consent"));
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        report.rows += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                report.errors.push(ImportRowError {
                    line,
                    field: "row".into(),
                    message: format!("Cannot be read: {e}"),
                });
                continue;
            }
        };
        let cell = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("");
        let mut fail = |field: &str, message: String| {
            report.errors.push(ImportRowError {
                line,
                field: field.into(),
                message,
            })
        };
        let email = match EmailAddress::parse(cell(Some(email_col))) {
            Ok(e) => e,
            Err(m) => {
                fail("email", m);
                continue;
            }
        };
        let name = match SubscriberName::parse(cell(name_col)) {
            Ok(n) => n,
            Err(m) => {
                fail("name", m);
                continue;
            }
        };
        let mut lists = Vec::new();
        let mut bad_list = None;
        for raw in cell(lists_col)
            .split([' ', ',', ';'])
            .filter(|s| !s.is_empty())
        {
            match ListSlug::parse(raw) {
                Ok(slug) if !lists.contains(&slug) => lists.push(slug),
                Ok(_) => {}
                Err(m) => bad_list = Some(m),
            }
        }
        if let Some(m) = bad_list {
            fail("lists", m);
            continue;
        }
        let consent_raw = cell(consent_col).to_ascii_lowercase();
        let consent = if YES.contains(&consent_raw.as_str()) {
            true
        } else if NO.contains(&consent_raw.as_str()) {
            false
        } else {
            fail(
                "consent",
                "Use true/yes/1 when the person consented, false/no/0 or nothing otherwise.".into(),
            );
            continue;
        };
        rows.push(ImportRow {
            line,
            email,
            name,
            lists,
            consent,
        });
    }
    Ok(rows)
}

fn import_row(
    conn: &mut DbConnection,
    keys: &Keys,
    row: &ImportRow,
    now: NaiveDateTime,
    report: &mut ImportReport,
) -> Result<(), AppError> {
    let targets = match store::resolve_lists(conn, &row.lists, false) {
        Ok(t) => t,
        Err(AppError::Validation(errors)) => {
            for e in errors {
                report.errors.push(ImportRowError {
                    line: row.line,
                    field: "lists".into(),
                    message: e.message,
                });
            }
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if store::is_suppressed(conn, &row.email.suppression_hash(keys))? {
        report.skipped_suppressed += 1;
        return Ok(());
    }
    let list_ids: Vec<String> = targets.into_iter().map(|l| l.id).collect();
    let existing = store::find_subscriber_by_email(conn, &row.email)?;
    match existing {
        None => {
            store::import_new_subscriber(
                conn,
                &row.email,
                row.name.as_ref(),
                &list_ids,
                row.consent,
                now,
            )?;
            report.created += 1;
            if row.consent {
                report.confirmed += 1;
            }
        }
        Some(s) => match s.status {
            SubscriberStatus::Unsubscribed => report.skipped_unsubscribed += 1,
            SubscriberStatus::Suppressed => report.skipped_suppressed += 1,
            SubscriberStatus::Pending | SubscriberStatus::Confirmed => {
                let changed =
                    store::import_existing_subscriber(conn, &s, &list_ids, row.consent, now)?;
                if changed {
                    report.updated += 1;
                } else {
                    report.unchanged += 1;
                }
                if row.consent || s.status == SubscriberStatus::Confirmed {
                    report.confirmed += 1;
                }
            }
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_escaped() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(crate::web::csv::defuse(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(
            crate::web::csv::defuse("jane@example.org"),
            "jane@example.org"
        );
        assert_eq!(crate::web::csv::defuse(""), "");
    }

    #[test]
    fn rows_are_checked_one_by_one() {
        let mut report = ImportReport::default();
        let rows = parse_rows(
            b"Email,Name,lists,consent\njane@example.org,Jane,weekly;daily,yes\nnot-an-email,,,\nbob@example.org,,,maybe\nann@example.org,,,\n",
            &mut report,
        )
        .expect("parses");
        assert_eq!(report.rows, 4);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].consent);
        assert_eq!(rows[0].lists.len(), 2);
        assert!(!rows[1].consent);
        let fields: Vec<_> = report
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_str()))
            .collect();
        assert_eq!(fields, [(3, "email"), (4, "consent")]);
    }

    #[test]
    fn a_file_without_email_column_is_refused() {
        let mut report = ImportReport::default();
        assert!(parse_rows(b"name\nJane\n", &mut report).is_err());
    }
}
