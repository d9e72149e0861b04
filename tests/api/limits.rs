//! The per-IP budget on public POSTs, sent byte for byte over a socket: every spelling of a
//! route shares the route's budget, and every path no route serves shares one budget.

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp};

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
