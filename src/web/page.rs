//! Server-rendered HTML pages: a template from `templates/pages/`, with `site_name` and
//! `public_url` added to its context, in the language [`lang`] chose for the request (the
//! context's `lang`, which also sets `<html lang>`).

use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use crate::config::Settings;
use crate::error::AppError;
use crate::i18n::{Lang, Languages};
use crate::templates::Templates;

/// The language of a reader page: `?lang=` when it names an offered language, else the
/// language stored with the person the page is about (`stored`: a subscriber's or donor's
/// `lang`), else the request's `Accept-Language`, else the site default.
pub fn lang(req: &HttpRequest, stored: Option<&str>) -> Lang {
    let Some(languages) = req.app_data::<web::Data<Languages>>() else {
        return fallback(req);
    };
    let query = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| languages.parse(&v).ok());
    query
        .or_else(|| stored.and_then(|s| languages.parse(s).ok()))
        .unwrap_or_else(|| languages.negotiate(accept_language(req)))
}

/// Without the registered languages (never in the app): the settings' offer.
fn fallback(req: &HttpRequest) -> Lang {
    match req.app_data::<web::Data<crate::state::AppState>>() {
        Some(state) => state.languages.negotiate(accept_language(req)),
        None => Languages::new(&["en".into()], "en").default_lang().clone(),
    }
}

fn accept_language(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

/// Renders `templates/<template>` as an HTML response with `status`.
pub fn render(
    templates: &Templates,
    settings: &Settings,
    status: StatusCode,
    template: &str,
    context: Value,
) -> Result<HttpResponse, AppError> {
    let mut context = match context {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    context
        .entry("site_name")
        .or_insert_with(|| Value::String(settings.site.name.clone()));
    context
        .entry("lang")
        .or_insert_with(|| Value::String(settings.site.default_language.clone()));
    context.entry("public_url").or_insert_with(|| {
        Value::String(
            settings
                .server
                .public_url
                .as_str()
                .trim_end_matches('/')
                .to_string(),
        )
    });
    let html = templates
        .render(template, Value::Object(context))
        .map_err(|e| {
            AppError::unexpected(anyhow::Error::new(e).context(format!("rendering {template}")))
        })?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// The offered languages for a page's language form: `[{tag, name}]`, the default first,
/// each named in itself (`site-language-name` of its own catalogue).
pub fn language_choices(templates: &Templates, languages: &Languages) -> Value {
    Value::Array(
        languages
            .all()
            .iter()
            .map(|l| {
                let name = templates
                    .catalogues()
                    .message(l.as_str(), "site-language-name", None)
                    .unwrap_or_else(|_| l.to_string());
                serde_json::json!({ "tag": l.as_str(), "name": name })
            })
            .collect(),
    )
}

/// One catalogue message in `lang` for text a handler composes (a label in a page's data);
/// the id itself if the catalogue lacks it (the catalogue tests keep that from happening).
pub fn text(templates: &Templates, lang: &Lang, id: &str) -> String {
    templates
        .catalogues()
        .message(lang.as_str(), id, None)
        .unwrap_or_else(|_| id.to_string())
}

/// Where the newsletter preferences page's language form posts.
pub const NEWSLETTER_LANGUAGE_FORM: &str = "/newsletter/language";
/// Where the donor page's language form posts.
pub const DONOR_LANGUAGE_FORM: &str = "/donations/manage/language";
/// The language forms: reader pages' form targets outside `/api/v1` that the API document
/// describes too.
pub const LANGUAGE_FORMS: [&str; 2] = [NEWSLETTER_LANGUAGE_FORM, DONOR_LANGUAGE_FORM];

/// The body of a language form (`application/x-www-form-urlencoded`).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct LanguageForm {
    /// The language for the reader's pages and every later email to them.
    #[schema(schema_with = crate::web::openapi::lang_schema)]
    pub lang: Option<String>,
}

/// A `lang` form field sent to a language-change endpoint: an offered tag, or a 422 problem
/// naming `lang`.
pub fn offered_lang(
    languages: &Languages,
    sent: Option<&str>,
) -> Result<Lang, crate::error::AppError> {
    languages
        .parse(sent.unwrap_or_default().trim())
        .map_err(|m| crate::error::AppError::field("lang", m))
}

/// The answer of a language form that stored the reader's choice: 303 back to the page it
/// came from (`page`, reached with the same link `token`), which then says so.
pub fn language_saved(page: &str, token: &str) -> HttpResponse {
    let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("{page}?token={token}&language=saved"),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .finish()
}
