//! `manifest.json`: what a backup holds (schema version, time, rows per table, every file
//! with its SHA-256), and `manifest.json.sha256`, the manifest's own checksum in the format
//! `sha256sum -c` reads. A restore verifies both before it touches anything.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::snapshot::DumpFormat;

pub const MANIFEST: &str = "manifest.json";
pub const MANIFEST_CHECKSUM: &str = "manifest.json.sha256";
/// The manifest format this binary writes and reads.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// The version of Frontdesk that wrote the backup.
    pub frontdesk_version: String,
    /// When the database snapshot was taken.
    pub created_at: DateTime<Utc>,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The latest migration applied to the database when it was copied.
    pub schema_version: Option<String>,
    /// The database copy; `None` when it could not be taken (PostgreSQL without `pg_dump`).
    pub database: Option<DatabaseEntry>,
    /// Rows per table in the copy, counted in the same snapshot.
    pub tables: BTreeMap<String, i64>,
    /// Every file of the backup but the manifest itself: the database copy and the uploads.
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseEntry {
    /// The file, relative to the backup folder.
    pub path: String,
    pub format: DumpFormat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Relative to the backup folder, `/`-separated (`uploads/cvs/…`).
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    /// Every row of every table.
    pub fn rows(&self) -> i64 {
        self.tables.values().sum()
    }

    /// Every file's size together.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// Writes `manifest.json` and its checksum into `dir`, each through a temporary file
    /// renamed into place, the checksum last: a backup without it never finished.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(self)?;
        let checksum = format!("{}  {MANIFEST}\n", hex::encode(Sha256::digest(&json)));
        super::files::write_atomically(&dir.join(MANIFEST), &json)?;
        super::files::write_atomically(&dir.join(MANIFEST_CHECKSUM), checksum.as_bytes())?;
        Ok(())
    }

    /// Reads the manifest of the backup in `dir` and checks it and every file it lists
    /// (presence, size, SHA-256). The error names each damaged or missing file.
    pub fn verify(dir: &Path) -> anyhow::Result<Manifest> {
        let manifest_path = dir.join(MANIFEST);
        let json = match std::fs::read(&manifest_path) {
            Ok(json) => json,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
                "{} holds no {MANIFEST}: it is not a Frontdesk backup, or one that did not finish",
                dir.display()
            ),
            Err(e) => anyhow::bail!("cannot read {}: {e}", manifest_path.display()),
        };
        let recorded = std::fs::read_to_string(dir.join(MANIFEST_CHECKSUM)).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {MANIFEST_CHECKSUM} in {}: {e}; the backup did not finish or was changed",
                dir.display()
            )
        })?;
        let recorded = recorded.split_whitespace().next().unwrap_or_default();
        if recorded != hex::encode(Sha256::digest(&json)) {
            anyhow::bail!(
                "the backup in {} is damaged: {MANIFEST} does not match its SHA-256 in {MANIFEST_CHECKSUM}",
                dir.display()
            );
        }
        let manifest: Manifest = serde_json::from_slice(&json)
            .map_err(|e| anyhow::anyhow!("{MANIFEST} cannot be read: {e}"))?;
        if manifest.format != FORMAT {
            anyhow::bail!(
                "{MANIFEST} has format {}; this Frontdesk reads format {FORMAT}",
                manifest.format
            );
        }
        let mut problems = Vec::new();
        for entry in &manifest.files {
            if let Err(problem) = check_file(dir, entry) {
                problems.push(problem);
            }
        }
        if let Some(db) = &manifest.database {
            if !manifest.files.iter().any(|f| f.path == db.path) {
                problems.push(format!(
                    "{}: the database file has no checksum in {MANIFEST}",
                    db.path
                ));
            }
        }
        if !problems.is_empty() {
            anyhow::bail!(
                "the backup in {} is damaged; nothing was restored:\n  {}",
                dir.display(),
                problems.join("\n  ")
            );
        }
        Ok(manifest)
    }
}

/// One file against its entry; the problem names the file.
fn check_file(dir: &Path, entry: &FileEntry) -> Result<(), String> {
    let path = dir.join(safe_relative(&entry.path)?);
    let (bytes, sha256) = match hash_file(&path) {
        Ok(found) => found,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("{}: missing", entry.path))
        }
        Err(e) => return Err(format!("{}: cannot be read ({e})", entry.path)),
    };
    if bytes != entry.bytes || sha256 != entry.sha256 {
        return Err(format!(
            "{}: damaged (its SHA-256 or size differs from the manifest's)",
            entry.path
        ));
    }
    Ok(())
}

/// A manifest path as a relative path that stays inside the folder it is joined to: no root,
/// no `..`, nothing empty. A crafted manifest cannot make a restore write elsewhere.
pub fn safe_relative(path: &str) -> Result<PathBuf, String> {
    let relative = Path::new(path);
    let normal = !path.is_empty()
        && relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if normal {
        Ok(relative.to_path_buf())
    } else {
        Err(format!("{path}: not a plain relative path; refused"))
    }
}

/// Size and hex SHA-256 of a file, read in blocks.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_accepted() {
        assert!(safe_relative("uploads/cvs/0f3a").is_ok());
        assert!(safe_relative("database.sqlite3").is_ok());
        for bad in ["", "/etc/passwd", "../x", "uploads/../../x", "./x"] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
    }
}
