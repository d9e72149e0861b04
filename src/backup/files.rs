//! The file side of backups: private folders and files (0700/0600: a backup holds personal
//! data and the service's keys), the uploads copied with their SHA-256 taken on the way, and
//! copied back on restore.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::manifest::{safe_relative, FileEntry};

/// The folder inside a backup that holds the uploads.
pub const UPLOADS: &str = "uploads";

/// Creates `dir` (and its parents) readable by the service's user only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes an existing file readable by the service's user only (files written by SQLite or
/// `pg_dump` follow the umask).
pub fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn create_private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes `dir` ready to receive a backup: created when missing; refused when it holds anything.
pub fn prepare_backup_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let mut entries =
            fs::read_dir(dir).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
        if entries.next().is_some() {
            anyhow::bail!(
                "{} is not empty: give a new or empty folder for the backup",
                dir.display()
            );
        }
    }
    create_private_dir(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))
}

/// Writes `bytes` to `path` through a temporary file renamed into place, synced.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let _ = fs::remove_file(&temporary);
    let mut file = create_private_file(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&temporary, path)?;
    Ok(())
}

/// Whether an upload in the folder is still arriving (`.upload-….part`): not yet a stored
/// file, so not backed up.
fn in_flight(name: &str) -> bool {
    name.ends_with(".part")
}

/// Every regular file under `root`, as paths relative to it, sorted. Symbolic links are not
/// followed; uploads in flight are left out. A missing `root` holds nothing.
fn regular_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let entries = match fs::read_dir(root.join(&relative)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = relative.join(entry.file_name());
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && !in_flight(&entry.file_name().to_string_lossy()) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Whether `root` holds any file (an empty `cvs` folder does not count).
pub fn has_files(root: &Path) -> std::io::Result<bool> {
    Ok(!regular_files(root)?.is_empty())
}

/// Copies `from` to a new private file `to`, returning its size and SHA-256 (of the bytes
/// written). `Ok(None)` when `from` vanished before it could be opened (a CV erased meanwhile).
fn copy_hashed(from: &Path, to: &Path) -> anyhow::Result<Option<(u64, String)>> {
    let mut source = match fs::File::open(from) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read {}: {e}", from.display()),
    };
    if let Some(parent) = to.parent() {
        create_private_dir(parent)?;
    }
    let mut target = create_private_file(to)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", to.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = source.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        target.write_all(&buffer[..n])?;
        bytes += n as u64;
    }
    target.sync_all()?;
    Ok(Some((bytes, hex::encode(hasher.finalize()))))
}

/// `relative` as a manifest path: `/`-separated under `uploads/`.
fn manifest_path(relative: &Path) -> String {
    let mut path = String::from(UPLOADS);
    for part in relative.components() {
        path.push('/');
        path.push_str(&part.as_os_str().to_string_lossy());
    }
    path
}

/// Copies every stored upload under `uploads_dir` into `backup_dir/uploads`, returning each
/// file's manifest entry.
pub fn back_up_uploads(uploads_dir: &Path, backup_dir: &Path) -> anyhow::Result<Vec<FileEntry>> {
    let target = backup_dir.join(UPLOADS);
    create_private_dir(&target)?;
    let mut entries = Vec::new();
    for relative in regular_files(uploads_dir)
        .map_err(|e| anyhow::anyhow!("cannot list {}: {e}", uploads_dir.display()))?
    {
        if let Some((bytes, sha256)) =
            copy_hashed(&uploads_dir.join(&relative), &target.join(&relative))?
        {
            entries.push(FileEntry {
                path: manifest_path(&relative),
                bytes,
                sha256,
            });
        }
    }
    Ok(entries)
}

/// Copies the uploads listed in `entries` from the backup in `backup_dir` into
/// `uploads_dir`, checking each copy's SHA-256 again. With `replace`, whatever `uploads_dir`
/// held is deleted first. Returns how many files were copied.
pub fn restore_uploads(
    backup_dir: &Path,
    entries: &[FileEntry],
    uploads_dir: &Path,
    replace: bool,
) -> anyhow::Result<usize> {
    if replace && uploads_dir.exists() {
        for entry in fs::read_dir(uploads_dir)? {
            let path = entry?.path();
            if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            }
            .map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", path.display()))?;
        }
    }
    create_private_dir(uploads_dir)?;
    let prefix = format!("{UPLOADS}/");
    let mut copied = 0;
    for entry in entries {
        let Some(relative) = entry.path.strip_prefix(&prefix) else {
            continue;
        };
        let relative = safe_relative(relative).map_err(anyhow::Error::msg)?;
        let from = backup_dir.join(safe_relative(&entry.path).map_err(anyhow::Error::msg)?);
        let to = uploads_dir.join(&relative);
        match copy_hashed(&from, &to)? {
            Some((bytes, sha256)) if bytes == entry.bytes && sha256 == entry.sha256 => {
                copied += 1;
            }
            Some(_) => anyhow::bail!("{}: changed while it was being restored", entry.path),
            None => anyhow::bail!("{}: vanished while it was being restored", entry.path),
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_in_flight_are_left_out_and_folders_walked() {
        let dir = tempfile::tempdir().expect("dir");
        let cvs = dir.path().join("cvs");
        fs::create_dir_all(&cvs).expect("mkdir");
        fs::write(cvs.join("a1"), b"one").expect("write");
        fs::write(cvs.join(".upload-b2.part"), b"half").expect("write");
        fs::create_dir_all(dir.path().join("empty")).expect("mkdir");

        let files = regular_files(dir.path()).expect("list");

        assert_eq!(files, vec![PathBuf::from("cvs/a1")]);
        assert_eq!(manifest_path(&files[0]), "uploads/cvs/a1");
        assert!(has_files(dir.path()).expect("has"));
        assert!(!has_files(&dir.path().join("empty")).expect("has"));
        assert!(!has_files(&dir.path().join("missing")).expect("has"));
    }
}
