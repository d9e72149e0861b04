//! One person across Frontdesk: found, exported and erased everywhere, by staff and by the
//! reader; the access rules of the people routes.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use frontdesk::db::DbConnection;
use frontdesk::jobs::model::{
    EmploymentType, NewPosting, PostingInput, PostingStatus, QuestionInput, QuestionKind, Workplace,
};
use frontdesk::mail::outbox::{self, OutboxState};
use frontdesk::staff::audit::{self, Actor, Entry};
use frontdesk::staff::Role;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{link, spawn_app_with, test_email, Backend, TestApp};

both_backends!(
    one_person_in_every_feature_is_exported_then_erased_without_a_trace,
    staff_page_searches_exports_and_erases_with_a_typed_confirmation,
    reader_downloads_and_deletes_their_data_from_the_preferences_page,
    donor_deletes_their_data_from_the_manage_page_after_a_second_link,
    people_routes_are_for_admins_only,
);

const WAIT: Duration = Duration::from_secs(20);
const EMAIL: &str = "jane.quill@example.org";
const NAME: &str = "Jane Quill";
const DEDICATION: &str = "Ada Quill";
const PHONE: &str = "+44 20 7946 0958";
const ARTICLE: &str = "http://localhost/news/2026/budget";

async fn spawn(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.newsletter.dispatch_interval_ms = 50;
        s.newsletter.per_address_per_minute = 1000;
    })
    .await
}

// ---- arrange: one person's data in every feature, through the public API ----------------

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n".to_vec()
}

/// Waits for an email to `to` whose subject contains `subject`; returns its text body.
async fn mail_to(app: &TestApp, to: &str, subject: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let found = app.smtp.received().into_iter().find(|m| {
            m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(to))
                && m.subject().unwrap_or_default().contains(subject)
        });
        if let Some(mail) = found {
            return mail.text_body().expect("text part");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no email to {to} about {subject:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Presses a self-service button (`form_action`): the page says to check the inbox, exactly
/// one email about `subject` arrives, and its link starting with `link_start` is returned.
async fn emailed_link(app: &TestApp, form_action: &str, subject: &str, link_start: &str) -> String {
    let sent = app.smtp.count();
    let asked = app
        .client
        .post(app.url(form_action))
        .send()
        .await
        .expect("post");
    assert_eq!(asked.status(), 200);
    assert!(asked
        .text()
        .await
        .expect("html")
        .contains("Check your inbox"));
    let text = mail_to(app, EMAIL, subject).await;
    assert_eq!(app.smtp.count(), sent + 1);
    link(&text, link_start)
}

async fn subscribe(app: &TestApp, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/newsletter/subscriptions"))
        .json(&json!({"email": email, "name": NAME, "source_url": "https://news.example.org/"}))
        .send()
        .await
        .expect("subscribe")
}

/// Subscribes and confirms through the emailed link; returns the preferences path of the
/// confirmed subscriber (from the newsletter's unsubscribe token).
async fn subscribe_and_confirm(app: &TestApp) {
    assert_eq!(subscribe(app, "Jane.Quill@Example.org").await.status(), 202);
    let text = mail_to(app, EMAIL, "confirm your subscription").await;
    let confirm = link(&text, "/newsletter/confirm?token=");
    let res = app
        .client
        .post(app.url(&confirm))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("confirm");
    assert_eq!(res.status(), 200);
}

async fn donate_and_mark_paid(app: &TestApp) -> String {
    let res = app
        .client
        .post(app.url("/api/v1/donations"))
        .json(&json!({
            "amount_minor": 2500, "currency": "USD", "frequency": "one_time",
            "email": EMAIL, "name": NAME,
            "dedication": {"kind": "memory", "name": DEDICATION},
            "message": "For the budget desk, from Jane Quill",
        }))
        .send()
        .await
        .expect("donate");
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let token = app.staff_token("fundraising").await;
    let paid = app
        .client
        .post(app.url(&format!("/api/v1/staff/donations/{id}/mark-paid")))
        .bearer_auth(token)
        .send()
        .await
        .expect("mark paid");
    assert_eq!(paid.status(), 200);
    id
}

async fn vote(app: &TestApp) -> String {
    let res = app
        .client
        .post(app.url("/api/v1/feedback"))
        .json(&json!({
            "article_url": ARTICLE, "helpful": false, "reason": "other",
            "comment": "The figures are wrong. Write to me: Jane.Quill@example.org (Jane Quill)",
        }))
        .send()
        .await
        .expect("vote");
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string()
}

async fn comment(app: &TestApp) -> String {
    let token = frontdesk::comments::spam::issue_token(
        &app.state.keys,
        Utc::now() - TimeDelta::seconds(10),
    );
    let res = app
        .client
        .post(app.url("/api/v1/comments"))
        .json(&json!({
            "name": NAME, "email": EMAIL, "subject": "Budget story",
            "message": "I am Jane Quill and I worked on that budget for years.",
            "article_url": ARTICLE, "website": "", "form_token": token,
        }))
        .send()
        .await
        .expect("comment");
    assert!(res.status().is_success(), "{}", res.status());
    let comments = app
        .state
        .db
        .run(|conn| {
            frontdesk::comments::privacy::find_by_email(
                conn,
                "jane.quill@example.org",
                frontdesk::comments::privacy::Tips::NONE,
            )
        })
        .await
        .expect("comments");
    comments[0].id.clone()
}

async fn open_posting(app: &TestApp) -> String {
    let input = PostingInput {
        slug: "budget-reporter".into(),
        title: "Budget Reporter".into(),
        summary: "Follow the money.".into(),
        description_markdown: "## The role\n\nYou will read budgets.".into(),
        location: "Leeds".into(),
        country: Some("GB".into()),
        remote: Workplace::Hybrid,
        employment_type: EmploymentType::FullTime,
        salary: None,
        hiring_contacts: vec!["editor@newsroom.test".into()],
        opens_at: None,
        closes_at: Some(Utc::now() + TimeDelta::days(30)),
        status: PostingStatus::Open,
        questions: vec![QuestionInput {
            id: None,
            kind: QuestionKind::LongText,
            label: "A story you broke".into(),
            required: true,
        }],
    };
    let new = NewPosting::try_from(input).expect("valid posting");
    app.state
        .db
        .write(move |conn| frontdesk::jobs::store::insert_posting(conn, &new, frontdesk::db::now()))
        .await
        .expect("insert posting")
        .slug
}

async fn apply(app: &TestApp, slug: &str) -> String {
    let detail: Value = app
        .get(&format!("/api/v1/jobs/{slug}"))
        .await
        .json()
        .await
        .expect("json");
    let question = detail["questions"][0]["id"].as_str().expect("question");
    let form = Form::new()
        .text("name", NAME)
        .text("email", EMAIL)
        .text("phone", PHONE)
        .text("cover_letter", "Dear editors, I am Jane Quill.")
        .text("consent", "true")
        .text("keep_on_file", "true")
        .text(
            format!("answer_{question}"),
            "The council budget hole, as Jane Quill.",
        )
        .part(
            "cv",
            Part::bytes(pdf())
                .file_name("Jane Quill CV.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );
    let res = app
        .client
        .post(app.url(&format!("/api/v1/jobs/{slug}/applications")))
        .multipart(form)
        .send()
        .await
        .expect("apply");
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string()
}

/// Queues an email to the person that no worker will claim yet (as a newsletter issue held
/// by a pause is): it is still queued when the erasure runs.
async fn queue_held_email(app: &TestApp) -> String {
    let row = app
        .state
        .mailer
        .compose(test_email(EMAIL))
        .expect("compose");
    let id = row.id.clone();
    let held = id.clone();
    app.state
        .db
        .write(move |conn| {
            outbox::enqueue(conn, &[row])?;
            use frontdesk::db::schema::outbox::dsl as o;
            diesel::update(o::outbox.find(&held))
                .set(o::next_attempt_at.eq(frontdesk::newsletter::store::held_until()))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("queue");
    id
}

/// An audit snapshot naming the person outside any of their records (as an import log does).
async fn audit_snapshot_naming_the_person(app: &TestApp) {
    app.state
        .db
        .write(|conn| {
            audit::record(
                conn,
                &Actor::system("test"),
                Entry::new("newsletter.subscribers_imported").details(json!({
                    "rows": [{"email": "Jane.Quill@Example.org", "name": NAME}],
                })),
            )?;
            Ok(())
        })
        .await
        .expect("audit");
}

/// Waits until the outbox has nothing due left to send.
async fn outbox_settled(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let due = app
            .state
            .db
            .run(|conn| {
                use frontdesk::db::schema::outbox::dsl as o;
                Ok(o::outbox
                    .filter(o::state.eq(OutboxState::Queued.as_str()))
                    .filter(o::next_attempt_at.lt(frontdesk::newsletter::store::held_until()))
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .await
            .expect("count");
        if due == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox did not drain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

// ---- the scan of every text column of every table ----------------------------------------

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every `(table, column)` holding text, from the database's own catalogue.
fn text_columns(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
    match conn {
        DbConnection::Sqlite(c) => {
            let tables: Vec<Name> = diesel::sql_query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .load(c)?;
            let mut out = Vec::new();
            for t in tables {
                let columns: Vec<Column> = diesel::sql_query(format!(
                    "SELECT '{0}' AS table_name, name AS column_name FROM pragma_table_info('{0}') \
                     WHERE upper(type) LIKE '%TEXT%' OR upper(type) LIKE '%CHAR%'",
                    t.name
                ))
                .load(c)?;
                out.extend(columns.into_iter().map(|c| (c.table_name, c.column_name)));
            }
            Ok(out)
        }
        DbConnection::Postgres(c) => {
            let columns: Vec<Column> = diesel::sql_query(
                "SELECT table_name::text AS table_name, column_name::text AS column_name \
                 FROM information_schema.columns WHERE table_schema = 'public' \
                 AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')",
            )
            .load(c)?;
            Ok(columns
                .into_iter()
                .map(|c| (c.table_name, c.column_name))
                .collect())
        }
    }
}

/// `(table.column, needle)` for every text column holding one of `needles` (any case).
async fn traces(app: &TestApp, needles: &[&str]) -> Vec<String> {
    let needles: Vec<String> = needles.iter().map(|n| n.to_lowercase()).collect();
    app.state
        .db
        .run(move |conn| {
            let columns = text_columns(conn)?;
            assert!(columns.len() > 50, "the catalogue lists the text columns");
            let mut found = Vec::new();
            for (table, column) in columns {
                for needle in &needles {
                    let sql = format!(
                        "SELECT COUNT(*) AS n FROM \"{table}\" WHERE lower(CAST(\"{column}\" AS TEXT)) LIKE '%{}%'",
                        needle.replace('\'', "''")
                    );
                    let n = match conn {
                        DbConnection::Sqlite(c) => diesel::sql_query(sql).get_result::<Count>(c)?,
                        DbConnection::Postgres(c) => diesel::sql_query(sql).get_result::<Count>(c)?,
                    };
                    if n.n > 0 {
                        found.push(format!("{table}.{column} holds {needle:?} ({} rows)", n.n));
                    }
                }
            }
            Ok(found)
        })
        .await
        .expect("scan")
}

/// The JSON of a staff `GET` about one person, which must answer 200 and never be cached.
async fn private_json(app: &TestApp, token: &str, path: &str) -> Value {
    let res = app.staff(token).get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.json().await.expect("json")
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, Option<String>, String)> {
    app.state
        .db
        .run(|conn| Ok(audit::list(conn, None, None, 500)?))
        .await
        .expect("audit")
        .into_iter()
        .map(|r| (r.action, r.target_id, r.details))
        .collect()
}

// ---- the tests ----------------------------------------------------------------------------

async fn one_person_in_every_feature_is_exported_then_erased_without_a_trace(backend: Backend) {
    let app = spawn(backend).await;
    subscribe_and_confirm(&app).await;
    let donation_id = donate_and_mark_paid(&app).await;
    let vote_id = vote(&app).await;
    let comment_id = comment(&app).await;
    let slug = open_posting(&app).await;
    let application_id = apply(&app, &slug).await;
    outbox_settled(&app).await;
    let held = queue_held_email(&app).await;
    audit_snapshot_naming_the_person(&app).await;
    let cvs = frontdesk::jobs::upload::cv_dir(&app.settings.uploads.dir);
    assert_eq!(files_under(&cvs).len(), 1, "the CV is on disk");
    let needles = [EMAIL, NAME, DEDICATION, PHONE];
    assert!(
        !traces(&app, &needles).await.is_empty(),
        "the scan finds the person before"
    );
    let admin = app.staff_token("admin").await;

    // Export: every record is there, with its id and staff link.
    let person = private_json(
        &app,
        &admin,
        &format!("/api/v1/staff/people?email={}", "JANE.QUILL%40example.org"),
    )
    .await;
    assert_eq!(person["email"], EMAIL);
    let s = &person["newsletter"]["subscriber"];
    assert_eq!(s["status"], "confirmed");
    assert_eq!(s["name"], NAME);
    assert!(s["staff_url"]
        .as_str()
        .expect("url")
        .starts_with("/staff/subscribers/"));
    let kinds: Vec<&str> = s["consents"]
        .as_array()
        .expect("consents")
        .iter()
        .map(|c| c["kind"].as_str().expect("kind"))
        .collect();
    assert!(!kinds.is_empty(), "consents are listed");
    assert_eq!(person["newsletter"]["blocked"], false);
    assert_eq!(ids(&person["donations"]), vec![donation_id.clone()]);
    let gift = &person["donations"][0];
    assert_eq!(gift["dedication_name"], DEDICATION);
    assert_eq!(gift["payments"].as_array().expect("payments").len(), 1);
    assert_eq!(gift["staff_url"], format!("/staff/donations/{donation_id}"));
    assert_eq!(ids(&person["feedback_votes"]), vec![vote_id.clone()]);
    assert_eq!(ids(&person["comments"]), vec![comment_id.clone()]);
    assert_eq!(
        person["comments"][0]["staff_url"],
        format!("/staff/comments/{comment_id}")
    );
    assert_eq!(
        ids(&person["job_applications"]),
        vec![application_id.clone()]
    );
    let application = &person["job_applications"][0];
    assert_eq!(application["phone"], PHONE);
    assert_eq!(application["cv"]["filename"], "Jane Quill CV.pdf");
    assert_eq!(application["answers"][0]["question"], "A story you broke");
    assert!(
        application.get("cv_file").is_none(),
        "the disk path is not shown"
    );
    let templates: Vec<&str> = person["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .map(|e| e["template"].as_str().expect("template"))
        .collect();
    for expected in [
        "newsletter_confirm",
        "donation_pledge",
        "donation_receipt",
        "comment_acknowledgement",
        "job_application_received",
        "smtp_check",
    ] {
        assert!(
            templates.contains(&expected),
            "{expected} missing in {templates:?}"
        );
    }
    assert!(ids(&person["emails"]).contains(&held));

    let export = app
        .client
        .get(app.url(&format!("/api/v1/staff/people/export.json?email={EMAIL}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export");
    assert_eq!(export.status(), 200);
    assert_eq!(
        export.headers()["content-disposition"],
        "attachment; filename=\"person.json\""
    );
    let exported: Value = export.json().await.expect("json");
    assert_eq!(ids(&exported["comments"]), vec![comment_id.clone()]);
    assert_eq!(
        ids(&exported["job_applications"]),
        vec![application_id.clone()]
    );

    let zip = app
        .client
        .get(app.url(&format!("/api/v1/staff/people/export.zip?email={EMAIL}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("zip");
    assert_eq!(zip.status(), 200);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let bytes = zip.bytes().await.expect("bytes");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut json_text = String::new();
    archive
        .by_name("person.json")
        .expect("person.json")
        .read_to_string(&mut json_text)
        .expect("read");
    let in_zip: Value = serde_json::from_str(&json_text).expect("json");
    assert_eq!(ids(&in_zip["donations"]), vec![donation_id.clone()]);
    let cv_name = format!("cv/{application_id}-Jane_Quill_CV.pdf");
    let mut cv = Vec::new();
    archive
        .by_name(&cv_name)
        .expect("the CV in the zip")
        .read_to_end(&mut cv)
        .expect("read");
    assert_eq!(cv, pdf());

    // Erase.
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/staff/people?email={EMAIL}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("erase");
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.expect("json");
    assert_eq!(report["newsletter_subscribers"], 1);
    assert_eq!(report["donations"], 1);
    assert_eq!(report["feedback_votes"], 1);
    assert_eq!(report["comments"], 1);
    assert_eq!(report["job_applications"], 1);
    assert_eq!(report["cv_files_deleted"], 1);
    assert_eq!(report["emails_cancelled"], 1);
    assert!(report["audit_entries_scrubbed"].as_u64().expect("count") >= 1);

    // Nothing with the address or the name is left in any text column of any table.
    let left = traces(&app, &needles).await;
    assert!(left.is_empty(), "traces left: {left:#?}");
    assert!(files_under(&cvs).is_empty(), "the CV file is gone");
    assert_eq!(app.outbox_row(&held).await.state, "cancelled");
    assert_eq!(app.outbox_row(&held).await.body_text, "");
    // Accounting keeps the gift's amount, date and receipt, anonymised.
    let gift = app
        .state
        .db
        .run(move |conn| {
            Ok(frontdesk::donations::store::find_donation(
                conn,
                &donation_id,
            )?)
        })
        .await
        .expect("gift");
    assert_eq!(
        (
            gift.amount_minor,
            gift.currency.as_str(),
            gift.name.as_deref()
        ),
        (2500, "USD", None)
    );
    let kept = gift.id.clone();
    let payments = app
        .state
        .db
        .run(move |conn| {
            use frontdesk::db::schema::donation_payments::dsl as p;
            Ok(p::donation_payments
                .filter(p::donation_id.eq(kept))
                .select(p::receipt_number)
                .load::<String>(conn)?)
        })
        .await
        .expect("payments");
    assert_eq!(payments.len(), 1, "the receipt number is kept");
    // The erasure is audited by a keyed hash, not the address.
    let entries = audit_actions(&app).await;
    let erased = entries
        .iter()
        .find(|(a, _, _)| a == "person.erased")
        .expect("audited");
    let hash = erased.1.clone().expect("target");
    assert_eq!(hash.len(), 64);
    for action in [
        "person.viewed",
        "person.exported_json",
        "person.exported_zip",
    ] {
        assert!(
            entries
                .iter()
                .any(|(a, t, _)| a == action && t.as_deref() == Some(hash.as_str())),
            "{action} audited"
        );
    }
    let after = private_json(&app, &admin, &format!("/api/v1/staff/people?email={EMAIL}")).await;
    assert_eq!(after["newsletter"]["blocked"], true);
    assert_eq!(after["newsletter"]["block_reason"], "erased");
    assert!(after["donations"].as_array().expect("array").is_empty());
    assert!(after["emails"].as_array().expect("array").is_empty());

    // A new subscription of the address is answered as always, and stores and sends nothing…
    let sent_before = app.smtp.count();
    assert_eq!(subscribe(&app, EMAIL).await.status(), 202);
    app.expect_no_more_mail().await;
    assert_eq!(app.smtp.count(), sent_before);
    assert!(
        traces(&app, &[EMAIL]).await.is_empty(),
        "nothing stored again"
    );

    // …until staff lift the block.
    let lift = app
        .client
        .delete(app.url(&format!(
            "/api/v1/staff/people/newsletter-block?email={EMAIL}"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("lift");
    assert_eq!(lift.status(), 204);
    let again = app
        .client
        .delete(app.url(&format!(
            "/api/v1/staff/people/newsletter-block?email={EMAIL}"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("lift");
    assert_eq!(again.status(), 404, "nothing left to lift");
    assert_eq!(subscribe(&app, EMAIL).await.status(), 202);
    let text = mail_to(&app, EMAIL, "confirm your subscription").await;
    assert!(text.contains("/newsletter/confirm?token="));
    assert!(audit_actions(&app)
        .await
        .iter()
        .any(|(a, t, _)| a == "person.newsletter_block_lifted"
            && t.as_deref() == Some(hash.as_str())));
}

async fn staff_page_searches_exports_and_erases_with_a_typed_confirmation(backend: Backend) {
    let app = spawn(backend).await;
    let comment_id = comment(&app).await;
    outbox_settled(&app).await;
    let csrf = app.signed_in("admin").await;

    let empty = app.get("/staff/people").await;
    assert_eq!(empty.status(), 200);
    assert!(empty.text().await.expect("html").contains("name=\"email\""));
    let bad = app.get("/staff/people?email=not-an-address").await;
    assert_eq!(bad.status(), 422);
    let page = app.get(&format!("/staff/people?email={EMAIL}")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    // minijinja escapes `/` in attribute values.
    let html = page.text().await.expect("html").replace("&#x2f;", "/");
    assert!(
        html.contains(&format!("/staff/comments/{comment_id}")),
        "links to the record: {html}"
    );
    assert!(html.contains(&format!(
        "/api/v1/staff/people/export.json?email={}",
        "jane.quill%40example.org"
    )));
    assert!(html.contains("/api/v1/staff/people/export.zip?email="));
    assert!(html.contains("name=\"confirm\""));
    // The export buttons work with the session too.
    let export = app
        .get(&format!("/api/v1/staff/people/export.json?email={EMAIL}"))
        .await;
    assert_eq!(export.status(), 200);

    let no_csrf = app
        .client
        .post(app.url("/staff/people/erase"))
        .form(&[("email", EMAIL), ("confirm", EMAIL)])
        .send()
        .await
        .expect("post");
    assert_eq!(no_csrf.status(), 403);
    let mistyped = app
        .client
        .post(app.url("/staff/people/erase"))
        .form(&[
            ("email", EMAIL),
            ("confirm", "jane@example.org"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(mistyped.status(), 422);
    assert!(mistyped
        .text()
        .await
        .expect("html")
        .contains("Type the address"));
    assert!(
        !traces(&app, &[EMAIL]).await.is_empty(),
        "nothing erased yet"
    );

    let done = app
        .client
        .post(app.url("/staff/people/erase"))
        .form(&[
            ("email", EMAIL),
            ("confirm", "Jane.Quill@example.org"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(done.status(), 200);
    let html = done.text().await.expect("html");
    assert!(html.contains("Comments deleted: 1"), "{html}");
    assert!(traces(&app, &[EMAIL, NAME]).await.is_empty());

    let blocked = app
        .get(&format!("/staff/people?email={EMAIL}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(blocked.contains("/staff/people/lift-block"));
    let lifted = app
        .client
        .post(app.url("/staff/people/lift-block"))
        .form(&[("email", EMAIL), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(lifted.status(), 303);
    let location = lifted.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(location.contains("notice=block_lifted"));
    let after = app.get(&location).await.text().await.expect("html");
    assert!(after.contains("The newsletter block is lifted"));
    assert!(!after.contains("/staff/people/lift-block"));
}

async fn reader_downloads_and_deletes_their_data_from_the_preferences_page(backend: Backend) {
    let app = spawn(backend).await;
    subscribe_and_confirm(&app).await;
    let comment_id = comment(&app).await;
    outbox_settled(&app).await;
    let keys = app.state.keys.clone();
    let id = app
        .state
        .db
        .run(move |conn| {
            Ok(frontdesk::newsletter::privacy::find_by_email(
                conn, &keys, EMAIL,
            )?)
        })
        .await
        .expect("find")
        .subscriber
        .expect("subscriber")
        .id;
    let prefs = format!(
        "/newsletter/unsubscribe?token={}",
        frontdesk::newsletter::unsubscribe_token(&app.state.keys, &id)
    );
    let html = app.get(&prefs).await.text().await.expect("html");
    let download = link(&html, "/privacy/my-data?").replace("&amp;", "&");
    let delete = link(&html, "/privacy/delete?").replace("&amp;", "&");

    // "Download my data" emails a link: the page's own link may have been forwarded.
    let download = emailed_link(
        &app,
        &download,
        "your data, as you asked",
        "/privacy/my-data/download?token=",
    )
    .await;
    let res = app.get(&download).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"person.json\""
    );
    let mine: Value = res.json().await.expect("json");
    assert_eq!(mine["email"], EMAIL);
    assert_eq!(ids(&mine["comments"]), vec![comment_id]);
    assert_eq!(mine["newsletter"]["subscriber"]["status"], "confirmed");
    let forged = app.get(&download.replace("token=", "token=x")).await;
    assert_eq!(forged.status(), 404);

    // "Delete my data" only emails a second link.
    let confirm = emailed_link(
        &app,
        &delete,
        "delete your data",
        "/privacy/delete/confirm?token=",
    )
    .await;
    let sent = app.smtp.count();
    let again = app
        .client
        .post(app.url(&delete))
        .send()
        .await
        .expect("post");
    assert_eq!(again.status(), 200);
    app.expect_no_more_mail().await;
    assert_eq!(app.smtp.count(), sent, "one email per interval");

    // The link opens a page; a GET erases nothing.
    let page = app.get(&confirm).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("method=\"post\"") && html.contains(EMAIL));
    assert!(
        !traces(&app, &[EMAIL]).await.is_empty(),
        "nothing erased by a GET"
    );

    let erased = app
        .client
        .post(app.url(&confirm))
        .send()
        .await
        .expect("post");
    assert_eq!(erased.status(), 200);
    assert!(erased
        .text()
        .await
        .expect("html")
        .contains("Your data is deleted"));
    let left = traces(&app, &[EMAIL, NAME]).await;
    assert!(left.is_empty(), "traces left: {left:#?}");
    assert_eq!(
        app.client
            .post(app.url(&confirm))
            .send()
            .await
            .expect("post")
            .status(),
        404,
        "single use"
    );
    assert_eq!(app.get(&confirm).await.status(), 404);
    let entries = audit_actions(&app).await;
    assert!(entries.iter().any(|(a, _, _)| a == "person.exported_json"));
    assert!(entries.iter().any(|(a, _, _)| a == "person.erased"));
    app.expect_no_more_mail().await;
}

async fn donor_deletes_their_data_from_the_manage_page_after_a_second_link(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.retention.erasure_link_hours = 1).await;
    let donation_id = donate_and_mark_paid(&app).await;
    outbox_settled(&app).await;
    let token = app
        .state
        .db
        .write(|conn| {
            Ok(frontdesk::donations::token::issue(
                conn,
                EMAIL,
                frontdesk::db::now(),
                1,
            )?)
        })
        .await
        .expect("donor link");
    let html = app
        .get(&format!("/donations/manage?token={token}"))
        .await
        .text()
        .await
        .expect("html");
    let download = link(&html, "/privacy/my-data?").replace("&amp;", "&");
    let delete = link(&html, "/privacy/delete?").replace("&amp;", "&");
    let download = emailed_link(
        &app,
        &download,
        "your data, as you asked",
        "/privacy/my-data/download?token=",
    )
    .await;
    assert_eq!(
        app.get(&download.replace("token=", "token=x"))
            .await
            .status(),
        404
    );
    let mine: Value = app.get(&download).await.json().await.expect("json");
    assert_eq!(ids(&mine["donations"]), vec![donation_id.clone()]);

    assert_eq!(
        app.client
            .post(app.url(&delete))
            .send()
            .await
            .expect("post")
            .status(),
        200
    );
    let text = mail_to(&app, EMAIL, "delete your data").await;
    assert!(text.contains("works for 1 hour and"), "{text}");
    let confirm = link(&text, "/privacy/delete/confirm?token=");

    // An expired link erases nothing.
    assert!(confirm.ends_with("&lang=en"), "{confirm}");
    let token = confirm
        .split("token=")
        .nth(1)
        .and_then(|t| t.split('&').next())
        .expect("token");
    let hash = frontdesk::keys::token_hash(token);
    let expire = hash.clone();
    app.state
        .db
        .run(move |conn| {
            use frontdesk::db::schema::email_links::dsl as r;
            diesel::update(r::email_links.find(&expire))
                .set(r::expires_at.eq(frontdesk::db::now() - TimeDelta::seconds(1)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("expire");
    assert_eq!(
        app.client
            .post(app.url(&confirm))
            .send()
            .await
            .expect("post")
            .status(),
        404
    );
    assert!(
        !traces(&app, &[EMAIL]).await.is_empty(),
        "nothing erased with an expired link"
    );
    app.state
        .db
        .run(move |conn| {
            use frontdesk::db::schema::email_links::dsl as r;
            diesel::update(r::email_links.find(&hash))
                .set(r::expires_at.eq(frontdesk::db::now() + TimeDelta::hours(1)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("renew");

    let erased = app
        .client
        .post(app.url(&confirm))
        .send()
        .await
        .expect("post");
    assert_eq!(erased.status(), 200);
    let left = traces(&app, &[EMAIL, NAME, DEDICATION]).await;
    assert!(left.is_empty(), "traces left: {left:#?}");
    let gift = app
        .state
        .db
        .run(move |conn| {
            Ok(frontdesk::donations::store::find_donation(
                conn,
                &donation_id,
            )?)
        })
        .await
        .expect("gift");
    assert_eq!(
        (gift.amount_minor, gift.status.as_str()),
        (2500, "paid"),
        "accounting keeps the gift"
    );
    // The erasure deleted the donor's link with everything else about the address.
    let page = app.get(&format!("/donations/manage?token={token}")).await;
    assert_eq!(page.status(), 404);
}

async fn people_routes_are_for_admins_only(backend: Backend) {
    let app = spawn(backend).await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let q = format!("?email={EMAIL}");
    let routes: Vec<(reqwest::Method, String)> = vec![
        (reqwest::Method::GET, format!("/api/v1/staff/people{q}")),
        (reqwest::Method::DELETE, format!("/api/v1/staff/people{q}")),
        (
            reqwest::Method::GET,
            format!("/api/v1/staff/people/export.json{q}"),
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/staff/people/export.zip{q}"),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/v1/staff/people/newsletter-block{q}"),
        ),
        (reqwest::Method::GET, format!("/staff/people{q}")),
        (reqwest::Method::POST, "/staff/people/erase".to_string()),
        (
            reqwest::Method::POST,
            "/staff/people/lift-block".to_string(),
        ),
    ];
    let mut tokens = Vec::new();
    for role in Role::ALL {
        tokens.push((role, app.staff_token(role.as_str()).await));
    }
    for (method, path) in &routes {
        let res = anonymous
            .request(method.clone(), app.url(path))
            .send()
            .await
            .expect("request");
        if path.starts_with("/api/") {
            assert_eq!(res.status(), 401, "anonymous {method} {path}");
        } else {
            assert_eq!(res.status(), 303, "anonymous {method} {path}");
        }
        for (role, token) in &tokens {
            if *role == Role::Admin {
                continue;
            }
            let res = anonymous
                .request(method.clone(), app.url(path))
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            assert_eq!(res.status(), 403, "{role} on {method} {path}");
        }
    }
    // Nothing of the above reached the handlers: no audit entry was written.
    assert!(!audit_actions(&app)
        .await
        .iter()
        .any(|(a, _, _)| a.starts_with("person.")));
    let admin = tokens
        .iter()
        .find(|(r, _)| *r == Role::Admin)
        .expect("admin")
        .1
        .clone();
    let missing = app
        .client
        .get(app.url("/api/v1/staff/people"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 422);
    let problem: Value = missing.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "email");
}
