//! Mail throughput: queue N emails in the outbox, run one worker against a real SMTP server
//! on loopback, and time until every row is sent.
//!
//!     cargo bench --bench mail_throughput -- [--messages N] [--connections C] [--postgres URL]
//!
//! Prints queue time, delivery time and messages per second. See bench/README.md.

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk::config::{MailTransportKind, Secret, Settings, SqliteSynchronous};
use frontdesk::db::Db;
use frontdesk::mail::outbox::{self, OutboxState};
use frontdesk::mail::transport::Transport;
use frontdesk::mail::worker::Worker;
use frontdesk::mail::{Email, Mailer, Templates};
use frontdesk::web::metrics::Metrics;
use tokio::sync::{watch, Notify};

#[path = "../tests/support/smtp_sink.rs"]
mod smtp_sink;

struct Args {
    messages: usize,
    connections: usize,
    postgres: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        messages: 20_000,
        connections: 4,
        postgres: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--messages" => {
                args.messages = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--messages N")
            }
            "--connections" => {
                args.connections = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--connections C")
            }
            "--postgres" => args.postgres = it.next(),
            _ => {} // cargo bench passes --bench
        }
    }
    args
}

#[tokio::main]
async fn main() {
    let args = args();
    let sink = smtp_sink::SmtpSink::start().await;
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
    settings.mail.smtp_url = Some(Secret::new(sink.url()));
    settings.mail.smtp_connections = args.connections;
    settings.mail.poll_interval_ms = 10;

    let db = Db::connect(&settings.database).expect("db");
    db.migrate().expect("migrate");
    let mailer = Mailer::new(&settings, Templates::embedded());

    let started = Instant::now();
    let rows: Vec<_> = (0..args.messages)
        .map(|i| {
            mailer
                .compose(Email::new(
                    "smtp_check",
                    format!("reader{i}@example.org").parse().expect("mailbox"),
                    serde_json::json!({"requested_by": "the benchmark"}),
                ))
                .expect("compose")
        })
        .collect();
    db.write(move |conn| Ok(outbox::enqueue(conn, &rows)?))
        .await
        .expect("enqueue");
    let queued_in = started.elapsed();

    let transport = Arc::new(Transport::from_settings(&settings.mail).expect("transport"));
    let worker = Worker::new(
        db.clone(),
        transport,
        settings.mail.clone(),
        Metrics::new(),
        Arc::new(Notify::new()),
    )
    .expect("worker");
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
        if sent >= args.messages {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered_in = started.elapsed();
    let _ = stop.send(true);
    let _ = handle.await;
    assert_eq!(
        sink.count(),
        args.messages,
        "the sink received every message once"
    );

    println!(
        "mail_throughput backend={backend} messages={} connections={} queue={:.2}s deliver={:.2}s rate={:.0} msg/s",
        args.messages,
        args.connections,
        queued_in.as_secs_f64(),
        delivered_in.as_secs_f64(),
        args.messages as f64 / delivered_in.as_secs_f64()
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
