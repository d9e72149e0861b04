//! Real `frontdesk` processes for the multi-process tests: the built binary, configured by
//! environment variables only, its address read from its own log. Each process is killed
//! when its handle is dropped, so a failing test leaves none behind.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frontdesk::config::{DatabaseSettings, Secret, Settings};
use frontdesk::db::Db;

use crate::helpers::{postgres_url, Backend, SmtpSink, TestDatabase};

/// How long a process may take to say it is ready.
const READY: Duration = Duration::from_secs(30);

/// A deployment on a fresh PostgreSQL database, or None (the test says it was skipped)
/// without `FRONTDESK_TEST_POSTGRES_URL`. Keep the database as long as the processes run.
pub async fn postgres_deployment(smtp: &SmtpSink) -> Option<(Deployment, TestDatabase)> {
    if postgres_url().is_none() {
        eprintln!("skipped: FRONTDESK_TEST_POSTGRES_URL is not set");
        return None;
    }
    let database = tokio::task::spawn_blocking(|| TestDatabase::new(Backend::Postgres))
        .await
        .expect("database");
    Some((Deployment::new(&database, smtp), database))
}

/// The configuration shared by the processes of one test: `FRONTDESK_…` variables.
#[derive(Clone, Debug)]
pub struct Deployment {
    vars: Vec<(String, String)>,
    dir: std::path::PathBuf,
}

impl Deployment {
    /// One database, one SMTP sink, fast polling, JSON logs, one HTTP worker thread each.
    pub fn new(database: &TestDatabase, smtp: &SmtpSink) -> Deployment {
        let dir = database.dir().to_path_buf();
        let vars = [
            ("DATABASE__URL", database.url.clone()),
            ("DATABASE__POOL_SIZE", "4".into()),
            ("DATABASE__SQLITE_SYNCHRONOUS", "normal".into()),
            ("SERVER__BIND", "127.0.0.1:0".into()),
            ("SERVER__WORKERS", "1".into()),
            ("SERVER__SHUTDOWN_TIMEOUT_SECONDS", "5".into()),
            ("MAIL__TRANSPORT", "smtp".into()),
            ("MAIL__SMTP_URL", smtp.url()),
            ("MAIL__FILE_DIR", dir.join("mail").display().to_string()),
            ("MAIL__POLL_INTERVAL_MS", "50".into()),
            ("MAIL__SMTP_TIMEOUT_SECONDS", "5".into()),
            ("NEWSLETTER__DISPATCH_INTERVAL_MS", "100".into()),
            ("UPLOADS__DIR", dir.join("uploads").display().to_string()),
            (
                "SECURITY__SECRET_KEY",
                "multi-process-test-secret-key-0123456789".into(),
            ),
            ("LOG__FORMAT", "json".into()),
        ]
        .into_iter()
        .map(|(k, v)| (format!("FRONTDESK_{k}"), v))
        .collect();
        Deployment { vars, dir }
    }

    /// Sets `FRONTDESK_<key>` (e.g. `MAIL__MAX_PER_SECOND`) for every process started after.
    pub fn set(mut self, key: &str, value: impl ToString) -> Deployment {
        let key = format!("FRONTDESK_{key}");
        self.vars.retain(|(k, _)| *k != key);
        self.vars.push((key, value.to_string()));
        self
    }

    /// The database, migrated, for the test's own reads and writes.
    pub async fn db(&self) -> Db {
        let url = self
            .vars
            .iter()
            .find(|(k, _)| k == "FRONTDESK_DATABASE__URL")
            .map(|(_, v)| v.clone())
            .expect("database url");
        tokio::task::spawn_blocking(move || {
            let db = Db::connect(&DatabaseSettings {
                url: Secret::new(url),
                ..Settings::default().database
            })
            .expect("connect");
            db.migrate().expect("migrate");
            db
        })
        .await
        .expect("join")
    }

    /// Starts `frontdesk serve` and waits until it listens.
    pub async fn serve(&self) -> Process {
        self.start("serve", "Frontdesk is serving").await
    }

    /// Starts `frontdesk worker` and waits until its mail worker runs.
    pub async fn worker(&self) -> Process {
        self.start("worker", "mail worker started").await
    }

    async fn start(&self, command: &str, ready: &'static str) -> Process {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
        cmd.arg(command)
            .current_dir(&self.dir)
            .env_remove("RUST_LOG")
            .env_remove("FRONTDESK_ENV")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars() {
            if key.starts_with("FRONTDESK_") {
                cmd.env_remove(key);
            }
        }
        cmd.envs(self.vars.iter().cloned());
        let mut child = cmd.spawn().expect("start frontdesk");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (found, ready_line) = mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains(ready) {
                    if let Some(found) = found.take() {
                        let _ = found.send(line.clone());
                    }
                }
                lines.lock().expect("log").push(line);
            }
        });
        let line = tokio::task::spawn_blocking(move || ready_line.recv_timeout(READY))
            .await
            .expect("join");
        let mut process = Process {
            child,
            log,
            address: None,
        };
        let line = match line {
            Ok(line) => line,
            Err(_) => panic!(
                "`frontdesk {command}` did not get ready within {READY:?}:\n{}",
                process.log_tail()
            ),
        };
        let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
        process.address = event["address"].as_str().map(|a| format!("http://{a}"));
        process
    }
}

/// A running `frontdesk` process.
pub struct Process {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// `http://127.0.0.1:port` of a `serve` process.
    address: Option<String>,
}

impl Process {
    pub fn address(&self) -> &str {
        self.address.as_deref().expect("a serving process")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address())
    }

    /// SIGKILL: no clean-up of any kind, as in a crash or an OOM kill.
    pub async fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.wait().await;
    }

    /// SIGTERM, then waits for the process to exit; returns its status.
    pub async fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        self.wait().await
    }

    async fn wait(&mut self) -> ExitStatus {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the process did not exit:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The last lines of the process's log (for failure messages).
    pub fn log_tail(&self) -> String {
        let log = self.log.lock().expect("log");
        log[log.len().saturating_sub(30)..].join("\n")
    }

    /// Whether a log line contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.log
            .lock()
            .expect("log")
            .iter()
            .any(|line| line.contains(text))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Adds `n` confirmed subscribers `reader{i}@example.org`; returns their addresses.
pub async fn add_subscribers(db: &Db, n: usize) -> Vec<String> {
    use frontdesk::newsletter::model::EmailAddress;
    let addresses: Vec<String> = (0..n).map(|i| format!("reader{i}@example.org")).collect();
    let emails: Vec<EmailAddress> = addresses
        .iter()
        .map(|a| EmailAddress::parse(a).expect("address"))
        .collect();
    db.write(move |conn| {
        Ok(frontdesk::newsletter::store::insert_confirmed_subscribers(
            conn,
            &emails,
            &[],
            frontdesk::db::now(),
        )?)
    })
    .await
    .expect("insert subscribers");
    addresses
}

/// Creates an issue to every subscriber and schedules it for now; returns its id.
pub async fn send_issue_now(db: &Db) -> String {
    use frontdesk::newsletter::model::NewIssue;
    let new = NewIssue::parse("Crash-safe news", "Hello **readers**.", &[]).expect("issue");
    db.write(move |conn| {
        let issue = frontdesk::newsletter::store::create_issue(conn, &new)?;
        frontdesk::newsletter::store::schedule_send(conn, &issue.id, None)?;
        Ok(issue.id)
    })
    .await
    .expect("schedule the issue")
}
