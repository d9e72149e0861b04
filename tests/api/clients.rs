//! Per-feature clients on the test app, so a test says what a reader does
//! (`app.newsletter().subscribe(body)`) rather than how the request is built. Staff requests
//! go through `app.staff(token)` (in `helpers.rs`).

use serde_json::Value;

use crate::helpers::TestApp;

/// The public JSON API of one feature, as a reader's browser calls it.
pub struct PublicApi<'a> {
    app: &'a TestApp,
}

impl TestApp {
    pub fn newsletter(&self) -> Newsletter<'_> {
        Newsletter(PublicApi { app: self })
    }

    pub fn donations(&self) -> Donations<'_> {
        Donations(PublicApi { app: self })
    }

    pub fn comments(&self) -> Comments<'_> {
        Comments(PublicApi { app: self })
    }
}

impl PublicApi<'_> {
    async fn post(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.app.client.post(self.app.url(path)).json(body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.expect("request")
    }
}

/// `POST /api/v1/newsletter/subscriptions` and friends.
pub struct Newsletter<'a>(PublicApi<'a>);

impl Newsletter<'_> {
    pub async fn subscribe(&self, body: Value) -> reqwest::Response {
        self.0
            .post("/api/v1/newsletter/subscriptions", &body, &[])
            .await
    }
}

/// `POST /api/v1/donations`.
pub struct Donations<'a>(PublicApi<'a>);

impl Donations<'_> {
    /// Pledges a gift, with an `Idempotency-Key` when given.
    pub async fn donate(&self, body: &Value, key: Option<&str>) -> reqwest::Response {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        self.0.post("/api/v1/donations", body, &headers).await
    }
}

/// `POST /api/v1/comments`.
pub struct Comments<'a>(PublicApi<'a>);

impl Comments<'_> {
    pub async fn send(&self, body: &Value) -> reqwest::Response {
        self.0.post("/api/v1/comments", body, &[]).await
    }
}
