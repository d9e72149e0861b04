//! Newsletter send: N confirmed subscribers, one issue, the dispatcher queues a delivery row
//! and an outbox email per recipient, then one outbox worker delivers them to a real SMTP
//! server on loopback.
//!
//!     cargo bench --bench newsletter -- [--subscribers N] [--connections C] [--batch B] [--postgres URL]
//!
//! Prints the time to queue, the delivery rate and this process's peak RSS (VmHWM). The SMTP
//! sink runs in a child process (this same binary with `--sink`), so the messages it keeps
//! in memory do not count towards the peak RSS. See bench/README.md.

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk::config::{MailTransportKind, Secret, Settings, SqliteSynchronous};
use frontdesk::db::Db;
use frontdesk::keys::Keys;
use frontdesk::mail::outbox::{self, OutboxState};
use frontdesk::mail::transport::Transport;
use frontdesk::mail::worker::Worker;
use frontdesk::mail::{Mailer, Templates};
use frontdesk::newsletter::model::{EmailAddress, NewIssue};
use frontdesk::newsletter::{store, Dispatcher};
use frontdesk::web::metrics::Metrics;
use tokio::sync::{watch, Notify};

#[path = "../tests/support/smtp_sink.rs"]
mod smtp_sink;

const BODY: &str = "Good morning,\n\nHere is what our newsroom published this week: \
an investigation into the city's water contracts, a profile of the last bookbinder in town, \
and the results of our reader survey.\n\n## The investigation\n\nFor six months our reporters \
read every contract the water authority signed since 2015. **What they found** changes how \
the city pays for repairs. [Read the story](https://news.example.org/water).\n\n## Also this week\n\n\
- [The last bookbinder](https://news.example.org/bookbinder)\n\
- [What you told us](https://news.example.org/survey)\n\n> Journalism is a conversation: reply to this \
email and tell us what we missed.\n\nThank you for reading.";

struct Args {
    subscribers: usize,
    connections: usize,
    postgres: Option<String>,
    batch: u32,
    sink: bool,
}

fn args() -> Args {
    let mut args = Args {
        subscribers: 100_000,
        connections: 8,
        postgres: None,
        batch: Settings::default().newsletter.dispatch_batch_size,
        sink: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--subscribers" => {
                args.subscribers = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--subscribers N")
            }
            "--connections" => {
                args.connections = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--connections C")
            }
            "--postgres" => args.postgres = it.next(),
            "--batch" => args.batch = it.next().and_then(|v| v.parse().ok()).expect("--batch B"),
            "--sink" => args.sink = true,
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if args.sink {
        runtime.block_on(run_sink());
    } else {
        runtime.block_on(run_bench(args));
    }
}

/// Child mode: an SMTP sink that says its port, then answers `count` with
/// `<messages> <distinct recipients>` until stdin closes.
async fn run_sink() {
    let sink = smtp_sink::SmtpSink::start().await;
    println!("PORT {}", sink.port());
    std::io::stdout().flush().expect("flush");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(4);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = rx.recv().await {
        if line.trim() == "count" {
            let mails = sink.received();
            let distinct: std::collections::HashSet<_> =
                mails.iter().flat_map(|m| m.rcpt_to.iter()).collect();
            println!("{} {}", mails.len(), distinct.len());
            std::io::stdout().flush().expect("flush");
        }
    }
}

struct SinkProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    port: u16,
}

impl SinkProcess {
    fn start() -> SinkProcess {
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .arg("--sink")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the sink process");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("port line");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .expect("PORT n");
        SinkProcess {
            child,
            stdin,
            stdout,
            port,
        }
    }

    fn count(&mut self) -> (usize, usize) {
        writeln!(self.stdin, "count").expect("ask");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("answer");
        let mut parts = line.split_whitespace().map(|p| p.parse().expect("number"));
        (
            parts.next().expect("count"),
            parts.next().expect("distinct"),
        )
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn run_bench(args: Args) {
    let mut sink = SinkProcess::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::default();
    let (backend, admin_db) = match &args.postgres {
        Some(admin) => {
            let name = format!("frontdesk_bench_{}", uuid::Uuid::new_v4().simple());
            run_sql(admin, &format!("CREATE DATABASE \"{name}\""));
            let mut url = url::Url::parse(admin).expect("url");
            url.set_path(&format!("/{name}"));
            settings.database.url = Secret::new(url.to_string());
            ("postgres", Some((admin.clone(), name)))
        }
        None => {
            settings.database.url = Secret::new(format!(
                "sqlite://{}",
                dir.path().join("bench.db").display()
            ));
            settings.database.sqlite_synchronous = SqliteSynchronous::Full;
            ("sqlite", None)
        }
    };
    settings.mail.transport = MailTransportKind::Smtp;
    settings.mail.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{}", sink.port)));
    settings.mail.smtp_connections = args.connections;
    settings.mail.poll_interval_ms = 10;
    settings.newsletter.dispatch_batch_size = args.batch;
    let settings = Arc::new(settings);

    let db = Db::connect(&settings.database).expect("db");
    db.migrate().expect("migrate");
    let mailer = Mailer::new(&settings, Templates::embedded());
    let keys = Keys::new("benchmark key");

    // Seed: N confirmed subscribers (not timed as part of the send).
    let started = Instant::now();
    let n = args.subscribers;
    let emails: Vec<EmailAddress> = (0..n)
        .map(|i| EmailAddress::parse(&format!("reader{i}@example.org")).expect("address"))
        .collect();
    db.write(move |conn| {
        Ok(store::insert_confirmed_subscribers(
            conn,
            &emails,
            &[],
            frontdesk::db::now(),
        )?)
    })
    .await
    .expect("seed");
    let seeded_in = started.elapsed();
    let issue = NewIssue::parse("This week in the newsroom", BODY, &[]).expect("issue");
    let issue_id = db
        .write(move |conn| {
            let issue = store::create_issue(conn, &issue)?;
            store::schedule_send(conn, &issue.id, None)
        })
        .await
        .expect("issue")
        .id;

    // Queue: the dispatcher alone, until every recipient has its delivery row and email.
    let dispatcher = Dispatcher::new(db.clone(), mailer.clone(), keys, settings.clone());
    let started = Instant::now();
    loop {
        let report = dispatcher.dispatch_once().await.expect("dispatch");
        if !report.more {
            break;
        }
    }
    let queued_in = started.elapsed();
    let id = issue_id.clone();
    let queued = db
        .run(move |conn| Ok(store::issue_progress(conn, &id)?))
        .await
        .expect("progress");
    assert_eq!(queued.pending as usize, n, "every recipient queued once");

    // Deliver: one worker process's worth of SMTP connections.
    let transport = Arc::new(Transport::from_settings(&settings.mail).expect("transport"));
    let worker = Worker::new(
        db.clone(),
        transport,
        settings.mail.clone(),
        Metrics::new(),
        Arc::new(Notify::new()),
    )
    .expect("worker")
    .with_renderer(dispatcher.renderer());
    let (stop, rx) = watch::channel(false);
    let started = Instant::now();
    let handle = tokio::spawn(worker.run(rx));
    loop {
        let sent = db
            .run(|conn| Ok(outbox::counts_by_state(conn)?))
            .await
            .expect("counts")
            .into_iter()
            .find(|(s, _)| s == OutboxState::Sent.as_str())
            .map_or(0, |(_, n)| n as usize);
        if sent >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered_in = started.elapsed();
    let _ = stop.send(true);
    let _ = handle.await;
    dispatcher.dispatch_once().await.expect("settle");
    let id = issue_id.clone();
    let done = db
        .run(move |conn| Ok(store::issue_progress(conn, &id)?))
        .await
        .expect("progress");
    let (received, distinct) = sink.count();
    assert_eq!(
        (received, distinct),
        (n, n),
        "the sink received one email per recipient"
    );
    assert_eq!(done.sent as usize, n);

    println!(
        "newsletter backend={backend} subscribers={n} connections={} batch={} seed={:.2}s queue={:.2}s ({:.0} recipients/s) deliver={:.2}s rate={:.0} msg/s peak_rss={:.0} MB status={:?}",
        args.connections,
        args.batch,
        seeded_in.as_secs_f64(),
        queued_in.as_secs_f64(),
        n as f64 / queued_in.as_secs_f64(),
        delivered_in.as_secs_f64(),
        n as f64 / delivered_in.as_secs_f64(),
        peak_rss_mb(),
        done.status,
    );
    drop(db);
    if let Some((admin, name)) = admin_db {
        run_sql(
            &admin,
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        );
    }
}

fn run_sql(url: &str, sql: &str) {
    use diesel::{Connection, RunQueryDsl};
    let mut conn = diesel::PgConnection::establish(url).expect("connect");
    diesel::sql_query(sql).execute(&mut conn).expect("sql");
}
