//! Limits that hold across processes (PostgreSQL): two `serve` processes on one database
//! answer at most one budget per client between them, and two `worker` processes together
//! keep `mail.max_per_second`.

use std::time::{Duration, Instant};

use frontdesk::config::Settings;
use frontdesk::mail::{outbox, Mailer, Templates};
use serde_json::json;

use crate::helpers::{test_email, SmtpSink};
use crate::processes::{postgres_deployment, Process};

/// What one endpoint's budget is for one client, with the default settings: its burst, and
/// its rate (requests per minute) that refills it.
struct Budget {
    name: &'static str,
    burst: usize,
    per_minute: usize,
}

/// Sends `n` requests from one client, alternating between the two servers; returns how
/// many were not refused with 429, and how long they took.
async fn alternate(
    servers: [&Process; 2],
    n: usize,
    request: impl Fn(&reqwest::Client, &Process, usize) -> reqwest::RequestBuilder,
) -> (usize, Duration) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut answered = 0;
    for i in 0..n {
        let res = request(&client, servers[i % 2], i)
            .send()
            .await
            .expect("request");
        assert!(res.status().as_u16() < 500, "{}", res.status());
        if res.status() != 429 {
            answered += 1;
        }
    }
    (answered, started.elapsed())
}

#[tokio::test]
async fn two_servers_answer_one_budget_per_client_between_them() {
    let smtp = SmtpSink::start().await;
    let Some((deployment, _database)) = postgres_deployment(&smtp).await else {
        return;
    };
    let deployment = deployment.set("MAIL__WORKER_IN_SERVE", false);
    let (a, b) = (deployment.serve().await, deployment.serve().await);
    let defaults = Settings::default();
    let per_minute = |n: u32| n as usize;
    let burst = |n: u32| (n / 5).clamp(5, n) as usize;

    let budgets = [
        (
            Budget {
                name: "public POST",
                burst: burst(defaults.limits.public_per_minute),
                per_minute: per_minute(defaults.limits.public_per_minute),
            },
            &(|c: &reqwest::Client, p: &Process, _| {
                c.post(p.url("/api/v1/feedback")).json(&json!({}))
            }) as &dyn Fn(&reqwest::Client, &Process, usize) -> reqwest::RequestBuilder,
        ),
        (
            Budget {
                name: "sign-in",
                burst: burst(defaults.limits.login_per_minute),
                per_minute: per_minute(defaults.limits.login_per_minute),
            },
            &|c: &reqwest::Client, p: &Process, _| {
                c.post(p.url("/staff/login"))
                    .form(&[("email", "who@example.org"), ("password", "guess")])
            },
        ),
        (
            Budget {
                name: "donation",
                burst: burst(defaults.donations.per_ip_per_minute),
                per_minute: per_minute(defaults.donations.per_ip_per_minute),
            },
            &|c: &reqwest::Client, p: &Process, i| {
                c.post(p.url("/api/v1/donations")).json(&json!({
                    "amount_minor": 2500, "currency": "USD", "frequency": "one_time",
                    "email": format!("donor{i}@example.org"),
                }))
            },
        ),
    ];
    for (budget, request) in budgets {
        let (answered, took) = alternate([&a, &b], 2 * budget.burst + 4, request).await;

        // One burst, plus what the rate refilled while the requests were sent. Each process
        // on its own would have allowed a burst each.
        let refilled = (took.as_secs_f64() * budget.per_minute as f64 / 60.0).floor() as usize;
        eprintln!(
            "{}: {answered} of {} answered in {took:.1?} (burst {}, refilled {refilled})",
            budget.name,
            2 * budget.burst + 4,
            budget.burst
        );
        assert!(
            answered <= budget.burst + refilled,
            "{}: {answered} answered, budget {} + {refilled}",
            budget.name,
            budget.burst
        );
        assert!(answered >= budget.burst, "{}: {answered}", budget.name);
    }
}

#[tokio::test]
async fn two_workers_together_keep_the_global_send_rate() {
    const RATE: usize = 20;
    const EMAILS: usize = 120;
    let smtp = SmtpSink::start().await;
    let Some((deployment, _database)) = postgres_deployment(&smtp).await else {
        return;
    };
    // Small batches, so both workers claim rows all along.
    let deployment = deployment
        .set("MAIL__MAX_PER_SECOND", RATE)
        .set("MAIL__BATCH_SIZE", 10);
    let db = deployment.db().await;
    let (_one, _two) = (deployment.worker().await, deployment.worker().await);

    let mailer = Mailer::new(&Settings::default(), Templates::embedded());
    let rows: Vec<_> = (0..EMAILS)
        .map(|i| {
            mailer
                .compose(test_email(&format!("rate{i}@example.org")))
                .expect("compose")
        })
        .collect();
    db.write(move |conn| Ok(outbox::enqueue(conn, &rows)?))
        .await
        .expect("enqueue");
    let mails = smtp.wait_for(EMAILS, Duration::from_secs(60)).await;

    let first = mails.iter().map(|m| m.received_at).min().expect("first");
    let last = mails.iter().map(|m| m.received_at).max().expect("last");
    let span = last - first;
    let expected = Duration::from_secs_f64((EMAILS - 1) as f64 / RATE as f64);
    eprintln!(
        "{EMAILS} emails by two workers in {span:.2?}: {:.1}/s (limit {RATE}/s)",
        (EMAILS - 1) as f64 / span.as_secs_f64()
    );
    assert!(
        span >= expected.mul_f64(0.9),
        "{EMAILS} emails in {span:?}: faster than {RATE}/s"
    );
    assert_eq!(mails.len(), EMAILS, "each once");
}
