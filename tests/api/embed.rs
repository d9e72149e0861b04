//! The embed assets, the demo article page, the widgets' option endpoints and the public
//! API's CORS as the widgets meet it.

use reqwest::header;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app, spawn_app_with, Backend};

both_backends!(
    embed_assets_are_compressed_cached_and_within_budget,
    widget_messages_are_served_per_language_and_cached,
    the_site_words_the_donate_appeal_per_language,
    demo_article_embeds_every_widget_and_is_off_when_disabled,
    demo_article_speaks_spanish_with_lang_es,
    donation_options_follow_the_configuration,
    feedback_options_name_the_configured_reasons,
    public_api_allows_the_demo_origin_and_allowed_origins_only,
);

/// Script, stylesheet and the larger of the widgets' catalogues (a reader loads one),
/// gzipped as served, must stay within 20 KiB together.
const BUDGET_GZIPPED: usize = 20 * 1024;

async fn embed_assets_are_compressed_cached_and_within_budget(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut gzipped = 0;
    let mut largest_catalogue = 0;
    let mut etags = Vec::new();
    for (path, content_type) in [
        ("/embed/frontdesk.js", "text/javascript; charset=utf-8"),
        ("/embed/frontdesk.css", "text/css; charset=utf-8"),
        ("/embed/i18n/en.json", "application/json"),
        ("/embed/i18n/es.json", "application/json"),
    ] {
        let plain = app.get(path).await;
        assert_eq!(plain.status(), 200);
        assert_eq!(plain.headers()[header::CONTENT_TYPE], content_type);
        assert_eq!(
            plain.headers()[header::CACHE_CONTROL],
            "public, max-age=300"
        );
        assert_eq!(
            plain.headers()["cross-origin-resource-policy"],
            "cross-origin"
        );
        let etag = plain.headers()[header::ETAG]
            .to_str()
            .expect("etag")
            .to_string();
        let plain_len = plain.bytes().await.expect("body").len();

        // reqwest here has no gzip feature: the body is read as sent.
        let packed = app
            .client
            .get(app.url(path))
            .header(header::ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .expect("request");
        assert_eq!(packed.headers()[header::CONTENT_ENCODING], "gzip");
        let packed_len = packed.bytes().await.expect("body").len();
        assert!(
            packed_len < plain_len / 2,
            "{path}: {packed_len} of {plain_len}"
        );
        eprintln!("{path}: {plain_len} bytes, {packed_len} gzipped");
        if path.starts_with("/embed/i18n/") {
            largest_catalogue = largest_catalogue.max(packed_len);
        } else {
            gzipped += packed_len;
        }

        // Revalidation and the versioned, immutable URL.
        let again = app
            .client
            .get(app.url(path))
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), 304);
        let version = frontdesk::embed::assets::version();
        let versioned = app.get(&format!("{path}?v={version}")).await;
        assert_eq!(
            versioned.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let stale = app.get(&format!("{path}?v=000000000000")).await;
        assert_eq!(
            stale.headers()[header::CACHE_CONTROL],
            "public, max-age=300"
        );
        etags.push(etag);
    }
    eprintln!(
        "embed assets: script and styles {gzipped} + largest catalogue {largest_catalogue} = {} bytes gzipped (budget {BUDGET_GZIPPED})",
        gzipped + largest_catalogue
    );
    assert!(largest_catalogue > 0);
    let total = gzipped + largest_catalogue;
    assert!(total <= BUDGET_GZIPPED, "{total} bytes gzipped");
    let distinct: std::collections::BTreeSet<_> = etags.iter().collect();
    assert_eq!(distinct.len(), etags.len(), "{etags:?}");
}

async fn widget_messages_are_served_per_language_and_cached(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut keys = Vec::new();
    for (lang, donate, summary_one) in [
        (
            "en",
            "Donate",
            "{helpful} of {total} reader found this helpful.",
        ),
        (
            "es",
            "Donar",
            "A {helpful} de {total} lector le resultó útil.",
        ),
    ] {
        let res = app.get(&format!("/embed/i18n/{lang}.json")).await;
        assert_eq!(res.status(), 200, "{lang}");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "public, max-age=300");
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let etag = res.headers()[header::ETAG]
            .to_str()
            .expect("etag")
            .to_string();
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["lang"], lang);
        let messages = body["messages"].as_object().expect("messages");
        assert_eq!(messages["widget-donate-button"], donate);
        assert_eq!(
            messages["widget-donate-button-monthly"]
                .as_str()
                .map(|m| m.contains("{amount}")),
            Some(true),
            "{lang}: arguments stay for the script"
        );
        // A plural is sent as its variants; the script picks one with Intl.PluralRules.
        let summary = &messages["widget-helpful-summary"];
        assert_eq!(summary["$"], "total");
        assert_eq!(summary["one"], summary_one);
        assert_eq!(summary["*"], summary["other"]);
        // Only the widgets' catalogue: no email or page messages.
        assert!(messages.keys().all(|k| k.starts_with("widget-")), "{lang}");
        keys.push(messages.keys().cloned().collect::<Vec<_>>());

        let again = app
            .client
            .get(app.url(&format!("/embed/i18n/{lang}.json")))
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(again.status(), 304);
        let version = frontdesk::embed::assets::version();
        let versioned = app
            .get(&format!("/embed/i18n/{lang}.json?v={version}"))
            .await;
        assert_eq!(
            versioned.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(versioned.headers()[header::ETAG], etag.as_str());
    }
    assert_eq!(keys[0], keys[1], "both languages have the same messages");

    // default.json is the site's default language.
    let default: Value = app
        .get("/embed/i18n/default.json")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(default["lang"], "en");
    let spanish_site = spawn_app_with(backend, |s| s.site.default_language = "es".into()).await;
    let default: Value = spanish_site
        .get("/embed/i18n/default.json")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(default["lang"], "es");
    assert_eq!(default["messages"]["widget-helpful-yes"], "Sí");

    // A language the site does not offer is a 404 problem.
    for path in [
        "/embed/i18n/fr.json",
        "/embed/i18n/EN.json",
        "/embed/i18n/en",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
        if path.ends_with(".json") {
            assert_eq!(
                res.headers()[header::CONTENT_TYPE],
                "application/problem+json",
                "{path}"
            );
        }
    }
}

async fn demo_article_embeds_every_widget_and_is_off_when_disabled(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/demo/article").await;
    assert_eq!(res.status(), 200);
    // minijinja escapes "/" in HTML as "&#x2f;", which browsers read back as "/".
    let page = res.text().await.expect("page").replace("&#x2f;", "/");
    let public_url = app
        .settings
        .server
        .public_url
        .as_str()
        .trim_end_matches('/');
    assert!(page.contains(&format!(
        "<script src=\"{public_url}/embed/frontdesk.js?v={}\" defer></script>",
        frontdesk::embed::assets::version()
    )));
    assert!(page.contains(&format!(
        "<link rel=\"canonical\" href=\"{public_url}/demo/article\">"
    )));
    for kind in ["helpful", "donate", "comment", "newsletter", "jobs"] {
        assert!(
            page.contains(&format!("data-frontdesk=\"{kind}\"")),
            "{kind}"
        );
    }
    for text in [
        "Iran to Train Bolivia Police in Drug Ops",
        "InSight Crime Analysis",
        "Related Content",
        "Open Position: Social Media and Engagement Strategist",
    ] {
        assert!(page.contains(text), "{text}");
    }
    assert!(page.contains("<html lang=\"en\">"));
    assert!(!page.contains("data-lang="), "the page's lang decides");
    assert_eq!(app.get("/demo/article.css").await.status(), 200);

    let off = spawn_app_with(backend, |s| s.demo.enabled = false).await;
    assert_eq!(off.get("/demo/article").await.status(), 404);
    assert_eq!(off.get("/demo/article.css").await.status(), 404);
    // The widgets themselves are served either way: newsrooms embed them.
    assert_eq!(off.get("/embed/frontdesk.js").await.status(), 200);
}

async fn demo_article_speaks_spanish_with_lang_es(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app
        .get("/demo/article?lang=es")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("<html lang=\"es\">"));
    for kind in ["helpful", "donate", "comment", "newsletter", "jobs"] {
        assert!(
            page.contains(&format!("data-frontdesk=\"{kind}\" data-lang=\"es\"")),
            "{kind}"
        );
    }
    for text in [
        "Artículo de demostración servido por Frontdesk",
        "Contenido relacionado",
        "Sobre InSight Crime",
        "data-heading-es=\"Apoye a InSight Crime\"",
        // The story is the newsroom's English edition.
        "Iran to Train Bolivia Police in Drug Ops",
    ] {
        assert!(page.contains(text), "{text}");
    }
    assert!(!page.contains("Related Content"));
    // A language the site does not offer shows the default.
    let page = app
        .get("/demo/article?lang=fr")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("<html lang=\"en\">") && page.contains("Related Content"));
    assert!(!page.contains("data-lang="));
}

async fn donation_options_follow_the_configuration(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.donations.currencies.insert(
            "JPY".into(),
            frontdesk::config::CurrencyBounds {
                min: 100,
                max: 1_000_000,
            },
        );
    })
    .await;
    let res = app.get("/api/v1/donations/options").await;
    assert_eq!(res.status(), 200);
    let options: Value = res.json().await.expect("json");
    assert_eq!(
        options,
        json!({
            "currencies": [
                {"code": "JPY", "decimals": 0, "min_minor": 100, "max_minor": 1_000_000,
                 "presets": {"one_time": [], "monthly": []}},
                {"code": "USD", "decimals": 2, "min_minor": 100, "max_minor": 10_000_000,
                 "presets": {"one_time": [1000, 2500, 5000, 10000], "monthly": [500, 1000, 2500, 5000]}},
            ],
            "frequencies": ["one_time", "monthly"],
            "redirects_to_checkout": false,
            "fee_percent": 2.9,
            "fee_fixed_minor": 30,
        })
    );
    let openapi: Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    assert!(openapi["paths"]["/api/v1/donations/options"]["get"].is_object());
    // The route does not shadow a gift's status page.
    assert_eq!(app.get("/api/v1/donations/unknown-id").await.status(), 404);
}

async fn feedback_options_name_the_configured_reasons(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.feedback.reasons = vec!["outdated".into(), "other".into()];
    })
    .await;
    let options: Value = app
        .get("/api/v1/feedback/options")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        options,
        json!({"reasons": ["outdated", "other"], "comment_max_chars": 2000})
    );
}

async fn public_api_allows_the_demo_origin_and_allowed_origins_only(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.server.allowed_origins = vec!["https://news.example.org".into()];
    })
    .await;
    let demo = app
        .settings
        .server
        .public_url
        .origin()
        .ascii_serialization();
    let preflight = |origin: String| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/feedback"))
            .header(header::ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    for origin in [demo.clone(), "https://news.example.org".to_string()] {
        let res = preflight(origin.clone()).await.expect("preflight");
        assert_eq!(res.status(), 200, "{origin}");
        assert_eq!(
            res.headers()["access-control-allow-origin"],
            origin.as_str()
        );
        assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    }
    let res = preflight("https://elsewhere.example".into())
        .await
        .expect("preflight");
    assert_eq!(res.status(), 400, "another origin is refused");
    assert!(res.headers().get("access-control-allow-origin").is_none());

    // With the demo off, the service's own origin is just another origin.
    let off = spawn_app_with(backend, |s| s.demo.enabled = false).await;
    let res = off
        .client
        .request(reqwest::Method::OPTIONS, off.url("/api/v1/feedback"))
        .header(header::ORIGIN, demo)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(res.status(), 400);
}

/// `[site.wording.es]` sets the Spanish DONATE appeal: the Spanish catalogue carries it and,
/// since it changes with the configuration, is never cached as immutable; English keeps the
/// catalogue's words and the release's long cache.
async fn the_site_words_the_donate_appeal_per_language(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.site.wording.insert(
            "es".into(),
            [(
                "widget-donate-intro".to_string(),
                "Cada aporte paga una hora de reportería.".to_string(),
            )]
            .into(),
        );
    })
    .await;
    let version = frontdesk::embed::assets::version();
    let es = app.get(&format!("/embed/i18n/es.json?v={version}")).await;
    assert_eq!(es.status(), 200);
    assert_eq!(es.headers()[header::CACHE_CONTROL], "public, max-age=300");
    let es: Value = es.json().await.expect("json");
    assert_eq!(
        es["messages"]["widget-donate-intro"],
        "Cada aporte paga una hora de reportería."
    );
    assert_eq!(
        es["messages"]["widget-donate-heading"],
        "Apoye nuestro periodismo"
    );
    let en = app.get(&format!("/embed/i18n/en.json?v={version}")).await;
    assert_eq!(
        en.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let en: Value = en.json().await.expect("json");
    assert_ne!(
        en["messages"]["widget-donate-intro"],
        "Cada aporte paga una hora de reportería."
    );
}
