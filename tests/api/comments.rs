//! "What are your thoughts?": comments, spam defence, the emails, and the staff inbox store.

use std::time::Duration;

use chrono::Utc;
use frontdesk::comments::model::{Clearance, Status};
use frontdesk::comments::spam::issue_token;
use frontdesk::comments::store::{self, CommentFilter};
use frontdesk::error::AppError;
use frontdesk::staff::audit::Actor;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::smtp_sink::ReceivedMail;
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

both_backends!(
    comment_reaches_staff_with_reply_to_and_reader_gets_the_reference,
    honeypot_and_fast_forms_go_to_spam_without_email,
    header_injection_is_refused_in_every_field,
    staff_reply_reaches_the_reader_threaded,
    sensitive_comments_are_hidden_from_non_editors_and_exports,
    inbox_lists_by_status_with_assignment_notes_and_pages,
    per_address_limit_sends_further_comments_to_spam,
);

const WAIT: Duration = Duration::from_secs(15);
const INJECTION: &str = "Eve\r\nBcc: x@evil.test";

/// A form token as if the form had been rendered ten seconds ago.
fn settled_token(app: &TestApp) -> String {
    issue_token(&app.state.keys, Utc::now() - chrono::Duration::seconds(10))
}

fn comment(app: &TestApp) -> Value {
    json!({
        "name": "Jane Reader",
        "email": "jane@example.org",
        "subject": "Bolivia story",
        "message": "The training was announced in June, not July.",
        "article_url": "http://localhost/news/bolivia",
        "website": "",
        "form_token": settled_token(app),
    })
}

async fn list(
    app: &TestApp,
    filter: CommentFilter,
    clearance: Clearance,
) -> Vec<store::CommentListItem> {
    app.state
        .db
        .run(move |conn| Ok(store::list(conn, &filter, clearance, None, 100)?.0))
        .await
        .expect("list")
}

fn header_lines(mail: &ReceivedMail) -> Vec<String> {
    let raw = String::from_utf8_lossy(&mail.raw);
    let head = raw.split("\r\n\r\n").next().unwrap_or_default().to_string();
    head.lines().map(str::to_string).collect()
}

async fn comment_reaches_staff_with_reply_to_and_reader_gets_the_reference(backend: Backend) {
    let app = spawn_app(backend).await;

    let response = app.comments().send(&comment(&app)).await;

    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "received");
    let reference = body["reference"].as_str().expect("reference").to_string();
    assert_eq!(reference.len(), 11);
    let mails = app.smtp.wait_for(2, WAIT).await;
    let staff = mails
        .iter()
        .find(|m| m.rcpt_to == ["newsroom@localhost"])
        .expect("staff notification");
    let ack = mails
        .iter()
        .find(|m| m.rcpt_to == ["jane@example.org"])
        .expect("acknowledgement");
    let from = staff.header("From").expect("From");
    assert!(
        from.contains("newsroom@localhost") && !from.contains("jane@"),
        "{from}"
    );
    let reply_to = staff.header("Reply-To").expect("Reply-To");
    assert!(
        reply_to.contains("jane@example.org") && reply_to.contains("Jane Reader"),
        "{reply_to}"
    );
    assert!(staff.subject().expect("subject").contains(&reference));
    assert!(staff.text_body().expect("text").contains("not July"));
    assert!(ack
        .header("From")
        .expect("From")
        .contains("newsroom@localhost"));
    assert!(ack.subject().expect("subject").contains(&reference));
    assert!(ack.text_body().expect("text").contains(&reference));
    assert!(ack.html_body().expect("html").contains(&reference));
    let stored = list(&app, CommentFilter::default(), Clearance::Sensitive).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].reference, reference);
    assert_eq!(stored[0].status.as_str(), "new");
    assert_eq!(
        stored[0].article_url.as_deref(),
        Some("http://localhost/news/bolivia")
    );
    assert!(stored[0].unanswered_seconds.is_some());
}

async fn honeypot_and_fast_forms_go_to_spam_without_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut honeypot = comment(&app);
    honeypot["website"] = json!("http://cheap-pills.example");
    let token: Value = app
        .get("/api/v1/comments/token")
        .await
        .json()
        .await
        .expect("token");
    let mut fast = comment(&app);
    fast["form_token"] = token["token"].clone();
    fast["email"] = json!("speedy@example.org");

    let caught_by_honeypot = app.comments().send(&honeypot).await;
    let caught_by_time_trap = app.comments().send(&fast).await;

    assert_eq!(caught_by_honeypot.status(), 202, "answered as usual");
    assert_eq!(caught_by_time_trap.status(), 202);
    let body: Value = caught_by_time_trap.json().await.expect("json");
    assert_eq!(body["status"], "received");
    app.expect_no_more_mail().await;
    let spam = list(
        &app,
        CommentFilter {
            status: Some(Status::Spam),
            ..Default::default()
        },
        Clearance::Sensitive,
    )
    .await;
    let mut rules: Vec<_> = spam.iter().filter_map(|c| c.spam_rule.clone()).collect();
    rules.sort();
    assert_eq!(rules, ["honeypot", "too_fast"]);
    let id = spam[0].id.clone();
    let stored = app
        .state
        .db
        .run(move |conn| Ok(store::get(conn, &id, Clearance::Sensitive)?))
        .await
        .expect("stored");
    assert_eq!(stored.spam_verdict, "spam");
    assert_eq!(stored.ack_message_id, None);
}

async fn header_injection_is_refused_in_every_field(backend: Backend) {
    let app = spawn_app(backend).await;

    for field in ["name", "email", "subject", "article_url"] {
        let mut body = comment(&app);
        body[field] = json!(INJECTION);
        let response = app.comments().send(&body).await;
        assert_eq!(response.status(), 422, "{field}");
        let problem: Value = response.json().await.expect("json");
        assert_eq!(problem["errors"][0]["field"], field);
    }
    // In free text it is only text; in the honeypot and the token it is spam.
    for (field, email) in [
        ("message", "m@example.org"),
        ("website", "w@example.org"),
        ("form_token", "t@example.org"),
    ] {
        let mut body = comment(&app);
        body[field] = json!(INJECTION);
        body["email"] = json!(email);
        assert_eq!(app.comments().send(&body).await.status(), 202, "{field}");
    }

    let mails = app.smtp.wait_for(2, WAIT).await;
    app.expect_no_more_mail().await;
    for mail in &mails {
        assert!(
            !mail.rcpt_to.iter().any(|r| r.contains("evil.test")),
            "{:?}",
            mail.rcpt_to
        );
        for line in header_lines(mail) {
            assert!(
                !line.to_ascii_lowercase().starts_with("bcc:"),
                "injected header: {line}"
            );
        }
    }
    assert!(mails
        .iter()
        .all(|m| m.rcpt_to == ["newsroom@localhost"] || m.rcpt_to == ["m@example.org"]));
    let text = mails
        .iter()
        .find(|m| m.rcpt_to == ["newsroom@localhost"])
        .and_then(|m| m.text_body())
        .expect("staff text");
    assert!(text.contains("Bcc: x@evil.test"), "kept as body text");
}

async fn staff_reply_reaches_the_reader_threaded(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.comments().send(&comment(&app)).await.status(), 202);
    let mails = app.smtp.wait_for(2, WAIT).await;
    let ack_id = mails
        .iter()
        .find(|m| m.rcpt_to == ["jane@example.org"])
        .and_then(|m| m.message_id())
        .expect("acknowledgement id");
    let id = list(&app, CommentFilter::default(), Clearance::Sensitive).await[0]
        .id
        .clone();

    let reply = frontdesk::comments::reply(
        &app.state,
        &id,
        &Actor::system("editor@newsroom"),
        "Thank you, we corrected the date.",
        Clearance::Sensitive,
    )
    .await
    .expect("reply");

    let mails = app.smtp.wait_for(3, WAIT).await;
    let answer = &mails[2];
    assert_eq!(answer.rcpt_to, ["jane@example.org"]);
    assert!(answer
        .header("From")
        .expect("From")
        .contains("newsroom@localhost"));
    assert_eq!(answer.header("In-Reply-To"), Some(format!("<{ack_id}>")));
    assert_eq!(answer.header("References"), Some(format!("<{ack_id}>")));
    assert!(answer.subject().expect("subject").starts_with("Re: "));
    assert!(answer
        .text_body()
        .expect("text")
        .contains("we corrected the date"));
    assert_eq!(
        answer.message_id(),
        Some(reply.message_id.trim_matches(['<', '>']).to_string())
    );

    // A second reply follows the first.
    frontdesk::comments::reply(
        &app.state,
        &id,
        &Actor::system("editor@newsroom"),
        "One more thing.",
        Clearance::Sensitive,
    )
    .await
    .expect("second reply");
    let mails = app.smtp.wait_for(4, WAIT).await;
    assert_eq!(
        mails[3].header("In-Reply-To"),
        Some(reply.message_id.clone())
    );
    assert_eq!(
        mails[3].header("References"),
        Some(format!("<{ack_id}> {}", reply.message_id))
    );
    let (stored, replies) = app
        .state
        .db
        .run(move |conn| {
            let c = store::get(conn, &id, Clearance::Sensitive)?;
            let r = store::replies(conn, &id)?;
            Ok((c, r))
        })
        .await
        .expect("stored");
    assert_eq!(stored.status.as_str(), "replied");
    assert!(stored.replied_at.is_some());
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0].author, "editor@newsroom");
    assert_eq!(replies[0].message, "Thank you, we corrected the date.");
    assert!(matches!(
        frontdesk::comments::reply(
            &app.state,
            "unknown",
            &Actor::system("e"),
            "x",
            Clearance::Sensitive
        )
        .await,
        Err(AppError::NotFound)
    ));
}

async fn sensitive_comments_are_hidden_from_non_editors_and_exports(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.comments().send(&comment(&app)).await.status(), 202);
    let mut other = comment(&app);
    other["email"] = json!("other@example.org");
    assert_eq!(app.comments().send(&other).await.status(), 202);
    let all = list(&app, CommentFilter::default(), Clearance::Sensitive).await;
    let tip = all
        .iter()
        .find(|c| c.email == "jane@example.org")
        .expect("tip")
        .id
        .clone();
    let id = tip.clone();
    app.state
        .db
        .write(move |conn| Ok(store::set_sensitive(conn, &id, true)?))
        .await
        .expect("flag");

    let fundraiser = list(
        &app,
        CommentFilter::default(),
        Clearance::for_role("fundraising"),
    )
    .await;
    let editor = list(
        &app,
        CommentFilter::default(),
        Clearance::for_role("editor"),
    )
    .await;
    let id = tip.clone();
    let fundraiser_opens = app
        .state
        .db
        .run(move |conn| Ok(store::get(conn, &id, Clearance::for_role("fundraising"))?))
        .await;
    let exported = app
        .state
        .db
        .run(|conn| {
            Ok(store::export_page(
                conn,
                &CommentFilter::default(),
                None,
                500,
            )?)
        })
        .await
        .expect("export");
    let fundraiser_reply = frontdesk::comments::reply(
        &app.state,
        &tip,
        &Actor::system("x"),
        "hello",
        Clearance::for_role("fundraising"),
    )
    .await;

    assert_eq!(fundraiser.len(), 1);
    assert!(fundraiser.iter().all(|c| c.id != tip));
    assert_eq!(editor.len(), 2);
    assert!(editor.iter().any(|c| c.id == tip && c.sensitive));
    assert!(matches!(fundraiser_opens, Err(AppError::NotFound)));
    assert!(matches!(fundraiser_reply, Err(AppError::NotFound)));
    assert_eq!(exported.len(), 1);
    assert!(exported.iter().all(|c| c.id != tip));
}

async fn inbox_lists_by_status_with_assignment_notes_and_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    for email in ["a@example.org", "b@example.org", "C@Example.org"] {
        let mut body = comment(&app);
        body["email"] = json!(email);
        assert_eq!(app.comments().send(&body).await.status(), 202);
    }
    let all = list(&app, CommentFilter::default(), Clearance::Sensitive).await;
    let by_email = |e: &str| {
        all.iter()
            .find(|c| c.email.eq_ignore_ascii_case(e))
            .expect("comment")
            .id
            .clone()
    };
    let (a, b, c) = (
        by_email("a@example.org"),
        by_email("b@example.org"),
        by_email("c@example.org"),
    );

    let (a2, b2, c2) = (a.clone(), b.clone(), c.clone());
    let note = app
        .state
        .db
        .write(move |conn| {
            store::mark_spam(conn, &a2)?;
            store::set_status(conn, &b2, Status::Archived)?;
            store::mark_spam(conn, &c2)?;
            store::mark_not_spam(conn, &c2)?;
            store::assign(conn, &c2, Some("maria@newsroom"))?;
            Ok(store::add_note(
                conn,
                &c2,
                "maria@newsroom",
                "Called the reader back.",
            )?)
        })
        .await
        .expect("staff actions");

    let spam = list(
        &app,
        CommentFilter {
            status: Some(Status::Spam),
            ..Default::default()
        },
        Clearance::Sensitive,
    )
    .await;
    let archived = list(
        &app,
        CommentFilter {
            status: Some(Status::Archived),
            ..Default::default()
        },
        Clearance::Sensitive,
    )
    .await;
    let new = list(
        &app,
        CommentFilter {
            status: Some(Status::New),
            ..Default::default()
        },
        Clearance::Sensitive,
    )
    .await;
    let by_address = list(
        &app,
        CommentFilter {
            email: Some("c@example.ORG".into()),
            ..Default::default()
        },
        Clearance::Sensitive,
    )
    .await;
    let assigned = list(
        &app,
        CommentFilter {
            assigned_to: Some("maria@newsroom".into()),
            ..Default::default()
        },
        Clearance::Sensitive,
    )
    .await;
    let pages = app
        .state
        .db
        .run(|conn| {
            let filter = CommentFilter::default();
            let (first, cursor) = store::list(conn, &filter, Clearance::Sensitive, None, 2)?;
            let (second, end) =
                store::list(conn, &filter, Clearance::Sensitive, cursor.as_deref(), 2)?;
            Ok((first, second, end))
        })
        .await
        .expect("pages");
    let (c3, c4) = (c.clone(), c.clone());
    let (stored_c, notes) = app
        .state
        .db
        .run(move |conn| {
            Ok((
                store::get(conn, &c3, Clearance::Sensitive)?,
                store::notes(conn, &c4)?,
            ))
        })
        .await
        .expect("c");
    let unknown = app
        .state
        .db
        .write(|conn| Ok(store::assign(conn, "nope", Some("x"))?))
        .await;

    assert_eq!(spam.len(), 1);
    assert_eq!(spam[0].id, a);
    assert_eq!(spam[0].spam_rule.as_deref(), Some("staff"));
    assert_eq!(spam[0].unanswered_seconds, None);
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].id, b);
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].id, c);
    assert!(new[0].unanswered_seconds.is_some_and(|s| s >= 0));
    assert_eq!(by_address.len(), 1);
    assert_eq!(assigned.len(), 1);
    assert_eq!(stored_c.spam_verdict, "ham");
    assert_eq!(stored_c.assigned_to.as_deref(), Some("maria@newsroom"));
    assert_eq!(notes, vec![note]);
    let (first, second, end) = pages;
    assert_eq!(first.len(), 2);
    assert_eq!(second.len(), 1);
    assert_eq!(end, None);
    assert!(
        first
            .iter()
            .chain(&second)
            .map(|i| &i.id)
            .collect::<std::collections::HashSet<_>>()
            .len()
            == 3
    );
    assert!(matches!(unknown, Err(AppError::NotFound)));
}

async fn per_address_limit_sends_further_comments_to_spam(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.comments.max_per_address_per_day = 1).await;

    let first = app.comments().send(&comment(&app)).await;
    let mut second = comment(&app);
    second["message"] = json!("And another thought about the article.");
    second["email"] = json!("JANE@example.org");
    let second = app.comments().send(&second).await;

    assert_eq!(first.status(), 202);
    assert_eq!(second.status(), 202);
    app.smtp.wait_for(2, WAIT).await;
    app.expect_no_more_mail().await;
    let spam = list(
        &app,
        CommentFilter {
            status: Some(Status::Spam),
            ..Default::default()
        },
        Clearance::Sensitive,
    )
    .await;
    assert_eq!(spam.len(), 1);
    assert_eq!(spam[0].spam_rule.as_deref(), Some("address_limit"));
    // Both endpoints are in the OpenAPI document.
    let doc: Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    for path in [
        "/api/v1/comments",
        "/api/v1/comments/token",
        "/api/v1/feedback",
        "/api/v1/feedback/summary",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}
