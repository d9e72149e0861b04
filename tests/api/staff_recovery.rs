//! Staff recovery: "Forgot your password?" (no enumeration, single use, expiry, every session
//! ended), an admin's reset link and "end all sessions", the operator's `staff reset-password`.
//! The helpers here serve `staff_sessions` too.

use diesel::prelude::*;
use frontdesk::db::schema::{audit_log, staff_password_resets};
use serde_json::Value;

use crate::both_backends;
use crate::helpers::{csrf_from, link, spawn_app_with, Backend, TestApp};

both_backends!(
    forgot_password_answers_alike_and_mails_only_an_enabled_account,
    forgot_password_is_limited_per_client_and_per_address,
    a_reset_link_works_once_and_ends_every_session_and_every_other_link,
    a_reset_link_expires,
    an_admin_sends_a_reset_link_and_ends_every_session_of_a_colleague,
    recovery_routes_refuse_anonymous_and_wrong_roles_and_forged_forms,
    the_operator_prints_a_reset_link,
);

pub(crate) const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
pub(crate) const FIREFOX_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
pub(crate) const NEW_PASSWORD: &str = "velvet compass orchard 2031 tide";

/// An app whose per-client limits stay out of the way (the limit test sets its own).
pub(crate) async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| s.limits.login_per_minute = 10_000).await
}

/// A browser of its own: its own cookie jar and `User-Agent`.
pub(crate) fn browser(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .user_agent(user_agent)
        .build()
        .expect("client")
}

/// A browser behind the trusted proxy, as the client at `ip`.
fn from_ip(ip: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", ip.parse().expect("header value"));
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .expect("client")
}

pub(crate) async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> u16 {
    let form = client
        .get(app.url("/staff/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html");
    client
        .post(app.url("/staff/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &csrf_from(&form)),
            ("next", "/staff/"),
        ])
        .send()
        .await
        .expect("sign in")
        .status()
        .as_u16()
}

pub(crate) async fn status_of(client: &reqwest::Client, app: &TestApp, path: &str) -> u16 {
    client
        .get(app.url(path))
        .send()
        .await
        .expect("get")
        .status()
        .as_u16()
}

/// "Forgot your password?" through the real form: status, and the body with the layout's
/// per-response values left as they are (they must not differ by address).
async fn forgot(app: &TestApp, client: &reqwest::Client, email: &str) -> (u16, String) {
    let form = client
        .get(app.url("/staff/password/forgot"))
        .send()
        .await
        .expect("form")
        .text()
        .await
        .expect("html");
    let res = client
        .post(app.url("/staff/password/forgot"))
        .form(&[("email", email), ("csrf_token", &csrf_from(&form))])
        .send()
        .await
        .expect("forgot");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

/// The reset link in the newest email to `to`, as a path.
fn reset_link_to(app: &TestApp, to: &str) -> String {
    let mail = app
        .smtp
        .received()
        .into_iter()
        .rev()
        .find(|m| m.rcpt_to.iter().any(|r| r == to))
        .unwrap_or_else(|| panic!("no email to {to}"));
    link(&mail.text_body().expect("text"), "/staff/password/reset")
}

fn token_of(path: &str) -> String {
    path.split("token=").nth(1).expect("token").to_string()
}

async fn reset_with(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    password: &str,
) -> (u16, String, String) {
    let page = client.get(app.url(path)).send().await.expect("reset page");
    let mut page = page.text().await.expect("html");
    if !page.contains("name=\"csrf_token\"") {
        // A dead link shows no form: take a valid form token from the other public form, so
        // that what answers is the link's check, not the form token's.
        page = client
            .get(app.url("/staff/password/forgot"))
            .send()
            .await
            .expect("forgot page")
            .text()
            .await
            .expect("html");
    }
    let csrf = csrf_from(&page);
    let res = client
        .post(app.url("/staff/password/reset"))
        .form(&[
            ("token", token_of(path).as_str()),
            ("password", password),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .expect("reset");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().expect("ascii").to_string())
        .unwrap_or_default();
    (status, location, res.text().await.expect("body"))
}

pub(crate) async fn user_id(app: &TestApp, email: &str) -> String {
    let email = email.to_string();
    app.state
        .db
        .run(move |conn| Ok(frontdesk::staff::store::find_user_by_email(conn, &email)?))
        .await
        .expect("lookup")
        .expect("account")
        .id
}

pub(crate) async fn audited(app: &TestApp, action: &'static str, target: &str) -> i64 {
    let target = target.to_string();
    app.state
        .db
        .run(move |conn| {
            Ok(audit_log::table
                .filter(audit_log::action.eq(action))
                .filter(audit_log::target_id.eq(target))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await
        .expect("audit")
}

pub(crate) fn mails_with_subject(app: &TestApp, to: &str, subject_part: &str) -> usize {
    app.smtp
        .received()
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == to))
        .filter(|m| m.subject().is_some_and(|s| s.contains(subject_part)))
        .count()
}

async fn forgot_password_answers_alike_and_mails_only_an_enabled_account(backend: Backend) {
    let app = app(backend).await;
    let known = app.staff_account("editor").await.email;
    let disabled = app.staff_account("hiring").await.email;
    frontdesk::staff::service::disable_account(
        &app.state.db,
        user_id(&app, &disabled).await,
        frontdesk::staff::audit::Actor::system("test"),
    )
    .await
    .expect("disable");
    let unknown = "nobody-here@newsroom.example.org";
    let client = browser(CHROME_LINUX);

    let mut answers = Vec::new();
    for email in [known.as_str(), disabled.as_str(), unknown] {
        answers.push(forgot(&app, &client, email).await);
    }
    app.drain_outbox().await;

    assert_eq!(answers[0].0, 200);
    assert!(answers[0]
        .1
        .contains("If a staff account uses this address"));
    assert!(!answers[0].1.contains(&known), "the address is not echoed");
    assert_eq!(
        answers[1], answers[0],
        "a disabled account is answered alike"
    );
    assert_eq!(
        answers[2], answers[0],
        "an unknown address is answered alike"
    );
    let mails = app.smtp.received();
    assert_eq!(mails.len(), 1, "one email, to the enabled account only");
    assert_eq!(mails[0].rcpt_to, std::slice::from_ref(&known));
    let text = mails[0].text_body().expect("text");
    assert!(text.contains("/staff/password/reset?token="), "{text}");
    assert!(text.contains("30 minutes"), "{text}");
    assert_eq!(
        audited(
            &app,
            "staff.password_reset_requested",
            &user_id(&app, &known).await
        )
        .await,
        1
    );
    // What is stored is a hash, never the token in the link.
    let token = token_of(&reset_link_to(&app, &known));
    let stored: Vec<String> = app
        .state
        .db
        .run(|conn| {
            Ok(staff_password_resets::table
                .select(staff_password_resets::token_hash)
                .load(conn)?)
        })
        .await
        .expect("links");
    assert_eq!(stored, [frontdesk::keys::token_hash(&token)]);
}

async fn forgot_password_is_limited_per_client_and_per_address(backend: Backend) {
    // The default budget: 10 a minute with a burst of 5, per client and per address typed.
    let app = spawn_app_with(backend, |s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    })
    .await;
    let known = app.staff_account("editor").await.email;
    let unknown = "nobody-here@newsroom.example.org";

    // Per address: five clients, then the sixth from yet another client is refused, for a
    // known address and an unknown one alike.
    for email in [known.as_str(), unknown] {
        let mut statuses = Vec::new();
        for i in 0..6 {
            let client = from_ip(&format!(
                "198.51.100.{}",
                i + if email == unknown { 10 } else { 0 }
            ));
            statuses.push(forgot(&app, &client, email).await.0);
        }
        assert_eq!(statuses, [200, 200, 200, 200, 200, 429], "{email}");
    }

    // Per client: one client asking for many addresses is refused after its burst.
    let client = from_ip("203.0.113.7");
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(
            forgot(&app, &client, &format!("someone{i}@newsroom.example.org"))
                .await
                .0,
        );
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429]);

    // However often it was asked, the account got at most three links.
    app.drain_outbox().await;
    assert_eq!(mails_with_subject(&app, &known, "reset"), 3);
}

async fn a_reset_link_works_once_and_ends_every_session_and_every_other_link(backend: Backend) {
    let app = app(backend).await;
    let login = app.staff_account("editor").await;
    let (laptop, phone) = (browser(CHROME_LINUX), browser(FIREFOX_WINDOWS));
    assert_eq!(
        sign_in(&app, &laptop, &login.email, &login.password).await,
        303
    );
    assert_eq!(
        sign_in(&app, &phone, &login.email, &login.password).await,
        303
    );
    let anonymous = browser(CHROME_LINUX);
    forgot(&app, &anonymous, &login.email).await;
    app.drain_outbox().await;
    let first = reset_link_to(&app, &login.email);
    forgot(&app, &anonymous, &login.email).await;
    app.drain_outbox().await;
    let second = reset_link_to(&app, &login.email);
    assert_ne!(first, second);

    // A weak password is refused, naming the field, and the link still works.
    let (status, _, body) = reset_with(&app, &anonymous, &second, "password1234").await;
    assert_eq!(status, 422);
    assert!(body.contains("too common"), "{body}");
    let (status, location, _) = reset_with(&app, &anonymous, &second, NEW_PASSWORD).await;
    assert_eq!(status, 303);
    assert_eq!(location, "/staff/login?notice=password_reset");

    // Every session of the account ended; the old password is gone, the new one works.
    assert_eq!(status_of(&laptop, &app, "/staff/").await, 303);
    assert_eq!(status_of(&phone, &app, "/staff/").await, 303);
    let fresh = browser(CHROME_LINUX);
    assert_eq!(
        sign_in(&app, &fresh, &login.email, &login.password).await,
        401
    );
    assert_eq!(sign_in(&app, &fresh, &login.email, NEW_PASSWORD).await, 303);

    // The link was single use, and the other outstanding link was used up with it.
    for used in [&second, &first] {
        assert_eq!(status_of(&anonymous, &app, used).await, 404, "{used}");
        let (status, ..) =
            reset_with(&app, &anonymous, used, "another long passphrase 77 kiln").await;
        assert_eq!(status, 404, "{used}");
    }
    let id = user_id(&app, &login.email).await;
    assert_eq!(audited(&app, "staff.password_reset", &id).await, 1);

    // The owner is told, without any secret in the email.
    app.drain_outbox().await;
    assert_eq!(
        mails_with_subject(&app, &login.email, "password was changed"),
        1
    );
    let notice = app
        .smtp
        .received()
        .into_iter()
        .find(|m| {
            m.subject()
                .is_some_and(|s| s.contains("password was changed"))
        })
        .expect("notice");
    let text = notice.text_body().expect("text");
    assert!(text.contains("with a password reset link"), "{text}");
    assert!(
        !text.contains(NEW_PASSWORD) && !text.contains("token="),
        "{text}"
    );
}

async fn a_reset_link_expires(backend: Backend) {
    let app = app(backend).await;
    let login = app.staff_account("fundraising").await;
    let client = browser(CHROME_LINUX);
    forgot(&app, &client, &login.email).await;
    app.drain_outbox().await;
    let path = reset_link_to(&app, &login.email);
    assert_eq!(
        status_of(&client, &app, &path).await,
        200,
        "fresh link opens"
    );
    // Thirty minutes pass for the link (its stored expiry is moved, not the test's clock).
    let hash = frontdesk::keys::token_hash(&token_of(&path));
    app.state
        .db
        .write(move |conn| {
            let expired = frontdesk::db::now() - chrono::TimeDelta::seconds(1);
            diesel::update(staff_password_resets::table.find(hash))
                .set(staff_password_resets::expires_at.eq(expired))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("expire");

    assert_eq!(status_of(&client, &app, &path).await, 404);
    let (status, _, body) = reset_with(&app, &client, &path, NEW_PASSWORD).await;
    assert_eq!(status, 404);
    assert!(body.contains("expired or has already been used"), "{body}");
    assert_eq!(
        sign_in(&app, &client, &login.email, &login.password).await,
        303,
        "unchanged"
    );
}

async fn an_admin_sends_a_reset_link_and_ends_every_session_of_a_colleague(backend: Backend) {
    let app = app(backend).await;
    let csrf = app.signed_in("admin").await;
    let colleague = app.staff_account("hiring").await;
    let id = user_id(&app, &colleague.email).await;
    let theirs = browser(FIREFOX_WINDOWS);
    assert_eq!(
        sign_in(&app, &theirs, &colleague.email, &colleague.password).await,
        303
    );

    let page = app.get("/staff/accounts").await.text().await.expect("html");
    assert!(
        page.contains(&format!("/staff/accounts/{id}/sessions/end")),
        "one session shown"
    );
    let res = app
        .client
        .post(app.url(&format!("/staff/accounts/{id}/password-reset")))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .expect("send link");
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/staff/accounts?notice=reset_sent"
    );
    app.drain_outbox().await;
    let path = reset_link_to(&app, &colleague.email);
    assert!(app.smtp.received()[0]
        .text_body()
        .expect("text")
        .contains("An administrator"));
    assert_eq!(audited(&app, "staff.password_reset_sent", &id).await, 1);

    let res = app
        .client
        .post(app.url(&format!("/staff/accounts/{id}/sessions/end")))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .expect("end sessions");
    assert_eq!(res.status(), 303);
    assert_eq!(status_of(&theirs, &app, "/staff/").await, 303, "signed out");
    assert_eq!(
        status_of(&app.client, &app, "/staff/").await,
        200,
        "the admin is not"
    );
    assert_eq!(audited(&app, "staff.sessions_ended", &id).await, 1);

    // The colleague sets a password through the link.
    let (status, ..) = reset_with(&app, &theirs, &path, NEW_PASSWORD).await;
    assert_eq!(status, 303);
    assert_eq!(
        sign_in(&app, &theirs, &colleague.email, NEW_PASSWORD).await,
        303
    );

    // No link for a disabled account, and unknown accounts are 404.
    frontdesk::staff::service::disable_account(
        &app.state.db,
        id.clone(),
        frontdesk::staff::audit::Actor::system("test"),
    )
    .await
    .expect("disable");
    let res = app
        .client
        .post(app.url(&format!("/staff/accounts/{id}/password-reset")))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .expect("send link");
    assert_eq!(res.status(), 409);
    let res = app
        .client
        .post(app.url("/staff/accounts/0190e0d2-0000-7000-8000-000000000000/sessions/end"))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .expect("end sessions");
    assert_eq!(res.status(), 404);
}

async fn recovery_routes_refuse_anonymous_and_wrong_roles_and_forged_forms(backend: Backend) {
    let app = app(backend).await;
    let target = user_id(&app, &app.staff_account("editor").await.email).await;
    let anonymous = browser(CHROME_LINUX);
    let editor_csrf = app.signed_in("editor").await;
    for path in [
        format!("/staff/accounts/{target}/password-reset"),
        format!("/staff/accounts/{target}/sessions/end"),
    ] {
        let res = anonymous.post(app.url(&path)).send().await.expect("post");
        assert_eq!(res.status(), 303, "anonymous {path}");
        assert!(res.headers()["location"]
            .to_str()
            .expect("ascii")
            .starts_with("/staff/login?next="));
        let res = app
            .client
            .post(app.url(&path))
            .form(&[("csrf_token", &editor_csrf)])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 403, "editor {path}");
    }
    let rules = frontdesk::app::access_rules();
    for path in [
        "/staff/accounts/{id}/password-reset",
        "/staff/accounts/{id}/sessions/end",
    ] {
        let rule = rules.iter().find(|r| r.path == path).expect("declared");
        assert_eq!(rule.roles, frontdesk::staff::ADMIN, "{path}");
    }

    // The public forms need their own form token, like the sign-in form.
    let res = anonymous
        .post(app.url("/staff/password/forgot"))
        .form(&[
            ("email", "someone@newsroom.example.org"),
            ("csrf_token", "forged"),
        ])
        .send()
        .await
        .expect("forgot");
    assert_eq!(res.status(), 403);
    let res = anonymous
        .post(app.url("/staff/password/reset"))
        .form(&[
            ("token", "x"),
            ("password", NEW_PASSWORD),
            ("csrf_token", "forged"),
        ])
        .send()
        .await
        .expect("reset");
    assert_eq!(res.status(), 403);
    app.drain_outbox().await;
    assert_eq!(app.smtp.count(), 0);
}

async fn the_operator_prints_a_reset_link(backend: Backend) {
    let app = app(backend).await;
    let login = app.staff_account("admin").await;
    let run = |email: String| {
        let url = app.database.url.clone();
        let dir = app.database.dir().to_path_buf();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"));
                cmd.current_dir(dir)
                    .env_remove("FRONTDESK_ENV")
                    .env_remove("RUST_LOG");
                for (key, _) in std::env::vars() {
                    if key.starts_with("FRONTDESK_") {
                        cmd.env_remove(key);
                    }
                }
                cmd.env("FRONTDESK_DATABASE__URL", url)
                    .args(["staff", "reset-password", "--email", &email])
                    .output()
                    .expect("run frontdesk")
            })
            .await
            .expect("join")
        }
    };

    let out = run("nobody-here@newsroom.example.org".into()).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no enabled staff account"));

    let out = run(login.email.clone()).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = link(&stdout, "/staff/password/reset");
    let client = browser(CHROME_LINUX);
    assert_eq!(
        sign_in(&app, &client, &login.email, &login.password).await,
        303
    );
    let (status, ..) = reset_with(&app, &client, &path, NEW_PASSWORD).await;
    assert_eq!(status, 303);
    assert_eq!(
        status_of(&client, &app, "/staff/").await,
        303,
        "sessions ended"
    );
    assert_eq!(
        sign_in(&app, &client, &login.email, NEW_PASSWORD).await,
        303
    );
    let id = user_id(&app, &login.email).await;
    assert_eq!(
        audited(&app, "staff.password_reset_link_created", &id).await,
        1
    );
    assert_eq!(audited(&app, "staff.password_reset", &id).await, 1);
    // Nothing was emailed but the notice of the change.
    app.drain_outbox().await;
    let subjects: Vec<Value> = app
        .smtp
        .received()
        .iter()
        .map(|m| Value::from(m.subject()))
        .collect();
    assert_eq!(subjects.len(), 1, "{subjects:?}");
}
