//! Passkeys in a real browser: Chromium with a WebDriver virtual authenticator (CTAP2, resident
//! keys, user verification) registers a passkey on the two-factor page, then signs in with the
//! password and the passkey, and with the passkey alone.
//!
//! WebAuthn accepts a host name as relying party, not an IP address: the app's `public_url`
//! is `http://localhost:<port>` (a secure context, as every `localhost` origin is) and the
//! browser opens the pages there.

use std::net::TcpListener;

use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{spawn_app_with, Backend, TestApp};

/// `POST /session/{id}/webauthn/authenticator` (WebAuthn spec, "Add Virtual Authenticator").
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/authenticator",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        });
        (reqwest::Method::POST, Some(body.to_string()))
    }
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    app.state
        .db
        .run(|conn| Ok(frontdesk::staff::audit::list(conn, None, None, 500)?))
        .await
        .expect("audit")
        .into_iter()
        .map(|e| (e.action, e.details.to_string()))
        .collect()
}

async fn sign_out(browser: &Browser) {
    browser.click(".fd-me button").await;
    browser.wait_for_text(".fd-flash", "signed out").await;
    browser.wait_for_path("/staff/login").await;
}

#[tokio::test]
async fn a_passkey_is_registered_then_signs_in_after_the_password_and_alone() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let app = spawn_app_with(Backend::Sqlite, move |s| {
        s.server.bind = ([127, 0, 0, 1], port).into();
        s.server.public_url = format!("http://localhost:{port}").parse().expect("url");
        s.limits.login_per_minute = 1000;
    })
    .await;
    let login = app.staff_account("editor").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let site = format!("http://localhost:{port}");
    browser
        .client
        .issue_cmd(AddVirtualAuthenticator)
        .await
        .expect("add a virtual authenticator");

    // Sign in with the password and add a passkey on the two-factor page.
    browser
        .client
        .goto(&format!("{site}/staff/login"))
        .await
        .expect("open");
    browser.fill("#email", &login.email).await;
    browser.fill("#password", &login.password).await;
    browser.click("#sign-in").await;
    browser.wait_for_text("h1", "Dashboard").await;
    browser
        .client
        .goto(&format!("{site}/staff/account/two-factor"))
        .await
        .expect("open");
    browser.wait_for_text("h1", "Two-factor sign-in").await;
    browser.fill("#passkey-name", "Virtual laptop").await;
    browser.click("#passkey-add").await;
    browser
        .wait_for_text(".fd-flash", "The passkey was added.")
        .await;
    browser.wait_for_text("#passkeys", "Virtual laptop").await;
    app.drain_outbox().await;
    assert!(
        app.smtp
            .received()
            .iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r == &login.email))
            .filter_map(|m| m.subject())
            .any(|s| s.contains("a passkey was added")),
        "the owner is told"
    );
    sign_out(&browser).await;

    // The password, then the passkey as the second step.
    browser.fill("#email", &login.email).await;
    browser.fill("#password", &login.password).await;
    browser.click("#sign-in").await;
    browser.wait_for_path("/staff/login/second-factor").await;
    browser.click("#passkey-second-step").await;
    browser.wait_for_text("h1", "Dashboard").await;
    browser.wait_for_path("/staff/").await;
    sign_out(&browser).await;

    // The passkey alone.
    browser.click("#passkey-sign-in").await;
    browser.wait_for_text("h1", "Dashboard").await;
    let nav = browser.wait_for_text(".fd-me", "Test editor").await;
    assert!(nav.contains("editor"), "{nav}");
    let shot = browser.screenshot("staff-passkey-sign-in").await;
    assert!(std::fs::metadata(&shot).expect("screenshot").len() > 1000);
    browser.client.clone().close().await.expect("close");

    let actions = audit_actions(&app).await;
    assert!(actions.iter().any(|(a, _)| a == "staff.passkey_added"));
    assert!(
        actions
            .iter()
            .any(|(a, d)| a == "staff.signed_in" && d.contains("\"passkey\"")),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|(a, d)| a == "staff.signed_in" && d.contains("passkey_without_password")),
        "{actions:?}"
    );
}
