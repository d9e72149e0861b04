//! Confidential tips: sealed at rest, never in email, the outbox or the logs; opened only by
//! staff holding the tips permission, each opening audited; key rotation; retention.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use frontdesk::comments::spam::issue_token;
use frontdesk::config::Secret;
use frontdesk::db::schema::audit_log;
use frontdesk::sealed::TipsKey;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{
    csrf_from, log_lines_with, spawn_app_with, watch_logs, Backend, TestApp, STAFF_PASSWORD,
};

both_backends!(
    a_tip_leaves_its_content_nowhere_but_in_sealed_form,
    only_staff_given_the_permission_open_a_tip_and_every_attempt_is_audited,
    rotation_keeps_every_tip_readable_and_a_wrong_key_fails_loudly,
    tips_go_after_their_period_unless_kept,
    the_reader_export_opens_their_tip_and_erasure_removes_it,
);

const WAIT: Duration = Duration::from_secs(15);

fn new_key() -> String {
    TipsKey::generate().1
}

async fn spawn(backend: Backend) -> TestApp {
    let key = new_key();
    spawn_app_with(backend, move |s| {
        s.security.tips_key = Some(Secret::new(key));
        s.comments.secure_contact_note = Some("Signal: +1 555 0100".into());
    })
    .await
}

/// A tip with `marker` in every field a reader fills in.
fn tip(app: &TestApp, marker: &str) -> Value {
    json!({
        "name": format!("Source {marker}"),
        "email": format!("src{marker}@example.org"),
        "subject": format!("About {marker}"),
        "message": format!("The ledger {marker} shows the transfer."),
        "article_url": format!("http://localhost/news/{marker}"),
        "website": "",
        "form_token": issue_token(&app.state.keys, Utc::now() - chrono::Duration::seconds(10)),
        "confidential": true,
    })
}

/// Sends a tip; returns its id and reference.
async fn send_tip(app: &TestApp, marker: &str) -> (String, String) {
    let res = app.comments().send(&tip(app, marker)).await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], "received");
    let reference = body["reference"].as_str().expect("reference").to_string();
    let r = reference.clone();
    let id = app
        .state
        .db
        .run(move |conn| {
            Ok(frontdesk::db::schema::comments::table
                .filter(frontdesk::db::schema::comments::reference.eq(r))
                .select(frontdesk::db::schema::comments::id)
                .first::<String>(conn)?)
        })
        .await
        .expect("stored");
    (id, reference)
}

fn marker() -> String {
    format!("mk{}", uuid::Uuid::new_v4().simple())
}

/// A token for a new account with `role`, and the account's id.
async fn account(app: &TestApp, role: &str) -> (String, String, String) {
    let login = app.staff_account(role).await;
    let email = login.email.clone();
    let user = app
        .state
        .db
        .run(move |conn| Ok(frontdesk::staff::store::find_user_by_email(conn, &email)?))
        .await
        .expect("lookup")
        .expect("account");
    let token = frontdesk::staff::service::create_token(
        &app.state.db,
        user.id.clone(),
        "test".into(),
        frontdesk::staff::audit::Actor::system("test"),
    )
    .await
    .expect("token");
    (token, user.id, login.email)
}

/// Grants the tips permission through the admin API.
async fn grant(app: &TestApp, admin: &str, user_id: &str, granted: bool) -> u16 {
    app.staff(admin)
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/staff/accounts/{user_id}/permissions"),
            Some(json!({ "permission": "tips", "granted": granted })),
        )
        .await
        .status()
        .as_u16()
}

async fn audit_count(app: &TestApp, action: &'static str, target: &str) -> i64 {
    let target = target.to_string();
    app.state
        .db
        .run(move |conn| {
            Ok(audit_log::table
                .filter(audit_log::action.eq(action))
                .filter(audit_log::target_id.eq(target))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .expect("audit count")
}

/// Every byte the database holds, as text: SQLite's files (with the WAL), or every row of
/// every PostgreSQL table as text.
async fn database_text(app: &TestApp, backend: Backend) -> String {
    match backend {
        Backend::Sqlite => {
            let mut text = String::new();
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let path = app.database.dir().join(format!("test.db{suffix}"));
                if let Ok(bytes) = std::fs::read(&path) {
                    text.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            assert!(text.len() > 10_000, "the SQLite file was read");
            text
        }
        Backend::Postgres => {
            #[derive(QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                t: String,
            }
            let url = app.database.url.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = diesel::PgConnection::establish(&url).expect("connect");
                let tables: Vec<Row> = diesel::sql_query(
                    "SELECT table_name::text AS t FROM information_schema.tables \
                     WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
                )
                .load(&mut conn)
                .expect("tables");
                assert!(tables.len() > 20, "every table is listed");
                let mut text = String::new();
                for table in tables {
                    let rows: Vec<Row> =
                        diesel::sql_query(format!("SELECT x::text AS t FROM \"{}\" x", table.t))
                            .load(&mut conn)
                            .expect("rows");
                    for row in rows {
                        text.push_str(&row.t);
                        text.push('\n');
                    }
                }
                text
            })
            .await
            .expect("dump")
        }
    }
}

/// Everything the SMTP server received, raw and decoded.
fn mail_text(app: &TestApp) -> String {
    let mut text = String::new();
    for mail in app.smtp.received() {
        text.push_str(&String::from_utf8_lossy(&mail.raw));
        text.push_str(&mail.rcpt_to.join(","));
        text.push_str(&mail.text_body().unwrap_or_default());
        text.push_str(&mail.html_body().unwrap_or_default());
    }
    text
}

/// The files of the mail folder (the `file` transport's copies), if any.
fn mail_folder_text(app: &TestApp) -> String {
    let mut text = String::new();
    if let Ok(entries) = std::fs::read_dir(&app.settings.mail.file_dir) {
        for entry in entries.flatten() {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    text
}

async fn assert_nowhere(app: &TestApp, backend: Backend, needle: &str) {
    let db = database_text(app, backend).await;
    assert!(!db.contains(needle), "{needle} is in the database");
    assert!(!mail_text(app).contains(needle), "{needle} was emailed");
    assert!(
        !mail_folder_text(app).contains(needle),
        "{needle} is in the mail folder"
    );
    assert_eq!(log_lines_with(needle), 0, "{needle} was logged");
}

async fn a_tip_leaves_its_content_nowhere_but_in_sealed_form(backend: Backend) {
    let app = spawn(backend).await;
    let (admin, _, _) = account(&app, "admin").await;
    let (editor, editor_id, _) = account(&app, "editor").await;
    assert_eq!(grant(&app, &admin, &editor_id, true).await, 200);
    let marker = marker();
    watch_logs(&marker);
    let token: Value = app
        .get("/api/v1/comments/token")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(token["confidential"], true);
    assert_eq!(token["secure_contact_note"], "Signal: +1 555 0100");

    // A control: the capture sees the server's lines (this one names no reader).
    watch_logs("email=(confidential)");
    let (id, reference) = send_tip(&app, &marker).await;
    app.drain_outbox().await;

    // The staff inbox hears that a tip arrived, with a link, and nothing else; the reader
    // gets no email (the answer carried the reference).
    let mails = app.smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_to, ["newsroom@localhost"]);
    assert!(mails[0].header("Reply-To").is_none());
    let body = mails[0].text_body().expect("text");
    assert!(body.contains(&format!("/staff/comments/{id}")), "{body}");
    assert!(body.contains(&reference), "{body}");
    // The list shows that a tip exists, not what it says.
    let list = app.staff(&editor).get_ok("/api/v1/staff/comments").await;
    let item = &list["items"][0];
    assert_eq!(item["confidential"], true);
    assert_eq!(item["name"], "Confidential tip");
    // Staff with the permission read it, in the API and on the page.
    let detail = app
        .staff(&editor)
        .get_ok(&format!("/api/v1/staff/comments/{id}"))
        .await;
    assert_eq!(
        detail["message"],
        format!("The ledger {marker} shows the transfer.")
    );
    assert_eq!(detail["email"], format!("src{marker}@example.org"));
    assert_eq!(
        detail["article_url"],
        format!("http://localhost/news/{marker}")
    );
    let note_marker = format!("note{marker}");
    let res = app
        .staff(&editor)
        .post_json(
            &format!("/api/v1/staff/comments/{id}/notes"),
            json!({ "body": format!("Call {note_marker}") }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let login = app.staff_account("editor").await;
    let login_id = {
        let email = login.email.clone();
        app.state
            .db
            .run(move |conn| Ok(frontdesk::staff::store::find_user_by_email(conn, &email)?))
            .await
            .expect("lookup")
            .expect("account")
            .id
    };
    assert_eq!(grant(&app, &admin, &login_id, true).await, 200);
    assert_eq!(
        app.sign_in(&login.email, STAFF_PASSWORD).await.status(),
        303
    );
    let page = app.get(&format!("/staff/comments/{id}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("page");
    assert!(
        html.contains(&format!("The ledger {marker}")),
        "page shows the tip"
    );
    assert!(html.contains(&note_marker), "page shows the note");
    assert_eq!(audit_count(&app, "comment.tip_opened", &id).await, 2);
    // A CSV export never holds it.
    let csv = app
        .staff(&editor)
        .get("/api/v1/staff/comments.csv")
        .await
        .text()
        .await
        .expect("csv");
    assert!(!csv.contains(&reference), "{csv}");

    // A control: the same scan finds a plain comment's text (so it can fail).
    let plain = self::marker();
    let mut comment = tip(&app, &plain);
    comment["confidential"] = json!(false);
    assert_eq!(app.comments().send(&comment).await.status(), 202);
    app.drain_outbox().await;
    assert!(database_text(&app, backend).await.contains(&plain));
    assert!(mail_text(&app).contains(&plain));
    assert_nowhere(&app, backend, &marker).await;
    assert!(
        log_lines_with("email=(confidential)") > 0,
        "the log capture works"
    );

    // A staff reply is sealed; the outbox row holds neither the address nor the text; the
    // reader gets it.
    let reply_marker = format!("reply{marker}");
    watch_logs(&reply_marker);
    let csrf = csrf_from(&html);
    let res = app
        .client
        .post(app.url(&format!("/staff/comments/{id}/reply")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("message", &format!("Thank you. {reply_marker}")),
        ])
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), 303);
    let detail = app
        .staff(&editor)
        .get_ok(&format!("/api/v1/staff/comments/{id}"))
        .await;
    let outbox_id = detail["replies"][0]["outbox_id"]
        .as_str()
        .expect("outbox id")
        .to_string();
    let row = app.outbox_row(&outbox_id).await;
    assert_eq!(row.to_addr, "(confidential)");
    assert!(row.body_text.is_empty() && row.body_html.is_empty());
    app.drain_outbox().await;
    let mails = app.smtp.wait_for(4, WAIT).await;
    let reply = mails
        .iter()
        .find(|m| m.rcpt_to == [format!("src{marker}@example.org")])
        .expect("reply to the reader");
    assert!(reply.text_body().expect("text").contains(&reply_marker));
    let row = app.outbox_row(&outbox_id).await;
    assert_eq!(row.state, "sent");
    assert_eq!(row.to_addr, "(confidential)");
    assert!(row.body_text.is_empty());
    let db = database_text(&app, backend).await;
    assert!(
        !db.contains(&marker),
        "the reader's marker is in the database"
    );
    assert!(!db.contains(&reply_marker), "the reply is in the database");
    assert_eq!(log_lines_with(&marker), 0, "logged");
    assert_eq!(log_lines_with(&reply_marker), 0, "logged");
}

async fn only_staff_given_the_permission_open_a_tip_and_every_attempt_is_audited(backend: Backend) {
    let app = spawn(backend).await;
    let (admin, admin_id, _) = account(&app, "admin").await;
    let (id, _) = send_tip(&app, &marker()).await;
    let path = format!("/api/v1/staff/comments/{id}");

    // Without the permission: 403 for every role (admins and editors refused by the tip,
    // the others by the route), and the tip's refusals are audited.
    for role in ["admin", "editor", "fundraising", "hiring"] {
        let (token, _, _) = account(&app, role).await;
        let (status, body) = app.get_json(&token, &path).await;
        assert_eq!(status, 403, "{role}: {body}");
        assert!(!body.to_string().contains("ledger"), "{body}");
        let res = app
            .staff(&token)
            .send(reqwest::Method::PATCH, &path, Some(json!({ "keep": true })))
            .await;
        assert_eq!(res.status(), 403, "{role} keeps");
        let res = app
            .staff(&token)
            .post_json(&format!("{path}/reply"), json!({ "message": "hello" }))
            .await;
        assert_eq!(res.status(), 403, "{role} replies");
    }
    assert_eq!(audit_count(&app, "comment.tip_refused", &id).await, 6);
    let (status, _) = app.get_json(&admin, &path).await;
    assert_eq!(status, 403);
    // Signed in on the page: 403 too, and audited.
    let csrf = app.signed_in("editor").await;
    assert!(!csrf.is_empty());
    let page = app.get(&format!("/staff/comments/{id}")).await;
    assert_eq!(page.status(), 403);
    assert_eq!(audit_count(&app, "comment.tip_refused", &id).await, 8);

    // Only admins grant it, only to admins and editors; granting is audited.
    let (editor, editor_id, editor_email) = account(&app, "editor").await;
    let (hiring, hiring_id, _) = account(&app, "hiring").await;
    assert_eq!(grant(&app, &editor, &editor_id, true).await, 403);
    assert_eq!(grant(&app, &admin, &hiring_id, true).await, 422);
    let res = app
        .staff(&admin)
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/staff/accounts/{editor_id}/permissions"),
            Some(json!({ "permission": "everything", "granted": true })),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("problem");
    assert_eq!(body["errors"][0]["field"], "permission");
    assert_eq!(grant(&app, &admin, &editor_id, true).await, 200);
    assert_eq!(grant(&app, &admin, &admin_id, true).await, 200);
    assert_eq!(
        audit_count(&app, "staff.permission_granted", &editor_id).await,
        1
    );
    let (status, body) = app.get_json(&hiring, &path).await;
    assert_eq!(status, 403, "{body}");
    let detail = app.staff(&editor).get_ok(&path).await;
    assert!(detail["message"]
        .as_str()
        .expect("message")
        .contains("ledger"));
    assert_eq!(audit_count(&app, "comment.tip_opened", &id).await, 1);

    // Restricted to the editor: the admin holding the permission is refused.
    let res = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "readers": [editor_email] })),
        )
        .await;
    assert_eq!(res.status(), 200);
    let (status, _) = app.get_json(&admin, &path).await;
    assert_eq!(status, 403);
    app.staff(&editor).get_ok(&path).await;
    // Withdrawn: refused again.
    assert_eq!(grant(&app, &admin, &editor_id, false).await, 200);
    let (status, _) = app.get_json(&editor, &path).await;
    assert_eq!(status, 403);
    assert_eq!(audit_count(&app, "comment.tip_opened", &id).await, 3);
    assert_eq!(audit_count(&app, "comment.tip_refused", &id).await, 10);

    // An admin grants it on the accounts page too (a CSRF-protected form), audited.
    let (late, late_id, _) = account(&app, "editor").await;
    let csrf = app.signed_in("admin").await;
    let page = app.get("/staff/accounts").await.text().await.expect("page");
    assert!(
        page.contains(&format!("/staff/accounts/{late_id}/tips")),
        "form shown"
    );
    let res = app
        .client
        .post(app.url(&format!("/staff/accounts/{late_id}/tips")))
        .form(&[("csrf_token", csrf.as_str()), ("value", "true")])
        .send()
        .await
        .expect("form");
    assert_eq!(res.status(), 303);
    assert_eq!(
        audit_count(&app, "staff.permission_granted", &late_id).await,
        1
    );
    // The tip is still restricted to the first editor: the new holder is refused by that.
    let (status, _) = app.get_json(&late, &path).await;
    assert_eq!(status, 403);
    let held = late_id.clone();
    let holds = app
        .state
        .db
        .run(move |conn| {
            Ok(frontdesk::staff::permissions::has(
                conn,
                &held,
                frontdesk::staff::permissions::Permission::Tips,
            )?)
        })
        .await
        .expect("permission");
    assert!(holds);
    let res = app
        .client
        .post(app.url(&format!("/staff/accounts/{late_id}/tips")))
        .form(&[("value", "false")])
        .send()
        .await
        .expect("form");
    assert_eq!(res.status(), 403, "no CSRF token, no change");
    // Anonymous: 401.
    let anonymous = reqwest::Client::new();
    let res = anonymous
        .get(app.url(&path))
        .send()
        .await
        .expect("anonymous");
    assert_eq!(res.status(), 401);
    let res = anonymous
        .put(app.url(&format!("/api/v1/staff/accounts/{editor_id}/permissions")))
        .json(&json!({ "permission": "tips", "granted": true }))
        .send()
        .await
        .expect("anonymous");
    assert_eq!(res.status(), 401);
}

async fn rotation_keeps_every_tip_readable_and_a_wrong_key_fails_loudly(backend: Backend) {
    let app = spawn(backend).await;
    let (admin, admin_id, _) = account(&app, "admin").await;
    assert_eq!(grant(&app, &admin, &admin_id, true).await, 200);
    let mut tips = Vec::new();
    for _ in 0..3 {
        let m = marker();
        let (id, _) = send_tip(&app, &m).await;
        tips.push((id, m));
    }
    let first = tips[0].0.clone();
    let res = app
        .staff(&admin)
        .post_json(
            &format!("/api/v1/staff/comments/{first}/notes"),
            json!({ "body": "a note to rotate" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .staff(&admin)
        .post_json(
            &format!("/api/v1/staff/comments/{first}/reply"),
            json!({ "message": "a reply to rotate" }),
        )
        .await;
    assert_eq!(res.status(), 201);

    let old = app.state.tips.clone().expect("a tips key");
    let old_secret = app.settings.security.tips_key.clone();
    let new_text = new_key();
    let new = TipsKey::parse(&new_text).expect("key");
    let mut seen = Vec::new();
    let done = frontdesk::comments::confidential::rotate_key(
        &app.state.db,
        old.clone(),
        new,
        move |done, total| seen.push((done, total)),
    )
    .await
    .expect("rotate");
    assert_eq!((done.tips, done.notes, done.replies), (3, 1, 1));
    assert_eq!(audit_count_untargeted(&app, "tips.key_rotated").await, 1);

    // With the new key every tip, note and reply reads as before.
    let mut app = app;
    app.settings.security.tips_key = Some(Secret::new(new_text));
    let app = app.restart().await;
    for (id, m) in &tips {
        let detail = app
            .staff(&admin)
            .get_ok(&format!("/api/v1/staff/comments/{id}"))
            .await;
        assert_eq!(
            detail["message"],
            format!("The ledger {m} shows the transfer.")
        );
    }
    let detail = app
        .staff(&admin)
        .get_ok(&format!("/api/v1/staff/comments/{first}"))
        .await;
    assert_eq!(detail["notes"][0]["body"], "a note to rotate");
    assert_eq!(detail["replies"][0]["message"], "a reply to rotate");

    // With the old key: a loud 500, never garbage, and no opening recorded.
    let opened = audit_count(&app, "comment.tip_opened", &first).await;
    let mut app = app;
    app.settings.security.tips_key = old_secret;
    let app = app.restart().await;
    let (status, body) = app
        .get_json(&admin, &format!("/api/v1/staff/comments/{first}"))
        .await;
    assert_eq!(status, 500, "{body}");
    assert!(!body.to_string().contains("ledger"), "{body}");
    assert_eq!(
        audit_count(&app, "comment.tip_opened", &first).await,
        opened
    );
}

async fn audit_count_untargeted(app: &TestApp, action: &'static str) -> i64 {
    app.state
        .db
        .run(move |conn| {
            Ok(audit_log::table
                .filter(audit_log::action.eq(action))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .expect("audit count")
}

async fn tips_go_after_their_period_unless_kept(backend: Backend) {
    let app = spawn(backend).await;
    let (admin, admin_id, _) = account(&app, "admin").await;
    assert_eq!(grant(&app, &admin, &admin_id, true).await, 200);
    let (kept, _) = send_tip(&app, &marker()).await;
    let (gone, _) = send_tip(&app, &marker()).await;
    let res = app
        .staff(&admin)
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/staff/comments/{kept}"),
            Some(json!({ "keep": true })),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(audit_count(&app, "comment.tip_kept", &kept).await, 1);
    let period = TimeDelta::days(i64::from(app.settings.retention.confidential_tip_days));
    let deleted = app
        .state
        .db
        .run(move |conn| {
            let now = frontdesk::db::now();
            let early = frontdesk::retention::confidential_tips(conn, now, period)?;
            let late = frontdesk::retention::confidential_tips(
                conn,
                now + period + TimeDelta::days(1),
                period,
            )?;
            Ok((early, late))
        })
        .await
        .expect("retention");
    assert_eq!(deleted, (0, 1));
    let (status, _) = app
        .get_json(&admin, &format!("/api/v1/staff/comments/{gone}"))
        .await;
    assert_eq!(status, 404);
    app.staff(&admin)
        .get_ok(&format!("/api/v1/staff/comments/{kept}"))
        .await;
}

async fn the_reader_export_opens_their_tip_and_erasure_removes_it(backend: Backend) {
    let app = spawn(backend).await;
    let (admin, _, _) = account(&app, "admin").await;
    let m = marker();
    let (id, _) = send_tip(&app, &m).await;
    let address = format!("src{m}@example.org");
    // Staff see that the person sent a tip, not what it says.
    let person = app
        .staff(&admin)
        .get_ok(&format!("/api/v1/staff/people?email={address}"))
        .await;
    let text = person.to_string();
    assert_eq!(person["comments"][0]["confidential"], true, "{person}");
    assert!(!text.contains("ledger"), "{person}");
    // The reader's own export, verified by email, holds it.
    let email = frontdesk::domain::EmailAddress::parse(&address).expect("address");
    let opened = frontdesk::people::service::look_up(
        &app.state.db,
        &app.state.keys,
        &app.settings.uploads.dir,
        &email,
        frontdesk::staff::audit::Actor::system("reader"),
        frontdesk::people::service::Purpose::ExportJson,
        (app.state.tips.clone(), true),
    )
    .await
    .expect("export");
    assert_eq!(
        opened.comments[0].message,
        format!("The ledger {m} shows the transfer.")
    );
    // Erasure removes the sealed row.
    let res = app
        .staff(&admin)
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/staff/people?email={address}"),
            None,
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let (status, _) = app
        .get_json(&admin, &format!("/api/v1/staff/comments/{id}"))
        .await;
    assert_eq!(status, 404);
}
