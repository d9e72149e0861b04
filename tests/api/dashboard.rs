//! The staff dashboard: each role's panels in the page and at `GET /api/v1/staff/dashboard`,
//! the numbers against what was recorded, and staff pages that show human dates and labels.

use chrono::Utc;
use frontdesk::comments::spam::issue_token;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};

/// A paid cheque of `amount` USD cents received today, from the `water` campaign.
async fn cheque(app: &TestApp, token: &str, email: &str, amount: i64) {
    let res = app
        .staff(token)
        .post_json(
            "/api/v1/staff/donations/offline",
            json!({"email": email, "name": "Ana Donor", "amount_minor": amount, "currency": "USD",
                   "received_on": Utc::now().date_naive().to_string(), "method": "cheque",
                   "campaign": "water", "send_receipt": false}),
        )
        .await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
}

/// A vote on `article` (one reader: a vote on the same article replaces theirs).
async fn vote(app: &TestApp, article: &str, helpful: bool) {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/feedback"))
        .json(
            &json!({"article_url": format!("http://localhost/news/{article}"), "helpful": helpful,
                      "reason": if helpful { Value::Null } else { json!("unclear") }}),
        )
        .send()
        .await
        .expect("vote");
    assert!(res.status().is_success(), "{}", res.status());
}

async fn comment(app: &TestApp) {
    let res = app
        .comments()
        .send(&json!({
            "name": "Jane Reader", "email": "jane@example.org", "subject": "Water story",
            "message": "The plant opened in June, not July.",
            "article_url": "http://localhost/news/water", "website": "",
            "form_token": issue_token(&app.state.keys, Utc::now() - chrono::Duration::seconds(10)),
        }))
        .await;
    assert_eq!(res.status(), 202);
}

/// Gifts, votes, a comment and a pending subscriber.
async fn seed(app: &TestApp) -> String {
    let fundraising = app.staff_token("fundraising").await;
    cheque(app, &fundraising, "ana@example.org", 2_500).await;
    cheque(app, &fundraising, "bo@example.org", 10_000).await;
    vote(app, "water", false).await;
    vote(app, "power", false).await;
    vote(app, "roads", true).await;
    comment(app).await;
    let res = app
        .newsletter()
        .subscribe(json!({"email": "reader@example.org"}))
        .await;
    assert_eq!(res.status(), 202);
    fundraising
}

async fn each_role_sees_its_panels_with_the_recorded_numbers(backend: Backend) {
    let app = spawn_app(backend).await;
    let fundraising = seed(&app).await;

    // Anonymous: 401 from the API, sent to sign in from the page.
    let res = app.get("/api/v1/staff/dashboard").await;
    assert_eq!(res.status(), 401);
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(app.url("/staff/"))
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), 303);

    let (status, d) = app
        .staff(&fundraising)
        .get_json("/api/v1/staff/dashboard")
        .await;
    assert_eq!(status, 200, "{d}");
    let month = &d["fundraising"]["this_month"];
    assert_eq!(month["gifts"][0]["count"], 2, "{d}");
    assert_eq!(month["gifts"][0]["amount_minor"], 12_500);
    assert_eq!(month["revenue"][0]["amount_minor"], 12_500);
    assert_eq!(month["revenue"][0]["amount"], "125.00 USD");
    assert_eq!(d["fundraising"]["top_campaigns"][0]["name"], "water");
    assert_eq!(d["fundraising"]["last_month"]["gifts"], json!([]));
    assert!(
        d["newsletter"].is_object(),
        "fundraising sees the newsletter"
    );
    assert_eq!(d["newsletter"]["weeks"].as_array().map(Vec::len), Some(12));
    assert!(d["editors"].is_null() && d["hiring"].is_null() && d["health"].is_null());
    assert!(
        month["from"].as_str().is_some_and(|s| s.ends_with('Z')),
        "{month}"
    );

    let editor = app.staff_token("editor").await;
    let (_, e) = app.staff(&editor).get_json("/api/v1/staff/dashboard").await;
    assert!(e["fundraising"].is_null(), "{e}");
    let days = e["editors"]["votes_per_day"].as_array().expect("days");
    assert_eq!(days.len(), 30);
    let today = &days[29];
    assert_eq!(
        (today["helpful"].clone(), today["not_helpful"].clone()),
        (json!(1), json!(2))
    );
    let worst = e["editors"]["needing_improvement"]
        .as_array()
        .expect("articles");
    assert_eq!(worst.len(), 2, "{e}");
    assert!(worst.iter().all(|a| a["not_helpful"] == 1));
    assert_eq!(e["editors"]["unanswered_comments"]["count"], 1);
    assert!(e["editors"]["unanswered_comments"]["oldest_at"].is_string());

    let hiring = app.staff_token("hiring").await;
    let (_, h) = app.staff(&hiring).get_json("/api/v1/staff/dashboard").await;
    assert!(h["fundraising"].is_null() && h["newsletter"].is_null() && h["editors"].is_null());
    assert_eq!(h["hiring"]["open_postings"], 0, "{h}");
    assert_eq!(h["hiring"]["stages"].as_array().map(Vec::len), Some(7));

    let admin = app.staff_token("admin").await;
    let (_, a) = app.staff(&admin).get_json("/api/v1/staff/dashboard").await;
    for panel in ["fundraising", "newsletter", "editors", "hiring", "health"] {
        assert!(a[panel].is_object(), "admin sees {panel}: {a}");
    }
    assert_eq!(a["health"]["uploads_files"], 0);

    // The page shows the same numbers, each linking to the list behind it, with charts.
    app.signed_in("admin").await;
    let page = app.get("/staff/").await.text().await.expect("page");
    assert!(
        page.contains("data-figure=\"this_month.gifts\">2</a>"),
        "{page}"
    );
    assert!(page.contains("/staff/comments?status=new\" data-figure=\"unanswered_comments\">1</a>"));
    assert!(
        page.contains("<svg")
            && page.contains("<title id=\"chart-votes-title\">Votes per day</title>")
    );
    assert!(page.contains("<summary>The numbers</summary>"));
    assert!(!page.contains("<script"), "no script");
}

async fn a_sent_issue_is_on_the_dashboard_with_its_report(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("fundraising").await;
    let res = app
        .staff(&token)
        .post_json(
            "/api/v1/staff/newsletters",
            json!({"subject": "Water week", "body_markdown": "Hello readers."}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let res = app
        .staff(&token)
        .post(&format!("/api/v1/staff/newsletters/{id}/send"))
        .await;
    assert!(res.status().is_success(), "{}", res.status());

    // The issue starts going out in the background; the dashboard lists it once it has.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let issue = loop {
        let (_, d) = app.staff(&token).get_json("/api/v1/staff/dashboard").await;
        if let Some(issue) = d["newsletter"]["last_issues"].get(0).cloned() {
            break issue;
        }
        assert!(tokio::time::Instant::now() < deadline, "never listed: {d}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(issue["id"], id.as_str());
    assert_eq!(issue["subject"], "Water week");
    assert_eq!(issue["unsubscribed_after"], 0);

    app.signed_in("fundraising").await;
    let report = app.get(&format!("/staff/newsletters/{id}/report")).await;
    assert_eq!(report.status(), 200);
    let report = report.text().await.expect("report");
    assert!(report.contains("Report: Water week"), "{report}");
    assert!(
        report.contains("Unsubscribed in the week after"),
        "{report}"
    );

    // Hiring may not read newsletter reports.
    let hiring = app.staff_token("hiring").await;
    let res = app
        .staff(&hiring)
        .get(&format!("/api/v1/staff/newsletters/{id}"))
        .await;
    assert_eq!(res.status(), 403);
}

async fn staff_pages_show_human_dates_and_labels(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    app.signed_in("admin").await;
    let micro = regex_free_micro;
    for path in [
        "/staff/",
        "/staff/donations",
        "/staff/donations?frequency=one_time",
        "/staff/comments",
        "/staff/feedback",
        "/staff/feedback/comments",
        "/staff/subscribers",
        "/staff/newsletters",
        "/staff/outbox",
        "/staff/audit",
        "/staff/accounts",
        "/staff/account",
        "/staff/jobs",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let page = res.text().await.expect("page");
        assert!(!micro(&page), "{path} shows a raw time: {page}");
        for code in [
            ">one_time<",
            ">needs_improvement<",
            ">most_helpful<",
            ">in_progress<",
            ">admin<",
        ] {
            assert!(!page.contains(code), "{path} shows the code {code}: {page}");
        }
    }
    let list = app
        .get("/staff/donations")
        .await
        .text()
        .await
        .expect("list");
    assert!(list.contains("<time datetime=\""), "{list}");
    assert!(list.contains(">One-time</option>"), "{list}");
}

/// Whether `page` holds a time with fractions of a second (`13:16:49.768694`).
fn regex_free_micro(page: &str) -> bool {
    let b = page.as_bytes();
    b.windows(9).any(|w| {
        w[2] == b':' && w[5] == b':' && w[8] == b'.' && {
            let d = |i: usize| w[i].is_ascii_digit();
            d(0) && d(1) && d(3) && d(4) && d(6) && d(7)
        }
    })
}

both_backends!(
    each_role_sees_its_panels_with_the_recorded_numbers,
    a_sent_issue_is_on_the_dashboard_with_its_report,
    staff_pages_show_human_dates_and_labels,
);
