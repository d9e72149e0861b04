//! The staff area in a real browser, with seeded data: every staff page passes axe-core
//! (zero serious or critical findings) and does not scroll sideways at 1024 px; each role's
//! dashboard and the search show the numbers the JSON API gives.
//!
//! axe-core comes from the npm registry, pinned in `tests/browser/package.json` and its lock
//! file; `.ci/run` runs `npm ci --prefix tests/browser`. Without `node_modules` (or without the
//! browser) the tests say they were skipped, except under CI, where that is a failure.
//!
//! With `FRONTDESK_SCREENSHOTS=1` the dashboards and the search are saved as
//! `docs/staff-*.png` for the README (never in CI, so the tree stays clean).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{TimeDelta, Utc};
use fantoccini::Locator;
use frontdesk::comments::spam::issue_token;
use frontdesk::staff::{Area, Role};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::both_backends;
use crate::browser::Browser;
use crate::helpers::{spawn_app, Backend, StaffLogin, TestApp};

both_backends!(
    every_staff_page_passes_axe_and_fits_1024_pixels,
    each_roles_dashboard_and_the_search_show_the_apis_numbers,
);

/// The width the staff pages must work at without scrolling sideways.
const NARROW: u32 = 1024;

/// axe-core's browser bundle, `None` (skipped) when `npm ci --prefix tests/browser` has not run.
fn axe_source() -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(e) => {
            assert!(
                std::env::var("CI").is_err(),
                "{}: {e}; CI runs `npm ci --prefix tests/browser` first",
                path.display()
            );
            eprintln!("skipped: {} is missing ({e})", path.display());
            None
        }
    }
}

/// What the seed made, for the pages that show one record.
struct Seeded {
    comment: String,
    donation: String,
    subscriber: String,
    sent_issue: String,
    draft_issue: String,
    job: String,
    application: String,
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body = res.text().await.expect("body");
    assert_eq!(status, 201, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

/// Gifts, subscribers, votes, comments, a job with applications (`hiring_contact` among its
/// contacts), a sent and a draft issue.
async fn seed(app: &TestApp, hiring_contact: &str) -> Seeded {
    let admin = app.staff_token("admin").await;
    let staff = app.staff(&admin);
    let today = Utc::now().date_naive().to_string();
    let mut donation = String::new();
    for (email, name, amount, campaign) in [
        ("ana.reader@example.org", "Ana Donor", 2_500, "water"),
        ("bo.reader@example.org", "Bo Giver", 10_000, "water"),
        ("cy@example.org", "Cy Patron", 4_000, "schools"),
    ] {
        let gift = created(
            staff
                .post_json(
                    "/api/v1/staff/donations/offline",
                    json!({"email": email, "name": name, "amount_minor": amount,
                           "currency": "USD", "received_on": today, "method": "cheque",
                           "campaign": campaign, "send_receipt": false}),
                )
                .await,
        )
        .await;
        donation = id_of(&gift);
    }
    for email in ["night.reader@example.org", "day@example.org"] {
        let res = app.newsletter().subscribe(json!({ "email": email })).await;
        assert_eq!(res.status(), 202);
    }
    for (article, helpful) in [("water", false), ("power", false), ("roads", true)] {
        let res = app
            .client
            .post(app.url("/api/v1/feedback"))
            .json(
                &json!({"article_url": format!("http://localhost/news/{article}"),
                          "helpful": helpful,
                          "reason": if helpful { Value::Null } else { json!("unclear") }}),
            )
            .send()
            .await
            .expect("vote");
        assert!(res.status().is_success(), "{}", res.status());
    }
    for (name, email, message) in [
        (
            "Jane Reader",
            "jane@example.org",
            "The plant opened in June, not July.",
        ),
        (
            "Kim Reader",
            "kim@example.org",
            "Thank you for the roads story.",
        ),
    ] {
        let res = app
            .comments()
            .send(&json!({
                "name": name, "email": email, "subject": "Water story", "message": message,
                "article_url": "http://localhost/news/water", "website": "",
                "form_token": issue_token(&app.state.keys, Utc::now() - TimeDelta::seconds(10)),
            }))
            .await;
        assert_eq!(res.status(), 202);
    }
    let comments = staff.get_ok("/api/v1/staff/comments").await;
    let comment = id_of(&comments["items"][0]);
    let subscribers = staff.get_ok("/api/v1/staff/subscribers").await;
    let subscriber = id_of(&subscribers["items"][0]);

    let posting = created(
        staff
            .post_json(
                "/api/v1/staff/jobs",
                json!({
                    "slug": "data-reporter", "title": "Data Reporter",
                    "summary": "Find the stories in the numbers.",
                    "description_markdown": "## The role\n\nYou will **analyse** data.",
                    "location": "Bogotá", "country": "CO", "remote": "hybrid",
                    "employment_type": "full_time", "hiring_contacts": [hiring_contact],
                    "closes_at": (Utc::now() + TimeDelta::days(30)).to_rfc3339(),
                    "status": "open",
                    "questions": [{"kind": "yes_no", "label": "Can you start in January?",
                                   "required": true}],
                }),
            )
            .await,
    )
    .await;
    let question = posting["questions"][0]["id"].as_str().expect("question");
    let mut application = String::new();
    for (name, email) in [
        ("Jane Applicant", "jane.applicant@example.org"),
        ("Lee Applicant", "lee@example.org"),
    ] {
        let cv = Part::bytes(
            b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
                .to_vec(),
        )
        .file_name("CV.pdf")
        .mime_str("application/pdf")
        .expect("mime");
        let form = Form::new()
            .text("name", name)
            .text("email", email)
            .text("consent", "true")
            .text(format!("answer_{question}"), "yes")
            .part("cv", cv);
        let res = app
            .client
            .post(app.url("/api/v1/jobs/data-reporter/applications"))
            .multipart(form)
            .send()
            .await
            .expect("apply");
        application = id_of(&created(res).await);
    }

    let sent = created(
        staff
            .post_json(
                "/api/v1/staff/newsletters",
                json!({"subject": "Water week", "body_markdown": "Hello readers."}),
            )
            .await,
    )
    .await;
    let sent_issue = id_of(&sent);
    let res = staff
        .post(&format!("/api/v1/staff/newsletters/{sent_issue}/send"))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let draft = created(
        staff
            .post_json(
                "/api/v1/staff/newsletters",
                json!({"subject": "Roads week", "body_markdown": "A draft."}),
            )
            .await,
    )
    .await;
    Seeded {
        comment,
        donation,
        subscriber,
        sent_issue,
        draft_issue: id_of(&draft),
        job: "data-reporter".into(),
        application,
    }
}

/// The page a route pattern shows for the seeded records; every pattern with a parameter
/// must be known here, so a new page cannot escape the check.
fn concrete(pattern: &str, s: &Seeded) -> Vec<String> {
    let detail = |prefix: &str, id: &str| format!("{prefix}/{id}");
    match pattern {
        "/staff/comments/{id}" => vec![detail("/staff/comments", &s.comment)],
        "/staff/donations/{id}" => vec![detail("/staff/donations", &s.donation)],
        "/staff/subscribers/{id}" => vec![detail("/staff/subscribers", &s.subscriber)],
        "/staff/newsletters/{id}" => vec![
            detail("/staff/newsletters", &s.sent_issue),
            detail("/staff/newsletters", &s.draft_issue),
        ],
        "/staff/newsletters/{id}/report" => {
            vec![format!("/staff/newsletters/{}/report", s.sent_issue)]
        }
        "/staff/jobs/{slug}/edit" => vec![format!("/staff/jobs/{}/edit", s.job)],
        "/staff/jobs/{slug}/applications" => vec![format!("/staff/jobs/{}/applications", s.job)],
        "/staff/jobs/{slug}/applications/{id}" => vec![format!(
            "/staff/jobs/{}/applications/{}",
            s.job, s.application
        )],
        // The lists that show one person or one search when asked.
        // Without `email` the donor page is a 400 answer, not a page: it is reached from the
        // search and the gifts with one.
        "/staff/donors" => vec!["/staff/donors?email=ana.reader%40example.org".into()],
        "/staff/people" => vec![
            "/staff/people".into(),
            "/staff/people?email=jane%40example.org".into(),
        ],
        "/staff/search" => vec!["/staff/search".into(), "/staff/search?q=reader".into()],
        // A permanent redirect to `/staff/`, which is checked as the dashboard.
        "/staff" => vec![],
        other => {
            assert!(!other.contains('{'), "no seeded record for {other}");
            vec![other.to_string()]
        }
    }
}

/// One axe-core finding, as printed on failure.
#[derive(Debug, serde::Deserialize)]
struct Violation {
    id: String,
    impact: Option<String>,
    help: String,
    nodes: Vec<String>,
}

/// Runs axe-core (injected into the page) on the whole document: its violations.
async fn axe(browser: &Browser, source: &str) -> Vec<Violation> {
    let loaded = browser
        .client
        .execute("return typeof window.axe", vec![])
        .await
        .expect("axe?");
    if loaded != json!("object") {
        browser
            .client
            .execute(source, vec![])
            .await
            .expect("inject axe");
    }
    let answer = browser
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { resultTypes: ["violations"] })
                 .then(r => done(r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(" ") + " | " + n.html.slice(0, 200)
                                            + " | " + (n.failureSummary || "").replace(/\s+/g, " "))
                 }))))
                 .catch(e => done({ error: String(e) }));"#,
            vec![],
        )
        .await
        .expect("axe.run");
    assert!(answer.get("error").is_none(), "axe failed: {answer}");
    serde_json::from_value(answer).expect("violations")
}

/// Sizes the window so the page itself (the viewport) is `width` by `height` CSS pixels.
async fn viewport(browser: &Browser, width: u32, height: u32) {
    browser
        .client
        .set_window_size(width, height)
        .await
        .expect("window size");
    let inner = browser
        .client
        .execute("return [window.innerWidth, window.innerHeight]", vec![])
        .await
        .expect("inner size");
    let inner = |i: usize| inner[i].as_u64().expect("a number") as u32;
    let (w, h) = (inner(0), inner(1));
    if (w, h) != (width, height) {
        browser
            .client
            .set_window_size(
                width + width.saturating_sub(w),
                height + height.saturating_sub(h),
            )
            .await
            .expect("window size");
    }
}

/// How many pixels the page is wider than the viewport (0 when nothing scrolls sideways).
async fn overflow(browser: &Browser) -> i64 {
    browser
        .client
        .execute(
            "const e = document.documentElement; return e.scrollWidth - e.clientWidth",
            vec![],
        )
        .await
        .expect("widths")
        .as_i64()
        .expect("a number")
}

async fn open(browser: &Browser, app: &TestApp, path: &str) {
    browser.client.goto(&app.url(path)).await.expect("open");
    // A page that was redirected (to sign in, to enrol) is not the page under test.
    let now = browser.client.current_url().await.expect("url");
    let wanted = path.split('?').next().unwrap_or(path);
    assert_eq!(now.path(), wanted, "{path} was redirected");
}

async fn sign_in(browser: &Browser, app: &TestApp, login: &StaffLogin) {
    browser
        .client
        .goto(&app.url("/staff/login"))
        .await
        .expect("open");
    browser.fill("#email", &login.email).await;
    browser.fill("#password", &login.password).await;
    browser.click("#sign-in").await;
    browser.wait_for_text("h1", "Dashboard").await;
}

async fn sign_out(browser: &Browser) {
    browser.click(".fd-me button").await;
    browser.wait_for_path("/staff/login").await;
}

/// axe-core's findings on the open page (any impact: the issue asks for no serious or
/// critical one, and the minor and moderate ones are kept at zero too), and its sideways
/// scroll at the window's width, as failure lines naming `path`.
async fn findings(browser: &Browser, source: &str, path: &str) -> Vec<String> {
    let mut failures = Vec::new();
    for v in axe(browser, source).await {
        failures.push(format!(
            "{path}: {} ({}) {}\n    {}",
            v.id,
            v.impact.as_deref().unwrap_or("?"),
            v.help,
            v.nodes.join("\n    ")
        ));
    }
    let wider = overflow(browser).await;
    if wider > 0 {
        let culprits = browser
            .client
            .execute(
                "const w = document.documentElement.clientWidth; \
                 return [...document.querySelectorAll('body *')] \
                   .filter(e => e.getBoundingClientRect().right > w) \
                   .slice(0, 5).map(e => e.tagName + '.' + e.className);",
                vec![],
            )
            .await
            .expect("culprits");
        failures.push(format!(
            "{path}: {wider}px wider than {NARROW}px: {culprits}"
        ));
    }
    failures
}

/// Tabbing from the top of the page reaches the skip link, then the header's links, each
/// drawn with a 3px focus ring.
async fn keyboard_focus_is_visible(browser: &Browser) {
    let body = browser
        .client
        .find(Locator::Css("body"))
        .await
        .expect("body");
    for expected in ["Skip to content", "Staff"] {
        body.send_keys("\u{e004}").await.expect("tab");
        let focused = browser
            .client
            .execute(
                "const e = document.activeElement, s = getComputedStyle(e); \
                 return [e.textContent.trim(), s.outlineStyle, s.outlineWidth, \
                         e.matches(':focus-visible')]",
                vec![],
            )
            .await
            .expect("focus");
        assert!(
            focused[0].as_str().is_some_and(|t| t.contains(expected)),
            "{focused}"
        );
        assert_eq!(
            focused.as_array().map(|a| a[1..].to_vec()),
            Some(vec![json!("solid"), json!("3px"), json!(true)]),
            "{focused}"
        );
    }
}

async fn every_staff_page_passes_axe_and_fits_1024_pixels(backend: Backend) {
    let app = spawn_app(backend).await;
    let hiring = app.staff_account("hiring").await;
    let seeded = seed(&app, &hiring.email).await;
    let Some(source) = axe_source() else {
        return;
    };
    let Some(browser) = Browser::start().await else {
        return;
    };
    viewport(&browser, NARROW, 800).await;

    // The pages before signing in, then every GET page of the staff route table.
    let public: Vec<String> = [
        "/staff/login",
        "/staff/password/forgot",
        "/staff/password/reset?token=not-a-real-token",
    ]
    .map(String::from)
    .to_vec();
    let mut table: Vec<String> = frontdesk::app::access_rules()
        .into_iter()
        .filter(|r| r.area == Area::Pages && r.method == actix_web::http::Method::GET)
        .map(|r| r.path)
        .collect();
    table.sort();
    table.dedup();
    assert!(table.len() >= 30, "{table:?}");
    let signed_in: Vec<String> = table.iter().flat_map(|p| concrete(p, &seeded)).collect();

    // The harness must catch a problem: a button without a name, planted on a page.
    open(&browser, &app, "/staff/login").await;
    browser
        .client
        .execute(
            "const b = document.createElement('button'); b.id = 'planted'; \
             document.querySelector('main').appendChild(b);",
            vec![],
        )
        .await
        .expect("plant");
    let planted = axe(&browser, &source).await;
    assert!(
        planted
            .iter()
            .any(|v| v.id == "button-name" && v.nodes.iter().any(|n| n.contains("#planted"))),
        "axe did not report the nameless button: {planted:?}"
    );
    // And a page wider than the window is measured as such.
    browser
        .client
        .execute(
            "const d = document.createElement('div'); d.style.width = '1500px'; \
             d.textContent = 'wide'; document.querySelector('main').appendChild(d);",
            vec![],
        )
        .await
        .expect("plant");
    assert!(overflow(&browser).await > 0, "the overflow check measures");

    let mut failures = Vec::new();
    let mut checked = 0;
    let signing_in = public.len();
    for (i, path) in public.into_iter().chain(signed_in).enumerate() {
        if i == signing_in {
            sign_in(&browser, &app, &app.staff_account("admin").await).await;
            keyboard_focus_is_visible(&browser).await;
        }
        open(&browser, &app, &path).await;
        checked += 1;
        failures.extend(findings(&browser, &source, &path).await);
    }
    // The page shown when a role is refused: an editor on the staff accounts.
    sign_out(&browser).await;
    sign_in(&browser, &app, &app.staff_account("editor").await).await;
    open(&browser, &app, "/staff/accounts").await;
    browser.wait_for_text("h1", "Forbidden").await;
    checked += 1;
    failures.extend(findings(&browser, &source, "/staff/accounts (refused)").await);
    eprintln!("{checked} pages checked");
    assert!(checked >= 38, "only {checked} pages checked");
    assert!(
        failures.is_empty(),
        "{} findings:\n{}",
        failures.len(),
        failures.join("\n")
    );
    browser.client.clone().close().await.expect("close");
}

/// `GET path` from the page, with the signed-in staff member's session: the JSON answer.
async fn api_json(browser: &Browser, path: &str) -> Value {
    let answer = browser
        .client
        .execute_async(
            "const [path, done] = arguments; \
             fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }) \
               .then(r => r.text().then(body => done([r.status, body]))) \
               .catch(e => done([0, String(e)]));",
            vec![json!(path)],
        )
        .await
        .expect("fetch");
    let body = answer[1].as_str().unwrap_or_default();
    assert_eq!(answer[0], json!(200), "GET {path}: {body}");
    serde_json::from_str(body).expect("json")
}

/// The figures of a dashboard as the API gives them, keyed as the page's `data-figure`.
fn expected_figures(d: &Value) -> BTreeMap<String, i64> {
    let count = |v: &Value| v.as_i64().unwrap_or_else(|| panic!("not a number: {v}"));
    let total = |v: &Value| -> i64 {
        v.as_array()
            .unwrap_or_else(|| panic!("not a list: {v}"))
            .iter()
            .map(|s| count(&s["count"]))
            .sum()
    };
    let mut figures = BTreeMap::new();
    let f = &d["fundraising"];
    if f.is_object() {
        for month in ["this_month", "last_month", "same_month_last_year"] {
            figures.insert(format!("{month}.gifts"), total(&f[month]["gifts"]));
        }
        figures.insert("active_monthly".into(), total(&f["active_monthly"]));
        for key in [
            "new_monthly",
            "cancelled_monthly",
            "failed_payments_waiting",
        ] {
            figures.insert(key.into(), count(&f[key]));
        }
    }
    let each = |figures: &mut BTreeMap<String, i64>, prefix: &str, list: &Value, key: &str| {
        for s in list
            .as_array()
            .unwrap_or_else(|| panic!("not a list: {list}"))
        {
            let name = s[key].as_str().expect("name");
            figures.insert(format!("{prefix}.{name}"), count(&s["count"]));
        }
    };
    if d["newsletter"].is_object() {
        each(
            &mut figures,
            "subscribers",
            &d["newsletter"]["subscribers"],
            "status",
        );
    }
    if d["editors"].is_object() {
        figures.insert(
            "unanswered_comments".into(),
            count(&d["editors"]["unanswered_comments"]["count"]),
        );
    }
    let h = &d["hiring"];
    if h.is_object() {
        figures.insert("open_postings".into(), count(&h["open_postings"]));
        each(&mut figures, "stages", &h["stages"], "stage");
    }
    let hl = &d["health"];
    if hl.is_object() {
        each(&mut figures, "outbox", &hl["outbox"], "status");
        figures.insert("uploads_files".into(), count(&hl["uploads_files"]));
    }
    figures
}

/// The figures the page shows: each `data-figure` element's number.
async fn shown_figures(browser: &Browser) -> BTreeMap<String, i64> {
    let mut figures = BTreeMap::new();
    for element in browser
        .client
        .find_all(Locator::Css("[data-figure]"))
        .await
        .expect("figures")
    {
        let key = element
            .attr("data-figure")
            .await
            .expect("attr")
            .expect("key");
        let text = element.text().await.expect("text");
        let n = text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{key} shows {text:?}, not a number"));
        assert!(figures.insert(key.clone(), n).is_none(), "{key} twice");
    }
    figures
}

/// Saves the page as `docs/{name}.png`, whole, when `FRONTDESK_SCREENSHOTS=1`.
async fn keep_screenshot(browser: &Browser, name: &str) {
    if std::env::var("FRONTDESK_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let height = browser
        .client
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .expect("height")
        .as_u64()
        .expect("a number") as u32;
    viewport(browser, 1280, height.clamp(600, 4000)).await;
    let png = browser.client.screenshot().await.expect("screenshot");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("docs/{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    eprintln!("saved {}", path.display());
    viewport(browser, NARROW, 800).await;
}

async fn each_roles_dashboard_and_the_search_show_the_apis_numbers(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut logins = Vec::new();
    for role in Role::ALL {
        logins.push((role, app.staff_account(role.as_str()).await));
    }
    let hiring = logins
        .iter()
        .find(|(role, _)| *role == Role::Hiring)
        .map(|(_, login)| login.email.clone())
        .expect("a hiring account");
    seed(&app, &hiring).await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    viewport(&browser, NARROW, 800).await;
    // The sent issue goes out in the background: wait until it is listed and the outbox has
    // settled, so the page and the API are read from the same data.
    let admin = app.staff_token("admin").await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let d = app.staff(&admin).get_ok("/api/v1/staff/dashboard").await;
        if d["newsletter"]["last_issues"].get(0).is_some() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never listed: {d}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.drain_outbox().await;
    for (role, login) in &logins {
        let role = *role;
        sign_in(&browser, &app, login).await;
        open(&browser, &app, "/staff/").await;
        let api = api_json(&browser, "/api/v1/staff/dashboard").await;
        let shown = shown_figures(&browser).await;
        let expected = expected_figures(&api);
        assert!(!expected.is_empty(), "{role}: no figures in {api}");
        assert_eq!(shown, expected, "{role}: the page against {api}");
        // The seed shows through, so equal maps are not two empty dashboards.
        let seeded = match role {
            Role::Admin => ("this_month.gifts", 3),
            Role::Fundraising => ("this_month.gifts", 3),
            Role::Editor => ("unanswered_comments", 2),
            Role::Hiring => ("stages.new", 2),
        };
        assert_eq!(shown.get(seeded.0), Some(&seeded.1), "{role}: {shown:?}");
        keep_screenshot(&browser, &format!("staff-dashboard-{}", role.as_str())).await;

        if role == Role::Admin {
            let q = "reader";
            let api = api_json(&browser, &format!("/api/v1/staff/search?q={q}")).await;
            let hits = api["hits"].as_array().expect("hits");
            assert!(hits.len() >= 4, "{api}");
            browser.fill("#staff-search", q).await;
            browser.click(".fd-search button").await;
            browser.wait_for_path("/staff/search").await;
            let caption = browser.wait_for_text("#results caption", q).await;
            assert!(
                caption.starts_with(&format!("{} results", hits.len())),
                "{caption} against {api}"
            );
            let mut links = Vec::new();
            for a in browser
                .client
                .find_all(Locator::Css("#results tbody a"))
                .await
                .expect("links")
            {
                links.push((
                    a.text().await.expect("text"),
                    a.attr("href").await.expect("href").expect("href"),
                ));
            }
            let wanted: Vec<(String, String)> = hits
                .iter()
                .map(|h| {
                    (
                        h["title"].as_str().expect("title").to_string(),
                        h["href"].as_str().expect("href").to_string(),
                    )
                })
                .collect();
            assert_eq!(links, wanted);
            keep_screenshot(&browser, "staff-search").await;
        }
        sign_out(&browser).await;
    }
    browser.client.clone().close().await.expect("close");
}
