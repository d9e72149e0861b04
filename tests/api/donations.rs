//! Donations end to end: the real server, real databases, the SMTP sink and a fake processor.

use std::collections::HashSet;
use std::time::Duration;

use frontdesk::config::CurrencyBounds;
use frontdesk::donations::store::{self, Donation, Payment};
use rand::seq::SliceRandom;
use serde_json::{json, Value};

use crate::both_backends;
use crate::fake_stripe::{deliver, post_webhook, signature_header, FakeStripe, WEBHOOK_SECRET};
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

const WAIT: Duration = Duration::from_secs(15);

both_backends!(
    newsletter_opt_in_goes_through_the_double_opt_in,
    manual_pledge_gets_instructions_and_one_receipt_when_marked_paid,
    invalid_donations_are_refused_naming_every_field,
    zero_decimal_currencies_and_covered_fees,
    idempotency_key_replays_refuses_other_bodies_and_in_flight_duplicates,
    stripe_one_time_gift_end_to_end_with_refund,
    stripe_monthly_gift_installments_failure_cancel_and_statement,
    webhooks_delivered_twice_and_shuffled_make_one_payment_and_receipt_each,
    webhook_signatures_are_checked,
    staff_list_filters_csv_and_reports,
    staff_pages_list_and_mark_paid_with_csrf,
    card_testing_limits_and_cool_down_with_staff_alert,
    manual_monthly_pledge_is_marked_paid_once_per_month,
    donor_links_name_nobody_and_are_revoked_used_up_and_expire,
);

fn gift(amount: i64, email: &str) -> Value {
    json!({"amount_minor": amount, "currency": "USD", "frequency": "one_time", "email": email})
}

async fn created(app: &TestApp, body: &Value) -> Value {
    let res = app.donations().donate(body, None).await;
    assert_eq!(res.status(), 201);
    res.json().await.expect("json")
}

async fn donation(app: &TestApp, id: &str) -> Donation {
    let id = id.to_string();
    app.state
        .db
        .run(move |conn| Ok(store::find_donation(conn, &id)?))
        .await
        .expect("donation")
}

async fn payments(app: &TestApp, id: &str) -> Vec<Payment> {
    let id = id.to_string();
    app.state
        .db
        .run(move |conn| Ok(store::payments_for(conn, &id)?))
        .await
        .expect("payments")
}

async fn donation_count(app: &TestApp) -> usize {
    app.state
        .db
        .run(|conn| Ok(store::list(conn, &store::Filter::default(), None, 1000)?.len()))
        .await
        .expect("count")
}

fn receipts(app: &TestApp) -> Vec<crate::helpers::smtp_sink::ReceivedMail> {
    app.smtp
        .received()
        .into_iter()
        .filter(|m| m.subject().unwrap_or_default().contains("receipt"))
        .collect()
}

async fn manual_pledge_gets_instructions_and_one_receipt_when_marked_paid(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.payments.manual.instructions = "IBAN DE00 1234, reference your donation id".into();
        s.site.legal_name = "Newsroom Foundation Inc.".into();
        s.site.tax_id = Some("12-3456789".into());
    })
    .await;
    let token = app.staff_token("fundraising").await;

    let res = app
        .donations()
        .donate(
            &json!({"amount_minor": 2500, "currency": "USD", "frequency": "one_time",
                "email": "jane@example.org", "name": "Jane Reader", "anonymous": true,
                "dedication": {"kind": "honor", "name": "Ada"}, "newsletter_opt_in": true}),
            None,
        )
        .await;

    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], "pledged");
    assert_eq!(body["checkout_url"], Value::Null);
    assert_eq!(body["amount_minor"], 2500);
    let id = body["id"].as_str().expect("id").to_string();
    // The pledge email, and (the donor opted in) the newsletter's confirmation request.
    let first = app.smtp.wait_for(2, WAIT).await;
    let pledge = first
        .iter()
        .find(|m| m.subject().unwrap_or_default().contains("complete your"))
        .expect("the pledge email")
        .clone();
    assert!(first.iter().any(|m| m
        .subject()
        .unwrap_or_default()
        .contains("confirm your subscription")));
    assert_eq!(pledge.rcpt_to, vec!["jane@example.org".to_string()]);
    let text = pledge.text_body().expect("text");
    assert!(text.contains("IBAN DE00 1234"), "{text}");
    assert!(text.contains(&id), "{text}");
    assert!(text.contains("$25.00"), "{text}");
    let stored = donation(&app, &id).await;
    assert!(stored.anonymous && stored.newsletter_opt_in);
    assert_eq!(stored.name.as_deref(), Some("Jane Reader"));

    let public: Value = app
        .get(&format!("/api/v1/donations/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(public["status"], "pledged");
    assert!(public.get("email").is_none() && public.get("name").is_none());

    let res = app
        .staff(&token)
        .post(&format!("/api/v1/staff/donations/{id}/mark-paid"))
        .await;
    assert_eq!(res.status(), 200);
    let payment: Value = res.json().await.expect("json");
    let receipt_number = payment["receipt_number"]
        .as_str()
        .expect("number")
        .to_string();

    let mails = app.smtp.wait_for(3, WAIT).await;
    let receipt = mails
        .iter()
        .find(|m| m.subject().unwrap_or_default().contains(&receipt_number))
        .expect("the receipt");
    let text = receipt.text_body().expect("text");
    assert!(receipt
        .subject()
        .unwrap_or_default()
        .contains(&receipt_number));
    for expected in [
        receipt_number.as_str(),
        "Newsroom Foundation Inc.",
        "12-3456789",
        "Amount: $25.00",
        "No goods or services were provided",
        "/donations/manage?token=",
        "in honour of the person you named",
    ] {
        assert!(text.contains(expected), "{expected} missing in {text}");
    }
    assert_eq!(donation(&app, &id).await.status.as_str(), "paid");

    let again = app
        .staff(&token)
        .post(&format!("/api/v1/staff/donations/{id}/mark-paid"))
        .await;
    assert_eq!(again.status(), 409);
    app.expect_no_more_mail().await;
    assert_eq!(payments(&app, &id).await.len(), 1);
    let audited = app
        .state
        .db
        .run(|conn| {
            Ok(frontdesk::staff::audit::list(
                conn,
                None,
                Some("donation.marked_paid"),
                10,
            )?)
        })
        .await
        .expect("audit");
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].target_id.as_deref(), Some(id.as_str()));
}

async fn invalid_donations_are_refused_naming_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let fields = |v: Value| -> Vec<String> {
        v["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().expect("field").to_string())
            .collect()
    };

    let low = app
        .donations()
        .donate(&gift(99, "a@example.org"), None)
        .await;
    let high = app
        .donations()
        .donate(&gift(10_000_001, "a@example.org"), None)
        .await;
    let currency = app.donations().donate(
        &json!({"amount_minor": 2500, "currency": "EUR", "frequency": "one_time", "email": "a@example.org"}),
        None,
    )
    .await;
    let many = app
        .donations()
        .donate(
            &json!({"amount_minor": 2500, "currency": "USD", "frequency": "weekly", "email": "nope",
                "dedication": {"kind": "love", "name": "X"}, "message": "hi\u{0}"}),
            None,
        )
        .await;
    let unknown = app.donations().donate(
        &json!({"amount_minor": 2500, "currency": "USD", "frequency": "one_time", "email": "a@example.org", "coupon": "X"}),
        None,
    )
    .await;

    for res in [&low, &high, &currency, &many, &unknown] {
        assert_eq!(res.status(), 422);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    assert_eq!(fields(low.json().await.expect("json")), ["amount_minor"]);
    assert_eq!(fields(high.json().await.expect("json")), ["amount_minor"]);
    assert_eq!(fields(currency.json().await.expect("json")), ["currency"]);
    assert_eq!(
        fields(many.json().await.expect("json")),
        ["frequency", "email", "dedication.kind", "message"]
    );
    assert_eq!(fields(unknown.json().await.expect("json")), ["coupon"]);
    assert_eq!(donation_count(&app).await, 0);
    app.expect_no_more_mail().await;
}

async fn zero_decimal_currencies_and_covered_fees(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.donations.currencies.insert(
            "JPY".into(),
            CurrencyBounds {
                min: 100,
                max: 1_000_000,
            },
        );
    })
    .await;

    let yen = created(
        &app,
        &json!({"amount_minor": 2500, "currency": "JPY", "frequency": "one_time", "email": "k@example.org"}),
    )
    .await;
    let covered = created(
        &app,
        &json!({"amount_minor": 2500, "currency": "USD", "frequency": "one_time", "email": "c@example.org", "cover_fees": true}),
    )
    .await;

    assert_eq!(yen["amount_minor"], 2500);
    assert_eq!(covered["amount_minor"], 2500);
    assert_eq!(covered["fee_minor"], 106);
    assert_eq!(covered["total_minor"], 2606);
    let stored = donation(&app, covered["id"].as_str().expect("id")).await;
    assert_eq!(
        (stored.amount_minor, stored.fee_minor, stored.total_minor),
        (2500, 106, 2606)
    );
    let mails = app.smtp.wait_for(2, WAIT).await;
    let texts: Vec<String> = mails.iter().map(|m| m.text_body().expect("text")).collect();
    assert!(texts.iter().any(|t| t.contains("¥2,500")), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("$26.06") && t.contains("$1.06")),
        "{texts:?}"
    );
}

async fn idempotency_key_replays_refuses_other_bodies_and_in_flight_duplicates(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = gift(2500, "jane@example.org");

    let first = app.donations().donate(&body, Some("key-1")).await;
    let second = app.donations().donate(&body, Some("key-1")).await;
    let other_body = app
        .donations()
        .donate(&gift(3000, "jane@example.org"), Some("key-1"))
        .await;

    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 201);
    let (first, second): (Value, Value) = (
        first.json().await.expect("json"),
        second.json().await.expect("json"),
    );
    assert_eq!(first, second);
    assert_eq!(other_body.status(), 422);
    assert_eq!(donation_count(&app).await, 1);
    app.smtp.wait_for(1, WAIT).await;

    // A first request still in flight: its key is claimed but has no answer yet.
    app.state
        .db
        .write(|conn| {
            let body = gift(2500, "jane@example.org");
            let request: frontdesk::donations::model::DonationRequest =
                serde_json::from_value(body).expect("request");
            let hash = {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(
                    serde_json::to_vec(&request).expect("json"),
                ))
            };
            Ok(store::insert_idempotency(
                conn,
                "key-2",
                &hash,
                frontdesk::db::now(),
            )?)
        })
        .await
        .expect("claim");
    let concurrent = app.donations().donate(&body, Some("key-2")).await;
    assert_eq!(concurrent.status(), 409);

    let malformed = app.donations().donate(&body, Some(&"k".repeat(256))).await;
    assert_eq!(malformed.status(), 400);
    assert_eq!(donation_count(&app).await, 1);
    app.expect_no_more_mail().await;
}

async fn spawn_stripe(
    backend: Backend,
    extra: impl FnOnce(&mut frontdesk::config::Settings),
) -> (TestApp, FakeStripe) {
    let fake = FakeStripe::start().await;
    let app = spawn_app_with(backend, |s| {
        fake.configure(s);
        extra(s);
    })
    .await;
    (app, fake)
}

async fn stripe_one_time_gift_end_to_end_with_refund(backend: Backend) {
    let (app, fake) = spawn_stripe(backend, |_| {}).await;
    let token = app.staff_token("fundraising").await;

    let body = created(
        &app,
        &json!({"amount_minor": 5000, "currency": "USD", "frequency": "one_time", "email": "jo@example.org",
                "source_url": "http://localhost/investigations/water", "campaign": "water",
                "utm": {"source": "newsletter", "medium": "email", "campaign": "nov", "term": "t", "content": "c"}}),
    )
    .await;

    let id = body["id"].as_str().expect("id").to_string();
    assert_eq!(body["status"], "pending");
    let session = fake.session_for(&id);
    assert_eq!(
        body["checkout_url"],
        format!("https://checkout.stripe.test/c/pay/{}", session.id)
    );
    let request = &fake.requests_to("/v1/checkout/sessions")[0];
    assert_eq!(
        request.idempotency_key.as_deref(),
        Some(format!("donation-{id}-checkout").as_str())
    );
    for (key, value) in [
        ("mode", "payment"),
        ("submit_type", "donate"),
        ("client_reference_id", id.as_str()),
        ("metadata[donation_id]", id.as_str()),
        ("metadata[campaign]", "water"),
        (
            "metadata[source_url]",
            "http://localhost/investigations/water",
        ),
        ("metadata[utm_source]", "newsletter"),
        ("metadata[utm_content]", "c"),
        ("line_items[0][price_data][unit_amount]", "5000"),
        ("line_items[0][price_data][currency]", "usd"),
    ] {
        assert_eq!(request.get(key), Some(value), "{key}");
    }
    assert!(request
        .get("success_url")
        .expect("success_url")
        .contains("/donate/thanks?donation="));
    app.expect_no_more_mail().await;

    let res = deliver(
        &app,
        &fake.session_event("checkout.session.completed", &session, "paid"),
    )
    .await;
    assert_eq!(res.status(), 200);
    let receipt = app.smtp.wait_for(1, WAIT).await.remove(0);
    assert!(receipt.text_body().expect("text").contains("$50.00"));
    assert_eq!(donation(&app, &id).await.status.as_str(), "paid");
    let paid = payments(&app, &id).await;
    assert_eq!(paid.len(), 1);
    let thanks = app.get(&format!("/donate/thanks?donation={id}")).await;
    assert_eq!(thanks.status(), 200);

    let res = app
        .staff(&token)
        .post(&format!(
            "/api/v1/staff/donation-payments/{}/refund",
            paid[0].id
        ))
        .await;
    assert_eq!(res.status(), 200);
    let refund = &fake.requests_to("/v1/refunds")[0];
    assert_eq!(
        refund.idempotency_key.as_deref(),
        Some(format!("refund-{}", paid[0].id).as_str())
    );
    assert_eq!(
        refund.get("payment_intent"),
        session.payment_intent.as_deref()
    );
    let res = deliver(
        &app,
        &fake.charge_refunded_event(session.payment_intent.as_deref().expect("pi"), 5000),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(donation(&app, &id).await.status.as_str(), "refunded");
    let after = payments(&app, &id).await;
    assert_eq!(
        (after[0].status.as_str(), after[0].refunded_minor),
        ("refunded", 5000)
    );
    assert_eq!(after[0].receipt_number, paid[0].receipt_number);
    app.expect_no_more_mail().await;
}

async fn stripe_monthly_gift_installments_failure_cancel_and_statement(backend: Backend) {
    let (app, fake) = spawn_stripe(backend, |_| {}).await;
    let body = created(
        &app,
        &json!({"amount_minor": 1500, "currency": "USD", "frequency": "monthly", "email": "mo@example.org"}),
    )
    .await;
    let id = body["id"].as_str().expect("id").to_string();
    let session = fake.session_for(&id);
    let request = &fake.requests_to("/v1/checkout/sessions")[0];
    assert_eq!(request.get("mode"), Some("subscription"));
    assert_eq!(request.get("submit_type"), None);
    assert_eq!(
        request.get("line_items[0][price_data][recurring][interval]"),
        Some("month")
    );
    assert_eq!(
        request.get("subscription_data[metadata][donation_id]"),
        Some(id.as_str())
    );

    for event in [
        fake.session_event("checkout.session.completed", &session, "paid"),
        fake.invoice_event("invoice.paid", &session, "in_1"),
        fake.invoice_event("invoice.paid", &session, "in_2"),
    ] {
        assert_eq!(deliver(&app, &event).await.status(), 200);
    }
    app.smtp.wait_for(2, WAIT).await;
    let paid = payments(&app, &id).await;
    assert_eq!(paid.len(), 2);
    let stored = donation(&app, &id).await;
    assert_eq!(stored.status.as_str(), "paid");
    assert_eq!(stored.recurring_status.as_deref(), Some("active"));
    assert_eq!(stored.provider_subscription_id, session.subscription);

    let failed = deliver(
        &app,
        &fake.invoice_event("invoice.payment_failed", &session, "in_3"),
    )
    .await;
    assert_eq!(failed.status(), 200);
    let mails = app.smtp.wait_for(3, WAIT).await;
    assert!(mails[2]
        .subject()
        .unwrap_or_default()
        .contains("did not go through"));
    assert_eq!(
        donation(&app, &id).await.status.as_str(),
        "paid",
        "one failed installment does not fail the gift"
    );

    let res = app
        .client
        .post(app.url("/api/v1/donations/manage"))
        .json(&json!({"email": "MO@example.org"}))
        .send()
        .await
        .expect("manage");
    assert_eq!(res.status(), 202);
    let unknown = app
        .client
        .post(app.url("/api/v1/donations/manage"))
        .json(&json!({"email": "nobody@example.org"}))
        .send()
        .await
        .expect("manage");
    assert_eq!(unknown.status(), 202);
    let mails = app.smtp.wait_for(4, WAIT).await;
    let text = mails[3].text_body().expect("text");
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/donations/manage?token="))
        .expect("link")
        .to_string();
    let path = &link[link.find("/donations").expect("path")..];
    let token = path.split("token=").nth(1).expect("token").to_string();
    let page = app.get(path).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.expect("html");
    assert!(
        html.contains("$15.00") && html.contains("Cancel monthly gift"),
        "{html}"
    );
    let expired = app.get("/donations/manage?token=bad.1.sig").await;
    assert_eq!(expired.status(), 404);

    let year = chrono::Utc::now().format("%Y").to_string();
    let csv = app
        .get(&format!(
            "/donations/manage/statement?token={token}&year={year}&format=csv"
        ))
        .await;
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.expect("csv");
    for p in &paid {
        assert!(csv.contains(&p.receipt_number), "{csv}");
    }
    let printable = app
        .get(&format!(
            "/donations/manage/statement?token={token}&year={year}"
        ))
        .await
        .text()
        .await
        .expect("html");
    assert!(printable.contains("$30.00"), "{printable}");

    let cancel = app
        .client
        .post(app.url(&format!("/donations/manage/cancel?token={token}")))
        .form(&[("donation_id", id.as_str())])
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancel.status(), 303);
    let calls = fake.requests_to(&format!(
        "/v1/subscriptions/{}",
        session.subscription.as_deref().expect("sub")
    ));
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].get("cancel_at_period_end"), Some("true"));
    assert_eq!(
        donation(&app, &id).await.recurring_status.as_deref(),
        Some("cancelled")
    );
    let deleted = deliver(&app, &fake.subscription_deleted_event(&session)).await;
    assert_eq!(deleted.status(), 200);
    assert_eq!(
        donation(&app, &id).await.recurring_status.as_deref(),
        Some("cancelled")
    );
}

async fn webhooks_delivered_twice_and_shuffled_make_one_payment_and_receipt_each(backend: Backend) {
    let (app, fake) = spawn_stripe(backend, |_| {}).await;
    let once = created(&app, &gift(4000, "one@example.org")).await;
    let monthly = created(
        &app,
        &json!({"amount_minor": 1000, "currency": "USD", "frequency": "monthly", "email": "two@example.org"}),
    )
    .await;
    let (once_id, monthly_id) = (
        once["id"].as_str().expect("id").to_string(),
        monthly["id"].as_str().expect("id").to_string(),
    );
    let (a, b) = (fake.session_for(&once_id), fake.session_for(&monthly_id));
    let events = [
        fake.session_event("checkout.session.completed", &a, "paid"),
        fake.session_event("checkout.session.completed", &b, "paid"),
        fake.invoice_event("invoice.paid", &b, "in_a"),
        fake.invoice_event("invoice.paid", &b, "in_b"),
        fake.invoice_event("invoice.paid", &b, "in_c"),
        fake.dispute_event(a.payment_intent.as_deref().expect("pi")),
        fake.unknown_event(),
    ];
    let mut deliveries: Vec<&Value> = events.iter().chain(events.iter()).collect();
    deliveries.shuffle(&mut rand::rng());

    // Like Stripe: an event answered with an error is delivered again later.
    let mut pending = deliveries;
    for _round in 0..5 {
        let mut again = Vec::new();
        for event in pending {
            let res = deliver(&app, event).await;
            match res.status().as_u16() {
                200 => {}
                409 => again.push(event),
                other => panic!("webhook answered {other}"),
            }
        }
        pending = again;
        if pending.is_empty() {
            break;
        }
    }
    assert!(pending.is_empty(), "events never accepted");

    app.smtp.wait_for(5, WAIT).await; // 4 receipts + the dispute note to staff
    app.expect_no_more_mail().await;
    assert_eq!(payments(&app, &once_id).await.len(), 1);
    let installments = payments(&app, &monthly_id).await;
    assert_eq!(installments.len(), 3);
    let receipts = receipts(&app);
    assert_eq!(receipts.len(), 4);
    let numbers: HashSet<String> = payments(&app, &once_id)
        .await
        .into_iter()
        .chain(installments)
        .map(|p| p.receipt_number)
        .collect();
    assert_eq!(numbers.len(), 4);
    for n in &numbers {
        assert_eq!(
            receipts
                .iter()
                .filter(|m| m.subject().unwrap_or_default().contains(n.as_str()))
                .count(),
            1,
            "one receipt for {n}"
        );
    }
    assert_eq!(donation(&app, &once_id).await.status.as_str(), "disputed");
    assert_eq!(donation(&app, &monthly_id).await.status.as_str(), "paid");
}

async fn webhook_signatures_are_checked(backend: Backend) {
    let (app, fake) = spawn_stripe(backend, |_| {}).await;
    let body = fake.unknown_event().to_string();
    let now = chrono::Utc::now().timestamp();
    let tampered = body.replace("cus_other", "cus_evil");

    let cases = [
        (
            "tampered body",
            tampered.as_str(),
            Some(signature_header(&[WEBHOOK_SECRET], now, &body)),
        ),
        (
            "wrong secret",
            body.as_str(),
            Some(signature_header(&["whsec_wrong"], now, &body)),
        ),
        (
            "stale",
            body.as_str(),
            Some(signature_header(&[WEBHOOK_SECRET], now - 301, &body)),
        ),
        (
            "future",
            body.as_str(),
            Some(signature_header(&[WEBHOOK_SECRET], now + 301, &body)),
        ),
        ("missing", body.as_str(), None),
        ("garbage", body.as_str(), Some("t=x,v1=nothex".to_string())),
    ];
    for (what, sent, header) in cases {
        let res = post_webhook(&app, sent, header.as_deref()).await;
        assert_eq!(res.status(), 400, "{what}");
    }
    let rotated = signature_header(&["whsec_old_secret", WEBHOOK_SECRET], now, &body);
    let res = post_webhook(&app, &body, Some(&rotated)).await;
    assert_eq!(res.status(), 200);
    let replay = post_webhook(&app, &body, Some(&rotated)).await;
    assert_eq!(replay.status(), 200);
    let outcome: Value = replay.json().await.expect("json");
    assert_eq!(outcome["outcome"], "duplicate");
}

async fn staff_list_filters_csv_and_reports(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("fundraising").await;
    let water = created(
        &app,
        &json!({"amount_minor": 10000, "currency": "USD", "frequency": "one_time", "email": "w@example.org",
                "name": "=HYPERLINK(\"http://evil\")", "campaign": "water",
                "source_url": "http://localhost/investigations/water"}),
    )
    .await;
    created(&app, &gift(2000, "other@example.org")).await;
    let water_id = water["id"].as_str().expect("id");
    app.staff(&token)
        .post(&format!("/api/v1/staff/donations/{water_id}/mark-paid"))
        .await;

    let all: Value = app
        .staff(&token)
        .get("/api/v1/staff/donations?limit=1")
        .await
        .json()
        .await
        .expect("json");
    let by_campaign: Value = app
        .staff(&token)
        .get("/api/v1/staff/donations?campaign=water&status=paid")
        .await
        .json()
        .await
        .expect("json");
    let bad = app
        .staff(&token)
        .get("/api/v1/staff/donations?status=lost&from=yesterday")
        .await;

    assert_eq!(all["items"].as_array().expect("items").len(), 1);
    let cursor = all["next_cursor"].as_str().expect("more");
    let next: Value = app
        .staff(&token)
        .get(&format!("/api/v1/staff/donations?limit=1&cursor={cursor}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(next["items"].as_array().expect("items").len(), 1);
    assert_eq!(next["next_cursor"], Value::Null);
    let items = by_campaign["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    for key in [
        "id",
        "email",
        "name",
        "status",
        "amount_minor",
        "currency",
        "frequency",
        "created_at",
    ] {
        assert!(items[0].get(key).is_some(), "{key}");
    }
    assert_eq!(items[0]["email"], "w@example.org");
    assert_eq!(bad.status(), 422);

    let csv = app.staff(&token).get("/api/v1/staff/donations.csv").await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("text/csv"));
    let csv = csv.text().await.expect("csv");
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3);

    let reports: Value = app
        .staff(&token)
        .get("/api/v1/staff/donations/reports")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(reports["by_campaign"][0]["key"], "water");
    assert_eq!(reports["by_campaign"][0]["amount_minor"], 10000);
    assert_eq!(
        reports["by_article"][0]["key"],
        "http://localhost/investigations/water"
    );
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    assert_eq!(reports["by_month"][0]["key"], month.as_str());

    let audited = app
        .state
        .db
        .run(|conn| {
            Ok(frontdesk::staff::audit::list(
                conn,
                None,
                Some("donation.exported"),
                10,
            )?)
        })
        .await
        .expect("audit");
    assert_eq!(audited.len(), 1);
    let editor = app.staff_token("editor").await;
    assert_eq!(
        app.staff(&editor)
            .get("/api/v1/staff/donations")
            .await
            .status(),
        403
    );
}

async fn staff_pages_list_and_mark_paid_with_csrf(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = created(&app, &gift(2500, "page@example.org")).await;
    let id = body["id"].as_str().expect("id");
    let csrf = app.signed_in("fundraising").await;

    let list = app.get("/staff/donations").await;
    assert_eq!(list.status(), 200);
    let html = list.text().await.expect("html");
    assert!(
        html.contains("page@example.org") && html.contains("Mark paid"),
        "{html}"
    );
    let forged = app
        .client
        .post(app.url(&format!("/staff/donations/{id}/mark-paid")))
        .form(&[("csrf_token", "wrong")])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), 403);
    let res = app
        .client
        .post(app.url(&format!("/staff/donations/{id}/mark-paid")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("post");

    assert_eq!(res.status(), 303);
    let detail = app
        .get(&format!("/staff/donations/{id}?notice=marked_paid"))
        .await
        .text()
        .await
        .expect("html");
    assert!(detail.contains("marked paid"), "{detail}");
    assert_eq!(payments(&app, id).await.len(), 1);
    assert_eq!(app.get("/staff/donations/reports").await.status(), 200);
    app.smtp.wait_for(2, WAIT).await;
}

async fn card_testing_limits_and_cool_down_with_staff_alert(backend: Backend) {
    let (app, fake) = spawn_stripe(backend, |s| {
        s.donations.per_email_per_minute = 1;
        s.donations.failure_threshold = 2;
        s.donations.failure_alert_threshold = 2;
    })
    .await;

    let first = app
        .donations()
        .donate(&gift(2500, "card@example.org"), None)
        .await;
    let second = app
        .donations()
        .donate(&gift(2500, "card@example.org"), None)
        .await;
    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 429);
    assert!(second.headers().contains_key("retry-after"));

    // Two failed payments from the same client (IP): the third attempt cools down.
    let a = created(&app, &gift(2500, "a@example.org")).await;
    let b = created(&app, &gift(2500, "b@example.org")).await;
    for gift in [&a, &b] {
        let session = fake.session_for(gift["id"].as_str().expect("id"));
        let res = deliver(
            &app,
            &fake.session_event("checkout.session.async_payment_failed", &session, "unpaid"),
        )
        .await;
        assert_eq!(res.status(), 200);
    }
    let third = app
        .donations()
        .donate(&gift(2500, "c@example.org"), None)
        .await;

    assert_eq!(third.status(), 429);
    let mails = app.smtp.wait_for(3, WAIT).await;
    let alert = mails
        .iter()
        .find(|m| m.rcpt_to == vec!["newsroom@localhost".to_string()])
        .expect("staff alert");
    assert!(alert
        .subject()
        .unwrap_or_default()
        .contains("failed donation payments"));
    app.expect_no_more_mail().await;
}

async fn manual_monthly_pledge_is_marked_paid_once_per_month(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("fundraising").await;
    let body = created(
        &app,
        &json!({"amount_minor": 1000, "currency": "USD", "frequency": "monthly", "email": "m@example.org"}),
    )
    .await;
    let id = body["id"].as_str().expect("id");

    let first = app
        .staff(&token)
        .post(&format!("/api/v1/staff/donations/{id}/mark-paid"))
        .await;
    let again = app
        .staff(&token)
        .post(&format!("/api/v1/staff/donations/{id}/mark-paid"))
        .await;

    assert_eq!(first.status(), 200);
    assert_eq!(again.status(), 409);
    assert_eq!(payments(&app, id).await.len(), 1);
    let stored = donation(&app, id).await;
    assert_eq!(
        (stored.status.as_str(), stored.recurring_status.as_deref()),
        ("paid", Some("active"))
    );
    app.smtp.wait_for(2, WAIT).await;
    app.expect_no_more_mail().await;
    assert_eq!(receipts(&app).len(), 1);
}

async fn newsletter_opt_in_goes_through_the_double_opt_in(backend: Backend) {
    let app = spawn_app(backend).await;

    let mut wish = gift(2500, "reader@example.org");
    wish["name"] = json!("Ana Reader");
    wish["newsletter_opt_in"] = json!(true);
    let with = app.donations().donate(&wish, None).await;
    let without = app
        .donations()
        .donate(&gift(2500, "quiet@example.org"), None)
        .await;

    assert_eq!(with.status(), 201);
    assert_eq!(without.status(), 201);
    let mails = app
        .smtp
        .wait_for(3, std::time::Duration::from_secs(15))
        .await;
    app.expect_no_more_mail().await;
    let to_reader: Vec<String> = mails
        .iter()
        .filter(|m| m.rcpt_to == vec!["reader@example.org".to_string()])
        .filter_map(|m| m.subject())
        .collect();
    assert!(
        to_reader
            .iter()
            .any(|s| s.contains("please confirm your subscription")),
        "{to_reader:?}"
    );
    assert!(
        to_reader.iter().any(|s| s.contains("complete your")),
        "{to_reader:?}"
    );
    let to_quiet = mails
        .iter()
        .filter(|m| m.rcpt_to == vec!["quiet@example.org".to_string()])
        .count();
    assert_eq!(to_quiet, 1, "no opt-in, no confirmation email");
}

/// The path and query of the donor's self-service link in `mail`.
fn manage_link(mail: &crate::helpers::smtp_sink::ReceivedMail) -> String {
    crate::helpers::link(&mail.text_body().expect("text"), "/donations/manage?token=")
}

async fn donor_links_name_nobody_and_are_revoked_used_up_and_expire(backend: Backend) {
    use base64::Engine;
    const ADDRESS: &str = "Mo.Quill@Example.org";
    let app = spawn_app_with(backend, |s| s.limits.enabled = false).await;
    let body = created(
        &app,
        &json!({"amount_minor": 1200, "currency": "USD", "frequency": "monthly", "email": ADDRESS}),
    )
    .await;
    let id = body["id"].as_str().expect("id").to_string();
    let pledged = manage_link(&app.smtp.wait_for(1, WAIT).await[0]);

    // The link names nobody: no part of the address, not even encoded.
    let token = pledged.split("token=").nth(1).expect("token");
    assert_eq!(token.len(), 43, "32 random bytes: {pledged}");
    let lower = ADDRESS.to_ascii_lowercase();
    for form in [ADDRESS, lower.as_str(), "quill", "example"] {
        for encoded in [
            form.to_string(),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(form),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(form),
            hex::encode(form),
        ] {
            assert!(
                !pledged
                    .to_ascii_lowercase()
                    .contains(&encoded.to_ascii_lowercase()),
                "{encoded} in {pledged}"
            );
        }
    }
    let page = app.get(&pledged).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("$12.00"));

    // Asking for a new link revokes the old one.
    let asked = app
        .client
        .post(app.url("/api/v1/donations/manage"))
        .json(&json!({"email": ADDRESS}))
        .send()
        .await
        .expect("manage");
    assert_eq!(asked.status(), 202);
    let fresh = manage_link(&app.smtp.wait_for(2, WAIT).await[1]);
    assert_ne!(fresh, pledged);
    assert_eq!(app.get(&pledged).await.status(), 404, "revoked");
    assert_eq!(app.get(&fresh).await.status(), 200);

    // Cancelling uses the link up; the page it leads to carries a fresh one.
    let cancel_path = fresh.replacen("/donations/manage?", "/donations/manage/cancel?", 1);
    let cancel = app
        .client
        .post(app.url(&cancel_path))
        .form(&[("donation_id", id.as_str())])
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancel.status(), 303);
    assert_eq!(
        donation(&app, &id).await.recurring_status.as_deref(),
        Some("cancelled")
    );
    let after = cancel.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(!after.contains(fresh.split("token=").nth(1).expect("token")));
    let shown = app.get(&after).await;
    assert_eq!(shown.status(), 200);
    assert!(shown
        .text()
        .await
        .expect("html")
        .contains("Your monthly gift is cancelled"));
    assert_eq!(app.get(&fresh).await.status(), 404, "used up");
    let statement = fresh.replacen("/donations/manage?", "/donations/manage/statement?", 1);
    assert_eq!(app.get(&statement).await.status(), 404);
    let again = app
        .client
        .post(app.url(&cancel_path))
        .form(&[("donation_id", id.as_str())])
        .send()
        .await
        .expect("cancel again");
    assert_eq!(again.status(), 404);

    // An expired link opens nothing.
    let current = after
        .split("token=")
        .nth(1)
        .and_then(|t| t.split('&').next())
        .expect("token")
        .to_string();
    let hash = frontdesk::keys::token_hash(&current);
    app.state
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use frontdesk::db::schema::email_links::dsl as l;
            diesel::update(l::email_links.find(&hash))
                .set(l::expires_at.eq(frontdesk::db::now() - chrono::TimeDelta::seconds(1)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("expire");
    assert_eq!(app.get(&after).await.status(), 404, "expired");
}
