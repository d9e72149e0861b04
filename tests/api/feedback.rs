//! "Was this content helpful?": votes, the summary, and the store behind the staff report.

use chrono::{Duration, NaiveDate};
use frontdesk::domain::ArticleUrl;
use frontdesk::feedback::model::{Ballot, CommentStatus, NewVote, Voter};
use frontdesk::feedback::store::{self, CommentQueueFilter, RankFilter, RankOrder};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};

both_backends!(
    first_vote_is_created_and_sets_the_voter_cookie,
    changed_and_repeated_votes_keep_one_row,
    cookie_voter_repeats_keep_one_row,
    cookieless_votes_from_one_ip_and_agent_are_deduplicated,
    a_cookie_carries_over_only_the_cookieless_vote_of_the_day_it_was_issued,
    invalid_votes_are_refused_naming_each_field,
    summary_counts_every_form_of_the_address,
    concurrent_votes_are_all_committed_once,
    votes_answered_after_the_wal_sync_are_all_committed_once,
    voter_keys_rotate_daily_and_old_ones_are_deleted,
    ranking_puts_articles_needing_improvement_first,
    comments_left_with_votes_form_a_queue_with_status_and_notes,
    one_batch_merges_a_voters_repeated_votes_and_carries_over_cookieless_ones,
);

const ARTICLE: &str = "http://localhost/news/2024/story";

/// The `Set-Cookie` header of a vote's answer (the voter cookie), whole.
fn set_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a voter cookie")
        .to_string()
}

async fn post_vote(client: &reqwest::Client, app: &TestApp, body: Value) -> reqwest::Response {
    client
        .post(app.url("/api/v1/feedback"))
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// A vote sent with the `fd_voter` cookie `voter`, whatever cookies `client` keeps.
async fn post_vote_with_cookie(
    client: &reqwest::Client,
    app: &TestApp,
    voter: impl std::fmt::Display,
    body: Value,
) -> reqwest::Response {
    client
        .post(app.url("/api/v1/feedback"))
        .header("cookie", format!("fd_voter={voter}"))
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// A client that keeps no cookies, with a fixed User-Agent.
fn cookieless(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .build()
        .expect("client")
}

async fn rows_for(app: &TestApp, article_url: &str) -> i64 {
    let url = article_url.to_string();
    app.state
        .db
        .run(move |conn| Ok(store::vote_count(conn, &url)?))
        .await
        .expect("count")
}

async fn first_vote_is_created_and_sets_the_voter_cookie(backend: Backend) {
    let app = spawn_app(backend).await;

    let response = post_vote(
        &app.client,
        &app,
        json!({"article_url": ARTICLE, "helpful": true}),
    )
    .await;

    assert_eq!(response.status(), 201);
    let cookie = set_cookie(&response);
    assert!(cookie.starts_with("fd_voter="), "{cookie}");
    for attribute in [
        "HttpOnly",
        "SameSite=Lax",
        "Max-Age=31536000",
        "Path=/api/v1/feedback",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(!cookie.contains("Secure"), "public_url is http: {cookie}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["helpful"], true);
    assert!(body["id"].as_str().is_some_and(|id| id.len() >= 32));
}

async fn changed_and_repeated_votes_keep_one_row(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = post_vote(
        &app.client,
        &app,
        json!({"article_url": ARTICLE, "helpful": true}),
    )
    .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");

    // The browser now sends the cookie it was given: the same vote is changed.
    let changed = post_vote(
        &app.client,
        &app,
        json!({"article_url": ARTICLE, "helpful": false, "reason": "unclear", "comment": "Who said this?"}),
    )
    .await;
    assert_eq!(changed.status(), 200);
    assert!(changed.headers().get("set-cookie").is_none(), "cookie kept");
    let changed: Value = changed.json().await.expect("json");
    let repeated = post_vote(
        &app.client,
        &app,
        json!({"article_url": ARTICLE, "helpful": false}),
    )
    .await;
    assert_eq!(repeated.status(), 200);
    let repeated: Value = repeated.json().await.expect("json");

    assert_eq!(changed["id"], first["id"]);
    assert_eq!(repeated["id"], first["id"]);
    assert_eq!(changed["helpful"], false);
    assert_eq!(rows_for(&app, ARTICLE).await, 1);
    let summary: Value = app
        .get(&format!("/api/v1/feedback/summary?article_url={ARTICLE}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(summary["helpful"], 0);
    assert_eq!(summary["not_helpful"], 1);
    // A vote without a comment keeps the comment given earlier.
    let (queue, _) = app
        .state
        .db
        .run(|conn| {
            Ok(store::comment_queue(
                conn,
                &CommentQueueFilter::default(),
                None,
                10,
            )?)
        })
        .await
        .expect("queue");
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].comment.as_deref(), Some("Who said this?"));
}

async fn cookie_voter_repeats_keep_one_row(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = cookieless("reader-agent");
    let vote = |helpful: bool| {
        post_vote_with_cookie(
            &client,
            &app,
            "AAAAAAAAAAAAAAAAAAAAAA",
            json!({"article_url": ARTICLE, "helpful": helpful}),
        )
    };

    let first = vote(true).await;
    let retry = vote(true).await;
    let change = vote(false).await;

    assert_eq!(first.status(), 201);
    assert!(
        first.headers().get("set-cookie").is_none(),
        "a cookie was sent"
    );
    assert_eq!(retry.status(), 200);
    assert_eq!(change.status(), 200);
    assert_eq!(rows_for(&app, ARTICLE).await, 1);
}

async fn cookieless_votes_from_one_ip_and_agent_are_deduplicated(backend: Backend) {
    let app = spawn_app(backend).await;
    let reader = cookieless("Mozilla/5.0 (Reader)");
    let neighbour = cookieless("Mozilla/5.0 (Neighbour)");

    let first = post_vote(
        &reader,
        &app,
        json!({"article_url": ARTICLE, "helpful": true}),
    )
    .await;
    let again = post_vote(
        &reader,
        &app,
        json!({"article_url": ARTICLE, "helpful": false}),
    )
    .await;
    let other_agent = post_vote(
        &neighbour,
        &app,
        json!({"article_url": ARTICLE, "helpful": true}),
    )
    .await;

    assert_eq!(first.status(), 201);
    assert!(
        first.headers().get("set-cookie").is_some(),
        "a cookie is offered"
    );
    assert_eq!(again.status(), 200);
    assert_eq!(other_agent.status(), 201);
    assert_eq!(rows_for(&app, ARTICLE).await, 2);
    // No raw IP in any voter key.
    let voters: Vec<String> = app
        .state
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use frontdesk::db::schema::feedback_votes::dsl as v;
            Ok(v::feedback_votes.select(v::voter).load(conn)?)
        })
        .await
        .expect("voters");
    assert!(voters
        .iter()
        .all(|k| k.starts_with("h:") && !k.contains("127.0.0.1")));
}

/// The answer to a cookie-less vote sets a cookie; the browser's next vote with it changes
/// that same vote. A cookie issued on an earlier day belongs to another browser context (the
/// cookie-less vote would have carried it), so its first vote is a vote of its own.
async fn a_cookie_carries_over_only_the_cookieless_vote_of_the_day_it_was_issued(backend: Backend) {
    let app = spawn_app(backend).await;
    let agent = "Mozilla/5.0 (Shared household computer)";
    let first = post_vote(
        &cookieless(agent),
        &app,
        json!({"article_url": ARTICLE, "helpful": true}),
    )
    .await;
    assert_eq!(first.status(), 201);
    let issued = set_cookie(&first)
        .split(';')
        .next()
        .and_then(|v| v.strip_prefix("fd_voter="))
        .expect("an fd_voter cookie")
        .to_string();
    let first: Value = first.json().await.expect("json");

    let yesterday = (chrono::Utc::now().date_naive() - Duration::days(1))
        .signed_duration_since(NaiveDate::default())
        .num_days();
    let old_cookie = post_vote_with_cookie(
        &cookieless(agent),
        &app,
        format!("{yesterday}_AAAAAAAAAAAAAAAAAAAAAA"),
        json!({"article_url": ARTICLE, "helpful": false}),
    )
    .await;
    assert_eq!(old_cookie.status(), 201, "a vote of its own");
    assert_eq!(rows_for(&app, ARTICLE).await, 2);

    let same_browser = post_vote_with_cookie(
        &cookieless(agent),
        &app,
        &issued,
        json!({"article_url": ARTICLE, "helpful": false}),
    )
    .await;
    assert_eq!(
        same_browser.status(),
        200,
        "the cookie-less vote, carried over"
    );
    let same_browser: Value = same_browser.json().await.expect("json");
    assert_eq!(same_browser["id"], first["id"]);
    assert_eq!(rows_for(&app, ARTICLE).await, 2);
}

async fn invalid_votes_are_refused_naming_each_field(backend: Backend) {
    let app = spawn_app(backend).await;

    let other_host = post_vote(
        &app.client,
        &app,
        json!({"article_url": "https://evil.example/news/story", "helpful": true}),
    )
    .await;
    let everything_wrong = post_vote(
        &app.client,
        &app,
        json!({"article_url": "ftp://localhost/x", "helpful": false, "reason": "boring", "comment": "x".repeat(2001)}),
    )
    .await;
    let unknown_field = post_vote(
        &app.client,
        &app,
        json!({"article_url": ARTICLE, "helpful": true, "rating": 5}),
    )
    .await;
    let bad_summary = app
        .get("/api/v1/feedback/summary?article_url=https://evil.example/a")
        .await;
    let no_summary_url = app.get("/api/v1/feedback/summary").await;

    assert_eq!(other_host.status(), 422);
    assert_eq!(
        other_host
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let problem: Value = other_host.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "article_url");
    assert_eq!(everything_wrong.status(), 422);
    let problem: Value = everything_wrong.json().await.expect("json");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["article_url", "reason", "comment"]);
    assert_eq!(unknown_field.status(), 422);
    assert_eq!(bad_summary.status(), 422);
    assert_eq!(no_summary_url.status(), 422);
    assert_eq!(rows_for(&app, ARTICLE).await, 0);
}

async fn summary_counts_every_form_of_the_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = cookieless("agent");
    for (voter, url, helpful) in [
        (
            "voter-one-aaaaaaaaaaaaa",
            "http://localhost/news/2024/story",
            true,
        ),
        (
            "voter-two-aaaaaaaaaaaaa",
            "HTTP://LOCALHOST/news/2024/story/?utm_source=x",
            true,
        ),
        (
            "voter-three-aaaaaaaaaaa",
            "http://localhost/news/2024/story#comments",
            false,
        ),
        (
            "voter-one-aaaaaaaaaaaaa",
            "http://localhost/news/other",
            false,
        ),
    ] {
        let response = post_vote_with_cookie(
            &client,
            &app,
            voter,
            json!({"article_url": url, "helpful": helpful}),
        )
        .await;
        assert_eq!(response.status(), 201);
    }

    let response = client
        .get(app.url("/api/v1/feedback/summary"))
        .query(&[("article_url", "http://localhost/news/2024/story/")])
        .send()
        .await
        .expect("request");

    assert_eq!(response.status(), 200);
    let summary: Value = response.json().await.expect("json");
    assert_eq!(
        summary,
        json!({"article_url": ARTICLE, "helpful": 2, "not_helpful": 1, "total": 3})
    );
    let empty: Value = app
        .get("/api/v1/feedback/summary?article_url=http://localhost/never-voted")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(empty["total"], 0);
}

async fn concurrent_votes_are_all_committed_once(backend: Backend) {
    votes_race_and_are_committed_once(spawn_app_unlimited(backend).await).await;
}

/// The default durability on SQLite (`synchronous = full`): commits answered by the WAL
/// sync thread, overlapped with the next batch.
async fn votes_answered_after_the_wal_sync_are_all_committed_once(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |s| {
        s.limits.enabled = false;
        s.database.sqlite_synchronous = frontdesk::config::SqliteSynchronous::Full;
    })
    .await;
    votes_race_and_are_committed_once(app).await;
}

async fn votes_race_and_are_committed_once(app: TestApp) {
    let client = cookieless("load");
    // 60 voters at once, each sending its vote twice (a retry racing the original).
    let requests = (0..120).map(|i| {
        post_vote_with_cookie(
            &client,
            &app,
            format!("concurrent-voter-{:06}", i % 60),
            json!({"article_url": ARTICLE, "helpful": i % 3 != 0}),
        )
    });

    let responses = futures_util::future::join_all(requests).await;

    let mut created = 0;
    for response in responses {
        let status = response.status();
        assert!(status == 201 || status == 200, "{status}");
        created += usize::from(status == 201);
    }
    assert_eq!(created, 60, "one first vote per voter");
    assert_eq!(rows_for(&app, ARTICLE).await, 60);
}

async fn spawn_app_unlimited(backend: Backend) -> TestApp {
    crate::helpers::spawn_app_with(backend, |s| s.limits.enabled = false).await
}

async fn voter_keys_rotate_daily_and_old_ones_are_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).expect("date");

    let (first, same_day, next_day, days) = app
        .state
        .db
        .write(move |conn| {
            let first = store::rotate_voter_keys(conn, day(1))?;
            let same_day = store::rotate_voter_keys(conn, day(1))?;
            let next_day = store::rotate_voter_keys(conn, day(2))?;
            let days = store::voter_key_days(conn)?;
            Ok((first, same_day, next_day, days))
        })
        .await
        .expect("rotate");

    assert_eq!(first.len(), 32);
    assert_eq!(first, same_day, "one key per day");
    assert_ne!(first, next_day, "a new key each day");
    assert_eq!(days, ["2026-03-02"], "the old key is gone");
}

/// Writes a vote directly through the store (as the writer does).
fn vote(
    article: &str,
    voter: &str,
    helpful: bool,
    reason: Option<&str>,
    comment: Option<&str>,
) -> NewVote {
    NewVote {
        ballot: Ballot {
            article_url: ArticleUrl::parse(article, &["localhost".to_string()]).expect("url"),
            helpful,
            reason: reason.map(String::from),
            comment: comment.map(String::from),
        },
        voter: Voter {
            key: format!("c:{voter}"),
            carry_over_from: Some(format!("h:{voter}")),
        },
    }
}

async fn ranking_puts_articles_needing_improvement_first(backend: Backend) {
    let app = spawn_app(backend).await;
    app.state
        .db
        .write(|conn| {
            let now = frontdesk::db::now();
            // a: 2 of 10 helpful; b: 9 of 10; c: 1 of 1 (too few votes to rank).
            for i in 0..10 {
                let reason = (i >= 2).then_some("unclear");
                store::record_vote(
                    conn,
                    &vote("http://localhost/a", &format!("a{i}"), i < 2, reason, None),
                    now,
                )?;
                let reason = (i >= 9).then_some("too_long");
                store::record_vote(
                    conn,
                    &vote("http://localhost/b", &format!("b{i}"), i < 9, reason, None),
                    now,
                )?;
            }
            store::record_vote(
                conn,
                &vote("http://localhost/c", "c0", true, None, None),
                now,
            )?;
            Ok(())
        })
        .await
        .expect("votes");

    let rank = |filter: RankFilter, cursor: Option<String>, limit: i64| {
        app.state.db.run(move |conn| {
            Ok(store::ranked_articles(
                conn,
                &filter,
                cursor.as_deref(),
                limit,
            )?)
        })
    };
    let (worst_first, next) = rank(
        RankFilter {
            min_votes: 5,
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .expect("rank");
    let (best_first, _) = rank(
        RankFilter {
            min_votes: 5,
            order: RankOrder::MostHelpfulFirst,
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .expect("rank");
    let (too_long_only, _) = rank(
        RankFilter {
            min_votes: 5,
            reason: Some("too_long".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .expect("rank");
    let (future, _) = rank(
        RankFilter {
            min_votes: 1,
            from: Some(frontdesk::db::now() + Duration::hours(1)),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .expect("rank");
    let (page_one, cursor) = rank(
        RankFilter {
            min_votes: 1,
            ..Default::default()
        },
        None,
        2,
    )
    .await
    .expect("rank");
    let (page_two, end) = rank(
        RankFilter {
            min_votes: 1,
            ..Default::default()
        },
        cursor.clone(),
        2,
    )
    .await
    .expect("rank");

    let urls = |items: &[store::ArticleRank]| {
        items
            .iter()
            .map(|a| a.article_url.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        urls(&worst_first),
        ["http://localhost/a", "http://localhost/b"]
    );
    assert_eq!(next, None);
    assert_eq!(worst_first[0].helpful, 2);
    assert_eq!(worst_first[0].not_helpful, 8);
    assert_eq!(worst_first[0].reasons.get("unclear"), Some(&8));
    assert!((worst_first[0].helpful_share - 0.2).abs() < 1e-9);
    assert!(worst_first[0].wilson_lower_bound < worst_first[1].wilson_lower_bound);
    assert_eq!(
        urls(&best_first),
        ["http://localhost/b", "http://localhost/a"]
    );
    assert_eq!(urls(&too_long_only), ["http://localhost/b"]);
    assert!(future.is_empty());
    assert_eq!(page_one.len(), 2);
    assert!(cursor.is_some());
    assert_eq!(page_two.len(), 1);
    assert_eq!(end, None);
}

async fn comments_left_with_votes_form_a_queue_with_status_and_notes(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = app
        .state
        .db
        .write(|conn| {
            let now = frontdesk::db::now();
            let mut ids = Vec::new();
            for (i, reason) in ["factual_error", "unclear", "factual_error"]
                .iter()
                .enumerate()
            {
                let outcome = store::record_vote(
                    conn,
                    &vote(
                        "http://localhost/a",
                        &format!("v{i}"),
                        false,
                        Some(reason),
                        Some(&format!("comment {i}")),
                    ),
                    now + Duration::seconds(i as i64),
                )?;
                ids.push(outcome.id);
            }
            store::record_vote(
                conn,
                &vote("http://localhost/a", "silent", true, None, None),
                now,
            )?;
            Ok(ids)
        })
        .await
        .expect("votes");

    let first_id = ids[0].clone();
    let note = app
        .state
        .db
        .write(move |conn| {
            store::set_comment_status(conn, &first_id, CommentStatus::InProgress)?;
            Ok(store::add_note(
                conn,
                &first_id,
                "editor@newsroom",
                "Checking with the reporter.",
            )?)
        })
        .await
        .expect("status and note");
    let queue = |filter: CommentQueueFilter, cursor: Option<String>, limit: i64| {
        app.state.db.run(move |conn| {
            Ok(store::comment_queue(
                conn,
                &filter,
                cursor.as_deref(),
                limit,
            )?)
        })
    };
    let (all, _) = queue(CommentQueueFilter::default(), None, 10)
        .await
        .expect("queue");
    let (new_only, _) = queue(
        CommentQueueFilter {
            status: Some(CommentStatus::New),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .expect("queue");
    let (factual, _) = queue(
        CommentQueueFilter {
            reason: Some("factual_error".into()),
            ..Default::default()
        },
        None,
        10,
    )
    .await
    .expect("queue");
    let (page, cursor) = queue(CommentQueueFilter::default(), None, 2)
        .await
        .expect("queue");
    let (rest, end) = queue(CommentQueueFilter::default(), cursor, 2)
        .await
        .expect("queue");
    let first_id = ids[0].clone();
    let notes = app
        .state
        .db
        .run(move |conn| Ok(store::notes(conn, &first_id)?))
        .await
        .expect("notes");
    let unknown = app
        .state
        .db
        .write(|conn| {
            Ok(store::set_comment_status(
                conn,
                "no-such-vote",
                CommentStatus::Resolved,
            )?)
        })
        .await;

    assert_eq!(all.len(), 3, "the vote without a comment is not queued");
    assert_eq!(all[0].comment.as_deref(), Some("comment 2"), "newest first");
    assert_eq!(new_only.len(), 2);
    assert_eq!(factual.len(), 2);
    assert_eq!(page.len(), 2);
    assert_eq!(rest.len(), 1);
    assert_eq!(end, None);
    assert_eq!(rest[0].id, ids[0]);
    assert_eq!(
        rest[0].comment_status.map(|s| s.as_str()),
        Some("in_progress")
    );
    assert_eq!(notes, vec![note]);
    assert!(matches!(unknown, Err(frontdesk::error::AppError::NotFound)));
}

async fn one_batch_merges_a_voters_repeated_votes_and_carries_over_cookieless_ones(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let a = "http://localhost/a";
    let anonymous = NewVote {
        voter: Voter {
            key: "h:same-device".into(),
            carry_over_from: None,
        },
        ..vote(a, "unused", true, None, Some("First thoughts."))
    };
    let cookie = NewVote {
        voter: Voter {
            key: "c:device-cookie".into(),
            carry_over_from: Some("h:same-device".into()),
        },
        ..vote(a, "unused", false, Some("unclear"), None)
    };

    let (first, second) = app
        .state
        .db
        .write(move |conn| {
            let now = frontdesk::db::now();
            let first = store::record_votes(
                conn,
                &[
                    vote(a, "x", true, None, Some("one")),
                    vote(a, "y", true, None, None),
                    vote(a, "x", false, Some("other"), None),
                    anonymous,
                ],
                now,
            )?;
            let second = store::record_votes(conn, &[cookie], now)?;
            Ok((first, second))
        })
        .await
        .expect("votes");

    assert_eq!(
        first.iter().map(|o| o.created).collect::<Vec<_>>(),
        [true, true, false, true]
    );
    assert_eq!(first[0].id, first[2].id, "one row for x");
    assert_eq!(
        second[0].id, first[3].id,
        "the cookie took over the cookie-less vote"
    );
    assert!(!second[0].created);
    assert_eq!(rows_for(&app, a).await, 3);
    let (helpful, not_helpful) = app
        .state
        .db
        .run(move |conn| Ok(store::summary(conn, a)?))
        .await
        .expect("summary");
    assert_eq!((helpful, not_helpful), (1, 2));
    let (queue, _) = app
        .state
        .db
        .run(|conn| {
            Ok(store::comment_queue(
                conn,
                &CommentQueueFilter::default(),
                None,
                10,
            )?)
        })
        .await
        .expect("queue");
    let comments: Vec<_> = queue.iter().filter_map(|q| q.comment.clone()).collect();
    assert_eq!(comments.len(), 2);
    assert!(
        comments.contains(&"one".to_string()) && comments.contains(&"First thoughts.".to_string())
    );
}

both_backends!(well_formed_votes_of_the_wrong_shape_are_422_naming_the_field);

/// A number no type can hold is still JSON: 422 naming the field (it was a 400 "not valid
/// JSON"); a wrong type too; malformed JSON stays 400.
async fn well_formed_votes_of_the_wrong_shape_are_422_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let send = |body: String| {
        app.client
            .post(app.url("/api/v1/feedback"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let huge = send(format!(
        r#"{{"article_url": "{ARTICLE}", "helpful": 1e400}}"#
    ))
    .await
    .expect("request");
    let text = send(format!(
        r#"{{"article_url": "{ARTICLE}", "helpful": "yes"}}"#
    ))
    .await
    .expect("request");
    let url_number = send(r#"{"article_url": 1e999, "helpful": true}"#.into())
        .await
        .expect("request");
    let malformed = send(format!(r#"{{"article_url": "{ARTICLE}", "helpful": yes}}"#))
        .await
        .expect("request");

    for (res, field) in [
        (huge, "helpful"),
        (text, "helpful"),
        (url_number, "article_url"),
    ] {
        assert_eq!(res.status(), 422, "{field}");
        let problem: Value = res.json().await.expect("json");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    assert_eq!(malformed.status(), 400);
    assert_eq!(rows_for(&app, ARTICLE).await, 0);
}
