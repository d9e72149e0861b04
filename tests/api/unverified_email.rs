//! Emails to an address nobody verified carry nothing a reader wrote: whoever types someone
//! else's address into a form cannot make the newsroom mail them a text of their choosing.

use std::time::Duration;

use chrono::Utc;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::smtp_sink::ReceivedMail;
use crate::helpers::{spawn_app, Backend};
use crate::jobs::{applied_id, apply, create_open, pdf};

both_backends!(
    comment_acknowledgement_and_reply_carry_no_reader_text,
    job_application_acknowledgement_carries_no_reader_text,
    donation_pledge_carries_no_reader_text,
);

const WAIT: Duration = Duration::from_secs(15);

/// A marker of letters only (names refuse some characters), unique to the test.
fn marker() -> String {
    let letters: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .take(12)
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from(b'g' + d as u8),
            None => c,
        })
        .collect();
    format!("mk{letters}")
}

/// Every part of a received email, headers and decoded bodies, lower-cased.
fn whole(mail: &ReceivedMail) -> String {
    format!(
        "{}\n{}\n{}\n{}",
        String::from_utf8_lossy(&mail.raw),
        mail.subject().unwrap_or_default(),
        mail.text_body().unwrap_or_default(),
        mail.html_body().unwrap_or_default(),
    )
    .to_lowercase()
}

fn to<'a>(mails: &'a [ReceivedMail], address: &str) -> Vec<&'a ReceivedMail> {
    mails.iter().filter(|m| m.rcpt_to == [address]).collect()
}

fn assert_no_marker(mail: &ReceivedMail, marker: &str) {
    let all = whole(mail);
    assert!(
        !all.contains(marker),
        "reader text reached an unverified address:\n{all}"
    );
}

async fn comment_acknowledgement_and_reply_carry_no_reader_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = marker();
    let victim = "victim@example.org";
    let token = frontdesk::comments::spam::issue_token(
        &app.state.keys,
        Utc::now() - chrono::Duration::seconds(10),
    );
    let res = app
        .client
        .post(app.url("/api/v1/comments"))
        .json(&json!({
            "name": format!("Security Team {m}"),
            "email": victim,
            "subject": format!("Account notice {m}"),
            "message": format!("Your account is locked {m}: sign in at https://{m}.evil.test/login"),
            "article_url": format!("http://localhost/news/{m}"),
            "website": "",
            "form_token": token,
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 202);
    let reference = res.json::<Value>().await.expect("json")["reference"]
        .as_str()
        .expect("reference")
        .to_string();

    let mails = app.smtp.wait_for(2, WAIT).await;
    let staff = to(&mails, &app.settings.mail.staff_inbox);
    assert!(whole(staff[0]).contains(&m), "staff still get it all");
    let ack = to(&mails, victim);
    assert_eq!(ack.len(), 1);
    assert!(ack[0].text_body().expect("text").contains(&reference));
    assert_no_marker(ack[0], &m);

    // A staff reply goes to the same unverified address: the staff text only.
    let editor = app.staff_token("editor").await;
    let list: Value = app
        .client
        .get(app.url("/api/v1/staff/comments"))
        .bearer_auth(&editor)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let id = list["items"][0]["id"].as_str().expect("id").to_string();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/staff/comments/{id}/reply")))
        .bearer_auth(&editor)
        .json(&json!({"message": "Thank you, we looked into it."}))
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), 201);
    let mails = app.smtp.wait_for(3, WAIT).await;
    let to_victim = to(&mails, victim);
    assert_eq!(to_victim.len(), 2);
    let reply = to_victim
        .iter()
        .find(|m| whole(m).contains("we looked into it"))
        .expect("the reply");
    assert_no_marker(reply, &m);
}

async fn job_application_acknowledgement_carries_no_reader_text(backend: Backend) {
    let app = spawn_app(backend).await;
    create_open(&app, "data-reporter").await;
    let m = marker();
    let victim = "victim@example.org";
    let form = Form::new()
        .text("name", format!("Payroll {m}"))
        .text("email", victim)
        .text("consent", "true")
        .text("phone", "+44 20 7946 0000")
        .text(
            "cover_letter",
            format!("Confirm your salary details {m} at the link below."),
        )
        .text("links", format!("https://{m}.evil.test/payroll"))
        .part(
            "cv",
            Part::bytes(pdf())
                .file_name(format!("{m}.pdf"))
                .mime_str("application/pdf")
                .expect("mime"),
        );

    let id = applied_id(apply(&app, "data-reporter", form).await).await;

    // The acknowledgement and the two hiring contacts' notifications.
    let mails = app.smtp.wait_for(3, WAIT).await;
    let ack = to(&mails, victim);
    assert_eq!(ack.len(), 1);
    assert!(ack[0].text_body().expect("text").contains(&id));
    assert_no_marker(ack[0], &m);
}

async fn donation_pledge_carries_no_reader_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = marker();
    let victim = "victim@example.org";

    let res = app
        .client
        .post(app.url("/api/v1/donations"))
        .json(&json!({
            "amount_minor": 2500, "currency": "USD", "frequency": "one_time",
            "email": victim, "name": format!("Billing {m}"),
            "dedication": {"kind": "memory", "name": format!("Invoice {m}")},
            "message": format!("Pay your invoice {m} at https://{m}.evil.test/"),
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();

    let mails = app.smtp.wait_for(1, WAIT).await;
    let pledge = to(&mails, victim);
    assert_eq!(pledge.len(), 1);
    let text = pledge[0].text_body().expect("text");
    assert!(
        text.contains(&id) && text.contains("in memory of"),
        "{text}"
    );
    assert_no_marker(pledge[0], &m);
}
