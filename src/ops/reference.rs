//! `GET /api/docs`: the API reference for people, rendered on the server from the same
//! OpenAPI document `/api/v1/openapi.json` serves (no script, nothing fetched from elsewhere).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::{json, Value};

use super::ApiDocument;
use crate::error::AppError;
use crate::state::AppState;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[derive(Debug, Serialize)]
struct Operation {
    id: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    staff: bool,
    parameters: Vec<Field>,
    request: Option<Body>,
    responses: Vec<Answer>,
}

#[derive(Debug, Serialize)]
struct Body {
    content_type: String,
    schema: String,
}

#[derive(Debug, Serialize)]
struct Answer {
    status: String,
    description: String,
    schema: String,
}

#[derive(Debug, Serialize)]
struct Field {
    name: String,
    place: String,
    required: bool,
    schema: String,
    description: String,
}

#[derive(Debug, Serialize)]
struct Model {
    name: String,
    description: String,
    fields: Vec<Field>,
}

/// A schema in a few words: its component's name, or its type with format, bounds and values.
fn label(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(options) = schema[key].as_array() {
            let words: Vec<String> = options.iter().map(label).collect();
            return words.join(" | ");
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        return format!("one of {}", values.join(", "));
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".to_string(),
    };
    let mut words = vec![if kind == "array" {
        format!("array of {}", label(&schema["items"]))
    } else {
        kind
    }];
    if let Some(format) = schema["format"].as_str() {
        words.push(format.to_string());
    }
    for (key, word) in [
        ("minLength", "≥"),
        ("maxLength", "≤"),
        ("minimum", "≥"),
        ("maximum", "≤"),
    ] {
        if let Some(n) = schema[key].as_f64() {
            words.push(format!("{word} {n}"));
        }
    }
    words.join(", ")
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn operations(doc: &Value) -> BTreeMap<String, Vec<Operation>> {
    let mut by_tag: BTreeMap<String, Vec<Operation>> = BTreeMap::new();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for (path, item) in &paths {
        for method in METHODS {
            let op = &item[method];
            if !op.is_object() {
                continue;
            }
            let parameters = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| Field {
                    name: text(&p["name"]),
                    place: text(&p["in"]),
                    required: p["required"].as_bool().unwrap_or(false),
                    schema: label(&p["schema"]),
                    description: text(&p["description"]),
                })
                .collect();
            let request = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.iter().next())
                .map(|(content_type, c)| Body {
                    content_type: content_type.clone(),
                    schema: label(&c["schema"]),
                });
            let responses = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| {
                    let r = match r["$ref"].as_str() {
                        Some(name) => {
                            &doc["components"]["responses"][name.rsplit('/').next().unwrap_or(name)]
                        }
                        None => r,
                    };
                    Answer {
                        status: status.clone(),
                        description: text(&r["description"]),
                        schema: r["content"]
                            .as_object()
                            .and_then(|c| c.iter().next())
                            .map(|(t, c)| format!("{} ({t})", label(&c["schema"])))
                            .unwrap_or_default(),
                    }
                })
                .collect();
            let tag = op["tags"][0].as_str().unwrap_or("other").to_string();
            by_tag.entry(tag).or_default().push(Operation {
                id: text(&op["operationId"]),
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(&op["summary"]),
                description: text(&op["description"]),
                staff: op["security"].is_array(),
                parameters,
                request,
                responses,
            });
        }
    }
    by_tag
}

fn models(doc: &Value) -> Vec<Model> {
    let schemas = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    schemas
        .iter()
        .map(|(name, schema)| {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields = schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(field, s)| Field {
                    name: field.clone(),
                    place: String::new(),
                    required: required.contains(&field.as_str()),
                    schema: label(s),
                    description: text(&s["description"]),
                })
                .collect();
            Model {
                name: name.clone(),
                description: if schema["properties"].is_object() {
                    text(&schema["description"])
                } else {
                    let own = text(&schema["description"]);
                    format!("{} {own}", label(schema)).trim().to_string()
                },
                fields,
            }
        })
        .collect()
}

/// The reference page.
pub async fn page(
    state: web::Data<AppState>,
    doc: web::Data<ApiDocument>,
) -> Result<HttpResponse, AppError> {
    let doc = serde_json::to_value(&doc.0).map_err(AppError::unexpected)?;
    let models = models(&doc);
    crate::web::page::render(
        &state.templates,
        &state.settings,
        StatusCode::OK,
        "pages/api.html",
        json!({
            "info": doc["info"],
            "tags": operations(&doc),
            "model_names": models.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
            "models": models,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_say_type_format_bounds_and_values() {
        assert_eq!(
            label(&json!({"type": "string", "format": "email", "maxLength": 254})),
            "string, email, ≤ 254"
        );
        assert_eq!(
            label(&json!({"$ref": "#/components/schemas/Problem"})),
            "Problem"
        );
        assert_eq!(
            label(&json!({"type": "string", "enum": ["a", "b"]})),
            "one of \"a\", \"b\""
        );
        assert_eq!(
            label(&json!({"type": ["integer", "null"], "minimum": 1})),
            "integer | null, ≥ 1"
        );
    }
}
