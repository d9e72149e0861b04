//! Monthly donors and the processor: requests pinned to one API version, outages that keep
//! nothing, and (with the fake processor) the donor and staff paths around recurring gifts.

use std::collections::BTreeMap;

use frontdesk::donations::store;
use serde_json::{json, Value};

use crate::both_backends;
use crate::fake_stripe::{deliver, FakeStripe};
use crate::helpers::{spawn_app, spawn_app_with, Backend, StaffApi, TestApp};

both_backends!(
    a_processor_outage_answers_retry_later_and_keeps_nothing,
    offline_gifts_take_the_next_receipt_number_and_are_corrected_by_fundraising,
    the_accounting_export_has_one_row_per_movement_and_agrees_with_the_reports,
    a_failed_monthly_payment_is_followed_up_until_it_is_paid_or_given_up,
    yearly_statements_go_once_to_each_donor_when_interrupted_resumed_or_run_twice,
    a_monthly_donor_changes_the_amount_on_their_page_or_at_the_processor,
    the_donor_page_sends_a_receipt_or_a_statement_again,
);

pub(crate) async fn spawn_stripe(backend: Backend) -> (TestApp, FakeStripe) {
    let fake = FakeStripe::start().await;
    let app = spawn_app_with(backend, |s| {
        fake.configure(s);
        s.limits.enabled = false;
    })
    .await;
    (app, fake)
}

async fn donation_count(app: &TestApp) -> usize {
    app.state
        .db
        .run(|conn| Ok(store::list(conn, &store::Filter::default(), None, 1000)?.len()))
        .await
        .expect("count")
}

pub(crate) fn monthly(email: &str) -> Value {
    json!({"amount_minor": 1500, "currency": "USD", "frequency": "monthly", "email": email})
}

/// Asserts the donor's answer to a gift the processor could not take: 503, `Retry-After`, and
/// words that say nothing was charged.
async fn assert_retry_later(res: reqwest::Response) {
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("30")
    );
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["title"], "Payment processor unavailable");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("Nothing was charged"), "{detail}");
}

async fn a_processor_outage_answers_retry_later_and_keeps_nothing(backend: Backend) {
    let (app, fake) = spawn_stripe(backend).await;

    // The processor answers 5xx or 429: no gift is kept, the key is free for the retry.
    for status in [500, 502, 503, 429] {
        fake.set_down(Some(status));
        let res = app
            .donations()
            .donate(&monthly("jo@example.org"), Some("gift-jo-1"))
            .await;
        assert_retry_later(res).await;
        assert_eq!(donation_count(&app).await, 0, "after a {status}");
    }

    // Back up: the same request with the same key now makes exactly one gift.
    fake.set_down(None);
    let res = app
        .donations()
        .donate(&monthly("jo@example.org"), Some("gift-jo-1"))
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.expect("json");
    assert!(body["checkout_url"].as_str().is_some(), "{body}");
    assert_eq!(donation_count(&app).await, 1);

    // Every request the processor saw was pinned to the version Frontdesk parses.
    let requests = fake.requests_to("/v1/checkout/sessions");
    assert_eq!(requests.len(), 5);
    assert!(requests.iter().all(|r| r.stripe_version.as_deref()
        == Some(frontdesk::donations::payments::stripe::API_VERSION)));

    // The processor cannot be reached at all: the same answer, still one gift.
    fake.stop().await;
    let res = app
        .donations()
        .donate(&monthly("ana@example.org"), None)
        .await;
    assert_retry_later(res).await;
    assert_eq!(donation_count(&app).await, 1);

    // Nothing was mailed for the failed attempts.
    app.drain_outbox().await;
    assert!(app.smtp.received().is_empty());
}

/// Sends `method path` with a JSON body as `staff`; the status and the answer as JSON.
async fn call(staff: &StaffApi<'_>, method: &str, path: &str, body: Value) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let res = staff.send(method, path, Some(body)).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn days_ago(n: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::TimeDelta::days(n)).to_string()
}

fn cheque(email: &str, amount: i64, send_receipt: bool) -> Value {
    json!({"email": email, "name": "Fundación Ejemplo", "amount_minor": amount, "currency": "USD",
           "received_on": days_ago(2), "method": "cheque", "reference": "CHQ 001234",
           "campaign": "water", "send_receipt": send_receipt})
}

async fn offline_gifts_take_the_next_receipt_number_and_are_corrected_by_fundraising(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let fundraising = app.staff_token("fundraising").await;
    let editor = app.staff_token("editor").await;
    let staff = app.staff(&fundraising);

    // A pledge paid online first, so the offline gift continues the same sequence.
    let res = app
        .donations()
        .donate(
            &json!({"amount_minor": 2500, "currency": "USD", "frequency": "one_time",
                    "email": "jo@example.org"}),
            None,
        )
        .await;
    assert_eq!(res.status(), 201);
    let pledge: Value = res.json().await.expect("json");
    let (status, paid) = call(
        &staff,
        "POST",
        &format!(
            "/api/v1/staff/donations/{}/mark-paid",
            pledge["id"].as_str().expect("id")
        ),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    app.drain_outbox().await;
    let mails_before = app.smtp.received().len();

    // Other roles may not record money.
    let res = app
        .staff(&editor)
        .send(
            reqwest::Method::POST,
            "/api/v1/staff/donations/offline",
            Some(cheque("ana@example.org", 1, true)),
        )
        .await;
    assert_eq!(res.status(), 403);

    // Every failing field is named.
    let (status, problem) = call(
        &staff,
        "POST",
        "/api/v1/staff/donations/offline",
        json!({"email": "not an address", "amount_minor": -5, "currency": "EUR",
                   "received_on": days_ago(-3), "method": "card"}),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    for field in ["email", "amount_minor", "currency", "received_on", "method"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }

    // A cheque above the online maximum, with its receipt sent.
    let (status, gift) = call(
        &staff,
        "POST",
        "/api/v1/staff/donations/offline",
        cheque("ana@example.org", 25_000_000, true),
    )
    .await;
    assert_eq!(status, 201, "{gift}");
    let payment = &gift["payments"][0];
    let year = &paid["receipt_number"].as_str().expect("number")[..4];
    let next = |n: &Value| {
        n.as_str().expect("number")[5..]
            .parse::<u32>()
            .expect("seq")
    };
    assert_eq!(
        next(&payment["receipt_number"]),
        next(&paid["receipt_number"]) + 1
    );
    assert!(payment["receipt_number"]
        .as_str()
        .expect("n")
        .starts_with(year));
    assert_eq!(payment["method"], "cheque");
    assert_eq!(payment["reference"], "CHQ 001234");
    assert_eq!(gift["provider"], "manual");
    assert_eq!(gift["status"], "paid");
    app.drain_outbox().await;
    let mails = app.smtp.received();
    assert_eq!(mails.len(), mails_before + 1);
    let receipt = mails.last().expect("receipt");
    assert_eq!(receipt.rcpt_to, vec!["ana@example.org".to_string()]);
    let text = receipt.text_body().expect("text");
    assert!(
        text.contains(payment["receipt_number"].as_str().expect("n")),
        "{text}"
    );
    assert!(text.contains("$250,000.00"), "{text}");

    // Without `send_receipt`: a number, no email.
    let (status, quiet) = call(
        &staff,
        "POST",
        "/api/v1/staff/donations/offline",
        cheque("ana@example.org", 5000, false),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        next(&quiet["payments"][0]["receipt_number"]),
        next(&payment["receipt_number"]) + 1
    );
    app.drain_outbox().await;
    assert_eq!(app.smtp.received().len(), mails_before + 1);

    // Fundraising corrects it; the number stays; the change is audited with before and after.
    let id = quiet["id"].as_str().expect("id");
    let (status, corrected) = call(
        &staff,
        "PATCH",
        &format!("/api/v1/staff/donations/{id}/offline"),
        json!({"amount_minor": 7500, "method": "bank_transfer", "reference": "TRF-9"}),
    )
    .await;
    assert_eq!(status, 200, "{corrected}");
    assert_eq!(corrected["total_minor"], 7500);
    assert_eq!(corrected["payments"][0]["amount_minor"], 7500);
    assert_eq!(corrected["payments"][0]["method"], "bank_transfer");
    assert_eq!(
        corrected["payments"][0]["receipt_number"],
        quiet["payments"][0]["receipt_number"]
    );
    let audit = app
        .staff(&app.staff_token("admin").await)
        .get_ok("/api/v1/staff/audit")
        .await;
    let entry = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "donation.offline_corrected")
        .expect("audited")
        .clone();
    let details: Value =
        serde_json::from_str(entry["details"].as_str().expect("details")).expect("json");
    assert_eq!(details["before"]["amount_minor"], 5000);
    assert_eq!(details["after"]["amount_minor"], 7500);

    // Gifts made online are not corrected here, and money recorded by hand is not refunded
    // through the processor.
    let pledge_id = pledge["id"].as_str().expect("id");
    let (status, _) = call(
        &staff,
        "PATCH",
        &format!("/api/v1/staff/donations/{pledge_id}/offline"),
        json!({"amount_minor": 1}),
    )
    .await;
    assert_eq!(status, 409);
    let res = staff
        .post(&format!(
            "/api/v1/staff/donation-payments/{}/refund",
            payment["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(res.status(), 409);

    // The donor's page for staff: every gift of the address, with lifetime totals.
    let (status, donor) = staff
        .get_json("/api/v1/staff/donors?email=ANA@example.org")
        .await;
    assert_eq!(status, 200, "{donor}");
    assert_eq!(donor["gifts"].as_array().expect("gifts").len(), 2);
    assert_eq!(donor["lifetime"][0]["gross_minor"], 25_000_000 + 7500);
    assert_eq!(donor["lifetime"][0]["payments"], 2);
    assert!(donor["first_gift_at"].as_str().is_some());

    // Its receipt again, on request.
    let res = staff
        .post(&format!(
            "/api/v1/staff/donation-payments/{}/resend-receipt",
            quiet["payments"][0]["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(res.status(), 202);
    app.drain_outbox().await;
    let mails = app.smtp.received();
    assert_eq!(mails.len(), mails_before + 2);
    assert!(mails
        .last()
        .expect("mail")
        .text_body()
        .expect("text")
        .contains("$75.00"));
}

/// `payment`, `refund` or `dispute` rows summed per kind, in minor units of USD.
fn sums(csv: &str) -> BTreeMap<String, i64> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (kind, gross) = (col("type"), col("gross"));
    let mut out = BTreeMap::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let cents = (cells[gross].parse::<f64>().expect("amount") * 100.0).round() as i64;
        *out.entry(cells[kind].to_string()).or_default() += cents;
    }
    out
}

async fn the_accounting_export_has_one_row_per_movement_and_agrees_with_the_reports(
    backend: Backend,
) {
    let (app, fake) = spawn_stripe(backend).await;
    let token = app.staff_token("fundraising").await;
    let staff = app.staff(&token);

    // Three card gifts paid; one refunded in full, one disputed; and a cheque.
    let mut sessions = Vec::new();
    for (amount, email) in [
        (5000, "jo@example.org"),
        (2000, "ana@example.org"),
        (700, "li@example.org"),
    ] {
        let res = app
            .donations()
            .donate(
                &json!({"amount_minor": amount, "currency": "USD", "frequency": "one_time", "email": email}),
                None,
            )
            .await;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.expect("json");
        let session = fake.session_for(body["id"].as_str().expect("id"));
        let res = deliver(
            &app,
            &fake.session_event("checkout.session.completed", &session, "paid"),
        )
        .await;
        assert_eq!(res.status(), 200);
        sessions.push(session);
    }
    let pi = |i: usize| sessions[i].payment_intent.clone().expect("pi");
    let res = deliver(&app, &fake.charge_refunded_event(&pi(1), 2000)).await;
    assert_eq!(res.status(), 200);
    // Delivered twice: still one refund row.
    let refund = fake.charge_refunded_event(&pi(1), 2000);
    assert_eq!(deliver(&app, &refund).await.status(), 200);
    assert_eq!(deliver(&app, &refund).await.status(), 200);
    let res = deliver(&app, &fake.dispute_event(&pi(2))).await;
    assert_eq!(res.status(), 200);
    let (status, _) = call(
        &staff,
        "POST",
        "/api/v1/staff/donations/offline",
        cheque("mo@example.org", 10_000, false),
    )
    .await;
    assert_eq!(status, 201);

    let res = staff.get("/api/v1/staff/donations/accounting.csv").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let csv = res.text().await.expect("csv");
    assert_eq!(csv.lines().count(), 1 + 4 + 1 + 1, "{csv}");
    let sums = sums(&csv);
    assert_eq!(sums["payment"], 5000 + 2000 + 700 + 10_000);
    assert_eq!(sums["refund"], -2000);
    assert_eq!(sums["dispute"], -700);
    assert!(csv.contains(",cheque,"), "{csv}");
    assert!(csv.contains(",card,"), "{csv}");

    // The reports' net (received less refunds) is the export's payments plus refunds.
    let reports = staff.get_ok("/api/v1/staff/donations/reports").await;
    let net: i64 = reports["by_month"]
        .as_array()
        .expect("months")
        .iter()
        .map(|l| l["amount_minor"].as_i64().expect("amount"))
        .sum();
    assert_eq!(net, sums["payment"] + sums["refund"]);

    // A range that ends before today holds none of it; a bad bound is named.
    let res = staff
        .get(&format!(
            "/api/v1/staff/donations/accounting.csv?to={}",
            days_ago(5)
        ))
        .await;
    assert_eq!(res.text().await.expect("csv").lines().count(), 1);
    let (status, problem) = staff
        .get_json("/api/v1/staff/donations/accounting.csv?from=yesterday")
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "from");
}

/// A monthly gift paid once through the fake processor: its session.
pub(crate) async fn monthly_gift(
    app: &TestApp,
    fake: &FakeStripe,
    email: &str,
) -> crate::fake_stripe::Session {
    let res = app.donations().donate(&monthly(email), None).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.expect("json");
    let session = fake.session_for(body["id"].as_str().expect("id"));
    for event in [
        fake.session_event("checkout.session.completed", &session, "paid"),
        fake.invoice_event(
            "invoice.paid",
            &session,
            &format!("in_first_{}", session.id),
        ),
    ] {
        assert_eq!(deliver(app, &event).await.status(), 200);
    }
    session
}

/// Runs the reminder pass as if it were `at`, and answers how many reminders it queued.
async fn remind(app: &TestApp, at: chrono::NaiveDateTime) -> usize {
    let ctx = frontdesk::donations::service::Ctx::from_state(&app.state);
    let n = frontdesk::donations::recovery::send_due(&app.state.db, &ctx, at)
        .await
        .expect("reminders");
    app.drain_outbox().await;
    n
}

/// The one-step card link in a mail's text.
fn card_link(mail: &crate::helpers::smtp_sink::ReceivedMail) -> String {
    let text = mail.text_body().expect("text");
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/donations/manage/card?"))
        .unwrap_or_else(|| panic!("no card link in {text}"));
    link[link.find("/donations").expect("path")..].to_string()
}

async fn a_failed_monthly_payment_is_followed_up_until_it_is_paid_or_given_up(backend: Backend) {
    let (app, fake) = spawn_stripe(backend).await;
    let token = app.staff_token("fundraising").await;
    let staff = app.staff(&token);
    let session = monthly_gift(&app, &fake, "mo@example.org").await;
    app.drain_outbox().await;
    let before = app.smtp.received().len();

    // The installment fails: one email with a link that fixes the card in one step.
    let failed = fake.invoice_event("invoice.payment_failed", &session, "in_2");
    assert_eq!(deliver(&app, &failed).await.status(), 200);
    // The processor retries the same invoice and fails again: nobody is told twice.
    let retry = fake.invoice_event("invoice.payment_failed", &session, "in_2");
    assert_eq!(deliver(&app, &retry).await.status(), 200);
    app.drain_outbox().await;
    let mails = app.smtp.received();
    assert_eq!(mails.len(), before + 1);
    let link = card_link(&mails[before]);

    let res = app.get(&link).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(
        location.starts_with("https://billing.stripe.test/p/session/"),
        "{location}"
    );
    let portal = &fake.requests_to("/v1/billing_portal/sessions")[0];
    assert_eq!(portal.get("customer"), Some(session.customer.as_str()));
    assert_eq!(portal.get("flow_data[type]"), Some("payment_method_update"));
    assert!(portal
        .get("return_url")
        .expect("return")
        .contains("/donations/manage?token="));
    // Someone else's gift, or a bad link, opens nothing.
    let other = monthly_gift(&app, &fake, "ana@example.org").await;
    let foreign = link.replace(&session.donation_id, &other.donation_id);
    assert_eq!(app.get(&foreign).await.status(), 404);
    let res = app
        .get("/donations/manage/card?token=nope&donation=x")
        .await;
    assert_ne!(res.status(), 303);

    // Staff see the gift failing, its reminders to come.
    let overview = staff.get_ok("/api/v1/staff/donations/recoveries").await;
    let failing = overview["failing"].as_array().expect("failing");
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0]["donation"]["id"], session.donation_id.as_str());
    assert_eq!(failing[0]["reminders_sent"], 0);

    // Reminders on days 1 and 3, each once, however often the pass runs.
    let now = chrono::Utc::now().naive_utc();
    let day = |d: i64| now + chrono::TimeDelta::days(d) + chrono::TimeDelta::minutes(5);
    assert_eq!(remind(&app, now).await, 0);
    assert_eq!(remind(&app, day(1)).await, 1);
    assert_eq!(remind(&app, day(1)).await, 0);
    assert_eq!(remind(&app, day(3)).await, 1);
    let mails = app.smtp.received();
    assert_eq!(
        mails.len(),
        before + 4,
        "failure, other gift's receipt, two reminders"
    );
    let reminder = mails.last().expect("reminder");
    assert!(reminder
        .subject()
        .unwrap_or_default()
        .contains("still did not go through"));
    assert!(card_link(reminder).contains(&session.donation_id));

    // Paid after all: the follow-up stops at once and the revenue counts as recovered.
    let paid = fake.invoice_event("invoice.paid", &session, "in_2");
    assert_eq!(deliver(&app, &paid).await.status(), 200);
    app.drain_outbox().await;
    let after_payment = app.smtp.received().len();
    assert_eq!(remind(&app, day(8)).await, 0);
    assert_eq!(app.smtp.received().len(), after_payment);
    let overview = staff.get_ok("/api/v1/staff/donations/recoveries").await;
    assert_eq!(overview["failing"].as_array().expect("failing").len(), 0);
    assert_eq!(overview["recovered"][0]["currency"], "USD");
    assert_eq!(overview["recovered"][0]["gifts"], 1);
    assert_eq!(overview["recovered"][0]["amount_minor"], 1500);

    // The other gift fails and the processor gives up: no reminder after that.
    let failed = fake.invoice_event("invoice.payment_failed", &other, "in_9");
    assert_eq!(deliver(&app, &failed).await.status(), 200);
    let gone = fake.subscription_deleted_event(&other);
    assert_eq!(deliver(&app, &gone).await.status(), 200);
    app.drain_outbox().await;
    let count = app.smtp.received().len();
    assert_eq!(remind(&app, day(8)).await, 0);
    assert_eq!(app.smtp.received().len(), count);
    let overview = staff.get_ok("/api/v1/staff/donations/recoveries").await;
    assert_eq!(overview["lost"], 1);
}

async fn yearly_statements_go_once_to_each_donor_when_interrupted_resumed_or_run_twice(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("fundraising").await;
    let staff = app.staff(&token);
    let donors = [
        "a@example.org",
        "b@example.org",
        "c@example.org",
        "d@example.org",
    ];
    for (i, email) in donors.iter().enumerate() {
        let (status, _) = call(
            &staff,
            "POST",
            "/api/v1/staff/donations/offline",
            cheque(email, 1000 * (i as i64 + 1), false),
        )
        .await;
        assert_eq!(status, 201);
    }
    // A second gift of the first donor: still one statement, with both.
    let (status, _) = call(
        &staff,
        "POST",
        "/api/v1/staff/donations/offline",
        cheque(donors[0], 500, false),
    )
    .await;
    assert_eq!(status, 201);
    let year: i32 = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse()
        .expect("year");

    // A run stopped at once, two runs side by side, then the staff action: one each.
    let ctx = frontdesk::donations::service::Ctx::from_state(&app.state);
    let db = app.state.db.clone();
    let (db2, ctx2) = (db.clone(), ctx.clone());
    let interrupted = tokio::spawn(async move {
        frontdesk::donations::statements::send_all(&db2, &ctx2, year, |_| {}).await
    });
    interrupted.abort();
    let _ = interrupted.await;
    let (one, two) = tokio::join!(
        frontdesk::donations::statements::send_all(&db, &ctx, year, |_| {}),
        frontdesk::donations::statements::send_all(&db, &ctx, year, |_| {}),
    );
    assert_eq!(one.expect("run").donors, 4);
    assert_eq!(two.expect("run").sent, 4);
    let (status, progress) = call(
        &staff,
        "POST",
        "/api/v1/staff/donations/statements",
        json!({"year": year}),
    )
    .await;
    assert_eq!(status, 202, "{progress}");
    assert_eq!(progress["donors"], 4);
    assert_eq!(progress["sent"], 4);
    let progress = staff
        .get_ok(&format!("/api/v1/staff/donations/statements?year={year}"))
        .await;
    assert_eq!(
        (progress["donors"].as_i64(), progress["sent"].as_i64()),
        (Some(4), Some(4))
    );

    app.drain_outbox().await;
    let statements: Vec<_> = app
        .smtp
        .received()
        .into_iter()
        .filter(|m| {
            m.subject()
                .unwrap_or_default()
                .contains("your donations in")
        })
        .collect();
    let mut recipients: Vec<String> = statements.iter().map(|m| m.rcpt_to[0].clone()).collect();
    recipients.sort();
    assert_eq!(recipients, donors);
    let first = statements
        .iter()
        .find(|m| m.rcpt_to[0] == donors[0])
        .expect("first donor");
    let text = first.text_body().expect("text");
    assert!(text.contains("$10.00") && text.contains("$5.00"), "{text}");
    assert!(text.contains("Total: $15.00"), "{text}");

    let (status, problem) = call(
        &staff,
        "POST",
        "/api/v1/staff/donations/statements",
        json!({"year": 1999}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "year");
}

/// The token of a fresh self-service link for `email` (asked for as a donor would).
pub(crate) async fn donor_token(app: &TestApp, email: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/v1/donations/manage"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .expect("manage");
    assert_eq!(res.status(), 202);
    app.drain_outbox().await;
    let mail = app
        .smtp
        .received()
        .into_iter()
        .rev()
        .find(|m| m.rcpt_to[0] == email)
        .expect("link mail");
    let text = mail.text_body().expect("text");
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/donations/manage?token="))
        .expect("link");
    link.split("token=").nth(1).expect("token").to_string()
}

async fn a_monthly_donor_changes_the_amount_on_their_page_or_at_the_processor(backend: Backend) {
    let (app, fake) = spawn_stripe(backend).await;
    let session = monthly_gift(&app, &fake, "mo@example.org").await;
    let other = monthly_gift(&app, &fake, "ana@example.org").await;
    let token = donor_token(&app, "mo@example.org").await;
    let sub = session.subscription.clone().expect("subscription");
    let change = |donation: String, amount: &'static str| {
        let url = app.url(&format!("/donations/manage/amount?token={token}"));
        let client = app.client.clone();
        async move {
            client
                .post(url)
                .form(&[("donation_id", donation.as_str()), ("amount", amount)])
                .send()
                .await
                .expect("change")
        }
    };

    let page = app.get(&format!("/donations/manage?token={token}")).await;
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Change amount") && html.contains("Update card"),
        "{html}"
    );

    let res = change(session.donation_id.clone(), "25.50").await;
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .expect("location")
        .ends_with("&changed=1"));
    let calls = fake.requests_to(&format!("/v1/subscriptions/{sub}"));
    let update = calls.last().expect("update");
    assert_eq!(
        update.get("items[0][id]"),
        Some(format!("si_{sub}").as_str())
    );
    assert_eq!(
        update.get("items[0][price_data][unit_amount]"),
        Some("2550")
    );
    assert_eq!(
        update.get("items[0][price_data][product]"),
        Some(format!("prod_{sub}").as_str())
    );
    assert_eq!(
        update.get("items[0][price_data][recurring][interval]"),
        Some("month")
    );
    assert_eq!(update.get("proration_behavior"), Some("none"));
    let stored = |id: String| {
        let db = app.state.db.clone();
        async move {
            db.run(move |conn| Ok(store::find_donation(conn, &id)?))
                .await
                .expect("donation")
        }
    };
    assert_eq!(stored(session.donation_id.clone()).await.total_minor, 2550);

    // Unreadable or out-of-bounds amounts are named; someone else's gift is not found.
    for bad in ["twenty", "0.50", "20.505"] {
        let res = change(session.donation_id.clone(), bad).await;
        assert_eq!(res.status(), 422, "{bad}");
        let problem: Value = res.json().await.expect("problem");
        assert_eq!(problem["errors"][0]["field"], "amount", "{bad}");
    }
    assert_eq!(change(other.donation_id.clone(), "30").await.status(), 404);
    assert_eq!(stored(session.donation_id.clone()).await.total_minor, 2550);

    // Changed at the processor's portal: the event brings the new amount, once.
    let updated = fake.subscription_updated_event(&session, 3000);
    assert_eq!(deliver(&app, &updated).await.status(), 200);
    assert_eq!(deliver(&app, &updated).await.status(), 200);
    assert_eq!(stored(session.donation_id.clone()).await.total_minor, 3000);
}

async fn the_donor_page_sends_a_receipt_or_a_statement_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("fundraising").await;
    let staff = app.staff(&token);
    let (status, gift) = call(
        &staff,
        "POST",
        "/api/v1/staff/donations/offline",
        cheque("Ana@example.org", 4200, false),
    )
    .await;
    assert_eq!(status, 201);
    let payment = gift["payments"][0]["id"].as_str().expect("id").to_string();
    let csrf = app.signed_in("fundraising").await;

    let page = app.get("/staff/donors?email=ana%40example.org").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("42.00 USD"), "{html}");
    assert!(
        html.contains(gift["payments"][0]["receipt_number"].as_str().expect("n")),
        "{html}"
    );
    let year = &gift["payments"][0]["receipt_number"].as_str().expect("n")[..4];
    assert!(
        html.contains(&format!("Send the {year} statement again")),
        "{html}"
    );

    let post = |path: String, form: Vec<(&'static str, String)>| {
        let (client, url) = (app.client.clone(), app.url(&path));
        async move { client.post(url).form(&form).send().await.expect("post") }
    };
    let forged = post(
        format!("/staff/donation-payments/{payment}/resend-receipt"),
        vec![("csrf_token", "wrong".into())],
    )
    .await;
    assert_eq!(forged.status(), 403);
    let res = post(
        format!("/staff/donation-payments/{payment}/resend-receipt"),
        vec![("csrf_token", csrf.clone())],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = post(
        "/staff/donors/statement".into(),
        vec![
            ("csrf_token", csrf.clone()),
            ("email", "ana@example.org".into()),
            ("year", year.into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    // Again through the API; a year without gifts is not found.
    let (status, _) = call(
        &staff,
        "POST",
        "/api/v1/staff/donors/statement",
        json!({"email": "ana@example.org", "year": year.parse::<i32>().expect("year")}),
    )
    .await;
    assert_eq!(status, 202);
    let (status, _) = call(
        &staff,
        "POST",
        "/api/v1/staff/donors/statement",
        json!({"email": "ana@example.org", "year": 2001}),
    )
    .await;
    assert_eq!(status, 404);

    app.drain_outbox().await;
    let mails = app.smtp.received();
    let subjects: Vec<String> = mails
        .iter()
        .map(|m| m.subject().unwrap_or_default())
        .collect();
    assert_eq!(
        subjects.iter().filter(|s| s.contains("receipt")).count(),
        1,
        "{subjects:?}"
    );
    assert_eq!(
        subjects
            .iter()
            .filter(|s| s.contains("your donations in"))
            .count(),
        2,
        "{subjects:?}"
    );
    // To the address as the donor gave it (the local part keeps its case).
    assert!(mails
        .iter()
        .all(|m| m.rcpt_to == vec!["Ana@example.org".to_string()]));
}
