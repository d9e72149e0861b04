//! Monthly donors who stay: pausing and resuming from the donor page (and at the processor),
//! the monthly reminder of pledged gifts, and fundraising's back-office pages and command.

use chrono::{Months, NaiveDateTime, TimeDelta};
use frontdesk::donations::store;
use serde_json::{json, Value};

use crate::both_backends;
use crate::donors::{donor_token, monthly, monthly_gift, spawn_stripe};
use crate::fake_stripe::deliver;
use crate::helpers::{spawn_app, Backend, TestApp};

both_backends!(
    a_monthly_donor_pauses_and_resumes_on_their_page_or_at_the_processor,
    a_pledged_monthly_gift_is_reminded_once_a_month_unless_paused_or_cancelled,
    fundraising_records_offline_gifts_follows_failing_gifts_and_sends_statements_from_pages,
    the_command_line_sends_a_years_statements_once_each_with_progress,
);

/// The gift as stored, with its pause (when one is stored).
struct Stored {
    total_minor: i64,
    created_at: NaiveDateTime,
    paused_until: Option<NaiveDateTime>,
}

async fn stored(app: &TestApp, id: &str) -> Stored {
    let id = id.to_string();
    app.state
        .db
        .run(move |conn| {
            let d = store::find_donation(conn, &id)?;
            let s = store::subscription_state(conn, &id)?;
            Ok(Stored {
                total_minor: d.total_minor,
                created_at: d.created_at,
                paused_until: s.paused_until,
            })
        })
        .await
        .expect("donation")
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .expect("post")
}

async fn a_monthly_donor_pauses_and_resumes_on_their_page_or_at_the_processor(backend: Backend) {
    let (app, fake) = spawn_stripe(backend).await;
    let session = monthly_gift(&app, &fake, "mo@example.org").await;
    let other = monthly_gift(&app, &fake, "ana@example.org").await;
    let token = donor_token(&app, "mo@example.org").await;
    let sub = session.subscription.clone().expect("subscription");
    let id = session.donation_id.as_str();
    let html = app
        .get(&format!("/donations/manage?token={token}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Pause for") && !html.contains("Resume now"),
        "{html}"
    );

    // Out of range, someone else's gift: refused, nothing sent to the processor.
    let pause = format!("/donations/manage/pause?token={token}");
    for bad in ["0", "4", "two"] {
        let res = post_form(&app, &pause, &[("donation_id", id), ("months", bad)]).await;
        assert_eq!(res.status(), 422, "{bad}");
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(problem["errors"][0]["field"], "months");
    }
    let res = post_form(
        &app,
        &pause,
        &[("donation_id", &other.donation_id), ("months", "1")],
    )
    .await;
    assert_eq!(res.status(), 404);
    assert!(fake
        .requests_to(&format!("/v1/subscriptions/{sub}"))
        .iter()
        .all(|r| r.get("pause_collection[behavior]").is_none()));

    let before = frontdesk::db::now();
    let res = post_form(&app, &pause, &[("donation_id", id), ("months", "2")]).await;
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .expect("location")
        .ends_with("&paused=1"));
    let calls = fake.requests_to(&format!("/v1/subscriptions/{sub}"));
    let call = calls.last().expect("pause");
    assert_eq!(call.get("pause_collection[behavior]"), Some("void"));
    let resumes_at: i64 = call
        .get("pause_collection[resumes_at]")
        .and_then(|t| t.parse().ok())
        .expect("resumes_at");
    let expected = before.checked_add_months(Months::new(2)).expect("date");
    assert!((resumes_at - expected.and_utc().timestamp()).abs() < 60);
    let until = stored(&app, id).await.paused_until.expect("paused");
    assert_eq!(until.and_utc().timestamp(), resumes_at);
    let html = app
        .get(&format!("/donations/manage?token={token}"))
        .await
        .text()
        .await
        .expect("html");
    let shown = until.format("%b %-d, %Y").to_string();
    assert!(html.contains(&format!("(paused until {shown})")), "{html}");
    let day = until.format("%Y-%m-%d").to_string();
    assert!(
        html.contains("Resume now") && !html.contains("Pause for"),
        "{html}"
    );
    // Staff see the pause.
    let token_staff = app.staff_token("fundraising").await;
    let detail = app
        .staff(&token_staff)
        .get_ok(&format!("/api/v1/staff/donations/{id}"))
        .await;
    assert!(detail["paused_until"]
        .as_str()
        .expect("paused_until")
        .starts_with(&day));

    let resume = format!("/donations/manage/resume?token={token}");
    let res = post_form(&app, &resume, &[("donation_id", id)]).await;
    assert_eq!(res.status(), 303);
    let calls = fake.requests_to(&format!("/v1/subscriptions/{sub}"));
    assert_eq!(
        calls.last().expect("resume").get("pause_collection"),
        Some("")
    );
    assert_eq!(stored(&app, id).await.paused_until, None);
    // Not paused any more: nothing to resume.
    let res = post_form(&app, &resume, &[("donation_id", id)]).await;
    assert_eq!(res.status(), 409);

    // Paused and resumed at the processor (its portal or dashboard): the events say so, and
    // a second delivery changes nothing.
    let at = (frontdesk::db::now() + TimeDelta::days(40))
        .and_utc()
        .timestamp();
    let paused = fake.subscription_paused_event(&session, true, Some(at));
    for _ in 0..2 {
        assert_eq!(deliver(&app, &paused).await.status(), 200);
    }
    let until = stored(&app, id).await.paused_until.expect("paused");
    assert_eq!(until.and_utc().timestamp(), at);
    let open_ended = fake.subscription_paused_event(&session, true, None);
    assert_eq!(deliver(&app, &open_ended).await.status(), 200);
    assert_eq!(
        stored(&app, id)
            .await
            .paused_until
            .map(|u| u.format("%Y-%m-%d").to_string()),
        Some("9999-12-31".into())
    );
    let html = app
        .get(&format!("/donations/manage?token={token}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("(paused)"), "{html}");
    let resumed = fake.subscription_paused_event(&session, false, None);
    assert_eq!(deliver(&app, &resumed).await.status(), 200);
    assert_eq!(stored(&app, id).await.paused_until, None);

    // Out of order: a pause, and an amount, from an hour ago arrive after the resumption and
    // change nothing.
    let an_hour_ago = json!(chrono::Utc::now().timestamp() - 3600);
    let mut stale_pause = fake.subscription_paused_event(&session, true, Some(at));
    stale_pause["created"] = an_hour_ago.clone();
    let mut stale_amount = fake.subscription_updated_event(&session, 9900);
    stale_amount["created"] = an_hour_ago;
    for stale in [stale_pause, stale_amount] {
        assert_eq!(deliver(&app, &stale).await.status(), 200);
    }
    let now = stored(&app, id).await;
    assert_eq!((now.paused_until, now.total_minor), (None, 1500));
    assert_eq!(stored(&app, &other.donation_id).await.paused_until, None);
}

/// Runs the pledge reminder pass as if it were `at`; answers how many it queued.
async fn remind(app: &TestApp, at: NaiveDateTime) -> usize {
    let ctx = frontdesk::donations::service::Ctx::from_state(&app.state);
    let n = frontdesk::donations::reminders::send_due(&app.state.db, &ctx, at)
        .await
        .expect("reminders");
    app.drain_outbox().await;
    n
}

async fn a_pledged_monthly_gift_is_reminded_once_a_month_unless_paused_or_cancelled(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let res = app
        .donations()
        .donate(&monthly("pledge@example.org"), None)
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let one_time = json!({"amount_minor": 1500, "currency": "USD", "frequency": "one_time",
                          "email": "once@example.org"});
    assert_eq!(app.donations().donate(&one_time, None).await.status(), 201);
    app.drain_outbox().await;
    let pledged = app.smtp.received().len();
    let created = stored(&app, &id).await.created_at;

    // Not in the month it was made (the pledge email said how to pay).
    assert_eq!(remind(&app, created + TimeDelta::minutes(5)).await, 0);
    let next = created.checked_add_months(Months::new(1)).expect("date");
    assert_eq!(remind(&app, next - TimeDelta::days(1)).await, 0);
    assert_eq!(remind(&app, next).await, 1);
    assert_eq!(
        remind(&app, next + TimeDelta::days(3)).await,
        0,
        "once a month"
    );
    let mails = app.smtp.received();
    assert_eq!(mails.len(), pledged + 1);
    let reminder = mails.last().expect("reminder");
    assert_eq!(reminder.rcpt_to, vec!["pledge@example.org".to_string()]);
    let subject = reminder.subject().unwrap_or_default();
    assert!(subject.contains("monthly gift of $15.00"), "{subject}");
    assert!(
        subject.contains(&next.format("%B %Y").to_string()),
        "{subject}"
    );
    let text = reminder.text_body().expect("text");
    let instructions = &app.state.settings.payments.manual.instructions;
    assert!(text.contains(instructions.as_str()), "{text}");
    assert!(
        text.contains(&id) && text.contains("/donations/manage?token="),
        "{text}"
    );

    // Paused over the next month: no reminder until the pause ends.
    let month_after = created.checked_add_months(Months::new(2)).expect("date");
    let (pause_id, until) = (id.clone(), month_after + TimeDelta::days(5));
    app.state
        .db
        .write(move |conn| Ok(store::set_paused(conn, &pause_id, Some(until))?))
        .await
        .expect("pause");
    assert_eq!(remind(&app, month_after).await, 0);
    assert_eq!(remind(&app, until).await, 1);

    // Cancelled by the donor: no more reminders.
    let token = donor_token(&app, "pledge@example.org").await;
    let res = post_form(
        &app,
        &format!("/donations/manage/cancel?token={token}"),
        &[("donation_id", &id)],
    )
    .await;
    assert_eq!(res.status(), 303);
    let third = created.checked_add_months(Months::new(3)).expect("date");
    assert_eq!(remind(&app, third).await, 0);
}

async fn fundraising_records_offline_gifts_follows_failing_gifts_and_sends_statements_from_pages(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let csrf = app.signed_in("fundraising").await;
    let page = app.get("/staff/donations/offline").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Record an offline gift") && html.contains("Cheque"),
        "{html}"
    );

    let today = frontdesk::db::now().format("%Y-%m-%d").to_string();
    let gift = |amount: &'static str, email: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("email", email.to_string()),
            ("name", "Ana Ruiz".to_string()),
            ("amount", amount.to_string()),
            ("currency", "USD".to_string()),
            ("received_on", today.clone()),
            ("method", "cheque".to_string()),
            ("reference", "CHQ-1001".to_string()),
            ("send_receipt", "1".to_string()),
        ]
    };
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let (client, url) = (app.client.clone(), app.url(path));
        async move { client.post(url).form(&form).send().await.expect("post") }
    };
    let res = post("/staff/donations/offline", gift("lots", "ana@example.org")).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.expect("html");
    assert!(html.contains("Give an amount like 150"), "{html}");
    assert!(
        html.contains("value=\"ana@example.org\""),
        "the form keeps what was typed"
    );
    let res = post("/staff/donations/offline", gift("150", "not an address")).await;
    assert_eq!(res.status(), 422);
    let mut forged = gift("150", "ana@example.org");
    forged[0].1 = "wrong".into();
    assert_eq!(post("/staff/donations/offline", forged).await.status(), 403);

    let res = post(
        "/staff/donations/offline",
        gift("150.50", "ana@example.org"),
    )
    .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(location.contains("notice=recorded"), "{location}");
    let shown = app.get(&location).await.text().await.expect("html");
    assert!(shown.contains("150.50"), "{shown}");
    app.drain_outbox().await;
    let receipts: Vec<_> = app
        .smtp
        .received()
        .into_iter()
        .filter(|m| m.subject().unwrap_or_default().contains("receipt"))
        .collect();
    assert_eq!(receipts.len(), 1);

    // The failing gifts page, with its period.
    let page = app.get("/staff/donations/recoveries?days=90").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("No monthly gift is failing") && html.contains("last 90 days"),
        "{html}"
    );

    // A year's statements: the progress, the button, then every donor's statement queued.
    let token = app.staff_token("fundraising").await;
    let staff = app.staff(&token);
    let year = frontdesk::donations::donor::fiscal_year_of(
        frontdesk::db::now(),
        app.state.settings.donations.fiscal_year_start_month,
    );
    let page = app
        .get(&format!("/staff/donations/statements?year={year}"))
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("<strong>0</strong> of <strong>1</strong>"),
        "{html}"
    );
    let res = post(
        "/staff/donations/statements",
        vec![("csrf_token", csrf.clone()), ("year", year.to_string())],
    )
    .await;
    assert_eq!(res.status(), 200);
    let mut progress = Value::Null;
    for _ in 0..100 {
        progress = staff
            .get_ok(&format!("/api/v1/staff/donations/statements?year={year}"))
            .await;
        if progress["sent"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(progress["sent"], 1, "{progress}");
    let html = app
        .get(&format!("/staff/donations/statements?year={year}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("Every donor of"), "{html}");
    let res = post(
        "/staff/donations/statements",
        vec![("csrf_token", csrf), ("year", "1999".into())],
    )
    .await;
    assert_eq!(res.status(), 422);

    // The reports page offers the accounting export for a range.
    let html = app
        .get("/staff/donations/reports")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("/api/v1/staff/donations/accounting.csv"),
        "{html}"
    );
}

async fn the_command_line_sends_a_years_statements_once_each_with_progress(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("fundraising").await;
    let staff = app.staff(&token);
    let today = frontdesk::db::now().format("%Y-%m-%d").to_string();
    for email in ["a@example.org", "b@example.org", "c@example.org"] {
        let res = staff
            .post_json(
                "/api/v1/staff/donations/offline",
                json!({"email": email, "amount_minor": 5000, "currency": "USD",
                        "received_on": today, "method": "bank_transfer"}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let year = frontdesk::donations::donor::fiscal_year_of(
        frontdesk::db::now(),
        app.state.settings.donations.fiscal_year_start_month,
    );
    let dir = tempfile::tempdir().expect("dir");
    // The command's whole output, for the assertions' messages.
    let run = |year: String| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"));
        cmd.current_dir(dir.path())
            .env_remove("FRONTDESK_ENV")
            .env_remove("RUST_LOG")
            .env(
                "FRONTDESK_DATABASE__URL",
                app.state.settings.database.url.expose(),
            )
            .args(["donations", "statements", "--year", &year]);
        let out = cmd.output().expect("run");
        let printed = format!(
            "status {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), printed)
    };
    let (ok, printed) = run(year.to_string());
    assert!(ok, "{printed}");
    assert!(
        printed.contains("3 donors, 0 statements queued before"),
        "{printed}"
    );
    assert!(printed.contains("3 of 3 statements queued"), "{printed}");
    let (ok, printed) = run(year.to_string());
    assert!(ok, "{printed}");
    assert!(
        printed.contains("3 donors, 3 statements queued before"),
        "{printed}"
    );
    app.drain_outbox().await;
    let statements = app
        .smtp
        .received()
        .into_iter()
        .filter(|m| {
            m.subject()
                .unwrap_or_default()
                .contains("your donations in")
        })
        .count();
    assert_eq!(
        statements, 3,
        "one statement per donor, however often it runs"
    );
    let (ok, printed) = run("1999".into());
    assert!(!ok, "{printed}");
    assert!(printed.contains("--year"), "{printed}");
}
