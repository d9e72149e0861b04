//! The mail outbox, end to end: real server, real database, real SMTP server.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use frontdesk::error::AppError;
use frontdesk::mail::outbox;
use frontdesk::mail::transport::Transport;
use frontdesk::mail::worker::Worker;
use frontdesk::web::metrics::Metrics;
use tokio::sync::{watch, Notify};

use crate::both_backends;
use crate::helpers::{spawn_app, spawn_app_with, test_email, Backend, Reply};

const WAIT: Duration = Duration::from_secs(15);

both_backends!(
    queued_email_is_delivered_with_both_parts,
    rolled_back_email_is_never_sent,
    email_queued_during_smtp_outage_arrives_when_it_is_back,
    killed_worker_loses_nothing,
    rows_of_a_worker_whose_heartbeat_stopped_are_taken_over_at_once,
    two_workers_never_send_the_same_row,
    permanent_failure_is_kept_with_its_error,
    rate_cap_holds,
    retries_stop_after_max_attempts,
    email_stored_by_reference_without_its_record_fails_cleanly,
);

async fn queued_email_is_delivered_with_both_parts(backend: Backend) {
    let app = spawn_app(backend).await;

    let ids = app
        .queue(vec![test_email("Jane Reader <jane@example.org>")])
        .await;

    let mail = app.smtp.wait_for(1, WAIT).await.remove(0);
    assert_eq!(mail.rcpt_to, vec!["jane@example.org".to_string()]);
    assert_eq!(
        mail.subject().as_deref(),
        Some("Newsroom: mail delivery works")
    );
    assert!(mail
        .text_body()
        .expect("text part")
        .contains("the test suite"));
    assert!(mail.html_body().expect("html part").contains("<p>"));
    let row = app.wait_for_row(&ids[0], WAIT, |r| r.state == "sent").await;
    assert_eq!(row.attempts, 1);
    assert_eq!(
        Some(row.message_id.trim_matches(['<', '>']).to_string()),
        mail.message_id()
    );
}

async fn rolled_back_email_is_never_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    let doomed = app
        .state
        .mailer
        .compose(test_email("doomed@example.org"))
        .expect("compose");

    let result: Result<(), AppError> = app
        .state
        .db
        .write(move |conn| {
            outbox::enqueue(conn, &[doomed])?;
            Err(AppError::Conflict("the cause failed after queueing".into()))
        })
        .await;
    assert!(result.is_err());
    app.queue(vec![test_email("kept@example.org")]).await;

    let mails = app.smtp.wait_for(1, WAIT).await;
    app.expect_no_more_mail().await;
    assert_eq!(mails[0].rcpt_to, vec!["kept@example.org".to_string()]);
}

async fn email_queued_during_smtp_outage_arrives_when_it_is_back(backend: Backend) {
    let app = spawn_app(backend).await;
    app.smtp.stop().await;

    let ids = app.queue(vec![test_email("patient@example.org")]).await;
    // Two attempts made and over (a claimed attempt holds a lease until its outcome is
    // recorded; seeing `attempts == 2` mid-attempt would let that attempt succeed).
    let row = app
        .wait_for_row(&ids[0], WAIT, |r| {
            r.attempts >= 2 && r.lease_owner.is_none()
        })
        .await;
    assert_eq!(row.state, "queued");
    assert!(row.last_error.is_some(), "the connection error is kept");
    app.smtp.restart().await;

    let mails = app.smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].rcpt_to, vec!["patient@example.org".to_string()]);
    let row = app.wait_for_row(&ids[0], WAIT, |r| r.state == "sent").await;
    assert!(row.attempts >= 3, "attempts are counted: {}", row.attempts);
    assert!(row.last_error.is_none());
}

async fn killed_worker_loses_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    // A worker claims three rows and dies before sending them: its lease is all that is left.
    let rows: Vec<_> = (0..3)
        .map(|i| {
            app.state
                .mailer
                .compose(test_email(&format!("r{i}@example.org")))
                .expect("compose")
        })
        .collect();
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let claimed = app
        .state
        .db
        .write(move |conn| {
            outbox::enqueue(conn, &rows)?;
            let now = frontdesk::db::now();
            Ok(outbox::claim(
                conn,
                "dead-worker",
                now,
                now + chrono::TimeDelta::seconds(1),
                10,
            )?)
        })
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);

    let mails = app.smtp.wait_for(3, WAIT).await;

    let recipients: HashSet<_> = mails.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    assert_eq!(recipients.len(), 3);
    for id in &ids {
        let row = app.wait_for_row(id, WAIT, |r| r.state == "sent").await;
        assert_eq!(row.attempts, 2, "the dead worker's attempt counts");
    }
}

async fn rows_of_a_worker_whose_heartbeat_stopped_are_taken_over_at_once(backend: Backend) {
    use frontdesk::mail::heartbeat;
    let app = spawn_app_with(backend, |s| s.mail.worker_in_serve = false).await;
    let rows: Vec<_> = (0..6)
        .map(|i| {
            app.state
                .mailer
                .compose(test_email(&format!("r{i}@example.org")))
                .expect("compose")
        })
        .collect();
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    // Two workers each hold two rows under a five-minute lease; one's heartbeat has stopped.
    let (taken, kept) = app
        .state
        .db
        .write(move |conn| {
            outbox::enqueue(conn, &rows)?;
            let now = frontdesk::db::now();
            let (lease, beat) = (
                now + chrono::TimeDelta::minutes(5),
                chrono::TimeDelta::seconds(20),
            );
            heartbeat::register(conn, "alive", now, now + beat)?;
            heartbeat::register(
                conn,
                "dead",
                now - beat,
                now - chrono::TimeDelta::seconds(1),
            )?;
            let kept = outbox::claim(conn, "alive", now, lease, 2)?;
            let taken = outbox::claim(conn, "dead", now, lease, 2)?;
            Ok((taken, kept))
        })
        .await
        .expect("claim");

    let claimed = app
        .state
        .db
        .write(|conn| {
            let now = frontdesk::db::now();
            Ok(outbox::claim(
                conn,
                "newcomer",
                now,
                now + chrono::TimeDelta::minutes(5),
                10,
            )?)
        })
        .await
        .expect("claim again");

    let claimed: HashSet<String> = claimed.into_iter().map(|r| r.id).collect();
    let expected: HashSet<String> = ids
        .iter()
        .filter(|id| !kept.iter().any(|r| &r.id == *id))
        .cloned()
        .collect();
    assert_eq!(
        claimed, expected,
        "the free rows and the dead worker's, not the live one's"
    );
    assert!(taken.iter().all(|r| claimed.contains(&r.id)));
    let alive = app
        .state
        .db
        .run(|conn| Ok(heartbeat::alive(conn, frontdesk::db::now())?))
        .await
        .expect("workers");
    assert_eq!(alive, vec!["alive".to_string()]);
}

async fn two_workers_never_send_the_same_row(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.mail.worker_in_serve = false;
        s.mail.batch_size = 20;
    })
    .await;
    let n = 300;
    app.queue(
        (0..n)
            .map(|i| test_email(&format!("r{i}@example.org")))
            .collect(),
    )
    .await;

    let (stop, rx) = watch::channel(false);
    let mut handles = Vec::new();
    for _ in 0..2 {
        let transport = Arc::new(Transport::from_settings(&app.settings.mail).expect("transport"));
        let worker = Worker::new(
            app.state.db.clone(),
            transport,
            app.settings.mail.clone(),
            Metrics::new(),
            Arc::new(Notify::new()),
        )
        .expect("worker");
        handles.push(tokio::spawn(worker.run(rx.clone())));
    }

    let mails = app.smtp.wait_for(n, Duration::from_secs(60)).await;
    app.expect_no_more_mail().await;
    let _ = stop.send(true);
    for h in handles {
        h.await.expect("worker stops");
    }
    let ids: HashSet<_> = mails
        .iter()
        .map(|m| m.message_id().expect("message id"))
        .collect();
    assert_eq!(ids.len(), n, "every row delivered exactly once");
}

async fn permanent_failure_is_kept_with_its_error(backend: Backend) {
    let app = spawn_app(backend).await;
    app.smtp.set_reply(Reply::Permanent);

    let ids = app.queue(vec![test_email("refused@example.org")]).await;

    let row = app
        .wait_for_row(&ids[0], WAIT, |r| r.state == "failed")
        .await;
    assert_eq!(row.attempts, 1, "a 5xx answer is not retried");
    assert!(
        row.last_error.as_deref().unwrap_or("").contains("554"),
        "{row:?}"
    );
    assert_eq!(app.smtp.count(), 0);
}

async fn retries_stop_after_max_attempts(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.mail.max_attempts = 3;
        s.mail.retry_base_ms = 20;
        s.mail.retry_max_ms = 40;
    })
    .await;
    app.smtp.set_reply(Reply::Transient);

    let ids = app.queue(vec![test_email("busy@example.org")]).await;

    let row = app
        .wait_for_row(&ids[0], WAIT, |r| r.state == "failed")
        .await;
    assert_eq!(row.attempts, 3);
    let error = row.last_error.unwrap_or_default();
    assert!(
        error.contains("451") && error.contains("gave up after 3 attempts"),
        "{error}"
    );
}

async fn rate_cap_holds(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.mail.max_per_second = 10).await;
    let n = 21;

    app.queue(
        (0..n)
            .map(|i| test_email(&format!("r{i}@example.org")))
            .collect(),
    )
    .await;

    let mails = app.smtp.wait_for(n, Duration::from_secs(30)).await;
    let first = mails.iter().map(|m| m.received_at).min().expect("first");
    let last = mails.iter().map(|m| m.received_at).max().expect("last");
    // 21 messages at 10/s with no burst need at least 2 s between the first and the last.
    assert!(
        last.duration_since(first) >= Duration::from_millis(1900),
        "21 messages took {:?}",
        last.duration_since(first)
    );
}

#[tokio::test]
async fn file_transport_writes_eml_files() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.mail.transport = frontdesk::config::MailTransportKind::File;
    })
    .await;

    let ids = app.queue(vec![test_email("file@example.org")]).await;

    app.wait_for_row(&ids[0], WAIT, |r| r.state == "sent").await;
    let path = app.settings.mail.file_dir.join(format!("{}.eml", ids[0]));
    let eml = std::fs::read_to_string(&path).expect("eml file");
    assert!(eml.contains("To: file@example.org"), "{eml}");
    assert!(eml.contains("multipart/alternative"), "{eml}");
}

/// A stop lets the message in flight finish and leaves nothing leased; a restart delivers the rest.
#[tokio::test]
async fn graceful_stop_then_restart_delivers_everything() {
    let mut app = spawn_app_with(Backend::Sqlite, |s| s.mail.max_per_second = 20).await;
    let n = 30;
    let ids = app
        .queue(
            (0..n)
                .map(|i| test_email(&format!("r{i}@example.org")))
                .collect(),
        )
        .await;
    app.smtp.wait_for(3, WAIT).await;

    app.stop().await;

    let mut leased = 0;
    for id in &ids {
        let row = app.outbox_row(id).await;
        assert!(row.state == "sent" || row.state == "queued", "{row:?}");
        leased += usize::from(row.lease_owner.is_some());
    }
    assert_eq!(leased, 0, "a graceful stop releases what it did not send");
    let delivered_before = app.smtp.count();
    assert!(delivered_before < n, "the stop came before the end");

    let app = app.restart().await;
    let mails = app.smtp.wait_for(n, WAIT).await;
    let unique: HashSet<_> = mails.iter().map(|m| m.message_id().expect("id")).collect();
    assert_eq!(unique.len(), n, "each recipient exactly once");
}

/// A newsletter email is stored by reference and made at send time; when its delivery is
/// gone (erased), the worker fails the row with a reason instead of sending an empty email.
async fn email_stored_by_reference_without_its_record_fails_cleanly(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut row = app
        .state
        .mailer
        .compose(test_email("gone@example.org"))
        .expect("compose");
    row.body_text.clear();
    row.body_html.clear();
    row.ref_kind = Some("newsletter_delivery".into());
    row.ref_id = Some("no-such-delivery".into());
    let id = row.id.clone();
    app.state
        .db
        .write(move |conn| Ok(outbox::enqueue(conn, &[row])?))
        .await
        .expect("enqueue");
    app.state.mailer.wake();

    let failed = app.wait_for_row(&id, WAIT, |r| r.state == "failed").await;
    assert!(
        failed
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("could not be rendered")),
        "{failed:?}"
    );
    app.expect_no_more_mail().await;
}
