//! One deployment, tested with real processes (PostgreSQL): two `serve` and one `worker` on
//! one database. A newsletter to thousands is delivered exactly once each while one `serve`
//! is restarted with SIGTERM, and readers' requests, spread over both servers the way a load
//! balancer would, are all answered.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use frontdesk::db::Db;
use serde_json::{json, Value};

use crate::helpers::{SmtpSink, STAFF_PASSWORD};
use crate::processes::{add_subscribers, postgres_deployment};

const RECIPIENTS: usize = 3_000;
const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_newsletter_goes_out_once_each_while_one_server_is_restarted() {
    let smtp = SmtpSink::start().await;
    let Some((deployment, _database)) = postgres_deployment(&smtp).await else {
        return;
    };
    // Three senders (both servers run a worker, as by default, plus the worker process)
    // sharing 600 messages a second: the send lasts about five seconds.
    let deployment = deployment.set("MAIL__MAX_PER_SECOND", 600);
    let db = deployment.db().await;
    let addresses = add_subscribers(&db, RECIPIENTS).await;
    let token = staff_token(&db).await;
    let mut a = deployment.serve().await;
    let b = deployment.serve().await;
    let _worker = deployment.worker().await;
    let balancer = Balancer::new(vec![a.address().to_string(), b.address().to_string()]);
    let readers = tokio::spawn(balancer.clone().read_until_stopped());

    let staff = reqwest::Client::new();
    let created: Value = staff
        .post(a.url("/api/v1/staff/newsletters"))
        .bearer_auth(&token)
        .json(&json!({"subject": "Deployed news", "body_markdown": "Hello **readers**."}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("issue id").to_string();
    let sent = staff
        .post(a.url(&format!("/api/v1/staff/newsletters/{id}/send")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(sent.status(), 202);

    // A rolling restart of server A in the middle of the send.
    smtp.wait_for(RECIPIENTS / 5, WAIT).await;
    let restart_started = Instant::now();
    balancer.restarting();
    let status = a.terminate().await;
    let delivered_at_stop = smtp.count();
    assert!(status.success(), "a clean exit: {status}\n{}", a.log_tail());
    assert!(a.logged("mail worker stopped"), "{}", a.log_tail());
    let a_again = deployment.serve().await;
    balancer.replace(a.address(), a_again.address());
    let restart = restart_started.elapsed();
    assert!(
        delivered_at_stop < RECIPIENTS,
        "the restart came during the send"
    );

    let issue = wait_until_sent(
        &staff,
        &b.url(&format!("/api/v1/staff/newsletters/{id}")),
        &token,
    )
    .await;
    let mails = smtp.received();
    balancer.stop();
    let reads = readers.await.expect("readers");

    let recipients: Vec<&String> = mails.iter().flat_map(|m| &m.rcpt_to).collect();
    let unique: HashSet<&String> = recipients.iter().copied().collect();
    eprintln!(
        "{} emails to {} recipients; server A restarted in {restart:.1?} after {delivered_at_stop} \
         deliveries; readers: {}",
        recipients.len(),
        unique.len(),
        reads.summary()
    );
    assert_eq!(unique.len(), RECIPIENTS, "everyone has the issue");
    assert!(addresses.iter().all(|a| unique.contains(a)));
    assert_eq!(recipients.len(), RECIPIENTS, "nobody has it twice");
    assert_eq!(issue["sent"], RECIPIENTS, "{issue}");
    assert!(
        reads.failed.is_empty(),
        "unanswered reads: {:?}",
        reads.failed
    );
    assert!(
        reads.while_restarting > 0,
        "readers were answered while A restarted"
    );
}

/// A staff account with the `admin` role and a personal API token for it.
async fn staff_token(db: &Db) -> String {
    use frontdesk::staff::{audit::Actor, service};
    let new = service::parse_new_staff("ops@newsroom.example.org", "Ops", "admin", STAFF_PASSWORD)
        .expect("account");
    let user = service::create_account(db, new, Actor::system("test"))
        .await
        .expect("create account");
    service::create_token(db, user.id, "test".into(), Actor::system("test"))
        .await
        .expect("token")
}

/// Polls the issue on `url` until it is sent; returns it.
async fn wait_until_sent(client: &reqwest::Client, url: &str, token: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let issue: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("issue")
            .json()
            .await
            .expect("json");
        if issue["status"] == "sent" {
            return issue;
        }
        assert!(
            Instant::now() < deadline,
            "not sent within {WAIT:?}: {issue}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Spreads readers' GETs over the servers in turn, as a load balancer does, trying the next
/// server when one does not answer (it is stopping or not listening).
#[derive(Clone)]
struct Balancer {
    servers: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    restarting: Arc<AtomicBool>,
}

/// What the readers saw.
#[derive(Debug, Default)]
struct Reads {
    answered: usize,
    /// Requests a server did not answer, answered by the next one.
    retried: usize,
    /// Requests answered while a server was stopping or starting.
    while_restarting: usize,
    /// Requests no server answered with 200.
    failed: Vec<String>,
}

impl Reads {
    fn summary(&self) -> String {
        format!(
            "{} answered ({} while a server restarted, {} after a retry on the other), {} failed",
            self.answered,
            self.while_restarting,
            self.retried,
            self.failed.len()
        )
    }
}

const READER_PATHS: [&str; 3] = [
    "/api/v1/newsletter/lists",
    "/api/v1/donations/options",
    "/healthz",
];

impl Balancer {
    fn new(servers: Vec<String>) -> Balancer {
        Balancer {
            servers: Arc::new(Mutex::new(servers)),
            stop: Arc::new(AtomicBool::new(false)),
            restarting: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Points the balancer at a restarted server's new address; until then the old one is
    /// tried (and refuses), as a balancer learns only from failed connections.
    fn replace(&self, old: &str, new: &str) {
        let mut servers = self.servers.lock().expect("servers");
        for server in servers.iter_mut() {
            if server == old {
                *server = new.to_string();
            }
        }
        self.restarting.store(false, Ordering::SeqCst);
    }

    /// From now until [`Balancer::replace`], a server is being restarted.
    fn restarting(&self) {
        self.restarting.store(true, Ordering::SeqCst);
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    async fn read_until_stopped(self) -> Reads {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let mut reads = Reads::default();
        let mut turn = 0usize;
        while !self.stop.load(Ordering::SeqCst) {
            let path = READER_PATHS[turn % READER_PATHS.len()];
            let servers = self.servers.lock().expect("servers").clone();
            let mut answered = false;
            for attempt in 0..servers.len() {
                let server = &servers[(turn + attempt) % servers.len()];
                match client.get(format!("{server}{path}")).send().await {
                    Ok(res) if res.status() == 200 => {
                        answered = true;
                        reads.retried += usize::from(attempt > 0);
                        break;
                    }
                    Ok(res) if res.status() == 503 => continue,
                    Ok(res) => {
                        reads.failed.push(format!("{path}: {}", res.status()));
                        answered = true;
                        break;
                    }
                    Err(_) => continue,
                }
            }
            if answered {
                reads.answered += 1;
                if self.restarting.load(Ordering::SeqCst) {
                    reads.while_restarting += 1;
                }
            } else {
                reads.failed.push(format!("{path}: no server answered"));
            }
            turn += 1;
        }
        reads
    }
}
