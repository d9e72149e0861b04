//! Reader pages in the reader's language: `?lang=` over the language stored with the person
//! over `Accept-Language` over the default; the language forms of the preferences and donor
//! pages; problem documents of public endpoints in the request's language; and no English
//! literal left outside `t()` in the reader page templates.

use std::path::Path;

use diesel::prelude::*;
use frontdesk::db::schema::{donations, newsletter_subscribers};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};

both_backends!(
    pages_follow_accept_language_and_the_query,
    the_stored_language_wins_over_accept_language,
    subscribers_change_their_language_on_the_preferences_page,
    donors_change_their_language_on_their_page,
    public_problems_are_in_the_request_language,
);

async fn page(app: &TestApp, path: &str, accept_language: Option<&str>) -> (u16, String) {
    let mut req = app.client.get(app.url(path));
    if let Some(al) = accept_language {
        req = req.header("Accept-Language", al);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.text().await.expect("html"))
}

async fn post_form(
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
    accept_language: Option<&str>,
) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).form(form);
    if let Some(al) = accept_language {
        req = req.header("Accept-Language", al);
    }
    req.send().await.expect("request")
}

/// Sends a language form choosing Spanish: 303 back to `page` (same link); the `Location`.
async fn choose_spanish(app: &TestApp, form: &str, page: &str) -> String {
    let res = post_form(app, form, &[("lang", "es")], None).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        location.starts_with(&format!("{page}?token=")),
        "{location}"
    );
    location
}

/// Subscribes `email` in `lang` through the public API; returns the preferences page path.
async fn subscriber(app: &TestApp, email: &str, lang: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/v1/newsletter/subscriptions"))
        .json(&json!({"email": email, "lang": lang}))
        .send()
        .await
        .expect("subscribe");
    assert_eq!(res.status(), 202);
    let address = email.to_string();
    let id = app
        .state
        .db
        .run(move |conn| {
            Ok(newsletter_subscribers::table
                .filter(newsletter_subscribers::email.eq(address))
                .select(newsletter_subscribers::id)
                .first::<String>(conn)?)
        })
        .await
        .expect("subscriber");
    format!(
        "/newsletter/unsubscribe?token={}",
        frontdesk::newsletter::unsubscribe_token(&app.state.keys, &id)
    )
}

async fn subscriber_lang(app: &TestApp, email: &str) -> Option<String> {
    let address = email.to_string();
    app.state
        .db
        .run(move |conn| {
            Ok(newsletter_subscribers::table
                .filter(newsletter_subscribers::email.eq(address))
                .select(newsletter_subscribers::lang)
                .first::<Option<String>>(conn)?)
        })
        .await
        .expect("subscriber")
}

async fn pages_follow_accept_language_and_the_query(backend: Backend) {
    let app = spawn_app(backend).await;

    let (status, html) = page(&app, "/jobs/no-such-post", None).await;
    assert_eq!(status, 404);
    assert!(html.contains(r#"<html lang="en">"#), "{html}");
    assert!(html.contains("Position not found"), "{html}");

    let (_, html) = page(&app, "/jobs/no-such-post", Some("es-MX,es;q=0.9,en;q=0.5")).await;
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
    assert!(html.contains("Vacante no encontrada"), "{html}");
    assert!(!html.contains("Position not found"), "{html}");

    let (_, html) = page(&app, "/jobs/no-such-post?lang=es", Some("en")).await;
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
    assert!(html.contains("Volver a Newsroom"), "{html}");

    // A tag the site does not offer is ignored, not refused.
    let (status, html) = page(&app, "/jobs/no-such-post?lang=fr", Some("es")).await;
    assert_eq!(status, 404);
    assert!(html.contains("Vacante no encontrada"), "{html}");

    let (_, html) = page(&app, "/newsletter/confirm?token=unknown", Some("es")).await;
    assert!(html.contains("Este enlace no es válido"), "{html}");
    assert!(html.contains("días"), "plural from the catalogue: {html}");

    let (_, html) = page(&app, "/donations/manage?token=unknown", Some("es")).await;
    assert!(html.contains("Este enlace venció"), "{html}");
    let (_, html) = page(&app, "/privacy/delete/confirm?token=unknown&lang=es", None).await;
    assert!(html.contains("Este enlace no es válido"), "{html}");
}

async fn the_stored_language_wins_over_accept_language(backend: Backend) {
    let app = spawn_app(backend).await;
    let prefs = subscriber(&app, "ana@example.org", "es").await;

    let (status, html) = page(&app, &prefs, Some("en")).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
    assert!(html.contains("Su suscripción al boletín"), "{html}");
    assert!(html.contains("Darme de baja"), "{html}");
    assert!(
        html.contains(r#"<option value="es" selected lang="es">Español</option>"#),
        "{html}"
    );

    // `?lang=` wins over the stored language.
    let (_, html) = page(&app, &format!("{prefs}&lang=en"), Some("es")).await;
    assert!(html.contains(r#"<html lang="en">"#), "{html}");
    assert!(html.contains("Your newsletter subscription"), "{html}");

    // An English subscriber reads English whatever the browser says.
    let english = subscriber(&app, "jo@example.org", "en").await;
    let (_, html) = page(&app, &english, Some("es")).await;
    assert!(html.contains("Your newsletter subscription"), "{html}");
}

async fn subscribers_change_their_language_on_the_preferences_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let prefs = subscriber(&app, "jo@example.org", "en").await;
    let token = prefs.trim_start_matches("/newsletter/unsubscribe?token=");
    let (_, html) = page(&app, &prefs, None).await;
    assert!(
        html.contains(&format!(r#"action="/newsletter/language?token={token}""#)),
        "the page offers the form: {html}"
    );

    let location = choose_spanish(
        &app,
        &format!("/newsletter/language?token={token}"),
        "/newsletter/unsubscribe",
    )
    .await;
    assert_eq!(
        subscriber_lang(&app, "jo@example.org").await.as_deref(),
        Some("es")
    );
    let (_, html) = page(&app, &location, Some("en")).await;
    assert!(html.contains("Guardamos su idioma."), "{html}");
    assert!(html.contains(r#"<html lang="es">"#), "{html}");

    let res = post_form(
        &app,
        &format!("/newsletter/language?token={token}"),
        &[("lang", "fr")],
        Some("es"),
    )
    .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.headers()["content-type"].to_str().expect("ascii"),
        "application/problem+json"
    );
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "lang");
    assert_eq!(
        problem["errors"][0]["message"],
        "Elija uno de los idiomas disponibles: en, es."
    );
    assert_eq!(
        subscriber_lang(&app, "jo@example.org").await.as_deref(),
        Some("es"),
        "unchanged by a refused tag"
    );

    let res = post_form(
        &app,
        "/newsletter/language?token=forged",
        &[("lang", "en")],
        None,
    )
    .await;
    assert_eq!(res.status(), 404);
}

async fn donors_change_their_language_on_their_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .client
        .post(app.url("/api/v1/donations"))
        .json(
            &json!({"amount_minor": 2500, "currency": "USD", "frequency": "one_time",
                      "email": "ana@example.org", "lang": "en"}),
        )
        .send()
        .await
        .expect("donate");
    assert_eq!(res.status(), 201);
    let token = app
        .state
        .db
        .write(|conn| {
            Ok(frontdesk::donations::token::issue(
                conn,
                "ana@example.org",
                frontdesk::db::now(),
                1,
            )?)
        })
        .await
        .expect("donor link");
    let manage = format!("/donations/manage?token={token}");
    let (status, html) = page(&app, &manage, Some("es")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Your donations"),
        "stored English wins: {html}"
    );
    assert!(html.contains("$25.00"), "{html}");
    assert!(
        html.contains(&format!(
            r#"action="/donations/manage/language?token={token}""#
        )),
        "{html}"
    );

    let location = choose_spanish(
        &app,
        &format!("/donations/manage/language?token={token}"),
        "/donations/manage",
    )
    .await;
    let stored = app
        .state
        .db
        .run(|conn| {
            Ok(donations::table
                .filter(donations::email_normalized.eq("ana@example.org"))
                .select(donations::lang)
                .load::<Option<String>>(conn)?)
        })
        .await
        .expect("donations");
    assert_eq!(stored, vec![Some("es".to_string())]);
    let (_, html) = page(&app, &location, Some("en")).await;
    assert!(html.contains(r#"<html lang="es">"#), "{html}");
    assert!(html.contains("Sus donaciones"), "{html}");
    assert!(html.contains("Guardamos su idioma."), "{html}");
    assert!(html.contains("Única"), "{html}");
    // Amounts in the language's CLDR format, statuses by their Spanish labels.
    assert!(html.contains("25,00"), "{html}");
    assert!(
        ["Pendiente", "Prometida", "Pagada"]
            .iter()
            .any(|label| html.contains(&format!("<td>{label}</td>"))),
        "{html}"
    );

    let res = post_form(
        &app,
        &format!("/donations/manage/language?token={token}"),
        &[("lang", "pt")],
        None,
    )
    .await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "lang");

    let (status, html) = page(&app, "/donations/manage/language?token=x", None).await;
    assert_eq!(status, 405, "no GET: {html}");
    let res = post_form(
        &app,
        "/donations/manage/language?token=unknown",
        &[("lang", "es")],
        None,
    )
    .await;
    assert_eq!(res.status(), 404, "an unknown link changes nothing");
}

async fn public_problems_are_in_the_request_language(backend: Backend) {
    let app = spawn_app(backend).await;
    let post = |body: Value, accept_language: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/api/v1/newsletter/subscriptions"))
            .json(&body);
        if let Some(al) = accept_language {
            req = req.header("Accept-Language", al);
        }
        async move {
            let res = req.send().await.expect("request");
            assert_eq!(res.status(), 422);
            res.json::<Value>().await.expect("json")
        }
    };

    // The body's `lang` decides.
    let problem = post(json!({"email": "", "lang": "es"}), Some("en")).await;
    assert_eq!(problem["title"], "Datos no válidos");
    assert_eq!(problem["detail"], "Corrija: email.");
    assert_eq!(problem["errors"][0]["field"], "email");
    let message = problem["errors"][0]["message"].as_str().expect("message");
    assert_eq!(message, "Escriba una dirección de correo electrónico.");
    assert_eq!(problem["type"], "urn:frontdesk:problem:validation");

    // Else `Accept-Language`.
    let problem = post(json!({"email": ""}), Some("es-CO")).await;
    assert_eq!(problem["title"], "Datos no válidos");

    // An English body stays English whatever the browser says.
    let problem = post(json!({"email": "", "lang": "en"}), Some("es")).await;
    assert_eq!(problem["title"], "Invalid input");
    assert_eq!(problem["detail"], "Please correct: email.");

    // A refused `lang` answers in the browser's language, naming it.
    let problem = post(
        json!({"email": "ana@example.org", "lang": "fr"}),
        Some("es"),
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "lang");
    assert_eq!(
        problem["errors"][0]["message"],
        "Elija uno de los idiomas disponibles: en, es."
    );

    // The staff API stays English.
    let res = app
        .client
        .get(app.url("/api/v1/staff/donations"))
        .header("Accept-Language", "es")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["title"], "Authentication required");
}

/// Text a reader would read in a template: what is left after removing Jinja blocks, markup,
/// styles, scripts and `<code>` (identifiers are not translated), plus the readable
/// attributes. Each returned piece holds a letter.
fn literals(source: &str) -> Vec<String> {
    // A macro without markup writes attributes (`aria-describedby="…"`), not text.
    let mut source = source.to_string();
    let mut from = 0;
    while let Some(start) = source[from..].find("{% macro").map(|s| from + s) {
        let end = source[start..]
            .find("{% endmacro %}")
            .map_or(source.len(), |e| start + e + "{% endmacro %}".len());
        if source[start..end].contains('<') {
            from = end;
        } else {
            source.replace_range(start..end, " ");
            from = start;
        }
    }
    let mut text = String::new();
    let mut rest = source.as_str();
    // Jinja: {{ … }}, {% … %}, {# … #} become a space.
    while let Some(at) = rest.find('{') {
        let close = match rest[at..].chars().nth(1) {
            Some('{') => "}}",
            Some('%') => "%}",
            Some('#') => "#}",
            _ => {
                text.push_str(&rest[..=at]);
                rest = &rest[at + 1..];
                continue;
            }
        };
        text.push_str(&rest[..at]);
        text.push(' ');
        rest = match rest[at..].find(close) {
            Some(end) => &rest[at + end + 2..],
            None => "",
        };
    }
    text.push_str(rest);
    for element in ["style", "script", "code"] {
        while let Some(start) = text.find(&format!("<{element}")) {
            let end = text[start..]
                .find(&format!("</{element}>"))
                .map_or(text.len(), |e| start + e + element.len() + 3);
            text.replace_range(start..end, " ");
        }
    }
    let mut found = Vec::new();
    let mut outside = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find('<') {
        outside.push_str(&rest[..at]);
        outside.push(' ');
        let end = rest[at..].find('>').map_or(rest.len(), |e| at + e + 1);
        let tag = &rest[at..end];
        for attribute in ["title=\"", "alt=\"", "placeholder=\"", "aria-label=\""] {
            if let Some(v) = tag.find(attribute) {
                let value = &tag[v + attribute.len()..];
                let value = &value[..value.find('"').unwrap_or(value.len())];
                if value.chars().any(char::is_alphabetic) {
                    found.push(format!("{attribute}{value}\""));
                }
            }
        }
        rest = &rest[end..];
    }
    outside.push_str(rest);
    let outside = outside.replace("&amp;", " ").replace("&nbsp;", " ");
    for piece in outside.split_whitespace() {
        if piece.chars().any(char::is_alphabetic) {
            found.push(piece.to_string());
        }
    }
    found
}

#[test]
fn the_checker_finds_literals_and_skips_messages() {
    assert_eq!(
        literals(r#"<p title="Hello">{{ t("x") }} Thanks, {{ name }}!</p>"#),
        vec![r#"title="Hello""#, "Thanks,"]
    );
    assert!(
        literals(r#"{% macro m(x) %}{% if x %} aria-invalid="true"{% endif %}{% endmacro %}"#)
            .is_empty()
    );
    assert_eq!(
        literals(r#"{% macro m(x) %}<p>Oops</p>{% endmacro %}"#),
        vec!["Oops"]
    );
    assert!(literals(
        r#"{% if a %}<a href="/x?a=1&amp;b=2">{{ t("y", n=1) }}</a> · {{ site_name }}{% endif %}<code>GET /x</code><style>p { color: red }</style>"#
    )
    .is_empty());
}

#[test]
fn no_english_literal_is_left_outside_t_in_reader_pages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/pages");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("templates/pages") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                // The demo article has its own owner and catalogue.
                if path != root.join("demo") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "html") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 15, "{files:?}");
    let mut left = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).expect("template");
        for literal in literals(&source) {
            left.push(format!("{}: {literal}", file.display()));
        }
    }
    assert!(left.is_empty(), "English outside t():\n{}", left.join("\n"));
}
