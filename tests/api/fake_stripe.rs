//! A fake payment processor for the tests: a small, stateful HTTP server speaking the parts of
//! Stripe's REST API that Frontdesk calls (Checkout Sessions, subscription updates, refunds).
//! It records every request, remembers the sessions it created, answers a repeated
//! `Idempotency-Key` with its first answer (as Stripe does), and builds and signs the events
//! Stripe would send, to deliver them to the app's webhook. Started with
//! [`FakeStripe::start_hosted`], it also serves its checkout page, so a browser sent there
//! can press "Pay" and come back to the session's `success_url`, as with Stripe Checkout.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::helpers::TestApp;

pub const SECRET_KEY: &str = "sk_test_frontdesk";
pub const WEBHOOK_SECRET: &str = "whsec_test_frontdesk";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub authorization: Option<String>,
    pub idempotency_key: Option<String>,
    pub stripe_version: Option<String>,
    pub form: Vec<(String, String)>,
}

impl Recorded {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A Checkout Session the fake created.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub donation_id: String,
    pub mode: String,
    pub amount: i64,
    pub currency: String,
    pub customer: String,
    pub payment_intent: Option<String>,
    pub subscription: Option<String>,
    pub success_url: String,
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    answers: HashMap<String, Value>,
    sessions: Vec<Session>,
    counter: u64,
    /// Checkout URLs point at this fake's own page instead of an unreachable host.
    hosted: Option<String>,
    /// Sessions whose checkout page was paid.
    paid: Vec<String>,
    /// While set, every API request is answered with this status (an outage).
    down: Option<u16>,
}

pub struct FakeStripe {
    pub url: String,
    state: Arc<Mutex<State>>,
    server: actix_web::dev::ServerHandle,
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        let server = self.server.clone();
        tokio::spawn(async move { server.stop(false).await });
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let recorded = Recorded {
        path: req.path().to_string(),
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        stripe_version: header("stripe-version"),
        form: url::form_urlencoded::parse(&body).into_owned().collect(),
    };
    let mut s = lock(&state);
    if let Some(id) = recorded.path.strip_prefix("/c/pay/") {
        return checkout_page(&mut s, id, req.method());
    }
    s.requests.push(recorded.clone());
    if let Some(status) = s.down {
        let status = actix_web::http::StatusCode::from_u16(status).expect("status");
        return HttpResponse::build(status)
            .json(json!({"error": {"message": "An unknown error occurred"}}));
    }
    // As Stripe does for a version it does not know; Frontdesk must pin the one it parses.
    if recorded.stripe_version.as_deref()
        != Some(frontdesk::donations::payments::stripe::API_VERSION)
    {
        return HttpResponse::BadRequest()
            .json(json!({"error": {"message": "Invalid Stripe API version"}}));
    }
    if recorded.authorization.as_deref() != Some(&format!("Bearer {SECRET_KEY}")) {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"message": "Invalid API Key provided"}}));
    }
    let key = recorded.idempotency_key.clone().unwrap_or_default();
    if let Some(answer) = s.answers.get(&format!("{}|{key}", recorded.path)) {
        return HttpResponse::Ok().json(answer.clone());
    }
    s.counter += 1;
    let n = s.counter;
    let answer = if recorded.path == "/v1/checkout/sessions" {
        let mode = recorded.get("mode").unwrap_or_default().to_string();
        let session = Session {
            id: format!("cs_test_{n}"),
            donation_id: recorded
                .get("metadata[donation_id]")
                .unwrap_or_default()
                .to_string(),
            amount: recorded
                .get("line_items[0][price_data][unit_amount]")
                .and_then(|a| a.parse().ok())
                .unwrap_or(0),
            currency: recorded
                .get("line_items[0][price_data][currency]")
                .unwrap_or("usd")
                .to_string(),
            customer: format!("cus_test_{n}"),
            payment_intent: (mode == "payment").then(|| format!("pi_test_{n}")),
            subscription: (mode == "subscription").then(|| format!("sub_test_{n}")),
            success_url: recorded.get("success_url").unwrap_or_default().to_string(),
            mode,
        };
        let checkout_base = s
            .hosted
            .clone()
            .unwrap_or_else(|| "https://checkout.stripe.test".into());
        let answer = json!({
            "id": session.id, "object": "checkout.session",
            "url": format!("{checkout_base}/c/pay/{}", session.id),
        });
        s.sessions.push(session);
        answer
    } else if let Some(sub) = recorded.path.strip_prefix("/v1/subscriptions/") {
        let amount = s
            .sessions
            .iter()
            .find(|x| x.subscription.as_deref() == Some(sub))
            .map_or(0, |x| x.amount);
        let amount = recorded
            .get("items[0][price_data][unit_amount]")
            .and_then(|a| a.parse().ok())
            .unwrap_or(amount);
        // A read is not remembered as an idempotent answer.
        let answer = json!({"id": sub, "object": "subscription",
            "cancel_at_period_end": recorded.get("cancel_at_period_end") == Some("true"),
            "items": {"object": "list", "data": [{"id": format!("si_{sub}"), "quantity": 1,
                "price": {"product": format!("prod_{sub}"), "unit_amount": amount}}]}});
        if req.method() == actix_web::http::Method::GET {
            return HttpResponse::Ok().json(answer);
        }
        answer
    } else if recorded.path == "/v1/billing_portal/sessions" {
        json!({"id": format!("bps_test_{n}"), "object": "billing_portal.session",
               "url": format!("https://billing.stripe.test/p/session/bps_test_{n}")})
    } else if recorded.path == "/v1/refunds" {
        json!({"id": format!("re_test_{n}"), "object": "refund", "status": "succeeded"})
    } else {
        return HttpResponse::NotFound()
            .json(json!({"error": {"message": "Unrecognized request URL"}}));
    };
    s.answers
        .insert(format!("{}|{key}", recorded.path), answer.clone());
    HttpResponse::Ok().json(answer)
}

/// The hosted checkout: GET shows a "Pay" button, POST marks the session paid and sends the
/// browser to its `success_url` (the webhook is delivered by the test, as Stripe would).
fn checkout_page(s: &mut State, id: &str, method: &actix_web::http::Method) -> HttpResponse {
    let Some(session) = s.sessions.iter().find(|x| x.id == id).cloned() else {
        return HttpResponse::NotFound().body("no such session");
    };
    if method == actix_web::http::Method::POST {
        s.paid.push(session.id.clone());
        return HttpResponse::SeeOther()
            .insert_header(("location", session.success_url))
            .finish();
    }
    // Static markup around a session id the fake made itself ("cs_test_N").
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><title>Fake checkout</title><h1 id=\"amount\">Pay {} {}</h1>\
         <form method=\"post\"><button id=\"pay\" type=\"submit\">Pay</button></form>",
            session.amount,
            session.currency.to_uppercase()
        ))
}

impl FakeStripe {
    /// A fake whose checkout URLs lead to its own checkout page (for browser tests).
    pub async fn start_hosted() -> FakeStripe {
        let fake = FakeStripe::start().await;
        lock(&fake.state).hosted = Some(fake.url.clone());
        fake
    }

    /// True once the browser paid on the hosted checkout page of `session_id`.
    pub fn paid_on_page(&self, session_id: &str) -> bool {
        lock(&self.state).paid.iter().any(|p| p == session_id)
    }

    pub async fn start() -> FakeStripe {
        let state = Arc::new(Mutex::new(State::default()));
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(handle))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeStripe {
            url: format!("http://127.0.0.1:{port}"),
            state,
            server: handle,
        }
    }

    /// Answers every API request with `status` (an outage) until called with `None`.
    pub fn set_down(&self, status: Option<u16>) {
        lock(&self.state).down = status;
    }

    /// Stops the server: connections are refused from now on.
    pub async fn stop(&self) {
        self.server.stop(false).await;
    }

    /// Settings that point the app at this fake.
    pub fn configure(&self, s: &mut frontdesk::config::Settings) {
        s.payments.provider = frontdesk::config::PaymentProviderKind::Stripe;
        s.payments.stripe.api_base = self.url.parse().expect("url");
        s.payments.stripe.secret_key = Some(frontdesk::config::Secret::new(SECRET_KEY));
        s.payments.stripe.webhook_secret = Some(frontdesk::config::Secret::new(WEBHOOK_SECRET));
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).requests.clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    pub fn session_for(&self, donation_id: &str) -> Session {
        lock(&self.state)
            .sessions
            .iter()
            .find(|s| s.donation_id == donation_id)
            .cloned()
            .expect("a session for the donation")
    }

    fn next(&self) -> u64 {
        let mut s = lock(&self.state);
        s.counter += 1;
        s.counter
    }

    fn event(&self, kind: &str, object: Value) -> Value {
        let n = self.next();
        json!({
            "id": format!("evt_test_{n}"), "object": "event", "type": kind,
            "created": chrono::Utc::now().timestamp(), "livemode": false,
            "data": {"object": object},
        })
    }

    /// `checkout.session.completed` (or one of the async pair, by `kind`).
    pub fn session_event(&self, kind: &str, s: &Session, payment_status: &str) -> Value {
        self.event(
            kind,
            json!({
                "id": s.id, "object": "checkout.session", "mode": s.mode,
                "client_reference_id": s.donation_id,
                "metadata": {"donation_id": s.donation_id},
                "payment_status": payment_status, "status": "complete",
                "amount_total": s.amount, "currency": s.currency,
                "customer": s.customer, "payment_intent": s.payment_intent,
                "subscription": s.subscription,
            }),
        )
    }

    /// An invoice of a subscription session (`invoice.paid` or `invoice.payment_failed`).
    pub fn invoice_event(&self, kind: &str, s: &Session, invoice: &str) -> Value {
        let paid = kind == "invoice.paid";
        self.event(
            kind,
            json!({
                "id": invoice, "object": "invoice",
                "customer": s.customer, "subscription": s.subscription,
                "subscription_details": {"metadata": {"donation_id": s.donation_id}},
                "amount_paid": if paid { s.amount } else { 0 },
                "amount_due": s.amount, "currency": s.currency,
                "payment_intent": format!("pi_{invoice}"), "charge": format!("ch_{invoice}"),
                "status": if paid { "paid" } else { "open" },
            }),
        )
    }

    pub fn charge_refunded_event(&self, payment_intent: &str, amount: i64) -> Value {
        let n = self.next();
        self.event(
            "charge.refunded",
            json!({
                "id": format!("ch_test_{n}"), "object": "charge",
                "payment_intent": payment_intent, "amount": amount,
                "amount_refunded": amount, "refunded": true,
            }),
        )
    }

    pub fn dispute_event(&self, payment_intent: &str) -> Value {
        let n = self.next();
        self.event(
            "charge.dispute.created",
            json!({
                "id": format!("dp_test_{n}"), "object": "dispute",
                "charge": format!("ch_test_{n}"), "payment_intent": payment_intent,
            }),
        )
    }

    /// The subscription as the processor's portal left it: a new monthly amount.
    pub fn subscription_updated_event(&self, s: &Session, amount: i64) -> Value {
        let sub = s.subscription.clone().unwrap_or_default();
        self.event(
            "customer.subscription.updated",
            json!({"id": sub, "object": "subscription", "customer": s.customer,
                   "cancel_at_period_end": false,
                   "items": {"object": "list", "data": [{"id": format!("si_{sub}"), "quantity": 1,
                       "price": {"product": format!("prod_{sub}"), "unit_amount": amount}}]}}),
        )
    }

    /// The subscription paused at the processor until `resumes_at` (a Unix time; `None` for a
    /// pause without an end), or resumed (`paused = false`).
    pub fn subscription_paused_event(
        &self,
        s: &Session,
        paused: bool,
        resumes_at: Option<i64>,
    ) -> Value {
        let sub = s.subscription.clone().unwrap_or_default();
        let pause = paused.then(|| json!({"behavior": "void", "resumes_at": resumes_at}));
        self.event(
            "customer.subscription.updated",
            json!({"id": sub, "object": "subscription", "customer": s.customer,
                   "cancel_at_period_end": false, "pause_collection": pause,
                   "items": {"object": "list", "data": [{"id": format!("si_{sub}"), "quantity": 1,
                       "price": {"product": format!("prod_{sub}"), "unit_amount": s.amount}}]}}),
        )
    }

    pub fn subscription_deleted_event(&self, s: &Session) -> Value {
        self.event(
            "customer.subscription.deleted",
            json!({
                "id": s.subscription, "object": "subscription", "customer": s.customer,
                "metadata": {"donation_id": s.donation_id}, "status": "canceled",
            }),
        )
    }

    pub fn unknown_event(&self) -> Value {
        self.event(
            "customer.created",
            json!({"id": "cus_other", "object": "customer"}),
        )
    }
}

/// A `Stripe-Signature` header for `body` signed at `t` with `secrets` (several while rolling).
pub fn signature_header(secrets: &[&str], t: i64, body: &str) -> String {
    let mut header = format!("t={t}");
    for secret in secrets {
        header.push_str(&format!(
            ",v1={}",
            frontdesk::donations::signature::sign(secret, t, body.as_bytes())
        ));
    }
    header
}

/// POSTs a raw body with a given signature header to the app's webhook.
pub async fn post_webhook(app: &TestApp, body: &str, signature: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/v1/webhooks/stripe"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(sig) = signature {
        req = req.header("stripe-signature", sig);
    }
    req.send().await.expect("webhook request")
}

/// Signs an event as Stripe would, now, and delivers it.
pub async fn deliver(app: &TestApp, event: &Value) -> reqwest::Response {
    let body = event.to_string();
    let header = signature_header(&[WEBHOOK_SECRET], chrono::Utc::now().timestamp(), &body);
    post_webhook(app, &body, Some(&header)).await
}
