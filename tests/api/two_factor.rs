//! Second factors through the real server: TOTP enrolment, the two-step sign-in with the
//! app's clock moved forward instead of sleeping, replayed and recovery codes, the required
//! enrolment, API tokens, an admin's and the operator's reset.

use chrono::TimeDelta;
use frontdesk::staff::two_factor::TotpSecret;

use crate::both_backends;
use crate::helpers::{csrf_from, spawn_app_with, Backend, StaffLogin, TestApp};

both_backends!(
    enrolment_then_sign_in_with_a_code_and_a_replayed_code_is_refused,
    a_recovery_code_signs_in_once,
    the_second_step_expires_is_single_use_and_bound_to_the_browser,
    wrong_codes_are_counted_like_wrong_passwords,
    required_two_factor_sends_pages_to_enrolment_and_refuses_the_api,
    creating_an_api_token_asks_for_a_current_code,
    the_owner_turns_it_off_with_a_recovery_code,
    an_admin_resets_a_colleagues_second_factor,
    the_operator_resets_a_second_factor_from_the_command_line,
);

/// The app, with a per-IP sign-in budget that these many sign-ins from one address fit in.
async fn spawn(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| s.limits.login_per_minute = 1000).await
}

/// One browser: its own cookie jar, redirects not followed.
struct Visitor<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Visitor<'a> {
        Visitor {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .expect("client"),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.app.url(path))
            .send()
            .await
            .expect("get")
    }

    async fn text(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().await.expect("text")
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.app.url(path))
            .form(form)
            .send()
            .await
            .expect("post")
    }

    /// The password step; returns its response.
    async fn password(&self, login: &StaffLogin) -> reqwest::Response {
        let token = csrf_from(&self.text("/staff/login").await);
        self.post(
            "/staff/login",
            &[
                ("email", &login.email),
                ("password", &login.password),
                ("csrf_token", &token),
                ("next", "/staff/account"),
            ],
        )
        .await
    }

    /// The second step with `code`; returns its response.
    async fn second_step(&self, code: &str) -> reqwest::Response {
        let token = csrf_from(&self.text("/staff/login/second-factor").await);
        self.post(
            "/staff/login/second-factor",
            &[("code", code), ("csrf_token", &token)],
        )
        .await
    }

    /// Signs in with the password alone (an account without a second factor).
    async fn sign_in(&self, login: &StaffLogin) {
        let res = self.password(login).await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/staff/account");
    }

    /// The CSRF token of the signed-in session.
    async fn csrf(&self) -> String {
        csrf_from(&self.text("/staff/account/two-factor").await)
    }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The text of the element with this id (`<x id="id">text</x>`).
fn element_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).expect("element") + marker.len();
    let end = start + html[start..].find('<').expect("end");
    html[start..end].to_string()
}

/// The code of the app's current time step (the server accepts one step either side).
fn current_code(app: &TestApp, secret: &TotpSecret) -> String {
    secret.code_at_step(app.clock.unix_seconds() / 30)
}

/// What enrolment gave: the secret, the recovery codes and the code that confirmed it.
struct Enrolled {
    secret: TotpSecret,
    codes: Vec<String>,
    first_code: String,
}

/// Enrols TOTP for the signed-in visitor.
async fn enrol(app: &TestApp, visitor: &Visitor<'_>) -> Enrolled {
    let csrf = visitor.csrf().await;
    let started = visitor
        .post("/staff/account/two-factor/totp", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(started.status(), 303);
    let page = visitor.text("/staff/account/two-factor").await;
    assert!(page.contains("<svg"), "an inline QR code");
    let secret = TotpSecret::from_base32(&element_text(&page, "totp-secret")).expect("secret");

    let wrong = visitor
        .post(
            "/staff/account/two-factor/totp/confirm",
            &[("code", "000000"), ("csrf_token", &csrf)],
        )
        .await;
    if current_code(app, &secret) != "000000" {
        assert_eq!(
            wrong.status(),
            422,
            "a wrong first code does not turn it on"
        );
    }
    let first_code = current_code(app, &secret);
    let confirmed = visitor
        .post(
            "/staff/account/two-factor/totp/confirm",
            &[("code", &first_code), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    let page = confirmed.text().await.expect("page");
    let codes: Vec<String> = page
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().expect("code").to_string())
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once");
    let again = visitor.text("/staff/account/two-factor").await;
    assert!(!again.contains(&codes[0]), "the codes are not shown again");
    assert!(again.contains("id=\"two-factor-on\""));
    Enrolled {
        secret,
        codes,
        first_code,
    }
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

fn subjects_to(app: &TestApp, to: &str) -> Vec<String> {
    app.smtp
        .received()
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == to))
        .filter_map(|m| m.subject())
        .collect()
}

async fn enrolment_then_sign_in_with_a_code_and_a_replayed_code_is_refused(backend: Backend) {
    let app = spawn(backend).await;
    let login = app.staff_account("editor").await;
    let browser = Visitor::new(&app);
    browser.sign_in(&login).await;
    let Enrolled {
        secret,
        first_code: confirmed_with,
        ..
    } = enrol(&app, &browser).await;
    app.drain_outbox().await;
    assert!(
        subjects_to(&app, &login.email)
            .iter()
            .any(|s| s.contains("two-factor sign-in is on")),
        "{:?}",
        subjects_to(&app, &login.email)
    );
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&"staff.two_factor_enabled".to_string()));

    // A new browser: the password alone opens no session.
    let other = Visitor::new(&app);
    let res = other.password(&login).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/staff/login/second-factor");
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("fd_pending="))
        .expect("a pending cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let res = other.get("/staff/account").await;
    assert_eq!(res.status(), 303, "no session before the second step");
    assert!(location(&res).starts_with("/staff/login?next="));

    // The code used to confirm is not accepted again.
    let replay = other.second_step(&confirmed_with).await;
    assert_eq!(replay.status(), 401);

    // Half a minute later, the next code signs in and goes where the sign-in was headed.
    app.clock.advance(TimeDelta::seconds(30));
    let code = current_code(&app, &secret);
    let res = other.second_step(&code).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/staff/account");
    assert_eq!(other.get("/staff/account").await.status(), 200);

    // Another browser with the same code in the same half-minute: refused.
    let third = Visitor::new(&app);
    assert_eq!(third.password(&login).await.status(), 303);
    assert_eq!(third.second_step(&code).await.status(), 401);
    assert_eq!(third.get("/staff/account").await.status(), 303);

    // A code two steps away from the clock is refused too.
    let stale = secret.code_at_step(app.clock.unix_seconds() / 30 - 3);
    assert_eq!(third.second_step(&stale).await.status(), 401);
    app.clock.advance(TimeDelta::seconds(30));
    let res = third.second_step(&current_code(&app, &secret)).await;
    assert_eq!(res.status(), 303);
    let actions = audit_actions(&app).await;
    assert!(actions.iter().filter(|a| *a == "staff.signed_in").count() >= 3);
}

async fn a_recovery_code_signs_in_once(backend: Backend) {
    let app = spawn(backend).await;
    let login = app.staff_account("hiring").await;
    let browser = Visitor::new(&app);
    browser.sign_in(&login).await;
    let codes = enrol(&app, &browser).await.codes;

    let first = Visitor::new(&app);
    assert_eq!(first.password(&login).await.status(), 303);
    let res = first.second_step(&codes[0].to_uppercase()).await;
    assert_eq!(res.status(), 303, "a recovery code, typed in capitals");
    assert_eq!(first.get("/staff/account").await.status(), 200);

    let second = Visitor::new(&app);
    assert_eq!(second.password(&login).await.status(), 303);
    assert_eq!(second.second_step(&codes[0]).await.status(), 401, "used up");
    assert_eq!(second.second_step(&codes[1]).await.status(), 303);
    let page = second.text("/staff/account/two-factor").await;
    assert!(page.contains("8 unused recovery codes left"), "{page}");
}

async fn the_second_step_expires_is_single_use_and_bound_to_the_browser(backend: Backend) {
    let app = spawn(backend).await;
    let login = app.staff_account("editor").await;
    let browser = Visitor::new(&app);
    browser.sign_in(&login).await;
    let secret = enrol(&app, &browser).await.secret;
    app.clock.advance(TimeDelta::seconds(30));

    // Another browser without the pending cookie gets nowhere.
    let stranger = Visitor::new(&app);
    let res = stranger.get("/staff/login/second-factor").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/staff/login?notice=second_step_expired");

    // Six minutes after the password, the pending sign-in has expired.
    let late = Visitor::new(&app);
    assert_eq!(late.password(&login).await.status(), 303);
    let token = csrf_from(&late.text("/staff/login/second-factor").await);
    app.clock.advance(TimeDelta::minutes(6));
    let res = late
        .post(
            "/staff/login/second-factor",
            &[
                ("code", &current_code(&app, &secret)),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/staff/login?notice=second_step_expired");
    assert_eq!(late.get("/staff/account").await.status(), 303);

    // Used once, the pending cookie is spent: replaying it is refused.
    app.clock.advance(TimeDelta::seconds(30));
    let once = Visitor::new(&app);
    let res = once.password(&login).await;
    let pending = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("fd_pending="))
        .and_then(|c| c.split(';').next())
        .expect("a pending cookie")
        .to_string();
    let res = once.second_step(&current_code(&app, &secret)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/staff/account");
    app.clock.advance(TimeDelta::seconds(30));
    let replayed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(app.url("/staff/login/second-factor"))
        .header("cookie", format!("{pending}; fd_form=replayed-form-token"))
        .form(&[
            ("code", current_code(&app, &secret).as_str()),
            ("csrf_token", "replayed-form-token"),
        ])
        .send()
        .await
        .expect("replay");
    assert_eq!(replayed.status(), 303, "no pending sign-in any more");
    assert_eq!(
        location(&replayed),
        "/staff/login?notice=second_step_expired"
    );
    assert!(!replayed
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.contains("fd_session=") && !c.contains("Max-Age=0")));
}

async fn wrong_codes_are_counted_like_wrong_passwords(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.limits.login_per_minute = 1000;
        s.staff.max_failed_logins_per_hour = 3;
        s.staff.failed_login_delay_seconds = 600;
    })
    .await;
    let login = app.staff_account("editor").await;
    let browser = Visitor::new(&app);
    browser.sign_in(&login).await;
    let secret = enrol(&app, &browser).await.secret;
    app.clock.advance(TimeDelta::seconds(30));

    let guesser = Visitor::new(&app);
    assert_eq!(guesser.password(&login).await.status(), 303);
    let right = current_code(&app, &secret);
    let wrong = if right == "123456" {
        "654321"
    } else {
        "123456"
    };
    for _ in 0..3 {
        assert_eq!(guesser.second_step(wrong).await.status(), 401);
    }
    let res = guesser.second_step(&right).await;
    assert_eq!(
        res.status(),
        429,
        "past the limit, even the right code waits"
    );
    assert!(res.headers().get("retry-after").is_some());
}

async fn required_two_factor_sends_pages_to_enrolment_and_refuses_the_api(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.limits.login_per_minute = 1000;
        s.staff.require_two_factor = true;
    })
    .await;
    let login = app.staff_account("admin").await;
    let token = app.staff_token("editor").await;

    let (status, body) = app.get_json(&token, "/api/v1/staff/me").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["type"],
        "urn:frontdesk:problem:two-factor-enrolment-required"
    );
    assert!(body["detail"]
        .as_str()
        .is_some_and(|d| d.contains("two-factor enrolment")));

    let browser = Visitor::new(&app);
    browser.sign_in(&login).await;
    for path in [
        "/staff/",
        "/staff/account",
        "/staff/accounts",
        "/staff/audit",
    ] {
        let res = browser.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(location(&res), "/staff/account/two-factor", "{path}");
    }
    let page = browser.text("/staff/account/two-factor").await;
    assert!(page.contains("id=\"two-factor-required\""));
    let csrf = csrf_from(&page);
    let res = browser
        .post(
            "/staff/account/tokens",
            &[("label", "x"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(res.status(), 303, "no token before enrolment");
    assert_eq!(location(&res), "/staff/account/two-factor");

    let secret = enrol(&app, &browser).await.secret;
    assert_eq!(browser.get("/staff/").await.status(), 200);
    assert_eq!(browser.get("/staff/accounts").await.status(), 200);

    // Once on, it cannot be turned off while it is required.
    app.clock.advance(TimeDelta::seconds(30));
    let res = browser
        .post(
            "/staff/account/two-factor/disable",
            &[
                ("code", &current_code(&app, &secret)),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(res.status(), 409);

    // Signing out stays possible before enrolment.
    let fresh = app.staff_account("editor").await;
    let other = Visitor::new(&app);
    other.sign_in(&fresh).await;
    let csrf = other.csrf().await;
    let res = other.post("/staff/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/staff/login?notice=signed_out");
}

async fn creating_an_api_token_asks_for_a_current_code(backend: Backend) {
    let app = spawn(backend).await;
    let login = app.staff_account("fundraising").await;
    let browser = Visitor::new(&app);
    browser.sign_in(&login).await;
    let secret = enrol(&app, &browser).await.secret;
    let csrf = browser.csrf().await;

    let res = browser
        .post(
            "/staff/account/tokens",
            &[("label", "script"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(!res.text().await.expect("page").contains("id=\"new-token\""));

    app.clock.advance(TimeDelta::seconds(30));
    let res = browser
        .post(
            "/staff/account/tokens",
            &[
                ("label", "script"),
                ("code", &current_code(&app, &secret)),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let token = element_text(&res.text().await.expect("page"), "new-token");
    let (status, me) = app.get_json(&token, "/api/v1/staff/me").await;
    assert_eq!(status, 200, "{me}");
}

async fn the_owner_turns_it_off_with_a_recovery_code(backend: Backend) {
    let app = spawn(backend).await;
    let login = app.staff_account("editor").await;
    let browser = Visitor::new(&app);
    browser.sign_in(&login).await;
    let codes = enrol(&app, &browser).await.codes;
    let csrf = browser.csrf().await;

    let res = browser
        .post(
            "/staff/account/two-factor/disable",
            &[("code", "000000"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(res.status(), 422, "a wrong code changes nothing");
    let res = browser
        .post(
            "/staff/account/two-factor/disable",
            &[("code", &codes[3]), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        location(&res),
        "/staff/account/two-factor?notice=two_factor_off"
    );
    assert!(audit_actions(&app)
        .await
        .contains(&"staff.two_factor_disabled".to_string()));
    app.drain_outbox().await;
    assert!(subjects_to(&app, &login.email)
        .iter()
        .any(|s| s.contains("turned off")));
    Visitor::new(&app).sign_in(&login).await;
}

async fn an_admin_resets_a_colleagues_second_factor(backend: Backend) {
    let app = spawn(backend).await;
    let editor = app.staff_account("editor").await;
    let browser = Visitor::new(&app);
    browser.sign_in(&editor).await;
    enrol(&app, &browser).await;
    let editor_id = user_id(&app, &editor.email).await;

    let admin = app.staff_account("admin").await;
    let desk = Visitor::new(&app);
    desk.sign_in(&admin).await;
    let page = desk.text("/staff/accounts").await;
    let reset_path = format!("/staff/accounts/{editor_id}/two-factor/reset");
    assert!(
        page.contains(&reset_path),
        "a reset button for the colleague"
    );
    let csrf = csrf_from(&page);

    // The editor cannot reset anyone's; a form without the CSRF token is refused.
    let csrf_editor = browser.csrf().await;
    let res = browser
        .post(&reset_path, &[("csrf_token", &csrf_editor)])
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(desk.post(&reset_path, &[]).await.status(), 403);

    let res = desk.post(&reset_path, &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/staff/accounts?notice=two_factor_reset");
    assert_eq!(
        desk.post(&reset_path, &[("csrf_token", &csrf)])
            .await
            .status(),
        404,
        "nothing left to reset"
    );
    assert!(audit_actions(&app)
        .await
        .contains(&"staff.two_factor_reset".to_string()));
    app.drain_outbox().await;
    assert!(subjects_to(&app, &editor.email)
        .iter()
        .any(|s| s.contains("was reset")));

    // The password alone signs the editor in again.
    Visitor::new(&app).sign_in(&editor).await;
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

async fn the_operator_resets_a_second_factor_from_the_command_line(backend: Backend) {
    let app = spawn(backend).await;
    let login = app.staff_account("editor").await;
    let browser = Visitor::new(&app);
    browser.sign_in(&login).await;
    enrol(&app, &browser).await;
    app.drain_outbox().await;

    let (dir, url) = (app.database.dir().to_path_buf(), app.database.url.clone());
    let run = move |email: String| {
        let (dir, url) = (dir.clone(), url.clone());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
                .current_dir(dir)
                .env("FRONTDESK_DATABASE__URL", url)
                .env("FRONTDESK_LOG__LEVEL", "warn")
                .env_remove("FRONTDESK_TEST_POSTGRES_URL")
                .args(["staff", "reset-two-factor", "--email", &email])
                .output()
                .expect("run")
        })
    };
    let out = run(login.email.clone()).await.expect("join");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("reset the second factor"));

    let again = run(login.email.clone()).await.expect("join");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no second factor"));
    let unknown = run("nobody@newsroom.example.org".into())
        .await
        .expect("join");
    assert!(!unknown.status.success());

    assert!(audit_actions(&app)
        .await
        .contains(&"staff.two_factor_reset".to_string()));
    app.drain_outbox().await;
    let subjects: Vec<String> = subjects_to(&app, &login.email);
    assert!(
        subjects.iter().any(|s| s.contains("was reset")),
        "{subjects:?}"
    );
    Visitor::new(&app).sign_in(&login).await;
}
