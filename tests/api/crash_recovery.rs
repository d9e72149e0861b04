//! Crash recovery with real processes: a `serve` killed with SIGKILL in the middle of a
//! newsletter, started again, delivers the rest within seconds (its claimed rows are taken
//! over once its heartbeat has expired, not after their five-minute lease).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use frontdesk::mail::outbox::OutboxState;

use crate::both_backends;
use crate::helpers::{Backend, SmtpSink, TestDatabase};
use crate::processes::{add_subscribers, send_issue_now, Deployment};

both_backends!(a_killed_server_finishes_its_newsletter_soon_after_a_restart);

/// Recipients of the issue.
const RECIPIENTS: usize = 300;
/// Everyone must have the issue this soon after the restart.
const RECOVERY_LIMIT: Duration = Duration::from_secs(60);

async fn a_killed_server_finishes_its_newsletter_soon_after_a_restart(backend: Backend) {
    let smtp = SmtpSink::start().await;
    let database = tokio::task::spawn_blocking(move || TestDatabase::new(backend))
        .await
        .expect("database");
    // 40 messages a second: the send lasts about 8 s, long enough to be killed in it. The
    // heartbeat settings are the defaults (a beat every 5 s, dead after 20 s).
    let deployment = Deployment::new(&database, &smtp).set("MAIL__MAX_PER_SECOND", 40);
    let db = deployment.db().await;
    let addresses = add_subscribers(&db, RECIPIENTS).await;
    let mut first = deployment.serve().await;
    send_issue_now(&db).await;

    smtp.wait_for(RECIPIENTS / 4, Duration::from_secs(60)).await;
    first.kill().await;
    let delivered_at_kill = smtp.count();
    let in_flight = leased_rows(&db).await;
    assert!(
        delivered_at_kill < RECIPIENTS,
        "the kill came before the end"
    );
    assert!(in_flight > 0, "the killed server held claimed rows");

    let restarted = Instant::now();
    let second = deployment.serve().await;
    let mut recovered = None;
    while recovered.is_none() {
        let mails = smtp.received();
        let mut copies: HashMap<String, usize> = HashMap::new();
        for mail in &mails {
            for to in &mail.rcpt_to {
                *copies.entry(to.clone()).or_default() += 1;
            }
        }
        if addresses.iter().all(|a| copies.contains_key(a)) {
            recovered = Some((restarted.elapsed(), mails.len()));
        } else {
            assert!(
                restarted.elapsed() < RECOVERY_LIMIT,
                "{} of {RECIPIENTS} recipients had the issue {RECOVERY_LIMIT:?} after the restart \
                 ({in_flight} rows were claimed by the killed server)\n{}",
                copies.len(),
                second.log_tail()
            );
            smtp.wait_for_more(mails.len(), Duration::from_secs(1))
                .await;
        }
    }
    let (recovery, delivered) = recovered.expect("recovered");
    let duplicates = delivered - RECIPIENTS;
    eprintln!(
        "{backend:?}: killed after {delivered_at_kill} of {RECIPIENTS} deliveries with {in_flight} \
         rows claimed; every recipient had the issue {recovery:.1?} after the restart; \
         {duplicates} duplicate(s)"
    );
    assert!(
        duplicates <= in_flight,
        "{duplicates} duplicates, more than the {in_flight} rows in flight at the kill"
    );
    // A duplicate is the same message again (same Message-ID), never a second rendering.
    let mails = smtp.received();
    let mut ids: HashMap<String, String> = HashMap::new();
    for mail in &mails {
        let id = mail.message_id().expect("Message-ID");
        let to = mail.rcpt_to.join(",");
        let first_id = ids.entry(to.clone()).or_insert_with(|| id.clone());
        assert_eq!(*first_id, id, "two different messages to {to}");
    }
}

/// Outbox rows claimed by a worker and not settled.
async fn leased_rows(db: &frontdesk::db::Db) -> usize {
    use frontdesk::db::schema::outbox::dsl as o;
    db.run(|conn| {
        Ok(o::outbox
            .filter(o::state.eq(OutboxState::Queued.as_str()))
            .filter(o::lease_owner.is_not_null())
            .count()
            .get_result::<i64>(conn)?)
    })
    .await
    .expect("count leased rows") as usize
}
