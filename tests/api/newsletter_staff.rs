//! The staff side of the newsletter: issues over JSON and pages, subscribers, import/export.

use std::collections::HashSet;
use std::time::Duration;

use frontdesk::newsletter::model::{EmailAddress, NewList, SubscriberStatus};
use frontdesk::newsletter::store::{self, SubscriberFilter};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp};

const WAIT: Duration = Duration::from_secs(20);

both_backends!(
    schedule_form_reads_and_shows_the_newsrooms_time_zone,
    issue_created_and_sent_over_json_reaches_every_confirmed_subscriber,
    test_send_reaches_only_the_test_address,
    subscribers_are_filtered_and_exported_with_escaped_cells,
    import_dry_run_changes_nothing_and_the_real_import_does,
    editors_write_issues_but_cannot_see_subscribers,
    compose_page_previews_and_saves_for_a_signed_in_editor,
    issue_can_be_paused_resumed_and_cancelled,
    subscriber_pages_filter_and_import_a_file_with_a_dry_run,
    votes_are_answered_while_a_large_export_is_read_slowly,
);

// ---- helpers ----

async fn spawn(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.newsletter.dispatch_interval_ms = 50;
    })
    .await
}

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("valid address")
}

async fn add_list(app: &TestApp, slug: &str) {
    let list = NewList::parse(slug, &format!("List {slug}"), "", false).expect("list");
    app.state
        .db
        .write(move |conn| Ok(store::create_list(conn, &list)?))
        .await
        .expect("create list");
}

async fn add_confirmed(app: &TestApp, addresses: &[&str], lists: &[&str]) {
    let emails: Vec<EmailAddress> = addresses.iter().map(|a| email(a)).collect();
    let lists: Vec<String> = lists.iter().map(|s| s.to_string()).collect();
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

async fn create_issue(app: &TestApp, token: &str, lists: Option<Vec<&str>>) -> String {
    let mut body = json!({
        "subject": "This week in the newsroom",
        "body_markdown": "Hello **readers**,\n\nour [latest story](https://example.org/story).",
    });
    if let Some(lists) = lists {
        body["lists"] = json!(lists);
    }
    let res = app
        .staff(token)
        .post_json("/api/v1/staff/newsletters", body)
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.expect("json");
    assert_eq!(created["status"], "draft");
    created["id"].as_str().expect("id").to_string()
}

async fn wait_status(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (code, issue) = app
            .staff(token)
            .get_json(&format!("/api/v1/staff/newsletters/{id}"))
            .await;
        assert_eq!(code, 200);
        if issue["status"] == status {
            return issue;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "issue {id} did not become {status}: {issue}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.state
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use frontdesk::db::schema::audit_log;
            Ok(audit_log::table
                .select(audit_log::action)
                .load::<String>(conn)?)
        })
        .await
        .expect("audit log")
}

// ---- tests ----

async fn issue_created_and_sent_over_json_reaches_every_confirmed_subscriber(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "weekly").await;
    add_list(&app, "events").await;
    add_confirmed(&app, &["a@example.org", "b@example.org"], &["weekly"]).await;
    add_confirmed(&app, &["c@example.org"], &["events"]).await;
    let token = app.staff_token("fundraising").await;
    let id = create_issue(&app, &token, Some(vec!["weekly"])).await;

    let res = app
        .client
        .post(app.url(&format!("/api/v1/staff/newsletters/{id}/send")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");

    assert_eq!(res.status(), 202);
    let mails = app.smtp.wait_for(2, WAIT).await;
    app.expect_no_more_mail().await;
    let to: HashSet<String> = mails.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    assert_eq!(
        to,
        HashSet::from(["a@example.org".to_string(), "b@example.org".to_string()])
    );
    assert!(mails
        .iter()
        .all(|m| m.subject().as_deref() == Some("This week in the newsroom")));
    let done = wait_status(&app, &token, &id, "sent").await;
    assert_eq!(done["recipients"], 2);
    assert_eq!(done["sent"], done["recipients"]);
    assert_eq!(
        (done["failed"].clone(), done["pending"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(done["lists"], json!(["weekly"]));
    let again = app
        .client
        .post(app.url(&format!("/api/v1/staff/newsletters/{id}/send")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send again");
    assert_eq!(again.status(), 409, "a sent issue is not sent twice");
    let (_, list) = app
        .staff(&token)
        .get_json("/api/v1/staff/newsletters")
        .await;
    assert_eq!(list["items"][0]["id"], id.as_str());
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"newsletter.issue_created".to_string()));
    assert!(actions.contains(&"newsletter.issue_scheduled".to_string()));
}

async fn test_send_reaches_only_the_test_address(backend: Backend) {
    let app = spawn(backend).await;
    add_confirmed(&app, &["reader@example.org", "other@example.org"], &[]).await;
    let token = app.staff_token("editor").await;
    let id = create_issue(&app, &token, None).await;

    let bad = app
        .staff(&token)
        .post_json(
            &format!("/api/v1/staff/newsletters/{id}/test"),
            json!({"email": "not an address"}),
        )
        .await;
    let res = app
        .staff(&token)
        .post_json(
            &format!("/api/v1/staff/newsletters/{id}/test"),
            json!({"email": "desk@newsroom.example.org"}),
        )
        .await;

    assert_eq!(bad.status(), 422);
    assert_eq!(res.status(), 202);
    let mails = app.smtp.wait_for(1, WAIT).await;
    app.expect_no_more_mail().await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].rcpt_to,
        vec!["desk@newsroom.example.org".to_string()]
    );
    assert_eq!(
        mails[0].subject().as_deref(),
        Some("[Test] This week in the newsroom")
    );
    let (_, issue) = app
        .staff(&token)
        .get_json(&format!("/api/v1/staff/newsletters/{id}"))
        .await;
    assert_eq!(
        issue["status"], "draft",
        "a test send does not send the issue"
    );
    assert_eq!(issue["recipients"], 0);
}

async fn subscribers_are_filtered_and_exported_with_escaped_cells(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "weekly").await;
    add_confirmed(&app, &["one@example.org", "two@example.org"], &["weekly"]).await;
    add_confirmed(&app, &["three@example.org"], &[]).await;
    let res = app
        .client
        .post(app.url("/api/v1/newsletter/subscriptions"))
        .json(&json!({"email": "pending@example.org", "name": "=HYPERLINK(\"x\")"}))
        .send()
        .await
        .expect("subscribe");
    assert_eq!(res.status(), 202);
    let token = app.staff_token("fundraising").await;

    let (_, weekly) = app
        .staff(&token)
        .get_json("/api/v1/staff/subscribers?list=weekly")
        .await;
    let (_, pending) = app
        .staff(&token)
        .get_json("/api/v1/staff/subscribers?status=pending")
        .await;
    let (_, exact) = app
        .staff(&token)
        .get_json("/api/v1/staff/subscribers?email=three@example.org")
        .await;
    let (_, first) = app
        .staff(&token)
        .get_json("/api/v1/staff/subscribers?limit=3")
        .await;
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, second) = app
        .staff(&token)
        .get_json(&format!(
            "/api/v1/staff/subscribers?limit=3&cursor={cursor}"
        ))
        .await;
    let (bad, _) = app
        .staff(&token)
        .get_json("/api/v1/staff/subscribers?status=nope")
        .await;
    let csv = app
        .client
        .get(app.url("/api/v1/staff/subscribers.csv?status=pending"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("csv");

    let emails = |v: &Value| -> HashSet<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["email"].as_str().expect("email").to_string())
            .collect()
    };
    assert_eq!(
        emails(&weekly),
        HashSet::from(["one@example.org".into(), "two@example.org".into()])
    );
    assert_eq!(weekly["items"][0]["lists"], json!(["weekly"]));
    assert_eq!(weekly["items"][0]["status"], "confirmed");
    assert!(weekly["items"][0]["confirmed_at"].is_string());
    assert!(weekly["items"][0]["created_at"].is_string());
    assert_eq!(
        emails(&pending),
        HashSet::from(["pending@example.org".into()])
    );
    assert_eq!(emails(&exact), HashSet::from(["three@example.org".into()]));
    assert_eq!(first["items"].as_array().expect("items").len(), 3);
    assert_eq!(second["items"].as_array().expect("items").len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    assert_eq!(bad, 422);
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/csv"));
    let body = csv.text().await.expect("body");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "email,name,status,lists,created_at,confirmed_at");
    assert_eq!(lines.len(), 2, "{body}");
    assert!(
        lines[1].starts_with("pending@example.org,\"'=HYPERLINK(\"\"x\"\")\",pending,"),
        "{body}"
    );
    let one = exact["items"][0]["id"].as_str().expect("id");
    let (code, detail) = app
        .staff(&token)
        .get_json(&format!("/api/v1/staff/subscribers/{one}"))
        .await;
    assert_eq!(code, 200);
    assert_eq!(detail["email"], "three@example.org");
    assert_eq!(detail["memberships"], json!([]));
    let (_, weekly_one) = app
        .staff(&token)
        .get_json(&format!(
            "/api/v1/staff/subscribers/{}",
            weekly["items"][0]["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(
        weekly_one["memberships"],
        json!([{"list": "weekly", "name": "List weekly", "status": "confirmed"}])
    );
    let (missing, _) = app
        .staff(&token)
        .get_json("/api/v1/staff/subscribers/nope")
        .await;
    assert_eq!(missing, 404);
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"newsletter.subscriber_viewed".to_string()));
    assert!(actions.contains(&"newsletter.subscribers_viewed".to_string()));
    assert!(actions.contains(&"newsletter.subscribers_exported".to_string()));
}

async fn count_subscribers(app: &TestApp) -> usize {
    app.state
        .db
        .run(|conn| {
            Ok(store::list_subscribers(
                conn,
                &SubscriberFilter {
                    limit: 500,
                    ..SubscriberFilter::default()
                },
            )?
            .items
            .len())
        })
        .await
        .expect("count")
}

async fn import_dry_run_changes_nothing_and_the_real_import_does(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "weekly").await;
    add_confirmed(&app, &["known@example.org"], &[]).await;
    let token = app.staff_token("fundraising").await;
    let csv = "email,name,lists,consent\n\
               new@example.org,New Reader,weekly,yes\n\
               known@example.org,,weekly,yes\n\
               later@example.org,,,no\n\
               broken,,,yes\n";
    let import = |dry_run: bool| {
        app.client
            .post(app.url(&format!(
                "/api/v1/staff/subscribers/import?dry_run={dry_run}"
            )))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
    };

    let dry = import(true).await.expect("dry run");
    assert_eq!(dry.status(), 200);
    let dry: Value = dry.json().await.expect("json");
    let after_dry_run = count_subscribers(&app).await;
    let real = import(false).await.expect("import");
    assert_eq!(real.status(), 200);
    let real: Value = real.json().await.expect("json");

    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["created"], 2);
    assert_eq!(dry["updated"], 1);
    assert_eq!(dry["errors"].as_array().expect("errors").len(), 1);
    assert_eq!(dry["errors"][0]["line"], 5);
    assert_eq!(after_dry_run, 1, "a dry run writes nothing");
    assert_eq!(real["dry_run"], false);
    assert_eq!(
        (real["created"].clone(), real["updated"].clone()),
        (dry["created"].clone(), dry["updated"].clone()),
        "the dry run told the truth"
    );
    assert_eq!(count_subscribers(&app).await, 3);
    let new = app
        .state
        .db
        .run(|conn| {
            Ok(store::find_subscriber_by_email(
                conn,
                &email("new@example.org"),
            )?)
        })
        .await
        .expect("query")
        .expect("imported");
    assert_eq!(new.status, SubscriberStatus::Confirmed);
    let (_, weekly) = app
        .staff(&token)
        .get_json("/api/v1/staff/subscribers?list=weekly")
        .await;
    assert_eq!(weekly["items"].as_array().expect("items").len(), 2);
    let (_, found) = app
        .staff(&token)
        .get_json("/api/v1/staff/subscribers?email=new@example.org")
        .await;
    let new_id = found["items"][0]["id"].as_str().expect("id");
    let (_, detail) = app
        .staff(&token)
        .get_json(&format!("/api/v1/staff/subscribers/{new_id}"))
        .await;
    assert_eq!(detail["name"], "New Reader");
    assert_eq!(detail["consents"][0]["kind"], "imported");
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"newsletter.import_checked".to_string()));
    assert!(actions.contains(&"newsletter.subscribers_imported".to_string()));
}

async fn editors_write_issues_but_cannot_see_subscribers(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.staff_token("editor").await;
    let hiring = app.staff_token("hiring").await;

    let id = create_issue(&app, &editor, None).await;
    let (subscribers, _) = app
        .staff(&editor)
        .get_json("/api/v1/staff/subscribers")
        .await;
    let export = app
        .client
        .get(app.url("/api/v1/staff/subscribers.csv"))
        .bearer_auth(&editor)
        .send()
        .await
        .expect("csv");
    let (hiring_issue, _) = app
        .staff(&hiring)
        .get_json(&format!("/api/v1/staff/newsletters/{id}"))
        .await;
    let list = app
        .staff(&editor)
        .post_json(
            "/api/v1/staff/newsletter-lists",
            json!({"slug": "culture", "name": "Culture", "description": "Arts", "public": true}),
        )
        .await;
    let duplicate = app
        .staff(&editor)
        .post_json(
            "/api/v1/staff/newsletter-lists",
            json!({"slug": "culture", "name": "Culture again"}),
        )
        .await;
    let invalid = app
        .staff(&editor)
        .post_json(
            "/api/v1/staff/newsletters",
            json!({"subject": " ", "body_markdown": "", "lists": ["Not a slug"]}),
        )
        .await;

    assert_eq!(subscribers, 403);
    assert_eq!(export.status(), 403);
    assert_eq!(hiring_issue, 403);
    assert_eq!(list.status(), 201);
    assert_eq!(duplicate.status(), 409);
    assert_eq!(invalid.status(), 422);
    let problem: Value = invalid.json().await.expect("problem");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["subject", "body_markdown", "lists[0]"]);
    let (_, lists) = app
        .staff(&editor)
        .get_json("/api/v1/staff/newsletter-lists")
        .await;
    assert_eq!(lists[0]["slug"], "culture");
    assert_eq!(lists[0]["public"], true);
}

async fn compose_page_previews_and_saves_for_a_signed_in_editor(backend: Backend) {
    let app = spawn(backend).await;
    add_list(&app, "weekly").await;
    let csrf = app.signed_in("editor").await;
    let compose = app.get("/staff/newsletters/new").await;
    assert_eq!(compose.status(), 200);
    let compose = compose.text().await.expect("page");
    assert!(compose.contains("name=\"body_markdown\"") && compose.contains("value=\"weekly\""));
    let form = |action: &'static str, subject: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("subject", subject.to_string()),
            (
                "body_markdown",
                "Hello **world** <script>x</script>".to_string(),
            ),
            ("lists", "weekly".to_string()),
            ("action", action.to_string()),
        ]
    };

    let no_token = app
        .client
        .post(app.url("/staff/newsletters/new"))
        .form(&form("preview", "Preview me")[1..])
        .send()
        .await
        .expect("post");
    let preview = app
        .client
        .post(app.url("/staff/newsletters/new"))
        .form(&form("preview", "Preview me"))
        .send()
        .await
        .expect("preview");
    let invalid = app
        .client
        .post(app.url("/staff/newsletters/new"))
        .form(&form("save", ""))
        .send()
        .await
        .expect("invalid");
    let saved = app
        .client
        .post(app.url("/staff/newsletters/new"))
        .form(&form("save", "Saved issue"))
        .send()
        .await
        .expect("save");

    assert_eq!(no_token.status(), 403);
    assert_eq!(preview.status(), 200);
    let preview = preview.text().await.expect("page");
    assert!(preview.contains("Preview me"));
    assert!(
        preview.contains("&lt;strong&gt;world&lt;&#x2f;strong&gt;"),
        "the rendered HTML, escaped into srcdoc"
    );
    assert!(!preview.contains("<script>x"), "raw HTML never passes");
    assert!(
        preview.contains("**world**"),
        "the form keeps what was typed"
    );
    assert_eq!(invalid.status(), 422);
    assert!(invalid
        .text()
        .await
        .expect("page")
        .contains("subject-error"));
    assert_eq!(saved.status(), 303);
    let location = saved.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(location.starts_with("/staff/newsletters/"));
    let issue = app.get(&location).await;
    assert_eq!(issue.status(), 200);
    let issue = issue.text().await.expect("page");
    assert!(issue.contains("Saved issue") && issue.contains("The draft is saved."));
    assert!(issue.contains("action=\"/staff/newsletters/") && issue.contains("/send\""));
    let list = app
        .get("/staff/newsletters")
        .await
        .text()
        .await
        .expect("list");
    assert!(list.contains("Saved issue"));
    let subscribers = app.get("/staff/subscribers").await;
    assert_eq!(subscribers.status(), 403, "editors do not see subscribers");
}

async fn issue_can_be_paused_resumed_and_cancelled(backend: Backend) {
    let app = spawn(backend).await;
    add_confirmed(&app, &["a@example.org"], &[]).await;
    let csrf = app.signed_in("fundraising").await;
    let token = app.staff_token("fundraising").await;
    let id = create_issue(&app, &token, None).await;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        app.client.post(app.url(&path)).form(&form).send()
    };

    let scheduled = post(
        format!("/staff/newsletters/{id}/send"),
        vec![
            ("csrf_token", csrf.clone()),
            ("send_at", "2099-01-01T08:00".into()),
        ],
    )
    .await
    .expect("schedule");
    assert_eq!(scheduled.status(), 303);
    let (_, issue) = app
        .staff(&token)
        .get_json(&format!("/api/v1/staff/newsletters/{id}"))
        .await;
    assert_eq!(issue["status"], "scheduled");
    assert_eq!(issue["send_at"], "2099-01-01T08:00:00Z");
    let page = app
        .get(&format!("/staff/newsletters/{id}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("http-equiv=\"refresh\""));
    let paused = post(
        format!("/staff/newsletters/{id}/pause"),
        vec![("csrf_token", csrf.clone())],
    )
    .await
    .expect("pause");
    assert_eq!(paused.status(), 303);
    let resumed = app
        .staff(&token)
        .post_json(&format!("/api/v1/staff/newsletters/{id}/resume"), json!({}))
        .await;
    assert_eq!(resumed.status(), 200);
    assert_eq!(
        resumed.json::<Value>().await.expect("json")["status"],
        "scheduled"
    );
    let cancelled = app
        .staff(&token)
        .post_json(&format!("/api/v1/staff/newsletters/{id}/cancel"), json!({}))
        .await;
    let retry = app
        .staff(&token)
        .post_json(
            &format!("/api/v1/staff/newsletters/{id}/retry-failed"),
            json!({}),
        )
        .await;

    assert_eq!(cancelled.status(), 200);
    assert_eq!(
        retry.status(),
        409,
        "a cancelled issue has nothing to retry"
    );
    app.expect_no_more_mail().await;
    let actions = audit_actions(&app).await;
    for action in [
        "newsletter.issue_scheduled",
        "newsletter.issue_paused",
        "newsletter.issue_resumed",
        "newsletter.issue_cancelled",
    ] {
        assert!(actions.contains(&action.to_string()), "{action}");
    }
}

async fn subscriber_pages_filter_and_import_a_file_with_a_dry_run(backend: Backend) {
    let app = spawn(backend).await;
    add_confirmed(&app, &["first@example.org", "second@example.org"], &[]).await;
    let csrf = app.signed_in("fundraising").await;
    let upload = |dry_run: bool, token: &str| {
        let file =
            reqwest::multipart::Part::bytes(b"email,consent\nuploaded@example.org,yes\n".to_vec())
                .file_name("subscribers.csv")
                .mime_str("text/csv")
                .expect("mime");
        let mut form = reqwest::multipart::Form::new().part("file", file);
        if dry_run {
            form = form.text("dry_run", "true");
        }
        app.client
            .post(app.url(&format!("/staff/subscribers/import?csrf_token={token}")))
            .multipart(form)
            .send()
    };

    let list = app.get("/staff/subscribers?q=first&limit=1").await;
    let form = app.get("/staff/subscribers/import").await;
    let forged = upload(true, "wrong").await.expect("post");
    let dry = upload(true, &csrf).await.expect("dry run");
    let dry = dry.text().await.expect("page");
    let after_dry_run = count_subscribers(&app).await;
    let real = upload(false, &csrf).await.expect("import");

    assert_eq!(list.status(), 200);
    let list = list.text().await.expect("page");
    assert!(list.contains("first@example.org") && !list.contains("second@example.org"));
    assert!(list.contains("/api/v1/staff/subscribers.csv?q=first"));
    let start = list
        .find("href=\"/staff/subscribers/0")
        .expect("a link to the subscriber")
        + 6;
    let link = &list[start..start + list[start..].find('"').expect("end")];
    let detail = app.get(link).await;
    assert_eq!(detail.status(), 200);
    assert!(detail
        .text()
        .await
        .expect("page")
        .contains("Consent record"));
    assert_eq!(form.status(), 200);
    assert!(form
        .text()
        .await
        .expect("page")
        .contains(&format!("?csrf_token={csrf}")));
    assert_eq!(forged.status(), 403);
    assert!(
        dry.contains("Dry run: nothing was changed") && dry.contains("<td id=\"created\">1</td>")
    );
    assert_eq!(after_dry_run, 2);
    assert_eq!(real.status(), 200);
    assert!(real.text().await.expect("page").contains("Imported"));
    assert_eq!(count_subscribers(&app).await, 3);
}

async fn schedule_form_reads_and_shows_the_newsrooms_time_zone(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.site.timezone = "Europe/Berlin".into();
    })
    .await;
    let csrf = app.signed_in("fundraising").await;
    let token = app.staff_token("fundraising").await;
    let id = create_issue(&app, &token, None).await;
    let schedule = |at: &'static str| {
        app.client
            .post(app.url(&format!("/staff/newsletters/{id}/send")))
            .form(&[("csrf_token", csrf.as_str()), ("send_at", at)])
            .send()
    };

    // 02:30 on the morning clocks go forward does not exist in Berlin.
    let skipped = schedule("2099-03-29T02:30").await.expect("schedule");
    let skipped_status = skipped.status();
    let skipped_page = skipped.text().await.expect("page");
    let winter = schedule("2099-01-01T09:00").await.expect("schedule");
    let (_, issue) = app
        .staff(&token)
        .get_json(&format!("/api/v1/staff/newsletters/{id}"))
        .await;
    let page = app
        .get(&format!("/staff/newsletters/{id}"))
        .await
        .text()
        .await
        .expect("page");

    assert_eq!(skipped_status, 422);
    assert!(
        skipped_page.contains("does not exist in Europe&#x2f;Berlin"),
        "{skipped_page}"
    );
    assert_eq!(winter.status(), 303);
    assert_eq!(issue["send_at"], "2099-01-01T08:00:00Z", "stored in UTC");
    assert!(
        page.contains(
            "<time datetime=\"2099-01-01T08:00:00Z\">1 Jan 2099, 09:00</time> (Europe&#x2f;Berlin)"
        ),
        "{page}"
    );
    assert!(page.contains("value=\"2099-01-01T09:00\""), "{page}");
}

/// An export reads outside any write transaction: while a large one is read, slowly, votes
/// (the busiest writes) keep being answered. The database gives up on a lock after 200 ms,
/// so a vote waiting behind an export that held SQLite's write lock would fail.
async fn votes_are_answered_while_a_large_export_is_read_slowly(backend: Backend) {
    use futures_util::StreamExt;
    const SUBSCRIBERS: usize = 20_000;
    let app = spawn_app_with(backend, |s| {
        s.limits.enabled = false;
        s.database.sqlite_busy_timeout_ms = 200;
    })
    .await;
    let token = app.staff_token("fundraising").await;
    let addresses: Vec<String> = (0..SUBSCRIBERS)
        .map(|i| format!("reader{i}@example.org"))
        .collect();
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    add_confirmed(&app, &refs, &[]).await;

    let (answered, mut votes_done) = tokio::sync::mpsc::channel::<()>(1);
    let export = {
        let request = app
            .client
            .get(app.url("/api/v1/staff/subscribers.csv"))
            .bearer_auth(&token);
        tokio::spawn(async move {
            let response = request.send().await.expect("export");
            assert_eq!(response.status(), 200);
            let mut body = response.bytes_stream();
            let mut csv = Vec::new();
            while let Some(chunk) = body.next().await {
                csv.extend_from_slice(&chunk.expect("chunk"));
                // Read slowly: the next chunk only once another vote has been answered.
                votes_done.recv().await;
            }
            String::from_utf8(csv).expect("utf-8")
        })
    };
    let mut votes = 0;
    while !export.is_finished() {
        let vote = app
            .client
            .post(app.url("/api/v1/feedback"))
            .json(
                &json!({"article_url": format!("http://localhost/news/{votes}"), "helpful": true}),
            )
            .send()
            .await
            .expect("vote");
        assert!(
            vote.status().is_success(),
            "vote {votes} during the export: {}",
            vote.status()
        );
        votes += 1;
        let _ = answered.try_send(());
    }
    let csv = export.await.expect("export task");
    assert_eq!(
        csv.lines().count(),
        SUBSCRIBERS + 1,
        "every subscriber, once"
    );
    let distinct: HashSet<&str> = csv.lines().collect();
    assert_eq!(distinct.len(), SUBSCRIBERS + 1);
    assert!(votes > 1, "votes were sent while the export was read");
}
