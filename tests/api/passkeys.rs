//! Passkeys through the real server, without a browser: who may reach each ceremony step,
//! CSRF, a ceremony used once and expiring (the app's clock moved forward), a passkey counting
//! as a second factor, and an admin's reset removing passkeys. The ceremonies with a real
//! authenticator run in `passkeys_browser` (Chromium's virtual authenticator).

use chrono::TimeDelta;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{csrf_from, spawn_app_with, Backend, TestApp};

both_backends!(
    the_account_steps_refuse_anonymous_visitors_and_requests_without_the_csrf_token,
    a_registration_ceremony_is_single_use_and_expires,
    a_sign_in_ceremony_is_single_use_expires_and_needs_the_form_token,
    a_passkey_is_a_second_factor_that_an_admin_reset_removes,
    removing_a_passkey_asks_for_a_recent_check_and_is_audited,
);

async fn spawn(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.limits.login_per_minute = 1000;
        s.server.public_url = "http://localhost:8080".parse().expect("url");
    })
    .await
}

/// A credential of the right shape that no authenticator made.
fn forged_registration() -> Value {
    json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" }
    })
}

fn forged_assertion() -> Value {
    json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {
            "authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA",
            "userHandle": "AAAA"
        }
    })
}

async fn post_json(app: &TestApp, path: &str, csrf: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .expect("post")
}

async fn user_id(app: &TestApp, email: &str) -> String {
    let email = email.to_string();
    app.state
        .db
        .run(move |conn| Ok(frontdesk::staff::store::find_user_by_email(conn, &email)?))
        .await
        .expect("lookup")
        .expect("account")
        .id
}

/// Stores a passkey row for the account directly (what a finished registration stores).
async fn give_passkey(app: &TestApp, user_id: &str, name: &str) -> String {
    let (user_id, name) = (user_id.to_string(), name.to_string());
    app.state
        .db
        .write(move |conn| {
            let credential = format!("cred-{}", uuid::Uuid::new_v4().simple());
            let new = frontdesk::staff::two_factor::passkeys::store::NewPasskey {
                user_id: &user_id,
                credential_id: &credential,
                passkey: "{}",
                sign_count: 0,
                name: &name,
            };
            Ok(frontdesk::staff::two_factor::passkeys::store::insert(
                conn,
                &new,
                frontdesk::db::now(),
            )?)
        })
        .await
        .expect("insert passkey")
}

async fn passkey_count(app: &TestApp, user_id: &str) -> i64 {
    let id = user_id.to_string();
    app.state
        .db
        .run(move |conn| {
            Ok(frontdesk::staff::two_factor::passkeys::store::count(
                conn, &id,
            )?)
        })
        .await
        .expect("count")
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.state
        .db
        .run(|conn| Ok(frontdesk::staff::audit::list(conn, None, None, 500)?))
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect()
}

async fn the_account_steps_refuse_anonymous_visitors_and_requests_without_the_csrf_token(
    backend: Backend,
) {
    let app = spawn(backend).await;
    for path in [
        "/staff/account/passkeys/register/start",
        "/staff/account/passkeys/register/finish",
        "/staff/account/passkeys/confirm/start",
        "/staff/account/passkeys/confirm/finish",
    ] {
        let res = post_json(&app, path, "", json!({})).await;
        assert_eq!(
            res.status(),
            303,
            "{path}: anonymous visitors sign in first"
        );
        let location = res.headers()["location"].to_str().expect("location");
        assert!(location.starts_with("/staff/login?next="), "{location}");
    }
    // An API token is no browser session: passkeys are not managed with one.
    let token = app.staff_token("admin").await;
    let res = app
        .client
        .post(app.url("/staff/account/passkeys/register/start"))
        .bearer_auth(&token)
        .json(&json!({ "name": "Laptop" }))
        .send()
        .await
        .expect("post");
    assert_eq!(
        res.status(),
        409,
        "passkeys are managed in a browser session"
    );

    let csrf = app.signed_in("hiring").await;
    let res = post_json(
        &app,
        "/staff/account/passkeys/register/start",
        "wrong",
        json!({ "name": "Laptop" }),
    )
    .await;
    assert_eq!(res.status(), 403, "a wrong CSRF token is refused");
    let res = post_json(
        &app,
        "/staff/account/passkeys/register/start",
        &csrf,
        json!({ "name": "  " }),
    )
    .await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["errors"][0]["field"], "name", "{problem}");

    let res = post_json(
        &app,
        "/staff/account/passkeys/confirm/start",
        &csrf,
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 409, "nothing to confirm without a passkey");
}

async fn a_registration_ceremony_is_single_use_and_expires(backend: Backend) {
    let app = spawn(backend).await;
    let csrf = app.signed_in("editor").await;
    let start = || async {
        let res = post_json(
            &app,
            "/staff/account/passkeys/register/start",
            &csrf,
            json!({ "name": "Work laptop" }),
        )
        .await;
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.expect("started")
    };
    let started = start().await;
    let options = &started["options"]["publicKey"];
    assert_eq!(
        options["rp"]["id"], "localhost",
        "the RP id is public_url's host"
    );
    assert_eq!(
        options["authenticatorSelection"]["residentKey"], "required",
        "a discoverable credential, to sign in without a password"
    );
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "required"
    );
    let ceremony = started["ceremony"].as_str().expect("ceremony");

    // A forged answer is refused and uses the ceremony up.
    let finish = |ceremony: String| {
        let csrf = csrf.clone();
        let app = &app;
        async move {
            post_json(
                app,
                "/staff/account/passkeys/register/finish",
                &csrf,
                json!({ "ceremony": ceremony, "credential": forged_registration() }),
            )
            .await
        }
    };
    let res = finish(ceremony.to_string()).await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.expect("problem");
    assert_eq!(problem["errors"][0]["field"], "credential", "{problem}");
    let res = finish(ceremony.to_string()).await;
    assert_eq!(res.status(), 409, "a ceremony is used once");

    // One left longer than five minutes has expired.
    let started = start().await;
    app.clock.advance(TimeDelta::minutes(6));
    let res = finish(started["ceremony"].as_str().expect("ceremony").to_string()).await;
    assert_eq!(res.status(), 409, "an expired ceremony is refused");
}

async fn a_sign_in_ceremony_is_single_use_expires_and_needs_the_form_token(backend: Backend) {
    let app = spawn(backend).await;
    let page = app
        .get("/staff/login")
        .await
        .text()
        .await
        .expect("login page");
    assert!(
        page.contains("/assets/staff-passkeys.js"),
        "the script is linked"
    );
    assert!(page.contains("id=\"passkey-sign-in\""));
    let form_token = csrf_from(&page);

    let res = post_json(&app, "/staff/login/passkey/start", "wrong", json!({})).await;
    assert_eq!(res.status(), 403, "the sign-in form's token is required");
    let res = post_json(&app, "/staff/login/passkey/start", &form_token, json!({})).await;
    assert_eq!(res.status(), 200);
    let started: Value = res.json().await.expect("started");
    assert!(started["options"].get("mediation").is_none(), "{started}");
    assert!(started["options"]["publicKey"]["challenge"].is_string());
    let ceremony = started["ceremony"].as_str().expect("ceremony").to_string();
    let answer = json!({ "ceremony": ceremony, "credential": forged_assertion() });

    let res = post_json(
        &app,
        "/staff/login/passkey/finish",
        &form_token,
        answer.clone(),
    )
    .await;
    assert_eq!(res.status(), 401, "a passkey of no account signs nobody in");
    let res = post_json(&app, "/staff/login/passkey/finish", &form_token, answer).await;
    assert_eq!(res.status(), 409, "the ceremony was used");

    let res = post_json(&app, "/staff/login/passkey/start", &form_token, json!({})).await;
    let started: Value = res.json().await.expect("started");
    app.clock.advance(TimeDelta::minutes(6));
    let answer = json!({ "ceremony": started["ceremony"], "credential": forged_assertion() });
    let res = post_json(&app, "/staff/login/passkey/finish", &form_token, answer).await;
    assert_eq!(res.status(), 409, "the ceremony expired");

    // The second step needs a pending sign-in in this browser.
    let res = post_json(
        &app,
        "/staff/login/second-factor/passkey/start",
        &form_token,
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 409);
    let res = app.get("/staff/account").await;
    assert_eq!(res.status(), 303, "still signed out");
}

async fn a_passkey_is_a_second_factor_that_an_admin_reset_removes(backend: Backend) {
    let app = spawn(backend).await;
    let colleague = app.staff_account("editor").await;
    let id = user_id(&app, &colleague.email).await;
    give_passkey(&app, &id, "Phone").await;

    // The password alone leads to the second step, which offers the passkey (the ceremonies
    // themselves run with a real authenticator in `passkeys_browser`).
    let res = app.sign_in(&colleague.email, &colleague.password).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/staff/login/second-factor");
    let page = app
        .get("/staff/login/second-factor")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("id=\"passkey-second-step\""));
    // An admin resets the colleague's second factor: the passkey goes.
    let admin = app.signed_in("admin").await;
    let res = app
        .client
        .post(app.url(&format!("/staff/accounts/{id}/two-factor/reset")))
        .form(&[("csrf_token", admin.as_str())])
        .send()
        .await
        .expect("reset");
    assert_eq!(res.status(), 303);
    assert_eq!(passkey_count(&app, &id).await, 0);
    assert!(audit_actions(&app)
        .await
        .contains(&"staff.two_factor_reset".to_string()));
    let res = app.sign_in(&colleague.email, &colleague.password).await;
    assert_eq!(
        res.headers()["location"],
        "/staff/",
        "the password alone again"
    );
}

async fn removing_a_passkey_asks_for_a_recent_check_and_is_audited(backend: Backend) {
    let app = spawn(backend).await;
    let login = app.staff_account("fundraising").await;
    let id = user_id(&app, &login.email).await;
    let res = app.sign_in(&login.email, &login.password).await;
    assert_eq!(res.status(), 303);
    let csrf = csrf_from(&app.get("/staff/account").await.text().await.expect("page"));
    let passkey = give_passkey(&app, &id, "Old laptop").await;

    let page = app
        .get("/staff/account/two-factor")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("Old laptop"), "listed");

    // Rename it (audited).
    let res = app
        .client
        .post(app.url(&format!("/staff/account/passkeys/{passkey}/rename")))
        .form(&[("csrf_token", csrf.as_str()), ("name", "Home laptop")])
        .send()
        .await
        .expect("rename");
    assert_eq!(res.status(), 303);

    // Without a recent check (no code, no passkey confirmed in this session) nothing goes.
    let res = app
        .client
        .post(app.url(&format!("/staff/account/passkeys/{passkey}/remove")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("remove");
    assert_eq!(res.status(), 422);
    assert_eq!(passkey_count(&app, &id).await, 1);

    // Nor an API token.
    let res = app
        .client
        .post(app.url("/staff/account/tokens"))
        .form(&[("csrf_token", csrf.as_str()), ("label", "script")])
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 422);

    // Someone else's passkey is not found.
    let other = app.staff_account("editor").await;
    let other_id = user_id(&app, &other.email).await;
    let theirs = give_passkey(&app, &other_id, "Theirs").await;
    let res = app
        .client
        .post(app.url(&format!("/staff/account/passkeys/{theirs}/rename")))
        .form(&[("csrf_token", csrf.as_str()), ("name", "Mine now")])
        .send()
        .await
        .expect("rename");
    assert_eq!(res.status(), 404);

    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"staff.passkey_renamed".to_string()));
    let page = app
        .get("/staff/account/two-factor")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("Home laptop"));
}
