//! `frontdesk backup` and `restore` through the real binary, scheduled backups from the worker,
//! and `/readyz`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::{QueryDsl, RunQueryDsl};
use frontdesk::config::{DatabaseSettings, Secret, Settings};
use frontdesk::db::Db;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp, TestDatabase};

both_backends!(
    a_backup_taken_while_writes_go_on_restores_to_its_manifest,
    a_damaged_backup_is_refused_naming_the_file,
    a_target_that_holds_data_is_replaced_only_with_force,
    restoring_an_older_backup_applies_the_newer_migrations,
    readyz_answers_503_while_a_migration_is_pending,
    the_readiness_check_reads_a_fresh_database_without_changing_it,
    the_worker_takes_scheduled_backups_and_keeps_the_newest,
);

// --- the binary ----------------------------------------------------------------------------

/// The real binary, configured by environment for `database_url` and `uploads`, in a folder
/// without configuration files.
fn frontdesk(database_url: &str, uploads: &Path, work_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
    cmd.current_dir(work_dir)
        .env_remove("FRONTDESK_ENV")
        .env_remove("RUST_LOG");
    for (key, _) in std::env::vars() {
        if key.starts_with("FRONTDESK_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("FRONTDESK_DATABASE__URL", database_url)
        .env("FRONTDESK_UPLOADS__DIR", uploads);
    cmd
}

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run frontdesk"))
        .await
        .expect("join")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `frontdesk backup --to dir` against the app's database and uploads; must succeed.
async fn back_up(app: &TestApp, dir: &Path) {
    let mut cmd = frontdesk(
        &app.database.url,
        &app.settings.uploads.dir,
        app.database.dir(),
    );
    cmd.args(["backup", "--to"]).arg(dir);
    let out = run(cmd).await;
    assert!(out.status.success(), "backup failed: {}", stderr(&out));
}

/// A place to restore into: an empty database of the backend and an uploads folder.
struct Target {
    database: TestDatabase,
    uploads: PathBuf,
}

impl Target {
    async fn new(backend: Backend) -> Target {
        let database = tokio::task::spawn_blocking(move || TestDatabase::new(backend))
            .await
            .expect("create database");
        let uploads = database.dir().join("restored-uploads");
        Target { database, uploads }
    }

    fn command(&self) -> Command {
        frontdesk(&self.database.url, &self.uploads, self.database.dir())
    }

    async fn restore(&self, from: &Path, force: bool) -> Output {
        let mut cmd = self.command();
        cmd.args(["restore", "--from"]).arg(from);
        if force {
            cmd.arg("--force");
        }
        run(cmd).await
    }

    fn db(&self) -> Db {
        Db::connect(&DatabaseSettings {
            url: Secret::new(self.database.url.clone()),
            ..Settings::default().database
        })
        .expect("connect to the target")
    }
}

// --- reading backups and databases independently of the code under test --------------------

fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
        .expect("manifest JSON")
}

/// Every file under `root` with its SHA-256, keyed by its `/`-separated path below `root`.
fn hashes_under(root: &Path) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(root).expect("below root");
                let key = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let bytes = std::fs::read(&path).expect("read");
                found.insert(key, hex::encode(Sha256::digest(bytes)));
            }
        }
    }
    found
}

/// The manifest's upload entries, keyed by their path below `uploads/`.
fn manifest_uploads(manifest: &Value) -> BTreeMap<String, String> {
    manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| {
            let path = f["path"].as_str().expect("path");
            path.strip_prefix("uploads/").map(|p| {
                (
                    p.to_string(),
                    f["sha256"].as_str().expect("sha256").to_string(),
                )
            })
        })
        .collect()
}

fn manifest_count(manifest: &Value, table: &str) -> i64 {
    manifest["tables"][table]
        .as_i64()
        .unwrap_or_else(|| panic!("no count for {table} in {manifest}"))
}

/// Rows of the tables the writers write, counted with diesel's own query builder.
async fn counts(db: &Db) -> BTreeMap<&'static str, i64> {
    use frontdesk::db::schema as s;
    db.run(|conn| {
        Ok(BTreeMap::from([
            (
                "feedback_votes",
                s::feedback_votes::table.count().get_result(conn)?,
            ),
            ("donations", s::donations::table.count().get_result(conn)?),
            (
                "newsletter_subscribers",
                s::newsletter_subscribers::table.count().get_result(conn)?,
            ),
            (
                "job_applications",
                s::job_applications::table.count().get_result(conn)?,
            ),
        ]))
    })
    .await
    .expect("count rows")
}

/// Every table's rows as the manifest lists them, against a database.
async fn table_counts(db: &Db) -> BTreeMap<String, i64> {
    db.run(|conn| Ok(frontdesk::db::snapshot::contents(conn)?.tables))
        .await
        .expect("count tables")
}

// --- arranging data ----------------------------------------------------------------------------

fn app_settings(s: &mut Settings) {
    s.limits.enabled = false;
}

/// Three applications with their CVs in `uploads.dir`.
async fn applications(app: &TestApp) {
    let posting = crate::jobs::create_open(app, "data-reporter").await;
    for n in 0..3 {
        let res = crate::jobs::apply(
            app,
            &posting.slug,
            crate::jobs::pdf_form(&format!("applicant{n}@example.org")),
        )
        .await;
        assert_eq!(res.status(), 201);
    }
}

/// A writer's `n`-th request: the path and the JSON body.
type Request = fn(usize) -> (&'static str, Value);

/// Readers voting, giving and subscribing as fast as they can until stopped.
struct Writers {
    stop: Arc<AtomicBool>,
    done: [Arc<AtomicUsize>; 3],
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Writers {
    fn start(app: &TestApp) -> Writers {
        let stop = Arc::new(AtomicBool::new(false));
        let done = [(); 3].map(|_| Arc::new(AtomicUsize::new(0)));
        let requests: [Request; 3] = [
            |n| {
                (
                    "/api/v1/feedback",
                    json!({"article_url": format!("http://localhost/story/{n}"), "helpful": n % 2 == 0}),
                )
            },
            |n| {
                (
                    "/api/v1/donations",
                    json!({"amount_minor": 2500 + n, "currency": "USD", "frequency": "one_time",
                           "email": format!("donor{n}@example.org"), "name": "Jane Quill"}),
                )
            },
            |n| {
                (
                    "/api/v1/newsletter/subscriptions",
                    json!({"email": format!("reader{n}@example.org"), "name": "Reader",
                           "source_url": "https://news.example.org/"}),
                )
            },
        ];
        let tasks = requests
            .into_iter()
            .zip(done.iter().cloned())
            .map(|(request, done)| {
                let (stop, address) = (stop.clone(), app.address.clone());
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) {
                        let (path, body) = request(n);
                        let res = client
                            .post(format!("{address}{path}"))
                            .json(&body)
                            .send()
                            .await
                            .expect("request");
                        assert!(res.status().is_success(), "{path}: {}", res.status());
                        done.fetch_add(1, Ordering::SeqCst);
                        n += 1;
                    }
                })
            })
            .collect();
        Writers { stop, done, tasks }
    }

    fn counts(&self) -> [usize; 3] {
        [0, 1, 2].map(|i| self.done[i].load(Ordering::SeqCst))
    }

    /// Waits until every writer has written `more` rows beyond `from`.
    async fn wait_for(&self, from: [usize; 3], more: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self
            .counts()
            .iter()
            .zip(from)
            .any(|(now, from)| *now < from + more)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the writers stalled at {:?}",
                self.counts()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            task.await.expect("writer");
        }
    }
}

// --- the tests ---------------------------------------------------------------------------------

async fn a_backup_taken_while_writes_go_on_restores_to_its_manifest(backend: Backend) {
    let app = spawn_app_with(backend, app_settings).await;
    applications(&app).await;
    let writers = Writers::start(&app);
    writers.wait_for([0; 3], 5).await;
    let backup = app.database.dir().join("backup");

    back_up(&app, &backup).await;
    let after_backup = writers.counts();
    writers.wait_for(after_backup, 3).await;
    writers.stop().await;

    let manifest = manifest(&backup);
    let live = counts(&app.state.db).await;
    for table in ["feedback_votes", "donations", "newsletter_subscribers"] {
        let in_backup = manifest_count(&manifest, table);
        assert!(
            in_backup > 0 && in_backup < live[table],
            "{table}: {in_backup} in the backup, {} now: the backup was taken mid-way",
            live[table]
        );
    }
    assert_eq!(manifest_count(&manifest, "job_applications"), 3);

    let target = Target::new(backend).await;
    let out = target.restore(&backup, false).await;
    assert!(out.status.success(), "restore failed: {}", stderr(&out));

    let restored = target.db();
    for (table, rows) in counts(&restored).await {
        assert_eq!(rows, manifest_count(&manifest, table), "{table}");
    }
    let expected: BTreeMap<String, i64> =
        serde_json::from_value(manifest["tables"].clone()).expect("tables");
    assert_eq!(table_counts(&restored).await, expected);
    let uploads = manifest_uploads(&manifest);
    assert_eq!(uploads.len(), 3, "one CV per application");
    assert_eq!(hashes_under(&target.uploads), uploads);
    for file in manifest["files"].as_array().expect("files") {
        let path = backup.join(file["path"].as_str().expect("path"));
        let bytes = std::fs::read(&path).expect("a file the manifest lists");
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            file["sha256"].as_str().expect("sha256"),
            "{}",
            path.display()
        );
    }
}

/// Changes the byte in the middle of `path`.
fn damage(path: &Path) {
    let mut bytes = std::fs::read(path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(path, bytes).expect("write");
}

async fn a_damaged_backup_is_refused_naming_the_file(backend: Backend) {
    let app = spawn_app_with(backend, app_settings).await;
    applications(&app).await;
    let backup = app.database.dir().join("backup");
    back_up(&app, &backup).await;
    let manifest = manifest(&backup);
    let database_file = manifest["database"]["path"]
        .as_str()
        .expect("database file");
    let target = Target::new(backend).await;

    damage(&backup.join(database_file));
    let out = target.restore(&backup, false).await;

    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains(&format!("{database_file}: damaged"))
            && message.contains("nothing was restored"),
        "{message}"
    );
    assert!(
        !frontdesk::db::snapshot::target_has_tables(&DatabaseSettings {
            url: Secret::new(target.database.url.clone()),
            ..Settings::default().database
        })
        .expect("look at the target"),
        "the target was left alone"
    );

    damage(&backup.join(database_file));
    let upload = manifest_uploads(&manifest)
        .into_keys()
        .next()
        .expect("an upload");
    damage(&backup.join("uploads").join(&upload));
    let out = target.restore(&backup, false).await;

    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains(&format!("uploads/{upload}: damaged")),
        "{message}"
    );
    assert!(!message.contains(database_file), "{message}");
    assert!(!target.uploads.exists(), "no upload was restored");
}

async fn a_target_that_holds_data_is_replaced_only_with_force(backend: Backend) {
    let app = spawn_app_with(backend, app_settings).await;
    applications(&app).await;
    let backup = app.database.dir().join("backup");
    back_up(&app, &backup).await;
    let target = Target::new(backend).await;
    let out = run({
        let mut cmd = target.command();
        cmd.arg("migrate");
        cmd
    })
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::create_dir_all(target.uploads.join("cvs")).expect("mkdir");
    std::fs::write(target.uploads.join("cvs/someone-else"), b"a CV").expect("write");

    let refused = target.restore(&backup, false).await;

    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(
        message.contains("not empty")
            && message.contains("holds tables")
            && message.contains("--force"),
        "{message}"
    );
    assert!(target.uploads.join("cvs/someone-else").exists());

    let forced = target.restore(&backup, true).await;

    assert!(forced.status.success(), "{}", stderr(&forced));
    let manifest = manifest(&backup);
    let expected: BTreeMap<String, i64> =
        serde_json::from_value(manifest["tables"].clone()).expect("tables");
    assert_eq!(table_counts(&target.db()).await, expected);
    assert_eq!(hashes_under(&target.uploads), manifest_uploads(&manifest));
}

async fn restoring_an_older_backup_applies_the_newer_migrations(backend: Backend) {
    let source = Target::new(backend).await;
    let db = source.db();
    let reverted = tokio::task::spawn_blocking(move || {
        db.migrate().expect("migrate");
        let mut conn = db.get().expect("connection");
        frontdesk::db::revert_last_migration(&mut conn).expect("revert")
    })
    .await
    .expect("join");
    let backup = source.database.dir().join("backup");
    let out = run({
        let mut cmd = source.command();
        cmd.args(["backup", "--to"]).arg(&backup);
        cmd
    })
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(manifest(&backup)["schema_version"], json!(reverted));
    let target = Target::new(backend).await;

    let out = target.restore(&backup, false).await;

    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 newer migration(s) applied"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let restored = target.db();
    let pending = tokio::task::spawn_blocking(move || {
        let mut conn = restored.get().expect("connection");
        frontdesk::db::pending_migrations(&mut conn).expect("pending")
    })
    .await
    .expect("join");
    assert_eq!(pending, 0);
}

async fn readyz_answers_503_while_a_migration_is_pending(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.mail.worker_in_serve = false).await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["migrations"], "current");

    app.state
        .db
        .run(|conn| Ok(frontdesk::db::revert_last_migration(conn)?))
        .await
        .expect("revert the latest migration");
    let not_ready = app.get("/readyz").await;

    assert_eq!(not_ready.status(), 503);
    assert_eq!(
        not_ready.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = not_ready.json().await.expect("json");
    assert_eq!(problem["status"], 503);
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("1 database migration is pending"),
        "{problem}"
    );
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "alive all the same"
    );

    let out = run({
        let mut cmd = frontdesk(
            &app.database.url,
            &app.settings.uploads.dir,
            app.database.dir(),
        );
        cmd.arg("migrate");
        cmd
    })
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(app.get("/readyz").await.status(), 200);
    let doc: Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        doc["paths"]["/readyz"]["get"]["responses"]["503"].is_object(),
        "{}",
        doc["paths"]["/readyz"]
    );
}

async fn the_readiness_check_reads_a_fresh_database_without_changing_it(backend: Backend) {
    let fresh = Target::new(backend).await;
    let db = fresh.db();
    let settings = DatabaseSettings {
        url: Secret::new(fresh.database.url.clone()),
        ..Settings::default().database
    };

    let pending = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().expect("connection");
        frontdesk::db::pending_migrations(&mut conn).expect("pending")
    })
    .await
    .expect("join");

    let known = frontdesk::db::known_migrations(match backend {
        Backend::Sqlite => frontdesk::db::Backend::Sqlite,
        Backend::Postgres => frontdesk::db::Backend::Postgres,
    })
    .expect("known");
    assert_eq!(pending, known.len());
    assert!(
        !frontdesk::db::snapshot::target_has_tables(&settings).expect("look"),
        "no table was created"
    );
}

async fn the_worker_takes_scheduled_backups_and_keeps_the_newest(backend: Backend) {
    let folder = tempfile::tempdir().expect("dir");
    for old in ["frontdesk-20200101T000000Z", "frontdesk-20200102T000000Z"] {
        std::fs::create_dir(folder.path().join(old)).expect("mkdir");
    }
    let dir = folder.path().to_path_buf();
    let app = spawn_app_with(backend, move |s| {
        s.backup.dir = Some(dir);
        s.backup.schedule = "every 1h".parse().expect("schedule");
        s.backup.keep = 2;
    })
    .await;

    let run = wait_for_good_backup(&app).await;

    let location = PathBuf::from(&run.location);
    frontdesk::backup::Manifest::verify(&location).expect("a complete, intact backup");
    let mut left: Vec<String> = std::fs::read_dir(folder.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "frontdesk-20200102T000000Z".to_string(),
            location
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        ],
        "the two newest are kept"
    );
    assert_eq!(run.trigger, "schedule");

    app.signed_in("admin").await;
    let page = app.get("/staff/").await.text().await.expect("dashboard");
    assert!(
        page.contains("Backups") && page.contains(&escaped(&run.location)),
        "{page}"
    );
    assert!(page.contains("every 1h"), "{page}");
    assert!(
        !page.contains("role=\"alert\""),
        "nothing to warn about: {page}"
    );
}

/// `text` as the templates write it into HTML (minijinja escapes `/` too).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('/', "&#x2f;")
}

async fn wait_for_good_backup(app: &TestApp) -> frontdesk::backup::runs::BackupRun {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let last = app
            .state
            .db
            .run(|conn| Ok(frontdesk::backup::runs::last_good(conn)?))
            .await
            .expect("read backup runs");
        if let Some(run) = last {
            return run;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scheduled backup within a minute"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_dashboard_warns_admins_when_the_last_backup_is_older_than_its_schedule() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.mail.worker_in_serve = false;
        s.backup.dir = Some(PathBuf::from("/nonexistent"));
        s.backup.schedule = "every 6h".parse().expect("schedule");
    })
    .await;
    let three_days_ago = frontdesk::db::now() - chrono::TimeDelta::days(3);
    app.state
        .db
        .write(move |conn| {
            use frontdesk::backup::runs;
            let id = runs::start(
                conn,
                runs::Trigger::Command,
                None,
                "/backups/old",
                three_days_ago,
            )?
            .expect("recorded");
            runs::finish(
                conn,
                &id,
                &runs::Outcome::Succeeded {
                    bytes: 2_000_000,
                    files: 4,
                },
                three_days_ago,
            )?;
            Ok(())
        })
        .await
        .expect("record an old backup");

    app.signed_in("admin").await;
    let page = app.get("/staff/").await.text().await.expect("dashboard");

    assert!(
        page.contains("&#x2f;backups&#x2f;old") && page.contains("3 days 0 h ago"),
        "{page}"
    );
    assert!(
        page.contains("role=\"alert\">The last good backup is 3 days 0 h old, older than the schedule (every 6h) allows."),
        "{page}"
    );
    let editor = editor_dashboard(&app).await;
    assert!(!editor.contains("Backups"), "only admins see the panel");
}

/// The dashboard as an editor sees it (a fresh client, signed in as an editor).
async fn editor_dashboard(app: &TestApp) -> String {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = app.staff_account("editor").await;
    let form = client
        .get(app.url("/staff/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("text");
    let token = crate::helpers::csrf_from(&form);
    let res = client
        .post(app.url("/staff/login"))
        .form(&[
            ("email", login.email.as_str()),
            ("password", login.password.as_str()),
            ("csrf_token", token.as_str()),
            ("next", "/staff/"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status(), 303);
    client
        .get(app.url("/staff/"))
        .send()
        .await
        .expect("dashboard")
        .text()
        .await
        .expect("text")
}
