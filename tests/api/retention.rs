//! Retention tasks, each run with its own clock (`now` passed in) on both backends.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use frontdesk::config::Settings;
use frontdesk::db::schema::{
    comments, feedback_voter_keys, job_applications, job_postings, newsletter_subscribers,
    outbox as outbox_table,
};
use frontdesk::error::AppError;
use frontdesk::jobs::model::{EmploymentType, NewPosting, PostingInput, PostingStatus, Workplace};
use frontdesk::mail::outbox::OutboxState;
use frontdesk::retention;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{spawn_app_with, test_email, Backend, TestApp};

both_backends!(
    unconfirmed_subscriptions_go_after_their_period,
    spam_comments_go_after_their_period,
    sent_email_bodies_are_cleared_and_metadata_kept,
    voter_keys_older_than_the_kept_days_go,
    expired_erasure_requests_go,
    applicants_go_after_jobs_retention_days,
    concurrent_runs_delete_each_record_once,
);

const WAIT: Duration = Duration::from_secs(15);

async fn spawn(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.newsletter.per_address_per_minute = 1000;
    })
    .await
}

fn now() -> NaiveDateTime {
    frontdesk::db::now()
}

/// Runs one task with its clock and period.
async fn task(
    app: &TestApp,
    f: fn(&mut frontdesk::db::DbConnection, NaiveDateTime, TimeDelta) -> diesel::QueryResult<usize>,
    at: NaiveDateTime,
    period: TimeDelta,
) -> usize {
    app.state
        .db
        .run(move |conn| Ok(f(conn, at, period)?))
        .await
        .expect("task")
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.state
        .db
        .run(move |conn| {
            let n = match conn {
                frontdesk::db::DbConnection::Sqlite(c) => {
                    diesel::sql_query(sql).get_result::<N>(c)?
                }
                frontdesk::db::DbConnection::Postgres(c) => {
                    diesel::sql_query(sql).get_result::<N>(c)?
                }
            };
            Ok(n.n)
        })
        .await
        .expect("count")
}

async fn subscribe(app: &TestApp, email: &str) {
    let res = app
        .client
        .post(app.url("/api/v1/newsletter/subscriptions"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .expect("subscribe");
    assert_eq!(res.status(), 202);
}

async fn unconfirmed_subscriptions_go_after_their_period(backend: Backend) {
    let app = spawn(backend).await;
    subscribe(&app, "pending@example.org").await;
    let address =
        frontdesk::newsletter::model::EmailAddress::parse("kept@example.org").expect("address");
    app.state
        .db
        .write(move |conn| {
            Ok(frontdesk::newsletter::store::insert_confirmed_subscribers(
                conn,
                &[address],
                &[],
                now(),
            )?)
        })
        .await
        .expect("confirmed subscriber");
    let period = TimeDelta::days(30);
    let start = now();

    let early = task(
        &app,
        retention::unconfirmed_subscriptions,
        start + TimeDelta::days(29),
        period,
    )
    .await;
    let due = task(
        &app,
        retention::unconfirmed_subscriptions,
        start + TimeDelta::days(31),
        period,
    )
    .await;
    let again = task(
        &app,
        retention::unconfirmed_subscriptions,
        start + TimeDelta::days(32),
        period,
    )
    .await;

    assert_eq!((early, due, again), (0, 1, 0));
    let left: Vec<String> = app
        .state
        .db
        .run(|conn| {
            Ok(newsletter_subscribers::table
                .select(newsletter_subscribers::email)
                .load(conn)?)
        })
        .await
        .expect("subscribers");
    assert_eq!(left, vec!["kept@example.org".to_string()]);
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM newsletter_confirm_tokens").await,
        0
    );
}

async fn post_comment(app: &TestApp, email: &str, website: &str) {
    let token = frontdesk::comments::spam::issue_token(
        &app.state.keys,
        Utc::now() - TimeDelta::seconds(10),
    );
    let res = app
        .client
        .post(app.url("/api/v1/comments"))
        .json(&json!({
            "name": "Reader", "email": email, "subject": "A story",
            "message": "A thoughtful note about the story.", "website": website,
            "form_token": token,
        }))
        .send()
        .await
        .expect("comment");
    assert!(res.status().is_success());
}

async fn spam_comments_go_after_their_period(backend: Backend) {
    let app = spawn(backend).await;
    post_comment(&app, "bot@example.org", "http://cheap.example").await;
    post_comment(&app, "reader@example.org", "").await;
    let period = TimeDelta::days(30);
    let start = now();

    let early = task(
        &app,
        retention::spam_comments,
        start + TimeDelta::days(29),
        period,
    )
    .await;
    let due = task(
        &app,
        retention::spam_comments,
        start + TimeDelta::days(31),
        period,
    )
    .await;
    let again = task(
        &app,
        retention::spam_comments,
        start + TimeDelta::days(31),
        period,
    )
    .await;

    assert_eq!((early, due, again), (0, 1, 0));
    let left: Vec<(String, String)> = app
        .state
        .db
        .run(|conn| {
            Ok(comments::table
                .select((comments::email, comments::status))
                .load(conn)?)
        })
        .await
        .expect("comments");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].0, "reader@example.org");
    assert_ne!(left[0].1, "spam");
}

async fn sent_email_bodies_are_cleared_and_metadata_kept(backend: Backend) {
    let app = spawn(backend).await;
    let sent = app
        .queue(vec![test_email("one@example.org")])
        .await
        .remove(0);
    app.wait_for_row(&sent, WAIT, |r| r.state == OutboxState::Sent.as_str())
        .await;
    let row = app
        .state
        .mailer
        .compose(test_email("two@example.org"))
        .expect("compose");
    let held = row.id.clone();
    let hold = held.clone();
    app.state
        .db
        .write(move |conn| {
            frontdesk::mail::outbox::enqueue(conn, &[row])?;
            diesel::update(outbox_table::table.find(&hold))
                .set(outbox_table::next_attempt_at.eq(frontdesk::newsletter::store::held_until()))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("queue held");
    let period = TimeDelta::days(90);
    let start = now();

    let early = task(
        &app,
        retention::sent_email_bodies,
        start + TimeDelta::days(89),
        period,
    )
    .await;
    let due = task(
        &app,
        retention::sent_email_bodies,
        start + TimeDelta::days(91),
        period,
    )
    .await;
    let again = task(
        &app,
        retention::sent_email_bodies,
        start + TimeDelta::days(92),
        period,
    )
    .await;

    assert_eq!((early, due, again), (0, 1, 0));
    let cleared = app.outbox_row(&sent).await;
    assert_eq!(
        (cleared.body_text.as_str(), cleared.body_html.as_str()),
        ("", "")
    );
    assert_eq!(cleared.to_addr, "one@example.org", "metadata kept");
    assert_eq!(cleared.state, "sent");
    assert!(!cleared.subject.is_empty() && cleared.sent_at.is_some());
    let queued = app.outbox_row(&held).await;
    assert!(
        !queued.body_text.is_empty(),
        "a queued email keeps its content"
    );
}

async fn insert_key(app: &TestApp, day: chrono::NaiveDate) {
    app.state
        .db
        .run(move |conn| {
            diesel::insert_into(feedback_voter_keys::table)
                .values((
                    feedback_voter_keys::day.eq(day.format("%Y-%m-%d").to_string()),
                    feedback_voter_keys::secret.eq("00"),
                    feedback_voter_keys::created_at.eq(now()),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("key");
}

async fn voter_keys_older_than_the_kept_days_go(backend: Backend) {
    let app = spawn(backend).await;
    let today = chrono::NaiveDate::from_ymd_opt(2030, 3, 10).expect("date");
    for back in [0, 1, 2] {
        insert_key(&app, today - TimeDelta::days(back)).await;
    }
    let at = today.and_hms_opt(0, 5, 0).expect("time");

    let keep_two = task(&app, retention::voter_keys, at, TimeDelta::days(2)).await;
    let keep_today = task(&app, retention::voter_keys, at, TimeDelta::days(1)).await;
    let again = task(&app, retention::voter_keys, at, TimeDelta::days(1)).await;

    assert_eq!((keep_two, keep_today, again), (1, 1, 0));
    let days = app
        .state
        .db
        .run(|conn| Ok(frontdesk::feedback::store::voter_key_days(conn)?))
        .await
        .expect("days");
    assert_eq!(days, vec!["2030-03-10".to_string()]);
}

async fn expired_erasure_requests_go(backend: Backend) {
    let app = spawn(backend).await;
    let start = now();
    app.state
        .db
        .write(move |conn| {
            frontdesk::people::store::insert_request(
                conn,
                "hash-1",
                "jane@example.org",
                frontdesk::people::store::LinkKind::Export,
                start,
                start + TimeDelta::hours(24),
            )?;
            Ok(())
        })
        .await
        .expect("request");
    let period = TimeDelta::hours(24);

    let early = task(
        &app,
        retention::expired_erasure_requests,
        start + TimeDelta::hours(23),
        period,
    )
    .await;
    let due = task(
        &app,
        retention::expired_erasure_requests,
        start + TimeDelta::hours(25),
        period,
    )
    .await;

    assert_eq!((early, due), (0, 1));
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM email_links").await,
        0
    );
}

async fn posting_with_an_applicant(app: &TestApp, slug: &str, email: &str) -> NaiveDateTime {
    let input = PostingInput {
        slug: slug.into(),
        title: "Night Editor".into(),
        summary: "Keep the site running at night.".into(),
        description_markdown: "The role.".into(),
        location: "Leeds".into(),
        country: None,
        remote: Workplace::OnSite,
        employment_type: EmploymentType::FullTime,
        salary: None,
        hiring_contacts: vec!["editor@newsroom.test".into()],
        opens_at: None,
        closes_at: None,
        status: PostingStatus::Open,
        questions: Vec::new(),
    };
    let new = NewPosting::try_from(input).expect("posting");
    let posting = app
        .state
        .db
        .write(move |conn| frontdesk::jobs::store::insert_posting(conn, &new, now()))
        .await
        .expect("insert");
    let form = Form::new()
        .text("name", "Applicant")
        .text("email", email.to_string())
        .text("consent", "true")
        .part(
            "cv",
            Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec())
                .file_name("cv.pdf")
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
    // Months later, the emails about the application are long sent.
    let deadline = tokio::time::Instant::now() + WAIT;
    while count(
        app,
        "SELECT COUNT(*) AS n FROM outbox WHERE state = 'queued'",
    )
    .await
        > 0
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox did not drain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let closed_at = now();
    let id = posting.id.clone();
    app.state
        .db
        .run(move |conn| {
            diesel::update(job_postings::table.find(&id))
                .set((
                    job_postings::status.eq("closed"),
                    job_postings::closed_at.eq(Some(closed_at)),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("close");
    closed_at
}

async fn applicants_go_after_jobs_retention_days(backend: Backend) {
    let app = spawn(backend).await;
    let closed_at = posting_with_an_applicant(&app, "night-editor", "applicant@example.org").await;
    let run = |at: NaiveDateTime| {
        let settings = app.settings.clone();
        app.state
            .db
            .run(move |conn| retention::applicants(conn, at, TimeDelta::days(180), &settings))
    };

    let early = run(closed_at + TimeDelta::days(179)).await.expect("run");
    let due = run(closed_at + TimeDelta::days(181)).await.expect("run");
    let again = run(closed_at + TimeDelta::days(182)).await.expect("run");

    assert_eq!((early, due, again), (0, 1, 0));
    let emails: Vec<String> = app
        .state
        .db
        .run(|conn| {
            Ok(job_applications::table
                .select(job_applications::email)
                .load(conn)?)
        })
        .await
        .expect("applications");
    assert_eq!(emails, vec![String::new()]);
}

async fn concurrent_runs_delete_each_record_once(backend: Backend) {
    let app = spawn(backend).await;
    for i in 0..5 {
        subscribe(&app, &format!("pending{i}@example.org")).await;
        post_comment(&app, &format!("bot{i}@example.org"), "http://cheap.example").await;
    }
    let mut settings: Settings = app.settings.clone();
    settings.retention.unconfirmed_subscription_days = 30;
    settings.retention.spam_comment_days = 30;
    let at = now() + TimeDelta::days(40);
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let settings = settings.clone();
            let db = app.state.db.clone();
            tokio::spawn(async move {
                db.run(move |conn| retention::run_all(conn, at, &settings))
                    .await
            })
        })
        .collect();
    let mut subscriptions = 0;
    let mut spam = 0;
    for run in runs {
        let report: Result<retention::Report, AppError> = run.await.expect("join");
        let report = report.expect("every concurrent run succeeds");
        subscriptions += report.unconfirmed_subscriptions;
        spam += report.spam_comments;
    }

    assert_eq!(
        (subscriptions, spam),
        (5, 5),
        "each record deleted exactly once"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM newsletter_subscribers").await,
        0
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM comments").await, 0);
}
