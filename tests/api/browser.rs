//! Browser tests: a real headless Chromium, driven over WebDriver, against the real server.
//!
//! They need `chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`; `.ci/run`
//! installs them). Without them the tests say they were skipped, except under CI, where a
//! missing browser is a failure.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::{Element, ShadowRoot};
use fantoccini::{Client, ClientBuilder, Locator};

use crate::helpers::{spawn_app, Backend, TestApp};

/// A chromedriver process of our own, stopped on drop with its browser.
pub struct Browser {
    pub client: Client,
    driver: Child,
    /// chromedriver's port and the session's id, to end the session on drop.
    session: Option<(u16, String)>,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that failed before closing its session would leave Chromium running once
        // chromedriver is killed: ask chromedriver to quit it first (blocking, as drop must).
        if let Some((port, id)) = self.session.take() {
            end_session(port, &id);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `DELETE /session/{id}` to chromedriver over a plain socket (no runtime in `drop`).
fn end_session(port: u16, id: &str) {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}

fn find(program: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .chain(fallbacks.iter().map(PathBuf::from))
        .find(|p| p.is_file())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium; `None` (skipped) when they are not installed.
    pub async fn start() -> Option<Browser> {
        let (Some(driver_bin), Some(chromium)) = (
            find("chromedriver", &["/usr/lib/chromium/chromedriver"]),
            find("chromium", &["/usr/bin/chromium-browser"]),
        ) else {
            assert!(
                std::env::var("CI").is_err(),
                "chromium and chromedriver must be installed in CI (.ci/run installs them)"
            );
            eprintln!("skipped: chromium and chromedriver are not installed");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("an object literal"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..50 {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    let session = client
                        .session_id()
                        .await
                        .ok()
                        .flatten()
                        .map(|id| (port, id));
                    return Some(Browser {
                        client,
                        driver,
                        session,
                        _profile: profile,
                    });
                }
                Err(e) => {
                    last_error = Some(e);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        panic!("cannot start a browser session: {last_error:?}");
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// Waits until the element `css` exists and its text contains `needle` (pages load
    /// after clicks; an element read too early may belong to the page being left).
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        let mut last = String::new();
        while tokio::time::Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                    last = text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never showed {needle:?}; last seen {last:?}");
    }

    /// Waits until the browser is at `path`.
    pub async fn wait_for_path(&self, path: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let now = self
                .client
                .current_url()
                .await
                .expect("url")
                .path()
                .to_string();
            if now == path {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "stuck at {now}, expected {path}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The shadow root of the `data-frontdesk="kind"` widget, once the script has built it
    /// and its stylesheet has loaded (the widget's box is shown then).
    pub async fn widget(&self, kind: &str) -> ShadowRoot {
        let host = format!("[data-frontdesk='{kind}']");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(element) = self.client.find(Locator::Css(&host)).await {
                if let Ok(root) = element.shadow_root().await {
                    if let Ok(frame) = root.find(Locator::Css(".fd-widget")).await {
                        if frame.is_displayed().await.unwrap_or(false) {
                            return root;
                        }
                    }
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the {kind} widget never appeared"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element `css` inside the `kind` widget, waiting until it is displayed.
    pub async fn in_widget(&self, kind: &str, css: &str) -> Element {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let root = self.widget(kind).await;
            if let Ok(element) = root.find(Locator::Css(css)).await {
                if element.is_displayed().await.unwrap_or(false) {
                    return element;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} never showed in the {kind} widget"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types into a field of the `kind` widget (clearing it first).
    pub async fn fill_in_widget(&self, kind: &str, css: &str, text: &str) {
        let field = self.in_widget(kind, css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    pub async fn click_in_widget(&self, kind: &str, css: &str) {
        self.in_widget(kind, css)
            .await
            .click()
            .await
            .expect("click");
    }

    /// Waits until `css` inside the `kind` widget shows `needle`; returns its text.
    pub async fn wait_in_widget(&self, kind: &str, css: &str, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        let mut last = String::new();
        while tokio::time::Instant::now() < deadline {
            let root = self.widget(kind).await;
            if let Ok(element) = root.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                    last = text;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} in the {kind} widget never showed {needle:?}; last seen {last:?}");
    }

    /// Saves a PNG under `target/screenshots/` as a test artefact.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

async fn signed_in_browser(app: &TestApp, email: &str, password: &str) -> Option<Browser> {
    let browser = Browser::start().await?;
    browser
        .client
        .goto(&app.url("/staff/"))
        .await
        .expect("open");
    browser.wait_for_path("/staff/login").await; // anonymous visitors are sent to sign in
    browser.fill("#email", email).await;
    browser.fill("#password", password).await;
    browser.click("#sign-in").await;
    Some(browser)
}

#[tokio::test]
async fn staff_sign_in_dashboard_and_sign_out_in_a_real_browser() {
    let app = spawn_app(Backend::Sqlite).await;
    let login = app.staff_account("admin").await;

    // A wrong password is refused with a message on the page.
    let Some(browser) = signed_in_browser(&app, &login.email, "a wrong password entirely").await
    else {
        return;
    };
    browser
        .wait_for_text("#login-error", "The email or password is wrong.")
        .await;

    // The right one opens the dashboard.
    browser.fill("#email", &login.email).await;
    browser.fill("#password", &login.password).await;
    browser.click("#sign-in").await;
    browser.wait_for_text("h1", "Dashboard").await;
    browser.wait_for_path("/staff/").await;
    let nav = browser.wait_for_text("nav.fd-nav", "Staff accounts").await;
    assert!(nav.contains("Audit log"), "{nav}");
    let shot = browser.screenshot("staff-dashboard").await;
    assert!(std::fs::metadata(&shot).expect("screenshot").len() > 1000);

    // A form post from the page carries its CSRF token and works.
    browser.click("a[href='/staff/account']").await;
    browser.wait_for_text("h1", "Your account").await;
    browser.fill("#label", "browser test").await;
    browser
        .click("form[action='/staff/account/tokens'] button")
        .await;
    browser.wait_for_text("#new-token", "fd_").await;

    // Sign out; the session is over.
    browser.click(".fd-me button").await;
    browser.wait_for_text(".fd-flash", "signed out").await;
    browser.wait_for_path("/staff/login").await;
    browser
        .client
        .goto(&app.url("/staff/"))
        .await
        .expect("open");
    browser.wait_for_path("/staff/login").await;
    browser.client.clone().close().await.expect("close");
}
