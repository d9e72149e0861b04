//! The staff search: one query across features, each result limited to what the role may see.

use chrono::Utc;
use frontdesk::comments::spam::issue_token;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};

/// A comment by Jane Reader; its reference.
async fn comment(app: &TestApp) -> String {
    let res = app
        .comments()
        .send(&json!({
            "name": "Jane Reader", "email": "jane@example.org", "subject": "Water story",
            "message": "The pumping station opened in June, not July.",
            "article_url": "http://localhost/news/water", "website": "",
            "form_token": issue_token(&app.state.keys, Utc::now() - chrono::Duration::seconds(10)),
        }))
        .await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.expect("json");
    body["reference"].as_str().expect("reference").to_string()
}

fn kinds(results: &Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["kind"].as_str().expect("kind").to_string())
        .collect()
}

async fn each_role_finds_only_what_it_may_open(backend: Backend) {
    let app = spawn_app(backend).await;
    let reference = comment(&app).await;
    let fundraising = app.staff_token("fundraising").await;
    let res = app
        .staff(&fundraising)
        .post_json(
            "/api/v1/staff/donations/offline",
            json!({"email": "ana.reader@example.org", "name": "Ana Donor", "amount_minor": 5000,
                   "currency": "USD", "received_on": Utc::now().date_naive().to_string(),
                   "method": "cheque", "send_receipt": false}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .newsletter()
        .subscribe(json!({"email": "night.reader@example.org"}))
        .await;
    assert_eq!(res.status(), 202);
    let editor = app.staff_token("editor").await;
    let hiring = app.staff_token("hiring").await;
    let admin = app.staff_token("admin").await;
    let search = |token: &str, q: &str| {
        let (token, q) = (token.to_string(), q.to_string());
        let app = &app;
        async move {
            let path = format!(
                "/api/v1/staff/search?q={}",
                url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            );
            let (status, body) = app.staff(&token).get_json(&path).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };

    // "reader" is in the commenter's name, the donor's and the subscriber's addresses.
    let mut seen = kinds(&search(&editor, "READER").await);
    seen.sort();
    assert_eq!(seen, ["comment"], "editors see comments only");
    let mut seen = kinds(&search(&fundraising, "reader").await);
    seen.sort();
    assert_eq!(seen, ["donor", "subscriber"], "fundraising sees no comment");
    assert!(kinds(&search(&hiring, "reader").await).is_empty());
    let mut seen = kinds(&search(&admin, "Reader").await);
    seen.sort();
    assert_eq!(seen, ["comment", "donor", "subscriber"]);

    // A comment by the reference the reader quotes, in any case, with or without its hyphen;
    // by words of its message; the donor by part of the name.
    let found = search(&editor, &reference.to_lowercase().replace('-', "")).await;
    assert_eq!(
        found["hits"][0]["title"],
        format!("Comment {reference}: Water story")
    );
    assert_eq!(
        kinds(&search(&editor, "pumping STATION").await),
        ["comment"]
    );
    let donor = search(&fundraising, "ana don").await;
    assert_eq!(donor["hits"][0]["title"], "Ana Donor");
    assert_eq!(
        donor["hits"][0]["href"],
        "/staff/donors?email=ana.reader%40example.org"
    );
    // Wildcards are text.
    assert!(kinds(&search(&admin, "%").await).is_empty());

    // A blank query finds nothing; a long one is cut; anonymous callers are refused.
    let (status, blank) = app
        .staff(&admin)
        .get_json("/api/v1/staff/search?q=%20")
        .await;
    assert_eq!((status, blank["hits"].clone()), (200, json!([])));
    let long = "x".repeat(201);
    let (status, cut) = app
        .staff(&admin)
        .get_json(&format!("/api/v1/staff/search?q={long}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        cut["q"].as_str().map(str::len),
        Some(200),
        "only 200 characters count"
    );
    assert_eq!(app.get("/api/v1/staff/search?q=x").await.status(), 401);

    // The page: the box in every staff header, results linking to their pages.
    app.signed_in("editor").await;
    let page = app
        .get("/staff/search?q=pumping")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("id=\"staff-search\""), "{page}");
    assert!(
        page.contains("href=\"&#x2f;staff&#x2f;comments&#x2f;")
            || page.contains("href=\"/staff/comments/"),
        "{page}"
    );
    assert!(!page.contains("ana.reader"), "{page}");
}

both_backends!(each_role_finds_only_what_it_may_open);
