//! The newsletter end to end: real server, real database, real SMTP server.

use std::collections::HashSet;
use std::time::Duration;

use frontdesk::newsletter::csv_io;
use frontdesk::newsletter::model::{EmailAddress, NewIssue, NewList, SubscriberStatus};
use frontdesk::newsletter::store::{self, IssueProgress, Subscriber, SubscriberFilter};
use frontdesk::newsletter::Dispatcher;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{link, spawn_app_with, Backend, Reply, TestApp};

const WAIT: Duration = Duration::from_secs(20);
const WEBHOOK_SECRET: &str = "whsec-test";

both_backends!(
    subscribe_email_get_page_then_post_confirms,
    resubscribing_a_confirmed_address_sends_nothing,
    pending_address_gets_one_confirmation_per_interval,
    invalid_subscriptions_name_the_field,
    unknown_confirmation_token_is_a_404_page,
    public_lists_only_are_listed,
    one_click_unsubscribe_via_rfc8058_post,
    preferences_page_keeps_chosen_lists,
    send_of_1000_recipients_delivers_exactly_1000_distinct_emails,
    interrupted_send_resumes_and_delivers_each_recipient_once,
    suppressed_and_unsubscribed_addresses_receive_nothing,
    unsubscribing_during_a_send_skips_the_queued_email,
    webhook_refuses_wrong_signatures_and_suppresses_on_right_ones,
    webhook_replays_change_nothing_and_stale_reports_are_refused,
    three_soft_bounces_in_a_row_suppress,
    failed_recipients_are_retried_with_the_same_message_id,
    pause_holds_and_resume_releases,
    two_dispatchers_never_queue_a_recipient_twice,
    import_dry_run_reports_without_writing,
    subscriber_list_filters_and_export_escapes_formulas,
    list_targeted_issue_reaches_only_that_list,
    erased_address_stays_blocked,
);

async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

async fn spawn_with(
    backend: Backend,
    configure: impl FnOnce(&mut frontdesk::config::Settings),
) -> TestApp {
    spawn_app_with(backend, |s| {
        s.newsletter.dispatch_interval_ms = 50;
        s.newsletter.webhook_secret = Some(frontdesk::config::Secret::new(WEBHOOK_SECRET));
        configure(s);
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Helpers

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("valid address")
}

async fn subscriber(app: &TestApp, address: &str) -> Subscriber {
    let address = email(address);
    app.state
        .db
        .run(move |conn| Ok(store::find_subscriber_by_email(conn, &address)?))
        .await
        .expect("query")
        .expect("subscriber exists")
}

async fn add_confirmed(app: &TestApp, addresses: Vec<String>, lists: Vec<String>) {
    let emails: Vec<EmailAddress> = addresses.iter().map(|a| email(a)).collect();
    app.state
        .db
        .write(move |conn| {
            let list_ids: Vec<String> = lists
                .iter()
                .map(|slug| store::find_list(conn, slug).map(|l| l.id))
                .collect::<Result<_, _>>()?;
            Ok(store::insert_confirmed_subscribers(
                conn,
                &emails,
                &list_ids,
                frontdesk::db::now(),
            )?)
        })
        .await
        .expect("insert subscribers");
}

async fn add_list(app: &TestApp, slug: &str, public: bool) {
    let list = NewList::parse(slug, &format!("List {slug}"), "About it", public).expect("list");
    app.state
        .db
        .write(move |conn| Ok(store::create_list(conn, &list)?))
        .await
        .expect("create list");
}

async fn create_issue(app: &TestApp, lists: &[&str]) -> String {
    let lists: Vec<String> = lists.iter().map(|s| s.to_string()).collect();
    let new = NewIssue::parse(
        "This week in the newsroom",
        "Hello **readers**,\n\nour [latest story](https://example.org/story).",
        &lists,
    )
    .expect("issue");
    app.state
        .db
        .write(move |conn| store::create_issue(conn, &new))
        .await
        .expect("create issue")
        .id
}

async fn send_now(app: &TestApp, lists: &[&str]) -> String {
    let id = create_issue(app, lists).await;
    let issue_id = id.clone();
    app.state
        .db
        .write(move |conn| store::schedule_send(conn, &issue_id, None))
        .await
        .expect("schedule");
    id
}

async fn progress(app: &TestApp, id: &str) -> IssueProgress {
    let id = id.to_string();
    app.state
        .db
        .run(move |conn| Ok(store::issue_progress(conn, &id)?))
        .await
        .expect("progress")
}

async fn wait_progress(
    app: &TestApp,
    id: &str,
    check: impl Fn(&IssueProgress) -> bool,
) -> IssueProgress {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let p = progress(app, id).await;
        if check(&p) {
            return p;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "issue {id} did not reach the expected progress: {p:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The generic webhook's signature of `body` sent at `timestamp`.
fn sign(timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(WEBHOOK_SECRET.as_bytes()).expect("key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn webhook(
    app: &TestApp,
    body: &Value,
    signature: Option<String>,
    timestamp: i64,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/v1/webhooks/mail/generic"))
        .header("content-type", "application/json")
        .header("x-frontdesk-timestamp", timestamp.to_string())
        .body(body.to_string());
    if let Some(sig) = signature {
        req = req.header("x-frontdesk-signature", sig);
    }
    req.send().await.expect("request")
}

/// A new report, signed now. Each call is a distinct report, so each carries its own
/// timestamp (a report with the body and timestamp of one already taken is a replay): a
/// second earlier than the one before, well within the five minutes allowed.
async fn signed_webhook(app: &TestApp, body: Value) -> reqwest::Response {
    static SENT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let earlier = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 120;
    let timestamp = chrono::Utc::now().timestamp() - earlier;
    let sig = sign(timestamp, body.to_string().as_bytes());
    webhook(app, &body, Some(sig), timestamp).await
}

/// A client with no cookie jar: what a mail provider's one-click POST looks like.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

// ---------------------------------------------------------------------------------------
// Subscribing

async fn subscribe_email_get_page_then_post_confirms(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "weekly", true).await;

    let response = app
        .newsletter()
        .subscribe(
            json!({"email": " Jane@Example.org ", "name": "Jane", "lists": ["weekly"],
               "source_url": "https://news.example.org/story"}),
        )
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        response.json::<Value>().await.expect("json"),
        json!({"status": "pending"})
    );

    let mail = app.smtp.wait_for(1, WAIT).await.remove(0);
    assert_eq!(mail.rcpt_to, vec!["jane@example.org".to_string()]);
    let text = mail.text_body().expect("text part");
    let confirm = link(&text, "/newsletter/confirm?token=");
    let token_part = confirm.split("token=").nth(1).expect("token");
    assert!(mail
        .html_body()
        .expect("html part")
        .contains(&format!("confirm?token={token_part}")));
    let token = confirm.split("token=").nth(1).expect("token");
    assert!(token.len() >= 43, "a 256-bit token: {token}");

    let page = app.get(&confirm).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    assert!(html.contains("Confirm subscription") && html.contains("method=\"post\""));
    let s = subscriber(&app, "jane@example.org").await;
    assert_eq!(s.status.as_str(), "pending", "a GET changes nothing");

    let confirmed = app
        .client
        .post(app.url(&confirm))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("post");
    assert_eq!(confirmed.status(), 200);
    assert!(confirmed
        .text()
        .await
        .expect("body")
        .contains("You're subscribed"));
    let s = subscriber(&app, "jane@example.org").await;
    assert_eq!(s.status.as_str(), "confirmed");
    assert!(s.confirmed_at.is_some());
    let id = s.id.clone();
    let (consents, lists) = app
        .state
        .db
        .run(move |conn| {
            Ok((
                store::consents_of(conn, &id)?,
                store::memberships(conn, &id)?,
            ))
        })
        .await
        .expect("consents");
    assert_eq!(consents.len(), 1);
    let consent = &consents[0];
    assert_eq!(consent.kind, "confirmed");
    assert_eq!(
        consent.source_url.as_deref(),
        Some("https://news.example.org/story")
    );
    assert_eq!(consent.wording_version.as_deref(), Some("1"));
    let ip_hash = consent.ip_hash.as_deref().expect("ip hash");
    assert_eq!(ip_hash.len(), 64);
    assert!(!ip_hash.contains("127.0.0.1"));
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].1, "confirmed");

    let again = app
        .client
        .post(app.url(&confirm))
        .send()
        .await
        .expect("post");
    assert_eq!(again.status(), 200, "confirming twice is harmless");
    let consents_after = {
        let id = s.id.clone();
        app.state
            .db
            .run(move |conn| Ok(store::consents_of(conn, &id)?))
            .await
            .expect("consents")
    };
    assert_eq!(consents_after.len(), 1, "a used token records nothing new");
}

async fn resubscribing_a_confirmed_address_sends_nothing(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "weekly", true).await;
    add_list(&app, "daily", true).await;
    add_confirmed(
        &app,
        vec!["reader@example.org".into()],
        vec!["weekly".into()],
    )
    .await;

    let response = app
        .newsletter()
        .subscribe(json!({"email": "reader@example.org", "lists": ["weekly", "daily"]}))
        .await;

    assert_eq!(response.status(), 202);
    assert_eq!(
        response.json::<Value>().await.expect("json"),
        json!({"status": "pending"}),
        "the same answer as for a new address"
    );
    app.expect_no_more_mail().await;
    let s = subscriber(&app, "reader@example.org").await;
    assert_eq!(s.status.as_str(), "confirmed");
    let id = s.id.clone();
    let lists = app
        .state
        .db
        .run(move |conn| Ok(store::memberships(conn, &id)?))
        .await
        .expect("memberships");
    let states: HashSet<(String, String)> = lists.into_iter().map(|(l, st)| (l.slug, st)).collect();
    assert_eq!(
        states,
        HashSet::from([
            ("weekly".to_string(), "confirmed".to_string()),
            ("daily".to_string(), "pending".to_string()),
        ]),
        "a confirmed list stays confirmed; a new one waits for the reader"
    );
}

async fn pending_address_gets_one_confirmation_per_interval(backend: Backend) {
    let app = spawn(backend).await;

    for _ in 0..2 {
        let r = app
            .newsletter()
            .subscribe(json!({"email": "eager@example.org"}))
            .await;
        assert_eq!(r.status(), 202);
    }

    app.smtp.wait_for(1, WAIT).await;
    app.expect_no_more_mail().await;
}

async fn invalid_subscriptions_name_the_field(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "weekly", true).await;
    add_list(&app, "internal", false).await;

    let bad_email = app
        .newsletter()
        .subscribe(json!({"email": "not-an-address"}))
        .await;
    let unknown_list = app
        .newsletter()
        .subscribe(json!({"email": "a@example.org", "lists": ["weekly", "nope", "internal"]}))
        .await;
    let unknown_field = app
        .newsletter()
        .subscribe(json!({"email": "a@example.org", "admin": true}))
        .await;

    assert_eq!(bad_email.status(), 422);
    let problem: Value = bad_email.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "email");
    assert_eq!(unknown_list.status(), 422);
    let problem: Value = unknown_list.json().await.expect("json");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["lists[1]", "lists[2]"],
        "private lists are unknown here"
    );
    assert_eq!(unknown_field.status(), 422);
    app.expect_no_more_mail().await;
}

async fn unknown_confirmation_token_is_a_404_page(backend: Backend) {
    let app = spawn(backend).await;

    let get = app.get("/newsletter/confirm?token=nonsense").await;
    let post = app
        .client
        .post(app.url("/newsletter/confirm?token=nonsense"))
        .send()
        .await
        .expect("post");
    let missing = app.get("/newsletter/confirm").await;

    for r in [get, post, missing] {
        assert_eq!(r.status(), 404);
        let ct = r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .to_string();
        assert!(ct.starts_with("text/html"), "{ct}");
    }
}

async fn public_lists_only_are_listed(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "weekly", true).await;
    add_list(&app, "internal", false).await;

    let lists: Value = app
        .get("/api/v1/newsletter/lists")
        .await
        .json()
        .await
        .expect("json");

    assert_eq!(
        lists,
        json!([{"slug": "weekly", "name": "List weekly", "description": "About it"}])
    );
}

// ---------------------------------------------------------------------------------------
// Unsubscribing

async fn one_click_unsubscribe_via_rfc8058_post(backend: Backend) {
    let app = spawn(backend).await;
    add_confirmed(&app, vec!["leaving@example.org".into()], vec![]).await;
    send_now(&app, &[]).await;
    let mail = app.smtp.wait_for(1, WAIT).await.remove(0);
    let header = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let url = link(&header, "/newsletter/unsubscribe?token=");

    let page = app.get(&url).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("body").contains("Unsubscribe"));
    assert_eq!(
        subscriber(&app, "leaving@example.org")
            .await
            .status
            .as_str(),
        "confirmed",
        "a GET changes nothing"
    );

    let one_click = || {
        bare_client()
            .post(app.url(&url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let first = one_click().await.expect("post");
    let second = one_click().await.expect("post");
    let multipart = bare_client()
        .post(app.url(&url))
        .multipart(reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click"))
        .send()
        .await
        .expect("post");

    assert_eq!(first.status(), 200);
    assert_eq!(second.status(), 200, "idempotent");
    assert_eq!(
        multipart.status(),
        200,
        "the multipart form of RFC 8058 works too"
    );
    let s = subscriber(&app, "leaving@example.org").await;
    assert_eq!(s.status.as_str(), "unsubscribed");
    let forged = url.replace("token=", "token=x");
    let refused = bare_client()
        .post(app.url(&forged))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 404);
}

async fn preferences_page_keeps_chosen_lists(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "daily", true).await;
    add_list(&app, "weekly", true).await;
    add_confirmed(
        &app,
        vec!["picky@example.org".into()],
        vec!["daily".into(), "weekly".into()],
    )
    .await;
    let s = subscriber(&app, "picky@example.org").await;
    let token = frontdesk::newsletter::unsubscribe_token(&app.state.keys, &s.id);
    let url = format!("/newsletter/unsubscribe?token={token}");

    let page = app.get(&url).await.text().await.expect("body");
    assert!(page.contains("value=\"daily\"") && page.contains("value=\"weekly\""));
    let saved = bare_client()
        .post(app.url(&url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("action=lists&list=weekly")
        .send()
        .await
        .expect("post");

    assert_eq!(saved.status(), 200);
    let id = s.id.clone();
    let lists = app
        .state
        .db
        .run(move |conn| Ok(store::memberships(conn, &id)?))
        .await
        .expect("memberships");
    let states: Vec<(String, String)> = lists.into_iter().map(|(l, st)| (l.slug, st)).collect();
    assert!(
        states.contains(&("daily".into(), "unsubscribed".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&("weekly".into(), "confirmed".into())),
        "{states:?}"
    );
    assert_eq!(
        subscriber(&app, "picky@example.org").await.status.as_str(),
        "confirmed"
    );
}

// ---------------------------------------------------------------------------------------
// Sending

async fn send_of_1000_recipients_delivers_exactly_1000_distinct_emails(backend: Backend) {
    let n = 1000;
    let app = spawn_with(backend, |s| {
        s.mail.smtp_connections = 4;
        s.mail.poll_interval_ms = 20;
        s.newsletter.dispatch_batch_size = 200;
    })
    .await;
    add_confirmed(
        &app,
        (0..n).map(|i| format!("reader{i}@example.org")).collect(),
        vec![],
    )
    .await;

    let id = send_now(&app, &[]).await;

    let mails = app.smtp.wait_for(n, Duration::from_secs(90)).await;
    app.expect_no_more_mail().await;
    assert_eq!(mails.len(), n);
    let recipients: HashSet<_> = mails.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    let message_ids: HashSet<_> = mails.iter().filter_map(|m| m.message_id()).collect();
    let unsubscribe_links: HashSet<_> = mails
        .iter()
        .filter_map(|m| m.header("List-Unsubscribe"))
        .collect();
    assert_eq!(recipients.len(), n);
    assert_eq!(message_ids.len(), n);
    assert_eq!(unsubscribe_links.len(), n, "a link per recipient");
    for m in &mails {
        let header = m
            .header("List-Unsubscribe")
            .expect("List-Unsubscribe on every email");
        assert!(header.starts_with("<http") && header.contains("/newsletter/unsubscribe?token="));
        assert_eq!(
            m.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        let url = header.trim_matches(['<', '>']);
        assert!(m.text_body().expect("text part").contains(url));
        let html = m.html_body().expect("html part");
        assert!(html.contains("<strong>readers</strong>") && html.contains("style="));
        assert!(
            html.contains(&url.replace('/', "&#x2f;")),
            "the link in the HTML part"
        );
    }
    let done = wait_progress(&app, &id, |p| p.status.as_str() == "sent").await;
    assert_eq!(
        (
            done.recipients,
            done.sent,
            done.failed,
            done.pending,
            done.skipped
        ),
        (n as i64, n as i64, 0, 0, 0)
    );
}

async fn interrupted_send_resumes_and_delivers_each_recipient_once(backend: Backend) {
    let n = 200;
    let mut app = spawn_with(backend, |s| {
        s.mail.max_per_second = 100;
        s.mail.batch_size = 20;
        s.newsletter.dispatch_batch_size = 25;
        s.newsletter.dispatch_interval_ms = 200;
    })
    .await;
    add_confirmed(
        &app,
        (0..n).map(|i| format!("r{i}@example.org")).collect(),
        vec![],
    )
    .await;
    let id = send_now(&app, &[]).await;
    app.smtp.wait_for(20, WAIT).await;

    app.stop().await;

    let delivered_before = app.smtp.count();
    assert!(delivered_before < n, "the stop came before the end");
    let app = app.restart().await;
    let mails = app.smtp.wait_for(n, Duration::from_secs(60)).await;
    app.expect_no_more_mail().await;
    let recipients: Vec<String> = mails.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    let unique: HashSet<_> = recipients.iter().collect();
    assert_eq!(recipients.len(), n, "no one twice");
    assert_eq!(unique.len(), n, "no one skipped");
    let done = wait_progress(&app, &id, |p| p.pending == 0 && p.sent == n as i64).await;
    assert_eq!(done.recipients, n as i64);
}

async fn suppressed_and_unsubscribed_addresses_receive_nothing(backend: Backend) {
    let app = spawn(backend).await;
    add_confirmed(
        &app,
        vec![
            "stays@example.org".into(),
            "bounced@example.org".into(),
            "left@example.org".into(),
            "complained@example.org".into(),
        ],
        vec![],
    )
    .await;
    let bounce = signed_webhook(
        &app,
        json!({"email": "bounced@example.org", "kind": "hard"}),
    )
    .await;
    assert_eq!(bounce.status(), 200);
    let complaint = signed_webhook(
        &app,
        json!({"email": "complained@example.org", "kind": "complaint"}),
    )
    .await;
    assert_eq!(complaint.status(), 200);
    let left = subscriber(&app, "left@example.org").await;
    app.state
        .db
        .write(move |conn| {
            Ok(store::unsubscribe_all(
                conn,
                &left.id,
                frontdesk::db::now(),
            )?)
        })
        .await
        .expect("unsubscribe");

    send_now(&app, &[]).await;

    let mails = app.smtp.wait_for(1, WAIT).await;
    app.expect_no_more_mail().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, vec!["stays@example.org".to_string()]);
    assert_eq!(
        subscriber(&app, "bounced@example.org")
            .await
            .status
            .as_str(),
        "suppressed"
    );
    // Resubscribing a suppressed address answers the same and sends nothing.
    let again = app
        .newsletter()
        .subscribe(json!({"email": "bounced@example.org"}))
        .await;
    assert_eq!(again.status(), 202);
    app.expect_no_more_mail().await;
}

async fn unsubscribing_during_a_send_skips_the_queued_email(backend: Backend) {
    let n = 20;
    // A worker claims few rows at a time: an email already claimed is in flight and goes.
    let app = spawn_with(backend, |s| {
        s.mail.max_per_second = 10;
        s.mail.batch_size = 2;
    })
    .await;
    add_confirmed(
        &app,
        (0..n).map(|i| format!("s{i:02}@example.org")).collect(),
        vec![],
    )
    .await;
    let id = send_now(&app, &[]).await;
    let first = app.smtp.wait_for(2, WAIT).await;
    let delivered: HashSet<String> = first.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    // Someone still waiting in the queue leaves.
    let leaver = (0..n)
        .rev()
        .map(|i| format!("s{i:02}@example.org"))
        .find(|a| !delivered.contains(a))
        .expect("someone left to send to");
    let s = subscriber(&app, &leaver).await;
    let token = frontdesk::newsletter::unsubscribe_token(&app.state.keys, &s.id);
    let r = bare_client()
        .post(app.url(&format!("/newsletter/unsubscribe?token={token}")))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);

    let done = wait_progress(&app, &id, |p| p.status.as_str() == "sent").await;

    let mails = app.smtp.received();
    assert!(
        mails.iter().all(|m| m.rcpt_to != vec![leaver.clone()]),
        "{leaver} got mail"
    );
    assert_eq!(mails.len(), n - 1);
    assert_eq!(done.recipients, n as i64);
    assert_eq!((done.sent, done.skipped, done.failed), (n as i64 - 1, 1, 0));
    assert_eq!(done.recipients, done.sent + done.failed + done.skipped);
}

// ---------------------------------------------------------------------------------------
// Webhooks

async fn webhook_refuses_wrong_signatures_and_suppresses_on_right_ones(backend: Backend) {
    let app = spawn(backend).await;
    add_confirmed(&app, vec!["target@example.org".into()], vec![]).await;
    let body = json!({"email": "target@example.org", "kind": "hard"});

    let now = chrono::Utc::now().timestamp();
    let unsigned = webhook(&app, &body, None, now).await;
    let wrong = webhook(&app, &body, Some(format!("sha256={}", "0".repeat(64))), now).await;
    let other_body = webhook(
        &app,
        &body,
        Some(sign(
            now,
            br#"{"email":"someone@example.org","kind":"hard"}"#,
        )),
        now,
    )
    .await;
    let unknown_provider = app
        .client
        .post(app.url("/api/v1/webhooks/mail/nobody"))
        .body("{}")
        .send()
        .await
        .expect("post");

    for r in [unsigned, wrong, other_body] {
        assert_eq!(r.status(), 401);
    }
    assert_eq!(unknown_provider.status(), 404);
    assert_eq!(
        subscriber(&app, "target@example.org").await.status.as_str(),
        "confirmed"
    );

    let signed = signed_webhook(&app, body).await;
    assert_eq!(signed.status(), 200);
    assert_eq!(
        signed.json::<Value>().await.expect("json"),
        json!({"result": "suppressed"})
    );
    assert_eq!(
        subscriber(&app, "target@example.org").await.status.as_str(),
        "suppressed"
    );
}

/// A Mailgun `failed` (temporary) event for `recipient`, signed with `key` now.
fn mailgun_soft_bounce(key: &str, token: &str, recipient: &str) -> Value {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("key");
    mac.update(format!("{timestamp}{token}").as_bytes());
    json!({
        "signature": {
            "timestamp": timestamp,
            "token": token,
            "signature": hex::encode(mac.finalize().into_bytes()),
        },
        "event-data": {"event": "failed", "severity": "temporary", "recipient": recipient},
    })
}

async fn webhook_replays_change_nothing_and_stale_reports_are_refused(backend: Backend) {
    const MAILGUN_KEY: &str = "key-test";
    let app = spawn_with(backend, |s| {
        s.newsletter.soft_bounce_limit = 2;
        s.newsletter.mailgun_signing_key = Some(frontdesk::config::Secret::new(MAILGUN_KEY));
    })
    .await;
    add_confirmed(
        &app,
        vec!["generic@example.org".into(), "mailgun@example.org".into()],
        vec![],
    )
    .await;
    let result = |r: reqwest::Response| async move {
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.expect("json")["result"].clone()
    };

    // One soft bounce, then the same signed report again: a second soft bounce would
    // suppress (limit 2), the replay changes nothing.
    let body = json!({"email": "generic@example.org", "kind": "soft"});
    let now = chrono::Utc::now().timestamp();
    let sig = sign(now, body.to_string().as_bytes());
    let first = webhook(&app, &body, Some(sig.clone()), now).await;
    assert_eq!(result(first).await, "recorded");
    let replayed = webhook(&app, &body, Some(sig.clone()), now).await;
    assert_eq!(result(replayed).await, "duplicate");

    let gun = mailgun_soft_bounce(MAILGUN_KEY, "tok-1", "mailgun@example.org");
    let post_gun = |body: Value| {
        app.client
            .post(app.url("/api/v1/webhooks/mail/mailgun"))
            .json(&body)
            .send()
    };
    assert_eq!(
        result(post_gun(gun.clone()).await.expect("post")).await,
        "recorded"
    );
    assert_eq!(
        result(post_gun(gun.clone()).await.expect("post")).await,
        "duplicate"
    );

    // Remembered in the database: another process (here, the restarted app) knows them too.
    let app = app.restart().await;
    let replayed = webhook(&app, &body, Some(sig), now).await;
    assert_eq!(result(replayed).await, "duplicate");
    let again = app
        .client
        .post(app.url("/api/v1/webhooks/mail/mailgun"))
        .json(&gun)
        .send()
        .await
        .expect("post");
    assert_eq!(result(again).await, "duplicate");

    // A report signed more than five minutes ago (or ahead) is refused, signature or not.
    let later = chrono::Utc::now().timestamp();
    for stale in [later - 301, later + 330] {
        let sig = sign(stale, body.to_string().as_bytes());
        assert_eq!(webhook(&app, &body, Some(sig), stale).await.status(), 401);
    }
    for address in ["generic@example.org", "mailgun@example.org"] {
        assert_eq!(
            subscriber(&app, address).await.status.as_str(),
            "confirmed",
            "{address}"
        );
    }

    // A new report (its own timestamp) still counts: the second soft bounce suppresses.
    let sig = sign(now - 1, body.to_string().as_bytes());
    let second = webhook(&app, &body, Some(sig), now - 1).await;
    assert_eq!(result(second).await, "suppressed");
}

async fn three_soft_bounces_in_a_row_suppress(backend: Backend) {
    let app = spawn(backend).await;
    add_confirmed(
        &app,
        vec!["soft@example.org".into(), "recovers@example.org".into()],
        vec![],
    )
    .await;
    let soft = |a: &str| json!({"email": a, "kind": "soft"});

    for _ in 0..2 {
        signed_webhook(&app, soft("soft@example.org")).await;
        signed_webhook(&app, soft("recovers@example.org")).await;
    }
    signed_webhook(
        &app,
        json!({"email": "recovers@example.org", "kind": "delivered"}),
    )
    .await;
    assert_eq!(
        subscriber(&app, "soft@example.org").await.status.as_str(),
        "confirmed"
    );
    let third = signed_webhook(&app, soft("soft@example.org")).await;
    signed_webhook(&app, soft("recovers@example.org")).await;

    assert_eq!(
        third.json::<Value>().await.expect("json"),
        json!({"result": "suppressed"})
    );
    assert_eq!(
        subscriber(&app, "soft@example.org").await.status.as_str(),
        "suppressed"
    );
    assert_eq!(
        subscriber(&app, "recovers@example.org")
            .await
            .status
            .as_str(),
        "confirmed",
        "a delivery ends the run"
    );
}

// ---------------------------------------------------------------------------------------
// Issue controls

async fn failed_recipients_are_retried_with_the_same_message_id(backend: Backend) {
    let app = spawn(backend).await;
    add_confirmed(
        &app,
        vec!["x@example.org".into(), "y@example.org".into()],
        vec![],
    )
    .await;
    app.smtp.set_reply(Reply::Permanent);
    let id = send_now(&app, &[]).await;
    let failed = wait_progress(&app, &id, |p| p.status.as_str() == "sent").await;
    assert_eq!((failed.failed, failed.sent), (2, 0));
    let before: HashSet<String> = outbox_message_ids(&app, &id).await;
    app.smtp.set_reply(Reply::Accept);

    let issue_id = id.clone();
    let retried = app
        .state
        .db
        .write(move |conn| store::retry_failed(conn, &issue_id))
        .await
        .expect("retry");
    app.state.mailer.wake();

    assert_eq!(retried, 2);
    let mails = app.smtp.wait_for(2, WAIT).await;
    let delivered: HashSet<String> = mails
        .iter()
        .filter_map(|m| m.message_id())
        .map(|id| format!("<{id}>"))
        .collect();
    assert_eq!(delivered, before, "the same Message-IDs");
    let done = wait_progress(&app, &id, |p| p.status.as_str() == "sent" && p.sent == 2).await;
    assert_eq!((done.failed, done.pending), (0, 0));
}

async fn outbox_message_ids(app: &TestApp, issue_id: &str) -> HashSet<String> {
    let issue_id = issue_id.to_string();
    app.state
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use frontdesk::db::schema::{newsletter_deliveries as d, outbox as o};
            let ids: Vec<String> = d::table
                .filter(d::issue_id.eq(issue_id))
                .filter(d::outbox_id.is_not_null())
                .select(d::outbox_id.assume_not_null())
                .load(conn)?;
            Ok(o::table
                .filter(o::id.eq_any(ids))
                .select(o::message_id)
                .load::<String>(conn)?)
        })
        .await
        .expect("ids")
        .into_iter()
        .collect()
}

async fn pause_holds_and_resume_releases(backend: Backend) {
    let n = 30;
    let app = spawn_with(backend, |s| {
        s.mail.max_per_second = 10;
        s.mail.batch_size = 2;
    })
    .await;
    add_confirmed(
        &app,
        (0..n).map(|i| format!("p{i}@example.org")).collect(),
        vec![],
    )
    .await;
    let id = send_now(&app, &[]).await;
    app.smtp.wait_for(2, WAIT).await;

    let issue_id = id.clone();
    let paused = app
        .state
        .db
        .write(move |conn| store::pause_issue(conn, &issue_id))
        .await
        .expect("pause");
    assert_eq!(paused.status.as_str(), "paused");
    // Whatever was in flight (claimed by the worker) lands; then nothing more.
    app.drain_outbox().await;
    let during_pause = app.smtp.count();
    app.expect_no_more_mail().await;
    assert!(during_pause < n);
    let p = progress(&app, &id).await;
    assert!(p.pending > 0, "{p:?}");

    let issue_id = id.clone();
    app.state
        .db
        .write(move |conn| store::resume_issue(conn, &issue_id))
        .await
        .expect("resume");
    app.state.mailer.wake();

    let mails = app.smtp.wait_for(n, Duration::from_secs(30)).await;
    let unique: HashSet<_> = mails.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    assert_eq!((mails.len(), unique.len()), (n, n));
    let done = wait_progress(&app, &id, |p| p.status.as_str() == "sent").await;
    assert_eq!((done.sent, done.pending), (n as i64, 0));
}

async fn two_dispatchers_never_queue_a_recipient_twice(backend: Backend) {
    let n = 400;
    let app = spawn_with(backend, |s| {
        s.mail.worker_in_serve = false;
        s.newsletter.dispatch_batch_size = 30;
    })
    .await;
    add_confirmed(
        &app,
        (0..n).map(|i| format!("d{i}@example.org")).collect(),
        vec![],
    )
    .await;
    let id = send_now(&app, &[]).await;

    let runs: Vec<_> = (0..2)
        .map(|_| {
            let d = Dispatcher::from_state(&app.state);
            tokio::spawn(async move {
                for _ in 0..200 {
                    d.dispatch_once().await.expect("dispatch");
                }
            })
        })
        .collect();
    for r in runs {
        r.await.expect("dispatcher");
    }

    let p = progress(&app, &id).await;
    assert_eq!((p.recipients, p.pending), (n as i64, n as i64), "{p:?}");
    assert_eq!(outbox_message_ids(&app, &id).await.len(), n);
}

// ---------------------------------------------------------------------------------------
// Staff-side store functions

async fn import_dry_run_reports_without_writing(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "weekly", true).await;
    add_confirmed(&app, vec!["old@example.org".into()], vec![]).await;
    let left = subscriber(&app, "old@example.org").await;
    app.state
        .db
        .write(move |conn| {
            Ok(store::unsubscribe_all(
                conn,
                &left.id,
                frontdesk::db::now(),
            )?)
        })
        .await
        .expect("unsubscribe");
    signed_webhook(
        &app,
        json!({"email": "bounced@example.org", "kind": "hard"}),
    )
    .await;
    let csv = b"email,name,lists,consent\n\
        new@example.org,New Reader,weekly,yes\n\
        maybe@example.org,,,no\n\
        old@example.org,,weekly,yes\n\
        bounced@example.org,,,yes\n\
        broken,,,yes\n\
        x@example.org,,nolist,yes\n"
        .to_vec();

    let import = |dry_run: bool| {
        let keys = app.state.keys.clone();
        let csv = csv.clone();
        app.state.db.write(move |conn| {
            csv_io::import_subscribers(conn, &keys, &csv, dry_run, frontdesk::db::now())
        })
    };
    let dry = import(true).await.expect("dry run");
    let count = || {
        app.state.db.run(|conn| {
            Ok(store::list_subscribers(
                conn,
                &SubscriberFilter {
                    limit: 500,
                    ..Default::default()
                },
            )?
            .items
            .len())
        })
    };
    assert_eq!(count().await.expect("count"), 1, "a dry run writes nothing");
    let real = import(false).await.expect("import");

    for report in [&dry, &real] {
        assert_eq!(report.rows, 6);
        assert_eq!(report.created, 2);
        assert_eq!(report.confirmed, 1);
        assert_eq!(report.skipped_unsubscribed, 1, "never re-added");
        assert_eq!(report.skipped_suppressed, 1);
        let lines: Vec<u64> = report.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [6, 7]);
    }
    assert!(dry.dry_run && !real.dry_run);
    assert_eq!(
        subscriber(&app, "new@example.org").await.status.as_str(),
        "confirmed"
    );
    assert_eq!(
        subscriber(&app, "maybe@example.org").await.status.as_str(),
        "pending"
    );
    assert_eq!(
        subscriber(&app, "old@example.org").await.status.as_str(),
        "unsubscribed"
    );
    app.expect_no_more_mail().await;
}

async fn subscriber_list_filters_and_export_escapes_formulas(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "weekly", true).await;
    add_confirmed(
        &app,
        (0..5).map(|i| format!("list{i}@example.org")).collect(),
        vec!["weekly".into()],
    )
    .await;
    add_confirmed(&app, vec!["other@example.org".into()], vec![]).await;
    let r = app
        .newsletter()
        .subscribe(json!({"email": "formula@example.org", "name": "=HYPERLINK(1)"}))
        .await;
    assert_eq!(r.status(), 202);

    let (first, second, pending, weekly, search, csv) = app
        .state
        .db
        .run(|conn| {
            let page = |cursor: Option<String>| SubscriberFilter {
                limit: 4,
                cursor,
                ..Default::default()
            };
            let first = store::list_subscribers(conn, &page(None))?;
            let second = store::list_subscribers(conn, &page(first.next_cursor.clone()))?;
            let pending = store::list_subscribers(
                conn,
                &SubscriberFilter {
                    status: Some(SubscriberStatus::Pending),
                    limit: 10,
                    ..Default::default()
                },
            )?;
            let weekly = store::list_subscribers(
                conn,
                &SubscriberFilter {
                    list: Some(
                        frontdesk::newsletter::model::ListSlug::parse("weekly").expect("slug"),
                    ),
                    limit: 10,
                    ..Default::default()
                },
            )?;
            let search = store::list_subscribers(
                conn,
                &SubscriberFilter {
                    search: Some("OTHER".into()),
                    limit: 10,
                    ..Default::default()
                },
            )?;
            let mut csv = csv_io::export_header()?;
            let mut before = None;
            loop {
                let page = csv_io::export_page(conn, &SubscriberFilter::default(), before)?;
                csv.push_str(&page.lines);
                match page.next {
                    Some(last) => before = Some(last),
                    None => break,
                }
            }
            Ok((first, second, pending, weekly, search, csv))
        })
        .await
        .expect("queries");

    assert_eq!(first.items.len(), 4);
    assert_eq!(second.items.len(), 3);
    assert!(second.next_cursor.is_none());
    let all: HashSet<_> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|s| s.email.clone())
        .collect();
    assert_eq!(all.len(), 7);
    assert_eq!(pending.items.len(), 1);
    assert_eq!(pending.items[0].email, "formula@example.org");
    assert_eq!(weekly.items.len(), 6, "five confirmed, one pending");
    assert!(weekly
        .items
        .iter()
        .all(|s| s.lists == vec!["weekly".to_string()]));
    assert_eq!(search.items.len(), 1);
    assert!(csv.starts_with("email,name,status,lists,created_at,confirmed_at\n"));
    assert!(csv.contains("'=HYPERLINK(1)"), "{csv}");
    assert_eq!(csv.lines().count(), 8);
}

async fn list_targeted_issue_reaches_only_that_list(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "sports", true).await;
    add_list(&app, "culture", true).await;
    add_confirmed(&app, vec!["fan@example.org".into()], vec!["sports".into()]).await;
    add_confirmed(
        &app,
        vec!["reader@example.org".into()],
        vec!["culture".into()],
    )
    .await;

    let id = send_now(&app, &["sports"]).await;

    let mails = app.smtp.wait_for(1, WAIT).await;
    app.expect_no_more_mail().await;
    assert_eq!(mails[0].rcpt_to, vec!["fan@example.org".to_string()]);
    let p = wait_progress(&app, &id, |p| p.status.as_str() == "sent").await;
    assert_eq!((p.recipients, p.sent), (1, 1));
}

async fn erased_address_stays_blocked(backend: Backend) {
    let app = spawn(backend).await;
    add_confirmed(&app, vec!["gone@example.org".into()], vec![]).await;
    let keys = app.state.keys.clone();
    let erased = app
        .state
        .db
        .write(move |conn| {
            let address = email("gone@example.org");
            let hash = address.suppression_hash(&keys);
            Ok(store::erase_subscriber(
                conn,
                &address,
                &hash,
                frontdesk::db::now(),
            )?)
        })
        .await
        .expect("erase");
    assert!(erased);

    let keys = app.state.keys.clone();
    let report = app
        .state
        .db
        .write(move |conn| {
            csv_io::import_subscribers(
                conn,
                &keys,
                b"email,consent\nGone@Example.org,yes\n",
                false,
                frontdesk::db::now(),
            )
        })
        .await
        .expect("import");
    let again = app
        .newsletter()
        .subscribe(json!({"email": "gone@example.org"}))
        .await;

    assert_eq!((report.created, report.skipped_suppressed), (0, 1));
    assert_eq!(again.status(), 202);
    app.expect_no_more_mail().await;
    let address = email("gone@example.org");
    let found = app
        .state
        .db
        .run(move |conn| Ok(store::find_subscriber_by_email(conn, &address)?))
        .await
        .expect("query");
    assert!(found.is_none(), "nothing about the address is stored again");
}
