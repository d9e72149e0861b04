//! What one feature's erasure of a person hands back to the caller that runs the erasure
//! (the people view): every feature fills one in inside the caller's transaction.

use std::path::PathBuf;

/// The outcome of erasing one address from one feature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Records deleted or anonymised.
    pub records: usize,
    /// Values the person gave (names, phone numbers…) that may also sit in audit-log
    /// snapshots: the caller scrubs them there too. Never logged.
    pub needles: Vec<String>,
    /// `(kind, id)` of every record erased, as emails (`outbox.ref_kind/ref_id`) and audit
    /// entries name them.
    pub refs: Vec<(String, String)>,
    /// Files to delete once the transaction has committed.
    pub files: Vec<PathBuf>,
    /// Ids of the emails (outbox rows) deleted with the records: copies of them kept outside
    /// the database (the `file` transport's `.eml` files) go once the transaction committed.
    pub emails: Vec<String>,
    /// Audit entries about the records that were scrubbed of the person's values.
    pub audit_entries: usize,
}

impl Erasure {
    /// Adds a value to scrub (ignored when blank or already listed).
    pub fn needle(&mut self, value: &str) {
        let value = value.trim();
        if !value.is_empty() && !self.needles.iter().any(|n| n == value) {
            self.needles.push(value.to_string());
        }
    }

    /// Folds another feature's erasure into this one.
    pub fn merge(&mut self, other: Erasure) {
        self.records += other.records;
        for n in other.needles {
            self.needle(&n);
        }
        self.refs.extend(other.refs);
        self.files.extend(other.files);
        self.emails.extend(other.emails);
        self.audit_entries += other.audit_entries;
    }
}

/// Deletes the files an erasure left to delete after its commit; returns how many were
/// deleted. One already gone counts as done; one that cannot be deleted now is logged (never
/// its path, which may name the person) and left for the folder's own sweep, if any.
pub fn delete_files(files: &[PathBuf]) -> usize {
    let mut deleted = 0;
    for file in files {
        match std::fs::remove_file(file) {
            Ok(()) => deleted += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(error = %e, "an erased file could not be deleted yet"),
        }
    }
    deleted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needles_are_trimmed_and_unique() {
        let mut a = Erasure::default();
        a.needle(" Jane Quill ");
        a.needle("");
        let mut b = Erasure {
            records: 2,
            ..Erasure::default()
        };
        b.needle("Jane Quill");
        b.needle("+44 20 7946 0000");
        a.merge(b);
        assert_eq!(a.records, 2);
        assert_eq!(a.needles, vec!["Jane Quill", "+44 20 7946 0000"]);
    }
}
