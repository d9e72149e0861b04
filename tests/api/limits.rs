//! The per-IP budget on public POSTs, sent byte for byte over a socket: every spelling of a
//! route shares the route's budget, and every path no route serves shares one budget.

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp, TestDatabase};

both_backends!(
    encoded_spellings_of_a_route_share_its_budget,
    unmatched_paths_share_one_budget,
);

/// With 5 a minute the burst is 5: the sixth POST within the minute is refused.
const BUDGET: usize = 5;

async fn app_with_small_budget(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.limits.enabled = true;
        s.limits.public_per_minute = BUDGET as u32;
    })
    .await
}

async fn encoded_spellings_of_a_route_share_its_budget(backend: Backend) {
    let app = app_with_small_budget(backend).await;
    let spellings = [
        "/api/v1/feedback",
        "/api/v1/%66eedback",
        "/api/v1/f%65edback",
        "/api/v1/%66%65%65dback",
        "/api/v1/feedbac%6B",
        "/api/v1/%66eedbac%6b",
    ];
    assert_eq!(spellings.len(), BUDGET + 1);

    let mut statuses = Vec::new();
    for path in spellings {
        statuses.push(app.raw("POST", path, Some("{}")).await.status);
    }

    // 422: each spelling reached the vote handler (it names the missing fields), until the
    // route's one budget ran out.
    assert_eq!(statuses, [422, 422, 422, 422, 422, 429], "{spellings:?}");
    let refused = app.raw("POST", "/api/v1/%66eedback", Some("{}")).await;
    assert_eq!(refused.status, 429);
    assert!(
        refused.text.to_ascii_lowercase().contains("retry-after: "),
        "{}",
        refused.text
    );
    // Another route has a budget of its own.
    let other = app
        .raw("POST", "/api/v1/newsletter/subscriptions", Some("{}"))
        .await;
    assert_eq!(other.status, 422, "{}", other.text);
}

async fn unmatched_paths_share_one_budget(backend: Backend) {
    let app = app_with_small_budget(backend).await;

    let mut statuses = Vec::new();
    for i in 0..=BUDGET {
        let path = format!("/api/v1/no-such-route-{i}/{}", "x".repeat(1000));
        statuses.push(app.raw("POST", &path, Some("{}")).await.status);
    }

    assert_eq!(statuses, [404, 404, 404, 404, 404, 429]);
    // Routes keep their own budgets.
    let vote = app.raw("POST", "/api/v1/feedback", Some("{}")).await;
    assert_eq!(vote.status, 422, "{}", vote.text);
}

both_backends!(a_limit_kept_in_the_database_is_one_budget_for_every_limiter_on_it);

/// Two limiters on one database stand for two processes: together they allow one burst
/// (5 of 10 a minute), and what they store names no client address.
async fn a_limit_kept_in_the_database_is_one_budget_for_every_limiter_on_it(backend: Backend) {
    use diesel::{QueryDsl, RunQueryDsl};
    use frontdesk::db::schema::rate_limits::dsl as r;
    use frontdesk::error::AppError;
    use frontdesk::web::LimitStore;

    let database = tokio::task::spawn_blocking(move || TestDatabase::new(backend))
        .await
        .expect("database");
    let db = migrated(&database).await;
    let store = LimitStore::Database {
        db: db.clone(),
        keys: frontdesk::keys::Keys::new("a test key"),
    };
    let (one, other) = (store.per_minute(true, 10), store.per_minute(true, 10));

    let mut allowed = 0;
    for i in 0..10 {
        let limiter = if i % 2 == 0 { &one } else { &other };
        if limiter.check("public", "203.0.113.9").await.is_ok() {
            allowed += 1;
        }
    }
    let refused = other.check("public", "203.0.113.9").await;

    assert_eq!(allowed, 5, "one burst between the two");
    match refused {
        // One request every 6 s: the next is allowed within 6 s.
        Err(AppError::RateLimited { retry_after_secs }) => {
            assert!((1..=6).contains(&retry_after_secs), "{retry_after_secs}")
        }
        other => panic!("expected 429, got {other:?}"),
    }
    assert!(
        one.check("public", "203.0.113.10").await.is_ok(),
        "keys are apart"
    );
    assert!(
        one.check("login", "203.0.113.9").await.is_ok(),
        "limits are apart"
    );
    let stored: Vec<(String, String)> = db
        .run(|conn| Ok(r::rate_limits.select((r::name, r::key_hash)).load(conn)?))
        .await
        .expect("rows");
    assert_eq!(stored.len(), 3);
    assert!(
        stored.iter().all(|(_, key)| !key.contains("203.0.113")),
        "{stored:?}"
    );
    // Nothing is back to a full budget yet; a minute on, everything is.
    assert_eq!(store.sweep().await.expect("sweep"), 0);
    let later = frontdesk::db::rate_limits::now_micros() + 61_000_000;
    let swept = db
        .run(move |conn| Ok(frontdesk::db::rate_limits::delete_full(conn, later)?))
        .await
        .expect("delete");
    assert_eq!(swept, 3);
}

async fn migrated(database: &TestDatabase) -> frontdesk::db::Db {
    use frontdesk::config::{DatabaseSettings, Secret, Settings};
    let url = database.url.clone();
    tokio::task::spawn_blocking(move || {
        let db = frontdesk::db::Db::connect(&DatabaseSettings {
            url: Secret::new(url),
            ..Settings::default().database
        })
        .expect("connect");
        db.migrate().expect("migrate");
        db
    })
    .await
    .expect("join")
}
