//! Reader emails in the reader's language, through the real SMTP server: a Spanish donor's
//! pledge, receipt and yearly statement with Spanish money and dates (CLDR's, `25,00 US$`),
//! the site's own legal wording for Spanish, and a Spanish applicant's acknowledgement and
//! rejection; a newsletter issue sent to a mixed audience, each subscriber reading its
//! footer and unsubscribe link in their language, with the site's Spanish footer.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app_with, Backend, TestApp};

both_backends!(
    a_spanish_donor_gets_pledge_receipt_and_statement_in_spanish,
    a_spanish_applicant_is_acknowledged_and_rejected_in_spanish,
    each_subscriber_reads_the_issue_chrome_in_their_language,
    a_mixed_list_gets_each_subscriber_the_version_in_their_language,
);

const WAIT: Duration = Duration::from_secs(20);

/// The text of an email with no-break spaces (CLDR puts one before `US$`) as plain ones.
fn plain(text: &str) -> String {
    text.replace(['\u{a0}', '\u{202f}'], " ")
}

async fn a_spanish_donor_gets_pledge_receipt_and_statement_in_spanish(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.site.wording.insert(
            "es".into(),
            [(
                "receipt-legal".to_string(),
                "Donación deducible según el artículo 125 de la ley.".to_string(),
            )]
            .into(),
        );
    })
    .await;
    let token = app.staff_token("fundraising").await;
    let res = app
        .client
        .post(app.url("/api/v1/donations"))
        .json(
            &json!({"amount_minor": 123_456, "currency": "USD", "frequency": "one_time",
                      "email": "ana@example.org", "lang": "es"}),
        )
        .send()
        .await
        .expect("donate");
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();

    let pledge = app.smtp.wait_for(1, WAIT).await.remove(0);
    let subject = plain(&pledge.subject().unwrap_or_default());
    assert_eq!(
        subject, "Newsroom: cómo completar su donación de 1234,56 US$",
        "{subject}"
    );
    let text = plain(&pledge.text_body().expect("text"));
    assert!(text.starts_with("Hola:"), "{text}");
    assert!(
        text.contains("Gracias por comprometer 1234,56 US$ a Newsroom."),
        "{text}"
    );
    assert!(text.contains("Cómo pagar:"), "{text}");
    assert!(
        !text.contains("1,234.56") && !text.contains("USD"),
        "{text}"
    );

    let (number, receipt) = crate::languages::mark_paid(&app, &token, &id).await;
    assert_eq!(
        plain(&receipt.subject().unwrap_or_default()),
        format!("Newsroom: recibo {number} de su donación de 1234,56 US$")
    );
    let today = Utc::now().date_naive();
    let spanish_today = frontdesk::i18n::format::date("es", today).expect("date");
    let text = plain(&receipt.text_body().expect("text"));
    for expected in [
        "Importe: 1234,56 US$".to_string(),
        format!("Fecha: {}", plain(&spanish_today)),
        "Donación deducible según el artículo 125 de la ley.".to_string(),
    ] {
        assert!(text.contains(&expected), "{expected:?} in {text}");
    }
    assert!(
        !text.contains(&today.format("%Y-%m-%d").to_string()),
        "{text}"
    );
    let html = plain(&receipt.html_body().expect("html"));
    assert!(html.contains("1234,56 US$"), "{html}");
    assert!(html.contains("Donación deducible"), "{html}");

    // The yearly statement: its lines and total in Spanish.
    let year: i32 = Utc::now().format("%Y").to_string().parse().expect("year");
    let ctx = frontdesk::donations::service::Ctx::from_state(&app.state);
    let run = frontdesk::donations::statements::send_all(&app.state.db, &ctx, year, |_| {})
        .await
        .expect("statements");
    assert_eq!(run.donors, 1);
    app.drain_outbox().await;
    let statement = app
        .smtp
        .received()
        .into_iter()
        .find(|m| {
            m.subject()
                .unwrap_or_default()
                .contains("sus donaciones en")
        })
        .expect("the statement");
    let text = plain(&statement.text_body().expect("text"));
    for expected in [
        format!("Gracias por apoyar a Newsroom en {year}."),
        format!("{}  recibo {number}  1234,56 US$", plain(&spanish_today)),
        "Total: 1234,56 US$".to_string(),
        "Donación deducible según el artículo 125 de la ley.".to_string(),
    ] {
        assert!(text.contains(&expected), "{expected:?} in {text}");
    }
}

async fn a_spanish_applicant_is_acknowledged_and_rejected_in_spanish(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.staff_token("hiring").await;
    let me: Value = app
        .client
        .get(app.url("/api/v1/staff/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let posting = posting(&app, &token, me["email"].as_str().expect("email")).await;
    let question = posting["questions"][0]["id"].as_str().expect("question");
    let form = Form::new()
        .text("name", "Ana Lectora")
        .text("email", "ana@example.org")
        .text("consent", "true")
        .text("lang", "es")
        .text(format!("answer_{question}"), "yes")
        .part(
            "cv",
            Part::bytes(
                b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
                    .to_vec(),
            )
            .file_name("cv.pdf")
            .mime_str("application/pdf")
            .expect("mime"),
        );
    let res = app
        .client
        .post(app.url("/api/v1/jobs/data-reporter/applications"))
        .multipart(form)
        .send()
        .await
        .expect("apply");
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    app.drain_outbox().await;
    let to_ana = |mails: Vec<crate::helpers::smtp_sink::ReceivedMail>| -> Vec<crate::helpers::smtp_sink::ReceivedMail> {
        mails
            .into_iter()
            .filter(|m| m.rcpt_to == vec!["ana@example.org".to_string()])
            .collect()
    };
    let ack = to_ana(app.smtp.wait_for(2, WAIT).await).remove(0);
    assert_eq!(
        ack.subject().unwrap_or_default(),
        "Newsroom: recibimos su postulación para Data Reporter"
    );
    let text = ack.text_body().expect("text");
    assert!(
        text.contains("Gracias por postularse al puesto de Data Reporter en Newsroom."),
        "{text}"
    );
    assert!(text.contains("Su referencia:"), "{text}");

    let res = app
        .client
        .patch(app.url(&format!("/api/v1/staff/applications/{id}")))
        .bearer_auth(&token)
        .json(&json!({"stage": "rejected", "send_rejection_email": true}))
        .send()
        .await
        .expect("reject");
    assert_eq!(
        res.status(),
        200,
        "{}",
        res.text().await.unwrap_or_default()
    );
    app.drain_outbox().await;
    let mails = to_ana(app.smtp.received());
    let rejection = mails
        .iter()
        .find(|m| {
            m.subject()
                .unwrap_or_default()
                .starts_with("Su postulación")
        })
        .expect("the rejection");
    assert_eq!(
        rejection.subject().unwrap_or_default(),
        "Su postulación para Data Reporter"
    );
    let text = rejection.text_body().expect("text");
    assert!(text.contains("hemos decidido no continuar"), "{text}");
    assert!(text.contains("Le deseamos mucho éxito."), "{text}");
    let html = rejection.html_body().expect("html");
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
}

async fn posting(app: &TestApp, token: &str, contact: &str) -> Value {
    let res = app
        .client
        .post(app.url("/api/v1/staff/jobs"))
        .bearer_auth(token)
        .json(&json!({
            "slug": "data-reporter",
            "title": "Data Reporter",
            "summary": "Find the stories in the numbers.",
            "description_markdown": "You will analyse data.",
            "location": "Bogotá",
            "country": "CO",
            "remote": "hybrid",
            "employment_type": "full_time",
            "hiring_contacts": [contact],
            "closes_at": (Utc::now() + TimeDelta::days(30)).to_rfc3339(),
            "status": "open",
            "questions": [{"kind": "yes_no", "label": "Can you start in January?", "required": true}],
        }))
        .send()
        .await
        .expect("posting");
    assert_eq!(res.status(), 201);
    res.json().await.expect("json")
}

async fn each_subscriber_reads_the_issue_chrome_in_their_language(backend: Backend) {
    use diesel::prelude::*;
    use frontdesk::db::schema::newsletter_subscribers as subs;
    use frontdesk::newsletter::model::EmailAddress;
    use frontdesk::newsletter::store;

    let app = spawn_app_with(backend, |s| {
        s.newsletter.dispatch_interval_ms = 50;
        s.newsletter.footer = "You get this because you subscribed.".into();
        s.site.wording.insert(
            "es".into(),
            [(
                "newsletter-footer".to_string(),
                "Recibe este boletín porque se suscribió.".to_string(),
            )]
            .into(),
        );
    })
    .await;
    let emails: Vec<EmailAddress> = ["en@example.org", "es@example.org"]
        .iter()
        .map(|a| EmailAddress::parse(a).expect("address"))
        .collect();
    app.state
        .db
        .write(move |conn| {
            store::insert_confirmed_subscribers(conn, &emails, &[], frontdesk::db::now())?;
            diesel::update(subs::table.filter(subs::email.eq("es@example.org")))
                .set(subs::lang.eq(Some("es")))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("subscribers");
    let token = app.staff_token("fundraising").await;
    let res = app
        .staff(&token)
        .post_json(
            "/api/v1/staff/newsletters",
            json!({"subject": "This week", "body_markdown": "Hello **readers**."}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/staff/newsletters/{id}/send")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 202);
    let mails = app.smtp.wait_for(2, WAIT).await;
    let text_to = |to: &str| {
        mails
            .iter()
            .find(|m| m.rcpt_to == vec![to.to_string()])
            .and_then(|m| m.text_body())
            .unwrap_or_default()
    };
    let en = text_to("en@example.org");
    assert!(en.contains("You get this because you subscribed."), "{en}");
    assert!(en.contains("Unsubscribe or change your lists:"), "{en}");
    let es = text_to("es@example.org");
    assert!(
        es.contains("Recibe este boletín porque se suscribió."),
        "{es}"
    );
    assert!(es.contains("Darse de baja o cambiar sus listas:"), "{es}");
    assert!(!es.contains("You get this"), "{es}");
    let html = mails
        .iter()
        .find(|m| m.rcpt_to == vec!["es@example.org".to_string()])
        .and_then(|m| m.html_body())
        .unwrap_or_default();
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
}

async fn a_mixed_list_gets_each_subscriber_the_version_in_their_language(backend: Backend) {
    use diesel::prelude::*;
    use frontdesk::db::schema::newsletter_subscribers as subs;
    use frontdesk::newsletter::model::EmailAddress;
    use frontdesk::newsletter::store;

    let app = spawn_app_with(backend, |s| {
        s.newsletter.dispatch_interval_ms = 50;
    })
    .await;
    let token = app.staff_token("fundraising").await;
    let staff = app.staff(&token);
    let res = staff
        .post_json(
            "/api/v1/staff/newsletter-lists",
            json!({"slug": "weekly", "name": "Weekly", "lang": "en"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.expect("json")["lang"], "en");
    let res = staff
        .post_json(
            "/api/v1/staff/newsletter-lists",
            json!({"slug": "semanal", "name": "Semanal", "lang": "fr"}),
        )
        .await;
    assert_eq!(res.status(), 422, "a language the site does not offer");

    let emails: Vec<EmailAddress> = ["en@example.org", "es@example.org", "old@example.org"]
        .iter()
        .map(|a| EmailAddress::parse(a).expect("address"))
        .collect();
    app.state
        .db
        .write(move |conn| {
            let weekly = store::find_list(conn, "weekly")?.id;
            store::insert_confirmed_subscribers(conn, &emails, &[weekly], frontdesk::db::now())?;
            diesel::update(subs::table.filter(subs::email.eq("es@example.org")))
                .set(subs::lang.eq(Some("es")))
                .execute(conn)?;
            diesel::update(subs::table.filter(subs::email.eq("en@example.org")))
                .set(subs::lang.eq(Some("en")))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("subscribers");

    let issue = |body: Value| {
        let staff = app.staff(&token);
        async move {
            let res = staff.post_json("/api/v1/staff/newsletters", body).await;
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("json"))
        }
    };
    let (status, original) = issue(
        json!({"subject": "This week", "body_markdown": "Hello **readers**.",
                                           "lists": ["weekly"], "lang": "en"}),
    )
    .await;
    assert_eq!(status, 201, "{original}");
    assert_eq!(original["lang"], "en");
    let id = original["id"].as_str().expect("id").to_string();
    // A translation into the original's own language, or of an unknown issue: 422.
    let (status, problem) = issue(json!({"subject": "Again", "body_markdown": "x",
                                          "lang": "en", "translation_of": id}))
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "translation_of");
    let (status, _) = issue(json!({"subject": "Otra", "body_markdown": "x",
                                    "lang": "es", "translation_of": "no-such-issue"}))
    .await;
    assert_eq!(status, 422);
    let (status, translation) = issue(json!({"subject": "Esta semana", "body_markdown": "Hola, **lectores**.",
                                              "lists": ["weekly"], "lang": "es", "translation_of": id}))
    .await;
    assert_eq!(status, 201, "{translation}");
    assert_eq!(translation["translation_of"], id.as_str());
    let tid = translation["id"].as_str().expect("id").to_string();

    let send = |which: String| {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/staff/newsletters/{which}/send"));
        let token = token.clone();
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("send")
                .status()
                .as_u16()
        }
    };
    assert_eq!(send(tid).await, 409, "a translation is not sent alone");
    assert_eq!(send(id).await, 202);
    let mails = app.smtp.wait_for(3, WAIT).await;
    let mail_to = |to: &str| {
        mails
            .iter()
            .find(|m| m.rcpt_to == vec![to.to_string()])
            .expect("a mail")
    };
    let es = mail_to("es@example.org");
    assert_eq!(es.subject().unwrap_or_default(), "Esta semana");
    let text = es.text_body().expect("text");
    assert!(text.contains("Hola, **lectores**."), "{text}");
    assert!(text.contains("Darse de baja"), "{text}");
    for to in ["en@example.org", "old@example.org"] {
        let m = mail_to(to);
        assert_eq!(m.subject().unwrap_or_default(), "This week", "{to}");
        let text = m.text_body().expect("text");
        assert!(text.contains("Hello **readers**."), "{to}: {text}");
        assert!(text.contains("Unsubscribe or change"), "{to}: {text}");
    }
}
