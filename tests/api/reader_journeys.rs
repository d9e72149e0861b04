//! Every reader journey, walked in a real browser on the demo article page (`/demo/article`),
//! then checked through the staff JSON API, the database and the SMTP sink. SQLite only: the
//! UI does not change with the database, and the features' own tests cover both backends.
//!
//! The journeys are written once, for the [`Words`] of a language: this file walks them in
//! English ([`ENGLISH`]), `reader_journeys_es.rs` in Spanish on `/demo/article?lang=es`.
//!
//! Each test saves a screenshot under `target/screenshots/`. With
//! `FRONTDESK_SCREENSHOTS=1` (or `FRONTDESK_UPDATE_DOCS_SCREENSHOT=1`), the job application
//! test (the one with an open position to show) also refreshes the language's
//! `docs/embedding-demo*.png`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use fantoccini::Locator;
use frontdesk::config::Settings;
use frontdesk::db::schema::{comments, donations, newsletter_subscribers};
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::fake_stripe::{self, FakeStripe};
use crate::helpers::{spawn_app_with, Backend, TestApp};

const WAIT: Duration = Duration::from_secs(15);

/// What the journeys open, type and expect to read in one language. Texts of the reader
/// pages the journeys pass through (the newsletter confirmation, the thanks pages) are
/// checked in English only; in another language they are waited for by their element, and
/// the outcome is checked through the staff API.
pub(crate) struct Words {
    /// The `lang` the widgets send and the database stores.
    pub lang: &'static str,
    /// The demo article's address.
    pub page: &'static str,
    /// The prefix of the screenshots' names.
    pub shots: &'static str,
    /// The docs screenshot this language refreshes.
    pub docs_screenshot: &'static str,
    pub helpful_question: &'static str,
    pub helpful_one_of_one: &'static str,
    pub helpful_none_of_one: &'static str,
    pub helpful_sent: &'static str,
    pub fix_fields: &'static str,
    pub your_reference: &'static str,
    pub check_inbox: &'static str,
    /// Too small an amount, typed with the language's decimal mark.
    pub too_little: &'static str,
    /// The server's bounds message beside the amount (`""`: any message).
    pub amount_bounds: &'static str,
    pub monthly: &'static str,
    /// The donate button for 50 a month with the fee covered (no-break spaces as spaces).
    pub donate_monthly_label: &'static str,
    pub pledge_thanks: &'static str,
    pub checkout_hint: &'static str,
    pub donate_heading: &'static str,
    /// Reader pages' texts (English only, see above; `""` waits for the element).
    pub confirm_page: &'static str,
    pub subscribed_page: &'static str,
    pub thanks_page: &'static str,
}

pub(crate) const ENGLISH: Words = Words {
    lang: "en",
    page: "/demo/article",
    shots: "reader",
    docs_screenshot: "docs/embedding-demo.png",
    helpful_question: "Was this content helpful?",
    helpful_one_of_one: "1 of 1 reader found this helpful",
    helpful_none_of_one: "0 of 1 reader found this helpful",
    helpful_sent: "your answer was sent",
    fix_fields: "Please correct the marked fields",
    your_reference: "Your reference is",
    check_inbox: "Check your inbox",
    too_little: "0.50",
    amount_bounds: "Give between 1.00 USD",
    monthly: "monthly",
    donate_monthly_label: "Donate $51.81 monthly",
    pledge_thanks: "Thank you for your pledge",
    checkout_hint: "secure page",
    donate_heading: "Support InSight Crime",
    confirm_page: "Confirm your subscription",
    subscribed_page: "You're subscribed",
    thanks_page: "Thank you",
};

/// An app whose `public_url` is its real address (links in emails, the demo's canonical
/// article URL and its CORS origin must point at it), on a port picked before it starts.
async fn spawn_demo(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    spawn_app_with(Backend::Sqlite, move |s| {
        s.server.bind = ([127, 0, 0, 1], port).into();
        s.server.public_url = format!("http://127.0.0.1:{port}").parse().expect("url");
        // The time-trap: a reader takes longer than this; the test waits it out (below).
        s.comments.min_form_seconds = 1;
        configure(s);
    })
    .await
}

/// A browser on the demo article in `words`' language, its widgets speaking it, or `None`
/// (skipped) without one.
async fn open_demo(app: &TestApp, words: &Words) -> Option<Browser> {
    let browser = Browser::start().await?;
    browser
        .client
        .goto(&app.url(words.page))
        .await
        .expect("open the demo article");
    browser
        .wait_for_text("h1", "Iran to Train Bolivia Police")
        .await;
    browser
        .wait_in_widget("helpful", ".fd-question", words.helpful_question)
        .await;
    browser
        .wait_in_widget("donate", ".fd-title", words.donate_heading)
        .await;
    Some(browser)
}

/// The `lang` stored with the row `query` finds.
async fn stored_lang(
    app: &TestApp,
    query: impl FnOnce(&mut frontdesk::db::DbConnection) -> QueryResult<Option<String>> + Send + 'static,
) -> Option<String> {
    app.state
        .db
        .run(move |conn| Ok(query(conn)?))
        .await
        .expect("stored lang")
}

async fn staff_json(app: &TestApp, token: &str, path: &str) -> Value {
    let res = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("staff request");
    let status = res.status();
    let body = res.text().await.expect("body");
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("json")
}

fn mail_to<'a>(
    mails: &'a [crate::helpers::smtp_sink::ReceivedMail],
    to: &str,
) -> Vec<&'a crate::helpers::smtp_sink::ReceivedMail> {
    mails
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(to)))
        .collect()
}

/// The `aria-invalid` and `aria-describedby` of a field, and the text of its error.
async fn field_error(browser: &Browser, kind: &str, field_css: &str) -> (String, String) {
    let field = browser.in_widget(kind, field_css).await;
    let invalid = field
        .attr("aria-invalid")
        .await
        .expect("attr")
        .unwrap_or_default();
    let described = field
        .attr("aria-describedby")
        .await
        .expect("attr")
        .expect("aria-describedby names the error");
    let error_id = described
        .split_whitespace()
        .find(|id| id.ends_with("-error"))
        .expect("an error id")
        .to_string();
    let text = browser
        .wait_in_widget(kind, &format!("#{error_id}"), "")
        .await;
    (invalid, text)
}

fn docs_screenshot_wanted() -> bool {
    ["FRONTDESK_SCREENSHOTS", "FRONTDESK_UPDATE_DOCS_SCREENSHOT"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| v == "1"))
}

#[tokio::test]
async fn helpful_vote_then_change_of_mind_stores_one_vote() {
    helpful_vote(&ENGLISH).await;
}

#[tokio::test]
async fn comment_with_a_bad_name_is_corrected_then_sent_and_acknowledged() {
    comment_corrected_then_sent(&ENGLISH).await;
}

#[tokio::test]
async fn newsletter_subscription_is_confirmed_from_the_emailed_link() {
    newsletter_confirmed(&ENGLISH).await;
}

#[tokio::test]
async fn monthly_pledge_with_fees_and_dedication_after_a_too_small_amount() {
    monthly_pledge(&ENGLISH).await;
}

#[tokio::test]
async fn card_gift_goes_through_the_processor_checkout_and_gets_a_receipt() {
    card_gift(&ENGLISH).await;
}

#[tokio::test]
async fn reader_applies_to_the_open_position_with_a_pdf() {
    job_application(&ENGLISH).await;
}

#[tokio::test]
async fn widgets_fit_a_320_pixel_wide_screen() {
    narrow_screen(&ENGLISH).await;
}

/// A vote, a change of mind, then the optional reason and comment. (A vote stores no
/// language: no email follows it.)
pub(crate) async fn helpful_vote(words: &Words) {
    let app = spawn_demo(|_| {}).await;
    let Some(browser) = open_demo(&app, words).await else {
        return;
    };
    // Yes, then the reader changes their mind.
    browser
        .click_in_widget("helpful", "button[data-helpful='true']")
        .await;
    browser
        .wait_in_widget("helpful", ".fd-status", words.helpful_one_of_one)
        .await;
    browser.in_widget("helpful", "form textarea").await; // the follow-up is offered
    browser
        .click_in_widget("helpful", "button[data-helpful='false']")
        .await;
    browser
        .wait_in_widget("helpful", ".fd-status", words.helpful_none_of_one)
        .await;
    let no = browser
        .in_widget("helpful", "button[data-helpful='false']")
        .await;
    assert_eq!(
        no.attr("aria-pressed").await.expect("attr").as_deref(),
        Some("true")
    );

    // The optional reason and comment.
    browser
        .in_widget("helpful", "select[data-loaded='true']")
        .await
        .select_by_value("unclear")
        .await
        .expect("choose a reason");
    browser
        .fill_in_widget("helpful", "form textarea", "The second paragraph lost me.")
        .await;
    browser
        .click_in_widget("helpful", "form button[type='submit']")
        .await;
    browser
        .wait_in_widget("helpful", ".fd-status", words.helpful_sent)
        .await;
    browser
        .screenshot(&format!("{}-helpful", words.shots))
        .await;

    let editor = app.staff_token("editor").await;
    let report = staff_json(&app, &editor, "/api/v1/staff/feedback?min_votes=1").await;
    let items = report["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{report}");
    assert_eq!(items[0]["article_url"], app.url("/demo/article"));
    assert_eq!(
        (
            &items[0]["helpful"],
            &items[0]["not_helpful"],
            &items[0]["total"]
        ),
        (&json!(0), &json!(1), &json!(1)),
        "one vote, changed to not helpful: {report}"
    );
    assert_eq!(items[0]["reasons"], json!({"unclear": 1}));
    let queue = staff_json(&app, &editor, "/api/v1/staff/feedback/comments").await;
    assert_eq!(
        queue["items"][0]["comment"], "The second paragraph lost me.",
        "{queue}"
    );
    browser.client.clone().close().await.expect("close");
}

pub(crate) async fn comment_corrected_then_sent(words: &Words) {
    let app = spawn_demo(|_| {}).await;
    let Some(browser) = open_demo(&app, words).await else {
        return;
    };
    browser
        .click_in_widget("comment", "button[aria-expanded='false']")
        .await;
    let shown = Instant::now();

    // A name holding a web address is refused beside the name field.
    browser
        .fill_in_widget(
            "comment",
            "input[name='name']",
            "Ana from https://spam.example",
        )
        .await;
    browser
        .fill_in_widget("comment", "input[name='email']", "ana.reader@example.org")
        .await;
    browser
        .fill_in_widget(
            "comment",
            "textarea",
            "Good piece. Do you know when the training starts?",
        )
        .await;
    browser
        .click_in_widget("comment", "form button[type='submit']")
        .await;
    browser
        .wait_in_widget("comment", ".fd-status", words.fix_fields)
        .await;
    let (invalid, message) = field_error(&browser, "comment", "input[name='name']").await;
    assert_eq!(invalid, "true");
    assert!(!message.is_empty(), "the server's message is shown");
    browser
        .screenshot(&format!("{}-comment-error", words.shots))
        .await;

    // Corrected, after a reader's pause (the time-trap wants at least a second).
    browser
        .fill_in_widget("comment", "input[name='name']", "Ana Reader")
        .await;
    if let Some(rest) = Duration::from_millis(1_100).checked_sub(shown.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    browser
        .click_in_widget("comment", "form button[type='submit']")
        .await;
    let done = browser
        .wait_in_widget("comment", ".fd-status", words.your_reference)
        .await;
    let reference = done
        .trim_end_matches('.')
        .rsplit(' ')
        .next()
        .expect("reference")
        .to_string();
    browser
        .screenshot(&format!("{}-comment", words.shots))
        .await;

    let mails = app.smtp.wait_for(2, WAIT).await;
    let staff = mail_to(&mails, &app.settings.mail.staff_inbox);
    assert_eq!(staff.len(), 1, "the staff inbox is told");
    assert!(staff[0]
        .header("Reply-To")
        .is_some_and(|r| r.contains("ana.reader@example.org")));
    let ack = mail_to(&mails, "ana.reader@example.org");
    assert_eq!(ack.len(), 1, "the reader is acknowledged");
    assert!(ack[0].text_body().expect("text").contains(&reference));

    let editor = app.staff_token("editor").await;
    let comments = staff_json(&app, &editor, "/api/v1/staff/comments").await;
    let item = &comments["items"][0];
    assert_eq!(item["reference"], reference.as_str(), "{comments}");
    assert_eq!(item["status"], "new", "not taken for spam: {comments}");
    assert_eq!(item["article_url"], app.url("/demo/article"));
    let lang = stored_lang(&app, |conn| {
        comments::table.select(comments::lang).first(conn)
    })
    .await;
    assert_eq!(
        lang.as_deref(),
        Some(words.lang),
        "the comment keeps its language"
    );
    browser.client.clone().close().await.expect("close");
}

pub(crate) async fn newsletter_confirmed(words: &Words) {
    let app = spawn_demo(|_| {}).await;
    let Some(browser) = open_demo(&app, words).await else {
        return;
    };
    browser
        .fill_in_widget("newsletter", "input[name='email']", "not an address")
        .await;
    browser
        .click_in_widget("newsletter", "button[type='submit']")
        .await;
    let (invalid, _) = field_error(&browser, "newsletter", "input[name='email']").await;
    assert_eq!(invalid, "true", "the address is marked invalid");

    browser
        .fill_in_widget(
            "newsletter",
            "input[name='email']",
            "nora.reader@example.org",
        )
        .await;
    browser
        .click_in_widget("newsletter", "button[type='submit']")
        .await;
    browser
        .wait_in_widget("newsletter", ".fd-done", words.check_inbox)
        .await;
    browser
        .screenshot(&format!("{}-newsletter", words.shots))
        .await;
    let lang = stored_lang(&app, |conn| {
        newsletter_subscribers::table
            .filter(newsletter_subscribers::email.eq("nora.reader@example.org"))
            .select(newsletter_subscribers::lang)
            .first(conn)
    })
    .await;
    assert_eq!(
        lang.as_deref(),
        Some(words.lang),
        "the subscriber's language"
    );

    let mails = app.smtp.wait_for(1, WAIT).await;
    let confirm = mail_to(&mails, "nora.reader@example.org");
    assert_eq!(confirm.len(), 1);
    let text = confirm[0].text_body().expect("text body");
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/newsletter/confirm?token="))
        .expect("a confirmation link")
        .trim_end_matches(['.', ')', '>'])
        .to_string();
    assert!(link.starts_with(&app.address), "{link}");

    browser.client.goto(&link).await.expect("open the link");
    browser.wait_for_text("h1", words.confirm_page).await;
    browser.click("main form button[type='submit']").await;
    browser.wait_for_text("h1", words.subscribed_page).await;

    // The confirmation page's text is checked in English only: wait for the answer.
    let fundraiser = app.staff_token("fundraising").await;
    let deadline = Instant::now() + WAIT;
    loop {
        let subscribers = staff_json(
            &app,
            &fundraiser,
            "/api/v1/staff/subscribers?email=nora.reader@example.org",
        )
        .await;
        if subscribers["items"][0]["status"] == "confirmed" {
            break;
        }
        assert!(Instant::now() < deadline, "never confirmed: {subscribers}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.client.clone().close().await.expect("close");
}

pub(crate) async fn monthly_pledge(words: &Words) {
    let app = spawn_demo(|_| {}).await;
    let Some(browser) = open_demo(&app, words).await else {
        return;
    };
    // Too little: the server's bounds come back beside the amount.
    browser
        .fill_in_widget("donate", "input[name='custom_amount']", words.too_little)
        .await;
    browser
        .fill_in_widget("donate", "input[name='email']", "dora.donor@example.org")
        .await;
    browser
        .click_in_widget("donate", "form > button[type='submit']")
        .await;
    let bounds = browser
        .wait_in_widget(
            "donate",
            "fieldset.fd-amount > .fd-error",
            words.amount_bounds,
        )
        .await;
    assert!(!bounds.is_empty(), "the server's bounds are shown");
    let amount = browser.in_widget("donate", "fieldset.fd-amount").await;
    assert_eq!(
        amount.attr("aria-invalid").await.expect("attr").as_deref(),
        Some("true")
    );
    browser
        .screenshot(&format!("{}-donate-error", words.shots))
        .await;

    // Monthly, 50 dollars, covering the fee, in memory of someone.
    browser
        .click_in_widget("donate", ".fd-segmented label:last-of-type")
        .await;
    browser
        .click_in_widget("donate", ".fd-preset[data-amount='5000']")
        .await;
    browser
        .click_in_widget("donate", "input[name='cover_fees']")
        .await;
    browser
        .click_in_widget("donate", "input[name='dedicate']")
        .await;
    browser
        .in_widget("donate", "select[name='dedication.kind']")
        .await
        .select_by_value("memory")
        .await
        .expect("choose memory");
    browser
        .fill_in_widget("donate", "input[name='dedication.name']", "Rosa Knott")
        .await;
    browser
        .fill_in_widget("donate", "input[name='name']", "Dora Donor")
        .await;
    let label = browser
        .wait_in_widget("donate", "form > button[type='submit']", words.monthly)
        .await;
    assert_eq!(
        label.replace('\u{a0}', " "),
        words.donate_monthly_label,
        "50 + fee gross-up"
    );
    browser
        .click_in_widget("donate", "form > button[type='submit']")
        .await;
    browser
        .wait_in_widget("donate", ".fd-done", words.pledge_thanks)
        .await;
    browser
        .screenshot(&format!("{}-donate-pledge", words.shots))
        .await;

    let mails = app.smtp.wait_for(1, WAIT).await;
    let pledge = mail_to(&mails, "dora.donor@example.org");
    assert_eq!(pledge.len(), 1, "the pledge email arrives");
    let fundraiser = app.staff_token("fundraising").await;
    let list = staff_json(
        &app,
        &fundraiser,
        "/api/v1/staff/donations?email=dora.donor@example.org",
    )
    .await;
    let gift = &list["items"][0];
    assert_eq!(gift["status"], "pledged", "{list}");
    assert_eq!(gift["frequency"], "monthly");
    assert_eq!(gift["amount_minor"], 5000);
    assert_eq!(gift["total_minor"], 5181);
    assert_eq!(gift["dedication_kind"], "memory");
    assert_eq!(gift["dedication_name"], "Rosa Knott");
    assert_eq!(gift["campaign"], "article-appeal");
    assert_eq!(gift["source_url"], app.url("/demo/article"));
    let lang = stored_lang(&app, |conn| {
        donations::table.select(donations::lang).first(conn)
    })
    .await;
    assert_eq!(lang.as_deref(), Some(words.lang), "the donor's language");
    browser.client.clone().close().await.expect("close");
}

pub(crate) async fn card_gift(words: &Words) {
    let stripe = FakeStripe::start_hosted().await;
    let app = spawn_demo(|s| stripe.configure(s)).await;
    let Some(browser) = open_demo(&app, words).await else {
        return;
    };
    browser
        .wait_in_widget("donate", ".fd-form > .fd-hint", words.checkout_hint)
        .await;
    browser
        .click_in_widget("donate", ".fd-preset[data-amount='2500']")
        .await;
    browser
        .fill_in_widget("donate", "input[name='email']", "carla.card@example.org")
        .await;
    browser
        .click_in_widget("donate", "form > button[type='submit']")
        .await;

    // Sent to the processor's checkout page, which sends the donor back after paying.
    browser.wait_for_text("#amount", "Pay 2500 USD").await;
    assert!(browser
        .client
        .current_url()
        .await
        .expect("url")
        .as_str()
        .starts_with(&stripe.url));
    browser.click("#pay").await;
    browser.wait_for_path("/donate/thanks").await;
    browser.wait_for_text("h1", words.thanks_page).await;
    browser
        .screenshot(&format!("{}-donate-checkout", words.shots))
        .await;

    // The processor's webhook says the session is paid; one receipt follows.
    let donation_id = stripe.requests_to("/v1/checkout/sessions")[0]
        .get("metadata[donation_id]")
        .expect("donation id")
        .to_string();
    let session = stripe.session_for(&donation_id);
    assert!(stripe.paid_on_page(&session.id));
    let event = stripe.session_event("checkout.session.completed", &session, "paid");
    assert_eq!(fake_stripe::deliver(&app, &event).await.status(), 200);
    let mails = app.smtp.wait_for(1, WAIT).await;
    let receipt = mail_to(&mails, "carla.card@example.org");
    assert_eq!(receipt.len(), 1, "one receipt");
    let fundraiser = app.staff_token("fundraising").await;
    let gift = staff_json(
        &app,
        &fundraiser,
        &format!("/api/v1/staff/donations/{donation_id}"),
    )
    .await;
    assert_eq!(gift["status"], "paid", "{gift}");
    let lang = stored_lang(&app, move |conn| {
        donations::table
            .find(donation_id)
            .select(donations::lang)
            .first(conn)
    })
    .await;
    assert_eq!(lang.as_deref(), Some(words.lang), "the donor's language");
    browser.client.clone().close().await.expect("close");
}

pub(crate) async fn job_application(words: &Words) {
    let app = spawn_demo(|_| {}).await;
    let hiring = app.staff_token("admin").await;
    let contact = app.staff_account("hiring").await.email;
    let res = app
        .client
        .post(app.url("/api/v1/staff/jobs"))
        .bearer_auth(&hiring)
        .json(&json!({
            "slug": "social-media-strategist",
            "title": "Social Media and Engagement Strategist",
            "summary": "Grow our audiences and our reputation with them.",
            "description_markdown": "## The role\n\nYou will run our social channels.",
            "location": "Medellín",
            "remote": "remote",
            "employment_type": "full_time",
            "hiring_contacts": [contact],
            "status": "open",
        }))
        .send()
        .await
        .expect("create posting");
    assert_eq!(
        res.status(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );

    let Some(browser) = open_demo(&app, words).await else {
        return;
    };
    if docs_screenshot_wanted() {
        for kind in ["helpful", "donate", "comment", "newsletter", "jobs"] {
            browser.widget(kind).await;
        }
        browser.in_widget("jobs", "a.fd-job-title").await;
        browser
            .client
            .set_window_size(1280, 2400)
            .await
            .expect("resize");
        let png = browser.client.screenshot().await.expect("screenshot");
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(words.docs_screenshot);
        std::fs::write(&path, png).expect("write docs screenshot");
        browser
            .client
            .set_window_size(1280, 900)
            .await
            .expect("resize");
    }

    let link = browser.in_widget("jobs", "a.fd-job-title").await;
    assert_eq!(
        link.text().await.expect("text"),
        "Social Media and Engagement Strategist"
    );
    link.click().await.expect("follow the link");
    browser.wait_for_path("/jobs/social-media-strategist").await;

    let dir = tempfile::tempdir().expect("dir");
    let cv = dir.path().join("Pat Applicant CV.pdf");
    std::fs::write(
        &cv,
        b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n",
    )
    .expect("write pdf");
    browser.fill("#f-name", "Pat Applicant").await;
    browser.fill("#f-email", "pat.applicant@example.org").await;
    browser
        .client
        .find(Locator::Css("#f-cv"))
        .await
        .expect("file field")
        .send_keys(&cv.display().to_string())
        .await
        .expect("choose the file");
    browser.click("#f-consent input[name='consent']").await;
    browser.click("main form button[type='submit']").await;
    let thanked = browser.wait_for_text("h1", "Pat Applicant").await;
    assert!(thanked.contains(words.thanks_page), "{thanked}");
    browser
        .screenshot(&format!("{}-job-application", words.shots))
        .await;

    let mails = app.smtp.wait_for(2, WAIT).await;
    assert_eq!(
        mail_to(&mails, "pat.applicant@example.org").len(),
        1,
        "the applicant's acknowledgement arrives"
    );
    assert_eq!(mail_to(&mails, &contact).len(), 1);
    let applications = staff_json(
        &app,
        &hiring,
        "/api/v1/staff/jobs/social-media-strategist/applications",
    )
    .await;
    assert_eq!(applications["items"].as_array().map(Vec::len), Some(1));
    browser.client.clone().close().await.expect("close");
}

pub(crate) async fn narrow_screen(words: &Words) {
    let app = spawn_demo(|_| {}).await;
    let Some(browser) = open_demo(&app, words).await else {
        return;
    };
    browser
        .client
        .set_window_size(320, 900)
        .await
        .expect("resize");
    for kind in ["helpful", "donate", "comment", "newsletter", "jobs"] {
        browser.widget(kind).await;
    }
    let widths = browser
        .client
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth,
              ...[...document.querySelectorAll('[data-frontdesk]')].map(e => e.getBoundingClientRect().right)]",
            vec![],
        )
        .await
        .expect("measure");
    let widths: Vec<f64> = serde_json::from_value(widths).expect("numbers");
    let viewport = widths[0];
    assert!(viewport <= 400.0, "the window is narrow: {widths:?}");
    assert!(
        widths[1] <= viewport,
        "nothing scrolls sideways: {widths:?}"
    );
    assert!(
        widths[2..].iter().all(|right| *right <= viewport),
        "every widget fits: {widths:?}"
    );
    browser
        .client
        .execute(
            "document.querySelector('[data-frontdesk=donate]').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    browser.screenshot(&format!("{}-320px", words.shots)).await;
    browser.client.clone().close().await.expect("close");
}
