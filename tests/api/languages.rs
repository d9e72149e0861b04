//! Reader languages end to end: the `lang` of public bodies (or `Accept-Language`) is stored
//! with the person and chooses the language of the emails they get, through the real SMTP
//! server.

use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use frontdesk::comments::spam::issue_token;
use frontdesk::db::schema::{comments, donations, newsletter_subscribers};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::smtp_sink::ReceivedMail;
use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

const WAIT: Duration = Duration::from_secs(20);

both_backends!(
    a_spanish_subscriber_gets_a_spanish_confirmation,
    accept_language_chooses_when_the_body_names_no_language,
    an_unknown_language_is_refused_naming_lang,
    a_spanish_donor_gets_a_spanish_receipt,
    a_comment_keeps_its_language_for_the_acknowledgement,
);

async fn post(
    app: &TestApp,
    path: &str,
    body: &Value,
    accept_language: Option<&str>,
) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).json(body);
    if let Some(al) = accept_language {
        req = req.header("Accept-Language", al);
    }
    req.send().await.expect("request")
}

async fn subscriber_lang(app: &TestApp, address: &str) -> Option<String> {
    let address = address.to_string();
    app.state
        .db
        .run(move |conn| {
            Ok(newsletter_subscribers::table
                .filter(newsletter_subscribers::email.eq(address))
                .select(newsletter_subscribers::lang)
                .first::<Option<String>>(conn)?)
        })
        .await
        .expect("subscriber")
}

async fn a_spanish_subscriber_gets_a_spanish_confirmation(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = post(
        &app,
        "/api/v1/newsletter/subscriptions",
        &json!({"email": "ana@example.org", "lang": "es"}),
        Some("en"),
    )
    .await;
    assert_eq!(res.status(), 202);

    let mail = app.smtp.wait_for(1, WAIT).await.remove(0);
    assert_eq!(
        mail.subject().unwrap_or_default(),
        "Newsroom: confirme su suscripción"
    );
    let text = mail.text_body().expect("text");
    assert!(text.starts_with("Hola:"), "{text}");
    assert!(text.contains("El enlace funciona durante"), "{text}");
    let html = mail.html_body().expect("html");
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
    assert!(html.contains("Confirmar mi suscripción"), "{html}");
    assert_eq!(
        subscriber_lang(&app, "ana@example.org").await.as_deref(),
        Some("es")
    );
}

async fn accept_language_chooses_when_the_body_names_no_language(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = post(
        &app,
        "/api/v1/newsletter/subscriptions",
        &json!({"email": "luis@example.org"}),
        Some("es-MX,es;q=0.9,en;q=0.5"),
    )
    .await;
    assert_eq!(res.status(), 202);
    let res = post(
        &app,
        "/api/v1/newsletter/subscriptions",
        &json!({"email": "jo@example.org"}),
        Some("fr, de;q=0.8"),
    )
    .await;
    assert_eq!(res.status(), 202);

    let mails = app.smtp.wait_for(2, WAIT).await;
    let subject_to = |to: &str| {
        mails
            .iter()
            .find(|m| m.rcpt_to == vec![to.to_string()])
            .and_then(|m| m.subject())
            .unwrap_or_default()
    };
    assert!(subject_to("luis@example.org").contains("confirme su suscripción"));
    assert!(subject_to("jo@example.org").contains("please confirm your subscription"));
    assert_eq!(
        subscriber_lang(&app, "luis@example.org").await.as_deref(),
        Some("es")
    );
    assert_eq!(
        subscriber_lang(&app, "jo@example.org").await.as_deref(),
        Some("en")
    );
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn an_unknown_language_is_refused_naming_lang(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = issue_token(&app.state.keys, Utc::now() - chrono::Duration::seconds(10));
    for (path, body) in [
        (
            "/api/v1/newsletter/subscriptions",
            json!({"email": "ana@example.org", "lang": "fr"}),
        ),
        (
            "/api/v1/donations",
            json!({"amount_minor": 2500, "currency": "USD", "frequency": "one_time",
                   "email": "ana@example.org", "lang": "fr"}),
        ),
        (
            "/api/v1/comments",
            json!({"name": "Ana", "email": "ana@example.org", "message": "Hola",
                   "form_token": token, "lang": "ES"}),
        ),
        (
            "/api/v1/feedback",
            json!({"article_url": "http://localhost/news/a", "helpful": true, "lang": "pt"}),
        ),
    ] {
        let res = post(&app, path, &body, Some("es")).await;
        assert_eq!(res.status(), 422, "{path}");
        let problem: Value = res.json().await.expect("json");
        assert_eq!(fields(&problem), vec!["lang"], "{path}: {problem}");
    }
    // With another bad field, both are named in one problem.
    let res = post(
        &app,
        "/api/v1/newsletter/subscriptions",
        &json!({"email": "not an address", "lang": "fr"}),
        None,
    )
    .await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(fields(&problem), vec!["email", "lang"], "{problem}");
    app.drain_outbox().await;
    assert!(app.smtp.received().is_empty(), "nothing refused was sent");
}

async fn a_spanish_donor_gets_a_spanish_receipt(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.site.legal_name = "Fundación Periódico".into();
    })
    .await;
    let token = app.staff_token("fundraising").await;
    let res = post(
        &app,
        "/api/v1/donations",
        &json!({"amount_minor": 2500, "currency": "USD", "frequency": "monthly",
                "email": "ana@example.org", "dedication": {"kind": "memory", "name": "Abuela"},
                "lang": "es"}),
        None,
    )
    .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let stored = {
        let id = id.clone();
        app.state
            .db
            .run(move |conn| {
                Ok(donations::table
                    .find(id)
                    .select(donations::lang)
                    .first::<Option<String>>(conn)?)
            })
            .await
            .expect("donation")
    };
    assert_eq!(stored.as_deref(), Some("es"));
    app.smtp.wait_for(1, WAIT).await;

    let (number, receipt) = mark_paid(&app, &token, &id).await;
    assert!(
        receipt
            .subject()
            .unwrap_or_default()
            .starts_with(&format!("Newsroom: recibo {number} de su donación")),
        "{:?}",
        receipt.subject()
    );
    let text = receipt.text_body().expect("text");
    for expected in [
        "Gracias por su donación mensual. Este es su recibo.",
        "Número de recibo:",
        "Recibido por: Fundación Periódico",
        "en memoria de la persona que nombró",
        "No se entregaron bienes ni servicios",
        "Conserve este correo",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert!(!text.contains("Thank you"), "{text}");
}

async fn a_comment_keeps_its_language_for_the_acknowledgement(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = issue_token(&app.state.keys, Utc::now() - chrono::Duration::seconds(10));
    let res = post(
        &app,
        "/api/v1/comments",
        &json!({"name": "Ana", "email": "ana@example.org", "message": "La fecha está mal.",
                "article_url": "http://localhost/news/a", "form_token": token}),
        Some("es"),
    )
    .await;
    assert_eq!(res.status(), 202);
    let langs = app
        .state
        .db
        .run(|conn| {
            Ok(comments::table
                .select(comments::lang)
                .load::<Option<String>>(conn)?)
        })
        .await
        .expect("comments");
    assert_eq!(langs, vec![Some("es".to_string())]);
    // The staff notification (English) and the reader's acknowledgement (Spanish).
    let mails = app.smtp.wait_for(2, WAIT).await;
    let ack = mails
        .iter()
        .find(|m| m.rcpt_to == vec!["ana@example.org".to_string()])
        .expect("the acknowledgement");
    assert!(ack
        .subject()
        .unwrap_or_default()
        .starts_with("Recibimos su comentario ("));
    let text = ack.text_body().expect("text");
    assert!(text.contains("Gracias por escribir a Newsroom."), "{text}");
}

/// Staff mark a pledged gift paid: its receipt number, and the receipt email (the second
/// email of the test, after the pledge).
pub(crate) async fn mark_paid(app: &TestApp, token: &str, id: &str) -> (String, ReceivedMail) {
    let res = app
        .staff(token)
        .post(&format!("/api/v1/staff/donations/{id}/mark-paid"))
        .await;
    assert_eq!(res.status(), 200);
    let number = res.json::<Value>().await.expect("json")["receipt_number"]
        .as_str()
        .expect("number")
        .to_string();
    let receipt = app
        .smtp
        .wait_for(2, WAIT)
        .await
        .into_iter()
        .find(|m| m.subject().unwrap_or_default().contains(&number))
        .expect("the receipt");
    (number, receipt)
}
