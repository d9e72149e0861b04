//! Erasure reaches exactly one person: addresses compared whole (not as substrings), the
//! same erasure for applicants past retention as on request, and the `file` transport's
//! `.eml` copies removed with the rest.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use frontdesk::config::MailTransportKind;
use frontdesk::db::schema::{audit_log, outbox};
use frontdesk::staff::audit::{self, Actor, Entry};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};
use crate::jobs::{applied_id, apply, close, create_open, pdf_form};

both_backends!(
    erasing_an_address_leaves_a_longer_one_that_contains_it_alone,
    retention_scrubs_the_audit_entries_naming_the_applicant,
    erasure_removes_the_eml_copies_of_the_file_transport,
);

const WAIT: Duration = Duration::from_secs(15);
const ERASED: &str = "ann@gmail.com";
const OTHER: &str = "jo.ann@gmail.com";

async fn post_comment(app: &TestApp, name: &str, email: &str, message: &str) {
    let token = frontdesk::comments::spam::issue_token(
        &app.state.keys,
        Utc::now() - TimeDelta::seconds(10),
    );
    let res = app
        .client
        .post(app.url("/api/v1/comments"))
        .json(&json!({
            "name": name, "email": email, "subject": "The budget story",
            "message": message, "article_url": "http://localhost/news/budget",
            "website": "", "form_token": token,
        }))
        .send()
        .await
        .expect("comment");
    assert_eq!(res.status(), 202);
}

async fn erase(app: &TestApp, email: &str) -> Value {
    let admin = app.staff_token("admin").await;
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/staff/people?email={email}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("erase");
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

async fn record_audit(
    app: &TestApp,
    action: &'static str,
    target: Option<(&'static str, String)>,
    details: Value,
) {
    app.state
        .db
        .write(move |conn| {
            let mut entry = Entry::new(action).details(details);
            if let Some((kind, id)) = &target {
                entry = entry.target(kind, id);
            }
            audit::record(conn, &Actor::system("test"), entry)?;
            Ok(())
        })
        .await
        .expect("audit");
}

/// `(action, details)` of every audit entry.
async fn audit_details(app: &TestApp) -> Vec<(String, String)> {
    app.state
        .db
        .run(|conn| {
            Ok(audit_log::table
                .select((audit_log::action, audit_log::details))
                .load(conn)?)
        })
        .await
        .expect("audit")
}

/// `(to_addr, reply_to, subject, body_text)` of every outbox row.
async fn outbox_rows(app: &TestApp) -> Vec<(String, Option<String>, String, String)> {
    app.state
        .db
        .run(|conn| {
            Ok(outbox::table
                .select((
                    outbox::to_addr,
                    outbox::reply_to,
                    outbox::subject,
                    outbox::body_text,
                ))
                .load(conn)?)
        })
        .await
        .expect("outbox")
}

async fn erasing_an_address_leaves_a_longer_one_that_contains_it_alone(backend: Backend) {
    let app = spawn_app(backend).await;
    post_comment(&app, "Ann Example", ERASED, "Ann's own words.").await;
    post_comment(&app, "Jo Other", OTHER, "Jo's own words.").await;
    app.smtp.wait_for(4, WAIT).await;
    record_audit(
        &app,
        "newsletter.subscribers_imported",
        None,
        json!({"rows": [{"email": OTHER}, {"email": "ANN@gmail.com"}]}),
    )
    .await;
    record_audit(
        &app,
        "test.about_jo",
        None,
        json!({"to": format!("Jo <{OTHER}>")}),
    )
    .await;

    let report = erase(&app, ERASED).await;

    assert_eq!(report["comments"], 1);
    let rows = outbox_rows(&app).await;
    let jo_ack = rows
        .iter()
        .find(|(to, ..)| to == OTHER)
        .expect("Jo's acknowledgement is still addressed to Jo");
    assert_ne!(jo_ack.2, "(erased)", "{jo_ack:?}");
    assert!(!jo_ack.3.is_empty(), "{jo_ack:?}");
    let jo_notification = rows
        .iter()
        .find(|(_, reply_to, ..)| reply_to.as_deref().is_some_and(|r| r.contains(OTHER)))
        .expect("the staff notification still has Reply-To Jo");
    assert!(
        jo_notification.3.contains("Jo's own words"),
        "{jo_notification:?}"
    );
    assert!(
        rows.iter().all(|(to, reply_to, _, body)| to != ERASED
            && !reply_to
                .as_deref()
                .is_some_and(|r| r.contains("<ann@gmail.com>"))
            && !body.contains("Ann's own words")),
        "Ann's emails are erased: {rows:#?}"
    );
    let audit = audit_details(&app).await;
    let import = &audit
        .iter()
        .find(|(a, _)| a == "newsletter.subscribers_imported")
        .expect("import entry")
        .1;
    assert!(import.contains(OTHER), "Jo's address stays whole: {import}");
    assert!(
        !import.to_lowercase().contains("\"ann@gmail.com\""),
        "{import}"
    );
    assert!(import.contains("(erased)"), "{import}");
    let about_jo = &audit
        .iter()
        .find(|(a, _)| a == "test.about_jo")
        .expect("entry about Jo")
        .1;
    assert!(about_jo.contains(&format!("Jo <{OTHER}>")), "{about_jo}");
}

async fn retention_scrubs_the_audit_entries_naming_the_applicant(backend: Backend) {
    let app = spawn_app(backend).await;
    let posting = create_open(&app, "data-reporter").await;
    let applicant = "pat.applicant@example.org";
    let id = applied_id(apply(&app, "data-reporter", pdf_form(applicant)).await).await;
    // A staff action on the application that names the applicant (as a rejection does).
    record_audit(
        &app,
        "job_application.stage_changed",
        Some(("job_application", id.clone())),
        json!({"from": "new", "to": "rejected", "rejection_email_to": applicant,
               "note": "Jane Reader was told"}),
    )
    .await;
    let closed_at = close(&app, &posting).await.closed_at.expect("closed");
    let settings = app.settings.clone();

    let erased = app
        .state
        .db
        .run(move |conn| {
            frontdesk::retention::applicants(
                conn,
                closed_at + TimeDelta::days(181),
                TimeDelta::days(180),
                &settings,
            )
        })
        .await
        .expect("retention");

    assert_eq!(erased, 1);
    let entry = audit_details(&app)
        .await
        .into_iter()
        .find(|(a, _)| a == "job_application.stage_changed")
        .expect("the entry stays")
        .1;
    assert!(!entry.contains(applicant), "{entry}");
    assert!(!entry.contains("Jane Reader"), "{entry}");
    assert!(entry.contains("rejected"), "what was done stays: {entry}");
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default()
}

async fn wait_for_eml_files(dir: &Path, n: usize) -> Vec<PathBuf> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let files = eml_files(dir);
        if files.len() >= n {
            return files;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {n} .eml files were written",
            files.len()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn erasure_removes_the_eml_copies_of_the_file_transport(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.mail.transport = MailTransportKind::File).await;
    let dir = app.settings.mail.file_dir.clone();
    post_comment(&app, "Ann Example", ERASED, "Ann's own words.").await;
    post_comment(&app, "Jo Other", OTHER, "Jo's own words.").await;
    // Each comment: the reader's acknowledgement and the staff notification about it.
    wait_for_eml_files(&dir, 4).await;

    let report = erase(&app, ERASED).await;

    assert_eq!(report["email_files_deleted"], 2, "{report}");
    let left = eml_files(&dir);
    assert_eq!(left.len(), 2, "{left:?}");
    for file in left {
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(text.contains(OTHER), "only Jo's emails are left: {text}");
        assert!(
            !text.contains("<ann@gmail.com>") && !text.contains("Ann Example"),
            "{text}"
        );
    }
}
