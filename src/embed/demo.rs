//! `GET /demo/article`: a newsroom's article page (the seed story) with every reader widget
//! embedded as a newsroom would: one script tag and a `data-frontdesk` element per widget.
//! `?lang=es` shows the page's chrome in that language (from `locales/<lang>/demo.ftl`) with
//! `data-lang` on its widgets; the article itself is the newsroom's English edition.
//! 404 unless `demo.enabled`. It stores and seeds nothing.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::AppError;
use crate::state::AppState;
use crate::web::page::render;

const ARTICLE_CSS: &str = include_str!("../../assets/demo/article.css");

/// The demo article's address: its canonical link, and the `article_url` its widgets send.
pub fn article_url(state: &AppState) -> String {
    format!(
        "{}/demo/article",
        state
            .settings
            .server
            .public_url
            .as_str()
            .trim_end_matches('/')
    )
}

#[derive(Debug, serde::Deserialize)]
pub struct ArticleQuery {
    lang: Option<String>,
}

/// The page in `?lang=` when it is an offered language, else in the site's default.
pub async fn article(
    state: web::Data<AppState>,
    query: web::Query<ArticleQuery>,
) -> Result<HttpResponse, AppError> {
    if !state.settings.demo.enabled {
        return Err(AppError::NotFound);
    }
    // Chosen on the URL: the widgets are told too (`data-lang`); else the page's lang decides.
    let chosen = query
        .lang
        .as_deref()
        .and_then(|l| state.languages.parse(l).ok());
    let lang = chosen
        .clone()
        .unwrap_or_else(|| state.languages.default_lang().clone());
    let mut response = render(
        &state.templates,
        &state.settings,
        StatusCode::OK,
        "pages/demo/article.html",
        json!({
            "article_url": article_url(&state),
            "version": super::assets::version(),
            "lang": lang,
            "widget_lang": chosen,
        }),
    )?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    Ok(response)
}

/// The demo newsroom's own stylesheet (not part of the widgets).
pub async fn stylesheet(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if !state.settings.demo.enabled {
        return Err(AppError::NotFound);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(ARTICLE_CSS))
}
