//! Backups and restores of the whole service: the database, the uploads (`uploads.dir`, the
//! CVs) and a manifest (`manifest.json`: schema version, time, rows per table, the SHA-256 of
//! every file), taken while the service keeps serving.
//!
//! Order matters: the database snapshot is taken first, the uploads copied after. A CV is
//! stored before its application row commits, so every row in the snapshot finds its file;
//! a CV uploaded meanwhile is copied without a row (the retention sweep removes such
//! leftovers) and one erased meanwhile is simply missing, as it is from the service.
//!
//! This module sits below the features, beside `mail`: `cli` runs [`take`] and [`restore`],
//! `background` starts the [`Scheduler`], the staff dashboard reads [`runs::health`].
//! What differs between SQLite and PostgreSQL lives in `db::snapshot`.

pub mod files;
pub mod manifest;
pub mod runs;
pub mod scheduler;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use manifest::Manifest;
pub use scheduler::Scheduler;

use crate::config::Settings;
use crate::db::snapshot::{self, Dump};
use crate::db::{Backend, DatabaseUrl, Db};
use manifest::{DatabaseEntry, FileEntry};
use runs::{Outcome, Trigger};

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// Writes a backup into `dir` (created; refused when not empty): the database snapshot, the
/// uploads, then the manifest. A PostgreSQL database without `pg_dump` on the PATH gets the
/// uploads and manifest, and an error saying what to run.
pub async fn write_backup(
    settings: Arc<Settings>,
    db: Db,
    dir: PathBuf,
) -> anyhow::Result<Manifest> {
    tokio::task::spawn_blocking(move || write_backup_blocking(&settings, &db, &dir))
        .await
        .map_err(|e| anyhow::anyhow!("the backup task failed: {e}"))?
}

fn write_backup_blocking(settings: &Settings, db: &Db, dir: &Path) -> anyhow::Result<Manifest> {
    files::prepare_backup_dir(dir)?;
    let created_at = chrono::Utc::now();
    let mut entries: Vec<FileEntry> = Vec::new();
    let (database, contents, missing) = match snapshot::dump(db, dir)? {
        Dump::Written {
            file,
            format,
            contents,
        } => {
            files::make_private(&file)?;
            let (bytes, sha256) = manifest::hash_file(&file)?;
            let path = format.file_name().to_string();
            entries.push(FileEntry {
                path: path.clone(),
                bytes,
                sha256,
            });
            (Some(DatabaseEntry { path, format }), contents, None)
        }
        Dump::ToolMissing {
            contents,
            instructions,
        } => (None, contents, Some(instructions)),
    };
    let uploads = crate::config::absolute(&settings.uploads.dir);
    entries.extend(files::back_up_uploads(&uploads, dir)?);
    let manifest = Manifest {
        format: manifest::FORMAT,
        frontdesk_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at,
        backend: backend_name(db.backend()).to_string(),
        schema_version: contents.schema_version,
        database,
        tables: contents.tables,
        files: entries,
    };
    manifest.write(dir)?;
    if let Some(instructions) = missing {
        anyhow::bail!(
            "only the uploads and the manifest were written to {}. {instructions}",
            dir.display()
        );
    }
    Ok(manifest)
}

/// What `frontdesk backup` reports.
#[derive(Debug)]
pub struct Taken {
    pub manifest: Manifest,
    pub elapsed: Duration,
}

/// `frontdesk backup --to DIR`: writes the backup and records it in `backup_runs` for the
/// dashboard (a database without that table yet is backed up all the same).
pub async fn take(settings: Arc<Settings>, db: Db, dir: PathBuf) -> anyhow::Result<Taken> {
    let started = Instant::now();
    let location = crate::config::absolute(&dir).display().to_string();
    let run = db
        .write(move |conn| {
            Ok(runs::start(
                conn,
                Trigger::Command,
                None,
                &location,
                crate::db::now(),
            )?)
        })
        .await;
    let run = match run {
        Ok(id) => id,
        Err(e) => {
            tracing::warn!(error = %e, "this backup cannot be recorded for the dashboard");
            None
        }
    };
    tracing::info!(dir = %dir.display(), "backup started");
    let written = write_backup(settings, db.clone(), dir).await;
    if let Some(id) = run {
        let outcome = match &written {
            Ok(manifest) => Outcome::Succeeded {
                bytes: manifest.bytes(),
                files: manifest.files.len(),
            },
            Err(e) => Outcome::Failed {
                detail: format!("{e:#}"),
            },
        };
        let recorded = db
            .write(move |conn| Ok(runs::finish(conn, &id, &outcome, crate::db::now())?))
            .await;
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "the backup's outcome could not be recorded");
        }
    }
    let manifest = written?;
    Ok(Taken {
        manifest,
        elapsed: started.elapsed(),
    })
}

/// What `frontdesk restore` reports.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    pub uploads: usize,
    /// Migrations applied after the restore (the backup was older than this binary).
    pub migrations_applied: usize,
    pub elapsed: Duration,
}

/// `frontdesk restore --from DIR [--force]`: verifies the backup, refuses a target that holds
/// anything unless `force`, restores the database, checks its rows against the manifest,
/// applies newer migrations, then restores the uploads.
pub async fn restore(
    settings: Arc<Settings>,
    dir: PathBuf,
    force: bool,
) -> anyhow::Result<Restored> {
    tokio::task::spawn_blocking(move || restore_blocking(&settings, &dir, force))
        .await
        .map_err(|e| anyhow::anyhow!("the restore task failed: {e}"))?
}

fn restore_blocking(settings: &Settings, dir: &Path, force: bool) -> anyhow::Result<Restored> {
    let started = Instant::now();
    let manifest = Manifest::verify(dir)?;
    tracing::info!(
        files = manifest.files.len(),
        "backup verified: every file matches its SHA-256"
    );
    let backend = DatabaseUrl::parse(settings.database.url.expose())
        .map_err(anyhow::Error::msg)?
        .backend();
    if manifest.backend != backend_name(backend) {
        anyhow::bail!(
            "this backup is of a {} database and database.url names {}: restore into the same kind of database",
            manifest.backend,
            backend_name(backend)
        );
    }
    let Some(database) = &manifest.database else {
        anyhow::bail!(
            "this backup holds no database (pg_dump was not on the PATH when it was taken); nothing was restored"
        );
    };
    let known = crate::db::known_migrations(backend)?;
    if let Some(version) = &manifest.schema_version {
        if !known.contains(version) {
            anyhow::bail!(
                "this backup's schema ({version}) is newer than this Frontdesk knows (up to {}): restore it with the version that wrote it ({})",
                known.last().map_or("none", String::as_str),
                manifest.frontdesk_version
            );
        }
    }
    let uploads = crate::config::absolute(&settings.uploads.dir);
    if !force {
        let mut occupied = Vec::new();
        if snapshot::target_has_tables(&settings.database)? {
            occupied.push(format!(
                "the database ({}) holds tables",
                settings.database.url.masked()
            ));
        }
        if files::has_files(&uploads)? {
            occupied.push(format!("uploads.dir ({}) holds files", uploads.display()));
        }
        if !occupied.is_empty() {
            anyhow::bail!(
                "the target is not empty: {}. Restore into an empty database and folder, or add --force to replace what is there",
                occupied.join(" and ")
            );
        }
    }
    let file = dir.join(manifest::safe_relative(&database.path).map_err(anyhow::Error::msg)?);
    snapshot::load(&settings.database, &file, database.format)?;
    let db = Db::connect_for_command(&settings.database)?;
    let restored = snapshot::contents(&mut *db.get().map_err(|e| anyhow::anyhow!("{e:#}"))?)?;
    if restored.tables != manifest.tables {
        let mut differences: Vec<String> = manifest
            .tables
            .iter()
            .filter(|(table, rows)| restored.tables.get(*table) != Some(rows))
            .map(|(table, rows)| {
                format!(
                    "{table}: {} rows restored, {rows} in the manifest",
                    restored
                        .tables
                        .get(table)
                        .map_or("no".to_string(), i64::to_string)
                )
            })
            .collect();
        differences.extend(
            restored
                .tables
                .keys()
                .filter(|table| !manifest.tables.contains_key(*table))
                .map(|table| format!("{table}: restored but not in the manifest")),
        );
        anyhow::bail!(
            "the restored database does not hold what the manifest counts: {}",
            differences.join("; ")
        );
    }
    let migrations_applied = db.migrate()?;
    let uploads = files::restore_uploads(dir, &manifest.files, &uploads, force)?;
    Ok(Restored {
        manifest,
        uploads,
        migrations_applied,
        elapsed: started.elapsed(),
    })
}
