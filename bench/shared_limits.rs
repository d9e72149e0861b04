//! The cost of a rate-limit check: in memory (SQLite deployments) and in the database
//! (PostgreSQL deployments, one upsert per check), alone and as part of a request.
//!
//!     cargo bench --bench shared_limits -- --postgres URL [--checks N] [--clients K] [--concurrency C]
//!
//! 1. `RateLimiter::check` directly: N checks over K client keys, one at a time and C at a
//!    time, in memory and in the database.
//! 2. Whole requests: `POST /api/v1/feedback` with an empty body (a 422 from the handler, so
//!    no vote is written) against the real server on PostgreSQL, with limits off and on; the
//!    difference is what the shared check adds to a public POST.
//!
//! See bench/README.md.

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk::app::{Application, BuildOptions};
use frontdesk::config::{Secret, Settings};
use frontdesk::db::Db;
use frontdesk::keys::Keys;
use frontdesk::web::{LimitStore, RateLimiter};

struct Args {
    postgres: String,
    checks: usize,
    clients: usize,
    concurrency: usize,
}

fn args() -> Args {
    let mut postgres = None;
    let mut args = Args {
        postgres: String::new(),
        checks: 20_000,
        clients: 1_000,
        concurrency: 8,
    };
    let mut it = std::env::args().skip(1);
    let number = |v: Option<String>, name: &str| -> usize {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} N"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--postgres" => postgres = it.next(),
            "--checks" => args.checks = number(it.next(), "--checks"),
            "--clients" => args.clients = number(it.next(), "--clients"),
            "--concurrency" => args.concurrency = number(it.next(), "--concurrency"),
            _ => {} // cargo bench passes --bench
        }
    }
    args.postgres = postgres.expect("--postgres URL (the shared limits live on PostgreSQL)");
    args
}

#[tokio::main]
async fn main() {
    let args = args();
    let name = format!("frontdesk_bench_{}", uuid::Uuid::new_v4().simple());
    run_sql(&args.postgres, &format!("CREATE DATABASE \"{name}\""));
    let mut url = url::Url::parse(&args.postgres).expect("url");
    url.set_path(&format!("/{name}"));
    let mut settings = Settings::default();
    settings.database.url = Secret::new(url.to_string());
    settings.database.pool_size = args.concurrency.max(2) as u32;
    settings.security.secret_key = Some(Secret::new("benchmark-secret-key-0123456789abcdef"));
    let db = Db::connect(&settings.database).expect("db");
    db.migrate().expect("migrate");

    // A budget no client exhausts, so every check does the whole upsert.
    let per_minute = 1_000_000;
    let memory = LimitStore::Memory.per_minute(true, per_minute);
    let shared = LimitStore::Database {
        db: db.clone(),
        keys: Keys::new("benchmark key"),
    }
    .per_minute(true, per_minute);
    let clients: Arc<Vec<String>> = Arc::new(
        (0..args.clients)
            .map(|i| format!("198.51.{}.{}", i / 256, i % 256))
            .collect(),
    );
    println!(
        "checks: {} over {} client keys; PostgreSQL at {}",
        args.checks,
        args.clients,
        settings.database.url.masked()
    );
    for (label, limiter) in [("memory", &memory), ("database", &shared)] {
        let sequential = checks(limiter, &clients, args.checks, 1).await;
        let parallel = checks(limiter, &clients, args.checks, args.concurrency).await;
        println!("{label:>8}, one at a time: {}", sequential.describe());
        println!(
            "{label:>8}, {} at a time: {}",
            args.concurrency,
            parallel.describe()
        );
    }
    let rows = db
        .run(|conn| {
            use diesel::{QueryDsl, RunQueryDsl};
            Ok(frontdesk::db::schema::rate_limits::table
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .expect("count");
    println!("rate_limits rows after the checks: {rows}");

    let requests = args.checks / 4;
    for enabled in [false, true] {
        let mut s = settings.clone();
        s.server.bind = "127.0.0.1:0".parse().expect("addr");
        s.server.workers = 2;
        s.mail.worker_in_serve = false;
        s.limits.enabled = enabled;
        s.limits.public_per_minute = per_minute;
        let app = Application::build(
            s,
            BuildOptions {
                migrate: false,
                handle_signals: false,
                ..BuildOptions::default()
            },
        )
        .await
        .expect("app");
        let url = format!("http://127.0.0.1:{}/api/v1/feedback", app.port());
        let handle = app.server_handle();
        let running = tokio::spawn(app.run_until_stopped());
        let sequential = posts(&url, requests, 1).await;
        let parallel = posts(&url, requests, args.concurrency).await;
        let label = if enabled { "limits on" } else { "limits off" };
        println!(
            "POST /api/v1/feedback, {label}, one at a time: {}",
            sequential.describe()
        );
        println!(
            "POST /api/v1/feedback, {label}, {} at a time: {}",
            args.concurrency,
            parallel.describe()
        );
        handle.stop(true).await;
        let _ = running.await;
    }
    drop(db);
    run_sql(
        &args.postgres,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    );
}

/// Latencies of one run.
struct Run {
    latencies: Vec<Duration>,
    elapsed: Duration,
}

impl Run {
    fn describe(mut self) -> String {
        self.latencies.sort();
        let n = self.latencies.len();
        let mean = self.latencies.iter().sum::<Duration>() / n as u32;
        let at = |q: f64| self.latencies[((n as f64 * q) as usize).min(n - 1)];
        format!(
            "mean {:.1} µs, p50 {:.1} µs, p99 {:.1} µs, {:.0}/s",
            micros(mean),
            micros(at(0.5)),
            micros(at(0.99)),
            n as f64 / self.elapsed.as_secs_f64()
        )
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `n` checks over `clients`, `concurrency` at a time.
async fn checks(
    limiter: &RateLimiter,
    clients: &Arc<Vec<String>>,
    n: usize,
    concurrency: usize,
) -> Run {
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|t| {
            let (limiter, clients) = (limiter.clone(), clients.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(n / concurrency);
                for i in (t..n).step_by(concurrency) {
                    let at = Instant::now();
                    limiter
                        .check("bench", &clients[i % clients.len()])
                        .await
                        .expect("never over budget");
                    latencies.push(at.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    for task in tasks {
        latencies.extend(task.await.expect("task"));
    }
    Run {
        latencies,
        elapsed: started.elapsed(),
    }
}

/// `n` POSTs of `{}` to `url`, `concurrency` at a time (each task its own keep-alive connection).
async fn posts(url: &str, n: usize, concurrency: usize) -> Run {
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|t| {
            let url = url.to_string();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut latencies = Vec::with_capacity(n / concurrency);
                for _ in (t..n).step_by(concurrency) {
                    let at = Instant::now();
                    let res = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body("{}")
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(res.status(), 422, "the handler answered");
                    latencies.push(at.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    for task in tasks {
        latencies.extend(task.await.expect("task"));
    }
    Run {
        latencies,
        elapsed: started.elapsed(),
    }
}

fn run_sql(url: &str, sql: &str) {
    use diesel::{Connection, RunQueryDsl};
    let mut conn = diesel::PgConnection::establish(url).expect("connect to PostgreSQL");
    diesel::sql_query(sql).execute(&mut conn).expect(sql);
}
