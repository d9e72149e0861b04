//! The test harness: `spawn_app` starts the real server on port 0 with its own database
//! (a SQLite file in a temp folder, or a fresh PostgreSQL database dropped afterwards) and a
//! real SMTP server of its own.

use std::sync::{Arc, Once};
use std::time::Duration;

use diesel::{BoolExpressionMethods, Connection, ExpressionMethods, QueryDsl, RunQueryDsl};
use frontdesk::app::{AppState, Application, BuildOptions};
use frontdesk::clock::Clock;
use frontdesk::config::{MailTransportKind, Secret, Settings, SqliteSynchronous};
use frontdesk::mail::outbox::{self, OutboxRow, OutboxState};
use frontdesk::mail::transport::Transport;
use frontdesk::mail::worker::Worker;
use frontdesk::mail::{Email, NewOutboxEmail};
use frontdesk::web::metrics::Metrics;
use serde_json::Value;

#[path = "../support/smtp_sink.rs"]
pub mod smtp_sink;
pub use smtp_sink::{Reply, SmtpSink};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one test per backend from `async fn name(backend: Backend)`.
/// The PostgreSQL variant says it was skipped when `FRONTDESK_TEST_POSTGRES_URL` is unset.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
                #[tokio::test]
                async fn postgres() {
                    if $crate::helpers::postgres_url().is_none() {
                        eprintln!("skipped: FRONTDESK_TEST_POSTGRES_URL is not set");
                        return;
                    }
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )+
    };
}

static TRACING: Once = Once::new();

/// Every test's log lines (info and up, debug for frontdesk) go through [`LogWatch`], which counts the lines
/// holding a watched text; with `TEST_LOG` set they are printed to stderr too.
fn init_tracing() {
    TRACING.call_once(|| {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,frontdesk=debug"));
        let printed = std::env::var("TEST_LOG")
            .is_ok()
            .then(|| tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(|| LogWatch),
            )
            .with(printed)
            .try_init();
    });
}

static WATCHED: std::sync::Mutex<Vec<(String, usize)>> = std::sync::Mutex::new(Vec::new());

/// Starts counting the log lines (of every test in this process) that hold `text`.
pub fn watch_logs(text: &str) {
    if let Ok(mut watched) = WATCHED.lock() {
        watched.push((text.to_string(), 0));
    }
}

/// How many log lines held `text` since [`watch_logs`] was called with it.
pub fn log_lines_with(text: &str) -> usize {
    WATCHED
        .lock()
        .map(|w| w.iter().filter(|(t, _)| t == text).map(|(_, n)| n).sum())
        .unwrap_or(0)
}

/// The writer of the captured log: counts the watched texts in each formatted line.
struct LogWatch;

impl std::io::Write for LogWatch {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        if let Ok(mut watched) = WATCHED.lock() {
            for (text, hits) in watched.iter_mut() {
                if line.contains(text.as_str()) {
                    *hits += 1;
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn postgres_url() -> Option<String> {
    std::env::var("FRONTDESK_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A database made for one test and dropped with it.
pub struct TestDatabase {
    pub url: String,
    postgres: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    pub fn new(backend: Backend) -> TestDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => TestDatabase {
                url: format!("sqlite://{}", dir.path().join("test.db").display()),
                postgres: None,
                _dir: dir,
            },
            Backend::Postgres => {
                let admin = postgres_url().expect("FRONTDESK_TEST_POSTGRES_URL");
                let name = format!("frontdesk_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn =
                    diesel::PgConnection::establish(&admin).expect("connect to PostgreSQL");
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .expect("create test database");
                let mut url = url::Url::parse(&admin).expect("postgres URL");
                url.set_path(&format!("/{name}"));
                TestDatabase {
                    url: url.to_string(),
                    postgres: Some((admin, name)),
                    _dir: dir,
                }
            }
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            let _ = std::thread::spawn(move || {
                if let Ok(mut conn) = diesel::PgConnection::establish(&admin) {
                    let _ = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .execute(&mut conn);
                }
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub smtp: SmtpSink,
    pub state: AppState,
    pub settings: Settings,
    /// The app's clock for second-factor codes: move it forward instead of sleeping.
    pub clock: Clock,
    server: actix_web::dev::ServerHandle,
    running: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    pub database: TestDatabase,
}

/// Settings for a test: port 0, its own database and SMTP sink, fast retries.
pub fn test_settings(database: &TestDatabase, smtp: &SmtpSink) -> Settings {
    let mut s = Settings::default();
    s.server.bind = "127.0.0.1:0".parse().expect("addr");
    s.server.workers = 1;
    s.server.shutdown_timeout_seconds = 1;
    s.database.url = Secret::new(database.url.clone());
    s.database.pool_size = 4;
    s.database.sqlite_synchronous = SqliteSynchronous::Normal;
    s.mail.transport = MailTransportKind::Smtp;
    s.mail.smtp_url = Some(Secret::new(smtp.url()));
    s.mail.file_dir = database.dir().join("mail");
    s.mail.poll_interval_ms = 50;
    s.mail.retry_base_ms = 100;
    s.mail.retry_max_ms = 400;
    // Every test signs in from a new client; the tests of the notice turn it on.
    s.staff.new_browser_emails = false;
    s.mail.smtp_timeout_seconds = 5;
    s.uploads.dir = database.dir().join("uploads");
    s.security.secret_key = Some(Secret::new("test-secret-key"));
    s
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    init_tracing();
    let smtp = SmtpSink::start().await;
    let database = tokio::task::spawn_blocking(move || TestDatabase::new(backend))
        .await
        .expect("create database");
    let mut settings = test_settings(&database, &smtp);
    configure(&mut settings);
    start(settings, smtp, database, Clock::system()).await
}

async fn start(
    settings: Settings,
    smtp: SmtpSink,
    database: TestDatabase,
    clock: Clock,
) -> TestApp {
    let app = Application::build(
        settings.clone(),
        BuildOptions {
            migrate: true,
            handle_signals: false,
            clock: clock.clone(),
        },
    )
    .await
    .expect("build application");
    let port = app.port();
    let state = app.state().clone();
    let server = app.server_handle();
    let running = tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .expect("client"),
        smtp,
        state,
        settings,
        clock,
        server,
        running: Some(running),
        database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Stops the server gracefully (the worker finishes its message in flight).
    pub async fn stop(&mut self) {
        self.server.stop(true).await;
        if let Some(running) = self.running.take() {
            let _ = running.await;
        }
    }

    /// Stops and starts the application again on the same database and SMTP sink.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let TestApp {
            settings,
            smtp,
            database,
            clock,
            ..
        } = self;
        start(settings, smtp, database, clock).await
    }

    /// Renders and queues emails in one committed transaction.
    pub async fn queue(&self, emails: Vec<Email>) -> Vec<String> {
        let rows: Vec<NewOutboxEmail> = emails
            .into_iter()
            .map(|e| self.state.mailer.compose(e).expect("compose"))
            .collect();
        let ids = rows.iter().map(|r| r.id.clone()).collect();
        self.state
            .db
            .write(move |conn| Ok(outbox::enqueue(conn, &rows)?))
            .await
            .expect("enqueue");
        self.state.mailer.wake();
        ids
    }

    pub async fn outbox_row(&self, id: &str) -> OutboxRow {
        let id = id.to_string();
        self.state
            .db
            .run(move |conn| Ok(outbox::find(conn, &id)?))
            .await
            .expect("outbox row")
    }

    /// Polls until `check` holds for the row, or panics after `timeout`.
    pub async fn wait_for_row(
        &self,
        id: &str,
        timeout: Duration,
        check: impl Fn(&OutboxRow) -> bool,
    ) -> OutboxRow {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let row = self.outbox_row(id).await;
            if check(&row) {
                return row;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "outbox row {id} did not reach the expected state: {row:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Longest a drain waits for rows another worker has leased (a big newsletter on a slow CI).
const DRAIN_DEADLINE: Duration = Duration::from_secs(60);

impl TestApp {
    /// Runs the outbox to completion: sends everything due now through the real transport
    /// (a worker of our own, next to the app's) and returns once no row is due and none is
    /// leased, i.e. whatever was in flight has landed in the sink or been recorded. Rows
    /// waiting for a later retry or held by a paused issue are not due and stay queued.
    /// "No email was sent" is then a plain assertion on the sink, not a wait.
    pub async fn drain_outbox(&self) {
        let transport = Arc::new(Transport::from_settings(&self.settings.mail).expect("transport"));
        let worker = Worker::new(
            self.state.db.clone(),
            transport,
            self.settings.mail.clone(),
            Metrics::new(),
            Arc::new(tokio::sync::Notify::new()),
        )
        .expect("worker")
        .with_renderer(frontdesk::newsletter::Dispatcher::from_state(&self.state).renderer())
        .with_renderer(Arc::new(
            frontdesk::comments::confidential::ReplyRenderer::new(
                self.state.mailer.clone(),
                self.state.settings.clone(),
                self.state.tips.clone(),
            ),
        ));
        let deadline = tokio::time::Instant::now() + DRAIN_DEADLINE;
        loop {
            worker.drain().await.expect("drain the outbox");
            let unsettled = self.unsettled_outbox_rows().await;
            if unsettled == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{unsettled} outbox row(s) still due or leased after {DRAIN_DEADLINE:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Queued rows that are due now or leased by a worker (being sent).
    async fn unsettled_outbox_rows(&self) -> i64 {
        use frontdesk::db::schema::outbox::dsl as o;
        self.state
            .db
            .run(|conn| {
                let now = frontdesk::db::now();
                Ok(o::outbox
                    .filter(o::state.eq(OutboxState::Queued.as_str()))
                    .filter(o::next_attempt_at.le(now).or(o::lease_until.gt(now)))
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .await
            .expect("count unsettled outbox rows")
    }

    /// Asserts that nothing more reaches the SMTP sink: drains the outbox, then checks that
    /// the sink holds exactly what it held when called (what the old timed
    /// `SmtpSink::expect_none` waits checked, without the wait).
    pub async fn expect_no_more_mail(&self) {
        let before = self.smtp.count();
        self.drain_outbox().await;
        let mails = self.smtp.received();
        let subjects: Vec<Option<String>> = mails
            .iter()
            .skip(before)
            .map(smtp_sink::ReceivedMail::subject)
            .collect();
        assert_eq!(
            mails.len(),
            before,
            "expected no more mail once the outbox was drained; subjects: {subjects:?}"
        );
    }

    /// `GET path` with a staff bearer token: the status and the body as JSON (`Null` when
    /// the body is not JSON, as in some error answers).
    pub async fn get_json(&self, token: &str, path: &str) -> (u16, Value) {
        let res = self.staff(token).get(path).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A client for the staff API signed with `token`.
    pub fn staff<'a>(&'a self, token: &'a str) -> StaffApi<'a> {
        StaffApi { app: self, token }
    }
}

/// Requests to the staff API with one bearer token: `app.staff(&token).get(path)`.
pub struct StaffApi<'a> {
    app: &'a TestApp,
    token: &'a str,
}

impl StaffApi<'_> {
    /// Sends `method path` with the token and `body` as JSON when given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// `POST path` with `body` as JSON.
    pub async fn post_json(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// `POST path` without a body.
    pub async fn post(&self, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, None).await
    }

    /// `GET path`: the status and the body as JSON (`Null` when it is not JSON).
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        self.app.get_json(self.token, path).await
    }

    /// The JSON of a `GET path` that must answer 200.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.app.get_json(self.token, path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

/// An answer read off the socket by [`TestApp::raw`].
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// The whole answer: status line, headers and body.
    pub text: String,
}

impl TestApp {
    /// Sends `method target` byte for byte over a plain socket (reqwest would normalise the
    /// target, `%66` to `f`, and refuses invented methods), with `body` as JSON when given.
    pub async fn raw(&self, method: &str, target: &str, body: Option<&str>) -> RawResponse {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = self.address.trim_start_matches("http://");
        let mut request =
            format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        if let Some(body) = body {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(body.unwrap_or_default());
        let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .expect("an answer in time")
            .expect("read");
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        RawResponse { status, text }
    }
}

/// A test email to `to` (the `smtp_check` template).
pub fn test_email(to: &str) -> Email {
    Email::new(
        "smtp_check",
        to.parse().expect("mailbox"),
        serde_json::json!({ "requested_by": "the test suite" }),
    )
}

/// A staff account made for a test.
pub struct StaffLogin {
    pub email: String,
    pub password: String,
}

pub const STAFF_PASSWORD: &str = "quiet harbour lantern 1987 oak";

impl TestApp {
    /// Creates a staff account with `role` directly in the database.
    pub async fn staff_account(&self, role: &str) -> StaffLogin {
        let email = format!(
            "{role}-{}@newsroom.example.org",
            uuid::Uuid::new_v4().simple()
        );
        let new = frontdesk::staff::service::parse_new_staff(
            &email,
            &format!("Test {role}"),
            role,
            STAFF_PASSWORD,
        )
        .expect("valid staff account");
        frontdesk::staff::service::create_account(
            &self.state.db,
            new,
            frontdesk::staff::audit::Actor::system("test"),
        )
        .await
        .expect("create staff account");
        StaffLogin {
            email,
            password: STAFF_PASSWORD.to_string(),
        }
    }

    /// A personal API token for a new account with `role`.
    pub async fn staff_token(&self, role: &str) -> String {
        let login = self.staff_account(role).await;
        let user = self
            .state
            .db
            .run(move |conn| {
                Ok(frontdesk::staff::store::find_user_by_email(
                    conn,
                    &login.email,
                )?)
            })
            .await
            .expect("lookup")
            .expect("account");
        frontdesk::staff::service::create_token(
            &self.state.db,
            user.id,
            "test".into(),
            frontdesk::staff::audit::Actor::system("test"),
        )
        .await
        .expect("token")
    }

    /// Signs in through the real form with this app's cookie jar; returns the POST's response.
    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        let form = self
            .get("/staff/login")
            .await
            .text()
            .await
            .expect("login page");
        let token = csrf_from(&form);
        self.client
            .post(self.url("/staff/login"))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf_token", &token),
                ("next", "/staff/"),
            ])
            .send()
            .await
            .expect("sign in")
    }

    /// Signs in a new account with `role` and returns the CSRF token of its session.
    pub async fn signed_in(&self, role: &str) -> String {
        let login = self.staff_account(role).await;
        let res = self.sign_in(&login.email, &login.password).await;
        assert_eq!(res.status(), 303, "sign-in redirects");
        let page = self
            .get("/staff/account")
            .await
            .text()
            .await
            .expect("account page");
        csrf_from(&page)
    }
}

/// The value of the first `name="csrf_token"` field of a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html
        .find(marker)
        .map(|i| i + marker.len())
        .expect("a csrf_token field");
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_string()
}

/// The path and query of the first link in `text` whose path starts with `path`
/// (emails link to `server.public_url`, not to the test server's port).
pub fn link(text: &str, path: &str) -> String {
    let start = text
        .find(path)
        .unwrap_or_else(|| panic!("no {path} link in {text}"));
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '>' || c == '"')
        .next()
        .expect("link")
        .to_string()
}
