//! The staff side of feedback and comments: the helpfulness ranking, the queue of comments
//! left with votes, the comments inbox, replies, assignment, sensitive comments, the CSV
//! export, the audit entries, and the staff pages.

use std::time::Duration;

use chrono::Utc;
use frontdesk::comments::spam::issue_token;
use frontdesk::domain::ArticleUrl;
use frontdesk::feedback::store;
use frontdesk::feedback::{Ballot, NewVote, Voter};
use frontdesk::staff::audit;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};

both_backends!(
    ranking_puts_articles_needing_improvement_first_with_a_minimum,
    vote_comments_queue_takes_status_changes_and_notes,
    inbox_lists_by_status_with_a_cursor_and_takes_status_changes,
    staff_reply_reaches_the_reader_threaded_and_is_kept,
    comments_can_be_assigned_to_colleagues,
    sensitive_comments_stay_with_editors_and_out_of_exports,
    spam_can_be_marked_and_unmarked,
    feedback_pages_show_the_ranking_and_the_queue,
    comment_pages_show_the_inbox_and_act_on_a_comment,
);

const WAIT: Duration = Duration::from_secs(15);

// ---- helpers ----

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

/// a: 2 of 10 helpful (8 "unclear", one comment); b: 9 of 10; c: 1 of 1.
async fn seed_votes(app: &TestApp) -> String {
    app.state
        .db
        .write(|conn| {
            let now = frontdesk::db::now();
            let mut commented = String::new();
            for i in 0..10 {
                let reason = (i >= 2).then_some("unclear");
                let comment = (i == 9).then_some("The second paragraph lost me.");
                let outcome = store::record_vote(
                    conn,
                    &vote(
                        "http://localhost/a",
                        &format!("a{i}"),
                        i < 2,
                        reason,
                        comment,
                    ),
                    now,
                )?;
                if i == 9 {
                    commented = outcome.id;
                }
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
            Ok(commented)
        })
        .await
        .expect("votes")
}

fn urls(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["article_url"].as_str().expect("url").to_string())
        .collect()
}

fn field_names(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_string())
        .collect()
}

/// Posts a reader's comment through the public API; returns its id (from the store).
async fn post_comment(app: &TestApp, email: &str, message: &str) -> String {
    let token = issue_token(&app.state.keys, Utc::now() - chrono::Duration::seconds(10));
    let res = app
        .client
        .post(app.url("/api/v1/comments"))
        .json(&json!({
            "name": "Jane Reader",
            "email": email,
            "subject": "About the story",
            "message": message,
            "article_url": "http://localhost/news/bolivia",
            "website": "",
            "form_token": token,
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 202);
    let email = email.to_string();
    app.state
        .db
        .run(move |conn| {
            let filter = frontdesk::comments::store::CommentFilter {
                email: Some(email),
                ..Default::default()
            };
            Ok(frontdesk::comments::store::list(
                conn,
                &filter,
                frontdesk::comments::Clearance::Sensitive,
                None,
                1,
            )?
            .0)
        })
        .await
        .expect("list")[0]
        .id
        .clone()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, Option<String>, String)> {
    app.state
        .db
        .run(|conn| Ok(audit::list(conn, None, None, 500)?))
        .await
        .expect("audit")
        .into_iter()
        .map(|e| (e.action, e.target_id, e.details))
        .collect()
}

async fn form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .form(fields)
        .send()
        .await
        .expect("form")
}

// ---- feedback ----

async fn ranking_puts_articles_needing_improvement_first_with_a_minimum(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_votes(&app).await;
    let editor = app.staff_token("editor").await;
    let fundraiser = app.staff_token("fundraising").await;

    let worst_first = app
        .staff(&editor)
        .get_ok("/api/v1/staff/feedback?min_votes=5")
        .await;
    let best_first = app
        .staff(&editor)
        .get_ok("/api/v1/staff/feedback?min_votes=5&order=most_helpful")
        .await;
    let everything = app
        .staff(&editor)
        .get_ok("/api/v1/staff/feedback?min_votes=1&limit=2")
        .await;
    let rest = app
        .staff(&editor)
        .get_ok(&format!(
            "/api/v1/staff/feedback?min_votes=1&limit=2&cursor={}",
            everything["next_cursor"].as_str().expect("cursor")
        ))
        .await;
    let default_minimum = app.staff(&editor).get_ok("/api/v1/staff/feedback").await;
    let too_long = app
        .staff(&editor)
        .get_ok("/api/v1/staff/feedback?min_votes=1&reason=too_long")
        .await;
    let future = app
        .staff(&editor)
        .get_ok("/api/v1/staff/feedback?min_votes=1&from=2999-01-01")
        .await;
    let bad = app
        .staff(&editor)
        .send(
            reqwest::Method::GET,
            "/api/v1/staff/feedback?reason=boring&min_votes=0&from=yesterday&limit=501",
            None,
        )
        .await;
    let bad_fields = app
        .staff(&editor)
        .send(
            reqwest::Method::GET,
            "/api/v1/staff/feedback?reason=boring&min_votes=0&from=yesterday",
            None,
        )
        .await;
    let refused = app
        .staff(&fundraiser)
        .send(reqwest::Method::GET, "/api/v1/staff/feedback", None)
        .await;

    assert_eq!(
        urls(&worst_first),
        ["http://localhost/a", "http://localhost/b"]
    );
    assert_eq!(worst_first["next_cursor"], Value::Null);
    let a = &worst_first["items"][0];
    assert_eq!(
        (
            a["helpful"].as_i64(),
            a["not_helpful"].as_i64(),
            a["total"].as_i64()
        ),
        (Some(2), Some(8), Some(10))
    );
    assert!((a["helpful_share"].as_f64().expect("share") - 0.2).abs() < 1e-9);
    assert!(
        a["wilson_lower_bound"].as_f64().expect("bound")
            < worst_first["items"][1]["wilson_lower_bound"]
                .as_f64()
                .expect("bound")
    );
    assert_eq!(a["reasons"]["unclear"], 8);
    assert_eq!(
        urls(&best_first),
        ["http://localhost/b", "http://localhost/a"]
    );
    assert_eq!(everything["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["next_cursor"], Value::Null);
    assert_eq!(
        urls(&default_minimum),
        ["http://localhost/a", "http://localhost/b"],
        "feedback.min_votes (10) applies by default"
    );
    assert_eq!(urls(&too_long), ["http://localhost/b"]);
    assert!(urls(&future).is_empty());
    assert_eq!(bad.status(), 422, "limit out of range");
    assert_eq!(bad_fields.status(), 422);
    let problem: Value = bad_fields.json().await.expect("problem");
    assert_eq!(field_names(&problem), ["from", "reason", "min_votes"]);
    assert_eq!(refused.status(), 403);
}

async fn vote_comments_queue_takes_status_changes_and_notes(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = seed_votes(&app).await;
    let editor = app.staff_token("editor").await;

    let queue = app
        .staff(&editor)
        .get_ok("/api/v1/staff/feedback/comments?status=new")
        .await;
    let changed = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/staff/feedback/comments/{id}"),
            Some(json!({"status": "in_progress"})),
        )
        .await;
    let noted = app
        .staff(&editor)
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/staff/feedback/comments/{id}/notes"),
            Some(json!({"body": "  Asked the desk to rewrite it.  "})),
        )
        .await;
    let in_progress = app
        .staff(&editor)
        .get_ok("/api/v1/staff/feedback/comments?status=in_progress&reason=unclear&from=2000-01-01")
        .await;
    let still_new = app
        .staff(&editor)
        .get_ok("/api/v1/staff/feedback/comments?status=new")
        .await;
    let bad_status = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/staff/feedback/comments/{id}"),
            Some(json!({"status": "open"})),
        )
        .await;
    let unknown_field = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/staff/feedback/comments/{id}"),
            Some(json!({"status": "resolved", "priority": 1})),
        )
        .await;
    let unknown_vote = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            "/api/v1/staff/feedback/comments/no-such-vote",
            Some(json!({"status": "resolved"})),
        )
        .await;
    let empty_note = app
        .staff(&editor)
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/staff/feedback/comments/{id}/notes"),
            Some(json!({"body": " "})),
        )
        .await;

    assert_eq!(queue["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(queue["items"][0]["id"], id.as_str());
    assert_eq!(
        queue["items"][0]["comment"],
        "The second paragraph lost me."
    );
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.expect("json");
    assert_eq!(changed["status"], "in_progress");
    assert_eq!(noted.status(), 201);
    let note: Value = noted.json().await.expect("json");
    assert_eq!(note["body"], "Asked the desk to rewrite it.");
    assert!(note["author"]
        .as_str()
        .expect("author")
        .contains("Test editor"));
    assert_eq!(in_progress["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        in_progress["items"][0]["notes"][0]["body"],
        "Asked the desk to rewrite it."
    );
    assert_eq!(still_new["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(bad_status.status(), 422);
    let problem: Value = bad_status.json().await.expect("problem");
    assert_eq!(field_names(&problem), ["status"]);
    assert_eq!(unknown_field.status(), 422);
    assert_eq!(unknown_vote.status(), 404);
    assert_eq!(empty_note.status(), 422);
    let actions = audit_actions(&app).await;
    assert!(actions
        .iter()
        .any(|(a, t, d)| a == "feedback.comment_status_changed"
            && t.as_deref() == Some(id.as_str())
            && d.contains("in_progress")));
    assert!(actions
        .iter()
        .any(|(a, t, _)| a == "feedback.note_added" && t.as_deref() == Some(id.as_str())));
}

// ---- comments ----

async fn inbox_lists_by_status_with_a_cursor_and_takes_status_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = post_comment(&app, "one@example.org", "First thought on the piece.").await;
    post_comment(&app, "two@example.org", "Second thought, about the map.").await;
    post_comment(&app, "three@example.org", "Third thought: the headline.").await;
    let editor = app.staff_token("editor").await;

    let page_one = app
        .staff(&editor)
        .get_ok("/api/v1/staff/comments?status=new&limit=2")
        .await;
    let page_two = app
        .staff(&editor)
        .get_ok(&format!(
            "/api/v1/staff/comments?status=new&limit=2&cursor={}",
            page_one["next_cursor"].as_str().expect("cursor")
        ))
        .await;
    let archived = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/staff/comments/{first}"),
            Some(json!({"status": "archived"})),
        )
        .await;
    let archived_list = app
        .staff(&editor)
        .get_ok("/api/v1/staff/comments?status=archived")
        .await;
    let by_email = app
        .staff(&editor)
        .get_ok("/api/v1/staff/comments?email=TWO@example.org")
        .await;
    let bad_status = app
        .staff(&editor)
        .send(
            reqwest::Method::GET,
            "/api/v1/staff/comments?status=open",
            None,
        )
        .await;
    let bad_limit = app
        .staff(&editor)
        .send(
            reqwest::Method::GET,
            "/api/v1/staff/comments?limit=501",
            None,
        )
        .await;
    let bad_patch = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/staff/comments/{first}"),
            Some(json!({"status": "closed", "spam": true})),
        )
        .await;
    let empty_patch = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/staff/comments/{first}"),
            Some(json!({})),
        )
        .await;

    assert_eq!(page_one["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        page_one["items"][0]["email"], "three@example.org",
        "newest first"
    );
    assert!(page_one["items"][0]["unanswered_seconds"]
        .as_i64()
        .is_some());
    assert!(page_one["items"][0]["created_at"]
        .as_str()
        .expect("time")
        .ends_with("+00:00"));
    assert_eq!(page_two["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page_two["next_cursor"], Value::Null);
    assert_eq!(archived.status(), 200);
    let archived: Value = archived.json().await.expect("json");
    assert_eq!(archived["status"], "archived");
    assert_eq!(archived["unanswered_seconds"], Value::Null);
    assert_eq!(archived_list["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(archived_list["items"][0]["id"], first.as_str());
    assert_eq!(by_email["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(bad_status.status(), 422);
    assert_eq!(bad_limit.status(), 422);
    assert_eq!(bad_patch.status(), 422);
    let problem: Value = bad_patch.json().await.expect("problem");
    assert_eq!(field_names(&problem), ["status", "spam"]);
    assert_eq!(empty_patch.status(), 422);
    let actions = audit_actions(&app).await;
    assert!(actions.iter().any(|(a, t, d)| a == "comment.status_changed"
        && t.as_deref() == Some(first.as_str())
        && d.contains("archived")));
}

async fn staff_reply_reaches_the_reader_threaded_and_is_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = post_comment(
        &app,
        "jane@example.org",
        "The training was in June, not July.",
    )
    .await;
    let mails = app.smtp.wait_for(2, WAIT).await;
    let ack_id = mails
        .iter()
        .find(|m| m.rcpt_to == ["jane@example.org"])
        .and_then(|m| m.message_id())
        .expect("acknowledgement id");
    let editor = app.staff_token("editor").await;

    let res = app
        .staff(&editor)
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/staff/comments/{id}/reply"),
            Some(json!({"message": "Thank you, we corrected the date."})),
        )
        .await;

    assert_eq!(res.status(), 201);
    let reply: Value = res.json().await.expect("json");
    let mails = app.smtp.wait_for(3, WAIT).await;
    let answer = &mails[2];
    assert_eq!(answer.rcpt_to, ["jane@example.org"]);
    assert_eq!(answer.header("In-Reply-To"), Some(format!("<{ack_id}>")));
    assert_eq!(answer.header("References"), Some(format!("<{ack_id}>")));
    assert!(answer
        .text_body()
        .expect("text")
        .contains("we corrected the date"));
    assert_eq!(
        answer.message_id().map(|m| format!("<{m}>")),
        reply["message_id"].as_str().map(String::from)
    );
    let detail = app
        .staff(&editor)
        .get_ok(&format!("/api/v1/staff/comments/{id}"))
        .await;
    assert_eq!(detail["status"], "replied");
    assert_eq!(
        detail["replies"][0]["message"],
        "Thank you, we corrected the date."
    );
    assert!(detail["replies"][0]["author"]
        .as_str()
        .expect("author")
        .contains("Test editor"));
    assert_eq!(detail["message"], "The training was in June, not July.");
    assert_eq!(detail["spam_verdict"], "ham");
    let actions = audit_actions(&app).await;
    assert!(actions.iter().any(|(a, t, d)| a == "comment.replied"
        && t.as_deref() == Some(id.as_str())
        && d.contains(reply["outbox_id"].as_str().expect("outbox id"))));
    assert!(actions
        .iter()
        .any(|(a, t, _)| a == "comment.viewed" && t.as_deref() == Some(id.as_str())));
    let empty = app
        .staff(&editor)
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/staff/comments/{id}/reply"),
            Some(json!({"message": "  "})),
        )
        .await;
    assert_eq!(empty.status(), 422);
    let unknown = app
        .staff(&editor)
        .send(
            reqwest::Method::POST,
            "/api/v1/staff/comments/no-such-comment/reply",
            Some(json!({"message": "Hello"})),
        )
        .await;
    assert_eq!(unknown.status(), 404);
}

async fn comments_can_be_assigned_to_colleagues(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = post_comment(&app, "jane@example.org", "Who handles corrections?").await;
    let editor = app.staff_token("editor").await;
    let colleague = app.staff_account("editor").await;
    let hiring = app.staff_account("hiring").await;
    let path = format!("/api/v1/staff/comments/{id}");

    let assigned = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"assigned_to": colleague.email.to_uppercase()})),
        )
        .await;
    let theirs = app
        .staff(&editor)
        .get_ok(&format!(
            "/api/v1/staff/comments?assigned_to={}",
            colleague.email
        ))
        .await;
    let to_hiring = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"assigned_to": hiring.email})),
        )
        .await;
    let to_stranger = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"assigned_to": "nobody@example.org"})),
        )
        .await;
    let note = app
        .staff(&editor)
        .send(
            reqwest::Method::POST,
            &format!("{path}/notes"),
            Some(json!({"body": "Yours, see the correction policy."})),
        )
        .await;
    let unassigned = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"assigned_to": null})),
        )
        .await;

    assert_eq!(assigned.status(), 200);
    let assigned: Value = assigned.json().await.expect("json");
    assert_eq!(assigned["assigned_to"], colleague.email.as_str());
    assert_eq!(theirs["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(to_hiring.status(), 422, "hiring cannot open comments");
    let problem: Value = to_hiring.json().await.expect("problem");
    assert_eq!(field_names(&problem), ["assigned_to"]);
    assert_eq!(to_stranger.status(), 422);
    assert_eq!(note.status(), 201);
    let unassigned: Value = unassigned.json().await.expect("json");
    assert_eq!(unassigned["assigned_to"], Value::Null);
    assert_eq!(
        unassigned["notes"][0]["body"],
        "Yours, see the correction policy."
    );
    let actions = audit_actions(&app).await;
    assert_eq!(
        actions
            .iter()
            .filter(|(a, t, _)| a == "comment.assigned" && t.as_deref() == Some(id.as_str()))
            .count(),
        2
    );
    assert!(actions.iter().any(|(a, _, _)| a == "comment.note_added"));
}

async fn sensitive_comments_stay_with_editors_and_out_of_exports(backend: Backend) {
    let app = spawn_app(backend).await;
    let tip = post_comment(
        &app,
        "source@example.org",
        "A tip: the minister knew in May.",
    )
    .await;
    let open = post_comment(&app, "jane@example.org", "=1+2 is wrong in the table.").await;
    let editor = app.staff_token("editor").await;
    let admin = app.staff_token("admin").await;
    let fundraiser = app.staff_token("fundraising").await;
    let hiring = app.staff_token("hiring").await;

    let flagged = app
        .staff(&editor)
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/staff/comments/{tip}"),
            Some(json!({"sensitive": true})),
        )
        .await;
    let mut refused = Vec::new();
    for token in [&fundraiser, &hiring] {
        for path in [
            "/api/v1/staff/comments".to_string(),
            format!("/api/v1/staff/comments/{tip}"),
            "/api/v1/staff/comments.csv".to_string(),
        ] {
            refused.push(
                app.staff(token)
                    .send(reqwest::Method::GET, &path, None)
                    .await
                    .status(),
            );
        }
    }
    let editor_list = app.staff(&editor).get_ok("/api/v1/staff/comments").await;
    let admin_detail = app
        .staff(&admin)
        .get_ok(&format!("/api/v1/staff/comments/{tip}"))
        .await;
    let csv = app
        .staff(&editor)
        .send(reqwest::Method::GET, "/api/v1/staff/comments.csv", None)
        .await;

    assert_eq!(flagged.status(), 200);
    assert!(refused.iter().all(|s| *s == 403), "{refused:?}");
    assert_eq!(editor_list["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(admin_detail["sensitive"], true);
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .starts_with("attachment"));
    let body = csv.text().await.expect("csv");
    assert!(body.starts_with("id,reference,created_at,status,name,email"));
    assert!(body.contains(&open));
    assert!(
        !body.contains(&tip),
        "a sensitive comment is never exported"
    );
    assert!(!body.contains("minister"));
    assert!(body.contains(",'=1+2 is wrong in the table.,"), "{body}");
    let actions = audit_actions(&app).await;
    assert!(actions
        .iter()
        .any(|(a, _, d)| a == "comments.exported" && d.contains("\"count\":1")));
    assert!(actions
        .iter()
        .any(|(a, t, _)| a == "comment.sensitive_changed" && t.as_deref() == Some(tip.as_str())));
}

async fn spam_can_be_marked_and_unmarked(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = post_comment(&app, "jane@example.org", "Buy my course, it is great.").await;
    let editor = app.staff_token("editor").await;
    let path = format!("/api/v1/staff/comments/{id}");

    let marked = app
        .staff(&editor)
        .send(reqwest::Method::PATCH, &path, Some(json!({"spam": true})))
        .await;
    let spam_list = app
        .staff(&editor)
        .get_ok("/api/v1/staff/comments?status=spam")
        .await;
    let reply = app
        .staff(&editor)
        .send(
            reqwest::Method::POST,
            &format!("{path}/reply"),
            Some(json!({"message": "Hello"})),
        )
        .await;
    let unmarked = app
        .staff(&editor)
        .send(reqwest::Method::PATCH, &path, Some(json!({"spam": false})))
        .await;

    let marked: Value = marked.json().await.expect("json");
    assert_eq!(marked["status"], "spam");
    assert_eq!(marked["spam_verdict"], "spam");
    assert_eq!(marked["spam_rule"], "staff");
    assert_eq!(spam_list["items"][0]["id"], id.as_str());
    assert_eq!(reply.status(), 409, "no reply to the spam folder");
    let unmarked: Value = unmarked.json().await.expect("json");
    assert_eq!(unmarked["status"], "new");
    assert_eq!(unmarked["spam_verdict"], "ham");
    let actions = audit_actions(&app).await;
    assert!(actions.iter().any(|(a, _, _)| a == "comment.marked_spam"));
    assert!(actions
        .iter()
        .any(|(a, _, _)| a == "comment.marked_not_spam"));
}

// ---- pages ----

async fn feedback_pages_show_the_ranking_and_the_queue(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = seed_votes(&app).await;
    let csrf = app.signed_in("editor").await;

    let ranking = app.get("/staff/feedback?min_votes=5").await;
    assert_eq!(ranking.status(), 200);
    let html = ranking.text().await.expect("html");
    // URLs in text are HTML-escaped ("/" becomes "&#x2f;").
    let (a, b, c) = (
        "localhost&#x2f;a\"",
        "localhost&#x2f;b\"",
        "localhost&#x2f;c\"",
    );
    assert!(html.contains(a) && html.contains(b), "{html}");
    assert!(!html.contains(c), "below the minimum");
    assert!(html.find(a) < html.find(b), "needs improvement first");
    assert!(html.contains("20 %"));
    let queue = app.get("/staff/feedback/comments").await;
    assert_eq!(queue.status(), 200);
    assert!(queue
        .text()
        .await
        .expect("html")
        .contains("The second paragraph lost me."));

    let changed = form(
        &app,
        &format!("/staff/feedback/comments/{id}/status"),
        &[("csrf_token", &csrf), ("status", "resolved")],
    )
    .await;
    let noted = form(
        &app,
        &format!("/staff/feedback/comments/{id}/notes"),
        &[("csrf_token", &csrf), ("body", "Rewritten on Monday.")],
    )
    .await;
    let forged = form(
        &app,
        &format!("/staff/feedback/comments/{id}/status"),
        &[("status", "dismissed")],
    )
    .await;

    assert_eq!(changed.status(), 303);
    assert_eq!(
        changed.headers()["location"],
        "/staff/feedback/comments?notice=saved"
    );
    assert_eq!(noted.status(), 303);
    assert_eq!(forged.status(), 403);
    let after = app
        .get("/staff/feedback/comments?status=resolved&notice=saved")
        .await
        .text()
        .await
        .expect("html");
    assert!(after.contains("Rewritten on Monday.") && after.contains("Saved."));
    let nav = app.get("/staff/").await.text().await.expect("html");
    assert!(
        nav.contains(">Feedback</a>") && nav.contains(">Comments</a>"),
        "{nav}"
    );
}

async fn comment_pages_show_the_inbox_and_act_on_a_comment(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = post_comment(&app, "jane@example.org", "The map is upside down.").await;
    app.smtp.wait_for(2, WAIT).await;
    let csrf = app.signed_in("editor").await;
    let colleague = app.staff_account("editor").await;

    let inbox = app.get("/staff/comments?status=new").await;
    assert_eq!(inbox.status(), 200);
    let html = inbox.text().await.expect("html");
    assert!(html.contains("Jane Reader") && html.contains(&format!("/staff/comments/{id}")));
    assert!(html.contains(" min"), "the age of an unanswered comment");
    let page = app.get(&format!("/staff/comments/{id}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("The map is upside down.") && html.contains("ham"));

    let base = format!("/staff/comments/{id}");
    let assigned = form(
        &app,
        &format!("{base}/assign"),
        &[("csrf_token", &csrf), ("assigned_to", &colleague.email)],
    )
    .await;
    let noted = form(
        &app,
        &format!("{base}/notes"),
        &[("csrf_token", &csrf), ("body", "Graphics desk informed.")],
    )
    .await;
    let flagged = form(
        &app,
        &format!("{base}/sensitive"),
        &[("csrf_token", &csrf), ("value", "true")],
    )
    .await;
    let status = form(
        &app,
        &format!("{base}/status"),
        &[("csrf_token", &csrf), ("status", "read")],
    )
    .await;
    let empty_reply = form(
        &app,
        &format!("{base}/reply"),
        &[("csrf_token", &csrf), ("message", " ")],
    )
    .await;
    let replied = form(
        &app,
        &format!("{base}/reply"),
        &[("csrf_token", &csrf), ("message", "Fixed, thank you!")],
    )
    .await;
    let forged = form(&app, &format!("{base}/spam"), &[("value", "true")]).await;

    for res in [&assigned, &noted, &flagged, &status] {
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers()["location"],
            format!("/staff/comments/{id}?notice=saved").as_str()
        );
    }
    assert_eq!(empty_reply.status(), 422);
    assert!(empty_reply
        .text()
        .await
        .expect("html")
        .contains("Write a reply."));
    assert_eq!(replied.status(), 303);
    assert_eq!(
        replied.headers()["location"],
        format!("/staff/comments/{id}?notice=reply_sent").as_str()
    );
    assert_eq!(forged.status(), 403);
    let mails = app.smtp.wait_for(3, WAIT).await;
    assert!(mails[2]
        .text_body()
        .expect("text")
        .contains("Fixed, thank you!"));
    let after = app
        .get(&format!("/staff/comments/{id}?notice=reply_sent"))
        .await
        .text()
        .await
        .expect("html");
    assert!(after.contains("The reply is on its way to the reader."));
    assert!(after.contains("Graphics desk informed."));
    assert!(after.contains("Fixed, thank you!"));
    assert!(after.contains(&colleague.email));
    assert!(after.contains("only admins and editors see it"));
}

both_backends!(needs_improvement_ranks_the_surer_problem_first);

/// 40 helpful votes of 100 are far surer evidence of a problem than 5 of 10, though their
/// helpful share is lower: the report ranks by the lower bound of the not-helpful share.
async fn needs_improvement_ranks_the_surer_problem_first(backend: Backend) {
    let app = spawn_app(backend).await;
    app.state
        .db
        .write(|conn| {
            let now = frontdesk::db::now();
            for i in 0..10 {
                let ballot = vote("http://localhost/few", &format!("f{i}"), i < 5, None, None);
                store::record_vote(conn, &ballot, now)?;
            }
            for i in 0..100 {
                let ballot = vote(
                    "http://localhost/many",
                    &format!("m{i}"),
                    i < 40,
                    None,
                    None,
                );
                store::record_vote(conn, &ballot, now)?;
            }
            Ok(())
        })
        .await
        .expect("votes");
    let editor = app.staff_token("editor").await;

    let worst_first = app
        .staff(&editor)
        .get_ok("/api/v1/staff/feedback?min_votes=10")
        .await;
    let named = app
        .staff(&editor)
        .get_ok("/api/v1/staff/feedback?min_votes=10&order=needs_improvement")
        .await;

    assert_eq!(
        urls(&worst_first),
        ["http://localhost/many", "http://localhost/few"]
    );
    assert_eq!(urls(&named), urls(&worst_first));
    let bound = |i: usize, key: &str| worst_first["items"][i][key].as_f64().expect(key);
    assert!(bound(0, "not_helpful_lower_bound") > bound(1, "not_helpful_lower_bound"));
    assert!((bound(0, "not_helpful_lower_bound") - 0.502).abs() < 1e-3);
    assert!((bound(1, "not_helpful_lower_bound") - 0.237).abs() < 1e-3);
}
