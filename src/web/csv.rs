//! CSV for exports that staff and donors open in spreadsheets: every feature's export goes
//! through here, so cells a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR)
//! are always prefixed with `'`, and cells are quoted when needed (RFC 4180).

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
    let mut line = cells
        .iter()
        .map(|c| cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

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
