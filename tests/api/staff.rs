//! The staff area's frame: access control on every route, sign-in, sessions, CSRF, tokens,
//! first-run setup, the audit log, and the `staff` commands.

use std::collections::HashMap;

use diesel::prelude::*;
use frontdesk::db::schema::staff_sessions;
use frontdesk::staff::Role;
use reqwest::Method;

use crate::both_backends;
use crate::helpers::{csrf_from, spawn_app, spawn_app_with, Backend, TestApp, STAFF_PASSWORD};

both_backends!(
    every_staff_route_refuses_anonymous_and_wrong_roles,
    sign_in_sets_a_strict_http_only_cookie_and_opens_the_dashboard,
    wrong_password_and_unknown_email_get_the_same_answer,
    forms_without_the_right_csrf_token_are_refused,
    idle_and_expired_sessions_end,
    sign_out_and_disabling_end_sessions_and_tokens,
    api_tokens_authenticate_scripts_and_can_be_revoked,
    first_run_link_creates_the_first_admin_once,
    audit_log_records_and_is_admin_only,
    outbox_can_be_listed_and_failed_mail_retried,
    another_clients_failures_never_lock_the_owner_out,
    unknown_and_known_addresses_get_the_same_answers_under_a_flood,
);

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                "0190e0d2-0000-7000-8000-000000000000"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn method(m: &actix_web::http::Method) -> Method {
    Method::from_bytes(m.as_str().as_bytes()).expect("method")
}

async fn every_staff_route_refuses_anonymous_and_wrong_roles(backend: Backend) {
    let app = spawn_app(backend).await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut tokens = HashMap::new();
    for role in Role::ALL {
        tokens.insert(role, app.staff_token(role.as_str()).await);
    }
    let rules = frontdesk::app::access_rules();
    assert!(rules.len() >= 19);

    for rule in rules {
        let url = app.url(&concrete(&rule.path));
        let res = anonymous
            .request(method(&rule.method), &url)
            .send()
            .await
            .expect("request");
        if rule.path.starts_with("/api/") {
            assert_eq!(res.status(), 401, "anonymous {} {}", rule.method, rule.path);
            assert_eq!(res.headers()["content-type"], "application/problem+json");
        } else {
            assert_eq!(res.status(), 303, "anonymous {} {}", rule.method, rule.path);
            assert!(res.headers()["location"]
                .to_str()
                .expect("ascii")
                .starts_with("/staff/login?next="));
        }
        for role in Role::ALL {
            let res = anonymous
                .request(method(&rule.method), &url)
                .bearer_auth(&tokens[&role])
                .send()
                .await
                .expect("request");
            if role.permits(rule.roles) {
                assert!(
                    res.status() != 401 && res.status() != 403,
                    "{role} refused on {} {}: {}",
                    rule.method,
                    rule.path,
                    res.status()
                );
            } else {
                assert_eq!(res.status(), 403, "{role} on {} {}", rule.method, rule.path);
            }
        }
    }
}

async fn sign_in_sets_a_strict_http_only_cookie_and_opens_the_dashboard(backend: Backend) {
    let app = spawn_app(backend).await;
    let login = app.staff_account("editor").await;

    let res = app.sign_in(&login.email, &login.password).await;

    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/staff/");
    let cookie = session_set_cookie(&res, "fd_session=");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http keeps the cookie usable locally: {cookie}"
    );
    let dashboard = app.get("/staff/").await;
    assert_eq!(dashboard.status(), 200);
    assert_eq!(dashboard.headers()["cache-control"], "no-store");
    let html = dashboard.text().await.expect("html");
    assert!(
        html.contains("Dashboard") && html.contains("Test editor"),
        "{html}"
    );
    assert!(
        !html.contains("Staff accounts"),
        "an editor does not see admin sections"
    );
}

fn session_set_cookie(res: &reqwest::Response, prefix: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} cookie"))
        .to_string()
}

#[tokio::test]
async fn on_https_the_cookie_is_host_prefixed_and_secure() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.server.public_url = "https://frontdesk.example.org".parse().expect("url");
    })
    .await;
    let login = app.staff_account("admin").await;

    let res = app.sign_in(&login.email, &login.password).await;

    let cookie = session_set_cookie(&res, "__Host-fd_session=");
    assert!(
        cookie.contains("Secure")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
    );
    assert!(
        cookie.contains("Path=/") && !cookie.contains("Domain="),
        "{cookie}"
    );
}

async fn wrong_password_and_unknown_email_get_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let login = app.staff_account("admin").await;

    let wrong = app.sign_in(&login.email, "not the password at all").await;
    let unknown = app
        .sign_in("nobody@newsroom.example.org", STAFF_PASSWORD)
        .await;

    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let (a, b) = (
        wrong.text().await.expect("a"),
        unknown.text().await.expect("b"),
    );
    assert!(
        a.contains("The email or password is wrong.")
            && b.contains("The email or password is wrong.")
    );
    assert_eq!(app.get("/staff/").await.status(), 303, "still signed out");
}

// ---- failed sign-ins are throttled per (account, client) ----

const ATTACKER_IP: &str = "203.0.113.66";
const OWNER_IP: &str = "198.51.100.7";
const FAILURE_LIMIT: u32 = 3;

/// An app behind a trusted proxy (this host), so `X-Forwarded-For` names the client, with a
/// small failure limit and a long delay; the per-IP limiter is out of the way.
async fn behind_a_proxy(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
        s.staff.max_failed_logins_per_hour = FAILURE_LIMIT;
        s.staff.failed_login_delay_seconds = 3_600;
        s.limits.login_per_minute = 10_000;
    })
    .await
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client")
}

/// Signs in through the real form from the client at `ip`; returns status, Retry-After and body.
async fn sign_in_from(
    app: &TestApp,
    client: &reqwest::Client,
    ip: &str,
    email: &str,
    password: &str,
) -> (u16, Option<String>, String) {
    let form = client
        .get(app.url("/staff/login"))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html");
    let token = csrf_from(&form);
    let res = client
        .post(app.url("/staff/login"))
        .header("x-forwarded-for", ip)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
            ("next", "/staff/"),
        ])
        .send()
        .await
        .expect("sign in");
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("ascii").to_string());
    let body = res.text().await.expect("body");
    // The form's fresh token and the address typed are echoed; nothing else may differ.
    let body = match body.find("name=\"csrf_token\"") {
        Some(_) => body.replace(&csrf_from(&body), "TOKEN"),
        None => body,
    };
    (status, retry, body.replace(email, "EMAIL"))
}

async fn another_clients_failures_never_lock_the_owner_out(backend: Backend) {
    let app = behind_a_proxy(backend).await;
    let owner = app.staff_account("admin").await;
    let attacker = browser();

    for _ in 0..FAILURE_LIMIT {
        let (status, ..) = sign_in_from(
            &app,
            &attacker,
            ATTACKER_IP,
            &owner.email,
            "guess guess guess",
        )
        .await;
        assert_eq!(status, 401);
    }
    // The attacker's client now waits, even with the right password.
    let (status, retry, _) =
        sign_in_from(&app, &attacker, ATTACKER_IP, &owner.email, &owner.password).await;
    assert_eq!(status, 429);
    assert!(retry.is_some(), "429 says when to come back");

    // The owner, from elsewhere, signs in at once.
    let owner_browser = browser();
    let (status, ..) = sign_in_from(
        &app,
        &owner_browser,
        OWNER_IP,
        &owner.email,
        &owner.password,
    )
    .await;
    assert_eq!(status, 303, "the owner is not locked out");
    let dashboard = owner_browser
        .get(app.url("/staff/"))
        .header("x-forwarded-for", OWNER_IP)
        .send()
        .await
        .expect("dashboard");
    assert_eq!(dashboard.status(), 200);

    // And the attacker still waits: the owner's success clears only the owner's own count.
    let (status, ..) = sign_in_from(
        &app,
        &attacker,
        ATTACKER_IP,
        &owner.email,
        "guess again please",
    )
    .await;
    assert_eq!(status, 429);
}

async fn unknown_and_known_addresses_get_the_same_answers_under_a_flood(backend: Backend) {
    let app = behind_a_proxy(backend).await;
    let known = app.staff_account("editor").await.email;
    let unknown = "nobody-at-all@newsroom.example.org".to_string();
    let attacker = browser();

    let mut answers = Vec::new();
    for email in [&known, &unknown] {
        let mut seen = Vec::new();
        for _ in 0..=FAILURE_LIMIT {
            seen.push(sign_in_from(&app, &attacker, ATTACKER_IP, email, "guess guess guess").await);
        }
        answers.push(seen);
    }

    let statuses: Vec<Vec<u16>> = answers
        .iter()
        .map(|seen| seen.iter().map(|(status, ..)| *status).collect())
        .collect();
    assert_eq!(statuses[0], [401, 401, 401, 429], "known address");
    assert_eq!(statuses[1], statuses[0], "unknown address");
    for (known_answer, unknown_answer) in answers[0].iter().zip(&answers[1]) {
        assert_eq!(known_answer, unknown_answer);
    }
}

async fn forms_without_the_right_csrf_token_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let csrf = app.signed_in("editor").await;
    let post = |token: Option<&str>| {
        let mut form = vec![("label", "ci")];
        if let Some(t) = token {
            form.push(("csrf_token", t));
        }
        app.client
            .post(app.url("/staff/account/tokens"))
            .form(&form)
    };

    assert_eq!(post(None).send().await.expect("r").status(), 403);
    assert_eq!(post(Some("forged")).send().await.expect("r").status(), 403);
    let cross_site = post(Some(&csrf))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("r");
    assert_eq!(cross_site.status(), 403);
    let fetch_site = post(Some(&csrf))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("r");
    assert_eq!(fetch_site.status(), 403);
    let ok = post(Some(&csrf)).send().await.expect("r");
    assert_eq!(ok.status(), 200);
    assert!(
        ok.text().await.expect("html").contains("fd_"),
        "the new token is shown once"
    );

    // The sign-in form is protected too, by its own double-submit token.
    let fresh = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let res = fresh
        .post(app.url("/staff/login"))
        .form(&[
            ("email", "a@b.org"),
            ("password", "x"),
            ("csrf_token", "guess"),
        ])
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 403);
}

async fn set_session_times(app: &TestApp, last_seen_hours_ago: i64, expires_in_hours: i64) {
    app.state
        .db
        .write(move |conn| {
            let now = frontdesk::db::now();
            diesel::update(staff_sessions::table)
                .set((
                    staff_sessions::last_seen_at
                        .eq(now - chrono::TimeDelta::hours(last_seen_hours_ago)),
                    staff_sessions::expires_at.eq(now + chrono::TimeDelta::hours(expires_in_hours)),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .expect("update sessions");
}

async fn idle_and_expired_sessions_end(backend: Backend) {
    let app = spawn_app(backend).await;
    app.signed_in("editor").await;
    assert_eq!(app.get("/staff/").await.status(), 200);

    set_session_times(&app, 9, 100).await; // idle for 9 h > 8 h
    assert_eq!(app.get("/staff/").await.status(), 303, "idle timeout");

    app.signed_in("editor").await;
    set_session_times(&app, 0, -1).await; // past the absolute limit
    assert_eq!(app.get("/staff/").await.status(), 303, "absolute timeout");
}

async fn sign_out_and_disabling_end_sessions_and_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let csrf = app.signed_in("editor").await;

    let res = app
        .client
        .post(app.url("/staff/logout"))
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 303);
    assert_eq!(app.get("/staff/").await.status(), 303);

    let login = app.staff_account("fundraising").await;
    app.sign_in(&login.email, &login.password).await;
    let token = frontdesk::staff::service::create_token(
        &app.state.db,
        user_id(&app, &login.email).await,
        "script".into(),
        frontdesk::staff::audit::Actor::system("test"),
    )
    .await
    .expect("token");
    assert_eq!(app.get("/staff/").await.status(), 200);
    frontdesk::staff::service::disable_account(
        &app.state.db,
        user_id(&app, &login.email).await,
        frontdesk::staff::audit::Actor::system("test"),
    )
    .await
    .expect("disable");

    assert_eq!(app.get("/staff/").await.status(), 303, "session ended");
    let res = app
        .client
        .get(app.url("/api/v1/staff/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 401, "token ended");
    assert_eq!(
        app.sign_in(&login.email, &login.password).await.status(),
        401,
        "cannot sign in"
    );
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

async fn api_tokens_authenticate_scripts_and_can_be_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("hiring").await;
    let plain = reqwest::Client::new();

    let me = plain
        .get(app.url("/api/v1/staff/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("r");
    assert_eq!(me.status(), 200);
    let body: serde_json::Value = me.json().await.expect("json");
    assert_eq!(body["role"], "hiring");
    let bad = plain
        .get(app.url("/api/v1/staff/me"))
        .bearer_auth("fd_forged")
        .send()
        .await
        .expect("r");
    assert_eq!(bad.status(), 401);

    let user = body["id"].as_str().expect("id").to_string();
    let tokens = app
        .state
        .db
        .run(move |conn| Ok(frontdesk::staff::store::user_tokens(conn, &user)?))
        .await
        .expect("tokens");
    assert!(tokens[0].last_used_at.is_some(), "last use is recorded");
    let (uid, tid) = (tokens[0].user_id.clone(), tokens[0].id.clone());
    app.state
        .db
        .write(move |conn| Ok(frontdesk::staff::store::revoke_token(conn, &uid, &tid)?))
        .await
        .expect("revoke");
    let revoked = plain
        .get(app.url("/api/v1/staff/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("r");
    assert_eq!(revoked.status(), 401);
}

async fn first_run_link_creates_the_first_admin_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = frontdesk::staff::service::setup_link(&app.state)
        .await
        .expect("setup link")
        .expect("no account yet");

    let form = app.get(&format!("/staff/setup?token={token}")).await;
    assert_eq!(form.status(), 200);
    let csrf = csrf_from(&form.text().await.expect("html"));
    let weak = app
        .client
        .post(app.url(&format!("/staff/setup?token={token}")))
        .form(&[
            ("name", "Ana"),
            ("email", "ana@newsroom.example.org"),
            ("password", "password123456"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .expect("r");
    assert_eq!(weak.status(), 422, "a common password is refused");
    let csrf = csrf_from(&weak.text().await.expect("html"));
    let created = app
        .client
        .post(app.url(&format!("/staff/setup?token={token}")))
        .form(&[
            ("name", "Ana"),
            ("email", "ana@newsroom.example.org"),
            ("password", STAFF_PASSWORD),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .expect("r");

    assert_eq!(created.status(), 303);
    let dashboard = app.get("/staff/").await.text().await.expect("html");
    assert!(
        dashboard.contains("Staff accounts"),
        "the first account is an admin"
    );
    assert_eq!(
        app.get(&format!("/staff/setup?token={token}"))
            .await
            .status(),
        404,
        "single use"
    );
    assert!(frontdesk::staff::service::setup_link(&app.state)
        .await
        .expect("ok")
        .is_none());
}

async fn audit_log_records_and_is_admin_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin").await;
    let editor = app.staff_token("editor").await;
    app.signed_in("editor").await;
    let plain = reqwest::Client::new();

    let res = plain
        .get(app.url("/api/v1/staff/audit?limit=500"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("r");
    assert_eq!(res.status(), 200);
    let page: serde_json::Value = res.json().await.expect("json");
    let actions: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("a"))
        .collect();
    assert!(
        actions.contains(&"staff.signed_in") && actions.contains(&"staff.token_created"),
        "{actions:?}"
    );
    assert!(
        page["items"][0].get("ip_hash").is_none(),
        "hashed addresses stay internal"
    );

    let first = plain
        .get(app.url("/api/v1/staff/audit?limit=1"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("r");
    let first: serde_json::Value = first.json().await.expect("json");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = plain
        .get(app.url(&format!("/api/v1/staff/audit?limit=1&cursor={cursor}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("r");
    let second: serde_json::Value = second.json().await.expect("json");
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    assert_eq!(
        plain
            .get(app.url("/api/v1/staff/audit?limit=501"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("r")
            .status(),
        422
    );
    assert_eq!(
        plain
            .get(app.url("/api/v1/staff/audit"))
            .bearer_auth(&editor)
            .send()
            .await
            .expect("r")
            .status(),
        403
    );
}

async fn outbox_can_be_listed_and_failed_mail_retried(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin").await;
    app.smtp.set_reply(crate::helpers::Reply::Permanent);
    let ids = app
        .queue(vec![crate::helpers::test_email("reader@example.org")])
        .await;
    app.wait_for_row(&ids[0], std::time::Duration::from_secs(10), |r| {
        r.state == "failed"
    })
    .await;
    let plain = reqwest::Client::new();

    let list: serde_json::Value = plain
        .get(app.url("/api/v1/staff/outbox?state=failed"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("r")
        .json()
        .await
        .expect("json");
    assert_eq!(list["items"][0]["id"], ids[0].as_str());
    assert!(list["items"][0]["last_error"]
        .as_str()
        .expect("error")
        .contains("554"));
    app.smtp.set_reply(crate::helpers::Reply::Accept);
    let retry = plain
        .post(app.url(&format!("/api/v1/staff/outbox/{}/retry", ids[0])))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("r");

    assert_eq!(retry.status(), 202);
    app.smtp
        .wait_for(1, std::time::Duration::from_secs(10))
        .await;
    let again = plain
        .post(app.url(&format!("/api/v1/staff/outbox/{}/retry", ids[0])))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("r");
    assert_eq!(again.status(), 409, "a sent email is not retried");
}

#[test]
fn staff_commands_manage_accounts_and_tokens() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("cli.db").display());
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .current_dir(dir.path())
            .env("FRONTDESK_DATABASE__URL", &db)
            .env("FRONTDESK_LOG__LEVEL", "warn")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write");
        }
        child.wait_with_output().expect("output")
    };

    let added = run(
        &[
            "staff",
            "add",
            "--email",
            "Ana@Newsroom.example.org",
            "--name",
            "Ana",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some(&format!("{STAFF_PASSWORD}\n")),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let weak = run(
        &[
            "staff",
            "add",
            "--email",
            "b@newsroom.example.org",
            "--name",
            "B",
            "--role",
            "editor",
            "--password-stdin",
        ],
        Some("password123\n"),
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("--password"));
    let token = run(
        &[
            "staff",
            "token",
            "--email",
            "ana@newsroom.example.org",
            "--label",
            "ci",
        ],
        None,
    );
    assert!(token.status.success());
    assert!(String::from_utf8_lossy(&token.stdout)
        .trim()
        .starts_with("fd_"));
    let list = run(&["staff", "list"], None);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("ana@newsroom.example.org") && listed.contains("active"),
        "{listed}"
    );
    let disabled = run(
        &["staff", "disable", "--email", "ana@newsroom.example.org"],
        None,
    );
    assert!(disabled.status.success());
    let listed = String::from_utf8_lossy(&run(&["staff", "list"], None).stdout).to_string();
    assert!(listed.contains("disabled"), "{listed}");
}
