use crate::both_backends;
use crate::helpers::{postgres_url, spawn_app, Backend};

both_backends!(
    healthz_reports_database_ok,
    metrics_count_requests_and_outbox,
    openapi_document_is_served
);

async fn healthz_reports_database_ok(backend: Backend) {
    let app = spawn_app(backend).await;

    let res = app.get("/healthz").await;

    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        res.headers()["x-request-id"].len(),
        36,
        "a request id to quote"
    );
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .contains("frame-ancestors 'none'"));
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

async fn metrics_count_requests_and_outbox(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/healthz").await;
    app.queue(vec![crate::helpers::test_email("m@example.org")])
        .await;
    app.smtp
        .wait_for(1, std::time::Duration::from_secs(10))
        .await;

    let text = app.get("/metrics").await.text().await.expect("text");

    assert!(
        text.contains(
            r#"frontdesk_http_requests_total{route="/healthz",method="GET",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("frontdesk_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(r#"frontdesk_outbox_emails{state="queued"}"#),
        "{text}"
    );
    assert!(text.contains("frontdesk_emails_sent_total 1"), "{text}");
}

async fn openapi_document_is_served(backend: Backend) {
    let app = spawn_app(backend).await;

    let doc: serde_json::Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");

    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    assert!(doc["paths"]["/healthz"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn unknown_routes_get_a_problem_document() {
    let app = spawn_app(Backend::Sqlite).await;

    let res = app.get("/no/such/page").await;

    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn hsts_only_when_public_url_is_https() {
    let plain = spawn_app(Backend::Sqlite).await;
    assert!(plain
        .get("/healthz")
        .await
        .headers()
        .get("strict-transport-security")
        .is_none());

    let https = crate::helpers::spawn_app_with(Backend::Sqlite, |s| {
        s.server.public_url = "https://frontdesk.example.org".parse().expect("url");
    })
    .await;
    let res = https.get("/healthz").await;
    assert!(res.headers()["strict-transport-security"]
        .to_str()
        .expect("ascii")
        .starts_with("max-age="));
}

/// A database outage: the health check says 503 and nothing internal leaks.
#[tokio::test]
async fn database_outage_gives_503_without_internals() {
    if postgres_url().is_none() {
        eprintln!("skipped: FRONTDESK_TEST_POSTGRES_URL is not set");
        return;
    }
    let app = spawn_app(Backend::Postgres).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let admin = postgres_url().expect("url");
    let name = app
        .database
        .url
        .rsplit('/')
        .next()
        .expect("db name")
        .to_string();
    tokio::task::spawn_blocking(move || {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::PgConnection::establish(&admin).expect("connect");
        diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut conn)
            .expect("drop");
    })
    .await
    .expect("join");

    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 503);
    let body = res.text().await.expect("text");
    assert!(body.contains("\"database\":\"unreachable\""), "{body}");
    for leak in ["SELECT", "postgres", "frontdesk_test", ".rs", "diesel"] {
        assert!(!body.contains(leak), "{leak} leaked: {body}");
    }

    let metrics = app.get("/metrics").await;
    assert_eq!(
        metrics.status(),
        200,
        "metrics still answer without the database"
    );
}

#[tokio::test]
async fn stylesheet_is_served_from_the_binary() {
    let app = spawn_app(Backend::Sqlite).await;

    let res = app.get("/assets/frontdesk.css").await;

    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    assert!(res.text().await.expect("text").contains("--fd-accent"));
}

#[tokio::test]
async fn cors_preflight_answers_allowed_origins_on_the_public_api_only() {
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |s| {
        s.server.allowed_origins = vec!["https://news.example.org".into()];
    })
    .await;
    let preflight = |path: &str, origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };

    let allowed = preflight("/api/v1/feedback", "https://news.example.org")
        .await
        .expect("r");
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://news.example.org"
    );

    let other = preflight("/api/v1/feedback", "https://evil.example")
        .await
        .expect("r");
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let staff = preflight("/api/v1/staff/me", "https://news.example.org")
        .await
        .expect("r");
    assert!(
        staff.headers().get("access-control-allow-origin").is_none(),
        "the staff API is never cross-origin"
    );
}

/// Every `route="…"` and `method="…"` label value in a Prometheus text.
fn label_values(text: &str, label: &str) -> std::collections::BTreeSet<String> {
    let marker = format!("{label}=\"");
    text.match_indices(&marker)
        .filter_map(|(i, _)| {
            let rest = &text[i + marker.len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .collect()
}

/// Invented methods and encoded paths, sent byte for byte, add no label value of their own:
/// methods beyond HTTP's are `other`, paths are their route's pattern or `unmatched`.
#[tokio::test]
async fn metrics_labels_come_from_fixed_sets() {
    let app = spawn_app(Backend::Sqlite).await;
    let before = app.get("/metrics").await.text().await.expect("text").len();

    for i in 0..200 {
        let method = format!("JUNK{i}{}", "Q".repeat(2000));
        let answer = app.raw(&method, "/healthz", None).await;
        assert!(answer.status >= 400, "{method}: {}", answer.status);
    }
    for path in [
        "/api/v1/%66eedback/summary?article_url=http://localhost/a",
        "/api/v1/feedback/%73ummary?article_url=http://localhost/a",
        "/%68ealthz",
        "/no/%73uch/page",
        "/no/such/page/%2F%2e%2e",
    ] {
        app.raw("GET", path, None).await;
    }
    let text = app.get("/metrics").await.text().await.expect("text");

    let methods = label_values(&text, "method");
    assert!(methods.contains("other"), "{methods:?}");
    assert!(
        methods
            .iter()
            .all(|m| ["GET", "POST", "other"].contains(&m.as_str())),
        "{methods:?}"
    );
    let routes = label_values(&text, "route");
    assert!(routes.contains("/api/v1/feedback/summary"), "{routes:?}");
    assert!(routes.contains("/healthz"), "{routes:?}");
    assert!(routes.contains("unmatched"), "{routes:?}");
    assert!(
        routes
            .iter()
            .all(|r| r == "unmatched" || (r.starts_with('/') && !r.contains('%'))),
        "{routes:?}"
    );
    assert_eq!(routes.len(), 4, "{routes:?}");
    assert!(
        text.len() < before + 20_000,
        "/metrics grew from {before} to {} bytes",
        text.len()
    );
}
