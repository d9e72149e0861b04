//! Server-rendered HTML pages: a template from `templates/pages/`, with `site_name` and
//! `public_url` added to its context.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{Map, Value};

use crate::config::Settings;
use crate::error::AppError;
use crate::templates::Templates;

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
