//! `ApiJson<T>`: a JSON body extractor that answers in problem documents.
//!
//! - wrong or missing `Content-Type` → 415;
//! - over `server.max_body_bytes` → 413, refused from `Content-Length` before reading, and
//!   while streaming otherwise;
//! - not JSON → 400; JSON of the wrong shape (unknown field, missing field, wrong type of
//!   any field, enums included) → 422 naming the field by its path.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::{AppError, FieldError};

/// The body limit, registered as app data by `app::build`.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

pub struct ApiJson<T>(pub T);

impl<T> ApiJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<BodyLimit>>()
            .map(|l| l.0)
            .unwrap_or(64 * 1024);
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| {
                m.type_() == mime::APPLICATION
                    && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
            });
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(AppError::UnsupportedMediaType(
                    "Send the body as application/json.".into(),
                ));
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(too_large(limit));
            }
            let body = read_limited(&mut payload, limit).await?;
            parse_json(&body).map(ApiJson)
        })
    }
}

fn too_large(limit: usize) -> AppError {
    AppError::PayloadTooLarge(format!("The body is larger than {limit} bytes."))
}

/// Reads a body, stopping with 413 as soon as it passes `limit`.
pub async fn read_limited(payload: &mut Payload, limit: usize) -> Result<web::BytesMut, AppError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::BadRequest(format!("The body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses JSON, telling malformed JSON (400) from a wrong shape (422 with the field's path).
/// A whole number sent as JSON sees it: `2026` or `2026.0` (JSON Schema's `integer` admits
/// both, and some clients write every number with a fraction); anything else fails the field.
pub fn whole_i32<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    use serde::Deserialize;
    let n = f64::deserialize(d)?;
    if n.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&n) {
        Ok(n as i32)
    } else {
        Err(serde::de::Error::custom("expected a whole number"))
    }
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    // Every JSON body is an object (or null where a body is optional); serde would also fill a
    // struct from an array of its fields in order, which no client means.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(AppError::field("body", "Send a JSON object."));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => {
            de.end().map_err(not_json)?;
            Ok(value)
        }
        Err(first) => Err(explain::<T>(body, first)),
    }
}

/// A JSON value (already parsed, e.g. a patch merged into a stored document) as `T`; any
/// mismatch is a 422 naming the field.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(value).map_err(|e| shape_error(e.path(), e.inner()))
}

fn not_json(e: serde_json::Error) -> AppError {
    AppError::BadRequest(format!("The body is not valid JSON: {e}"))
}

/// Why `body` could not be read as a `T`.
///
/// serde_json files some shape errors under syntax (`"remote": true` for an enum reads as
/// "expected value"), so its category cannot tell them apart. Only a body that fails to parse
/// as JSON of any shape (a syntax check that also accepts numbers no type can hold) is
/// malformed; anything else is a 422 naming the field. The message comes from reading the
/// body's JSON value as a `T` (serde's "invalid type" wording) when that fails too, else from
/// the first attempt (e.g. a duplicate field, which a JSON value keeps only once).
fn explain<T: DeserializeOwned>(
    body: &[u8],
    first: serde_path_to_error::Error<serde_json::Error>,
) -> AppError {
    if let Err(e) = serde_json::from_slice::<IgnoredAny>(body) {
        return not_json(e);
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Err(e) = serde_path_to_error::deserialize::<_, T>(value) {
            return shape_error(e.path(), e.inner());
        }
    }
    shape_error(first.path(), first.inner())
}

/// A 422 naming the field at `path` (or the field the message names, for unknown and missing
/// fields).
fn shape_error(path: &serde_path_to_error::Path, inner: &serde_json::Error) -> AppError {
    let path = path.to_string();
    let message = inner.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    let field = match (path.as_str(), field_in_message(&message)) {
        (".", Some(named)) => named,
        (".", None) => "body".to_string(),
        (p, Some(named)) if message.starts_with("missing field") => format!("{p}.{named}"),
        (p, _) => p.to_string(),
    };
    AppError::Validation(vec![FieldError::new(field, message)])
}

/// serde names the field in backticks for unknown, missing and duplicate fields.
fn field_in_message(message: &str) -> Option<String> {
    if !["unknown field", "missing field", "duplicate field"]
        .iter()
        .any(|start| message.starts_with(start))
    {
        return None;
    }
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Year {
        #[serde(deserialize_with = "whole_i32")]
        year: i32,
    }

    #[test]
    fn whole_numbers_may_carry_a_zero_fraction_and_nothing_else() {
        let year = |body: &str| parse_json::<Year>(body.as_bytes()).map(|y| y.year);
        assert_eq!(year(r#"{"year": 2026}"#).ok(), Some(2026));
        assert_eq!(year(r#"{"year": 2026.0}"#).ok(), Some(2026));
        for bad in [
            r#"{"year": 2026.5}"#,
            r#"{"year": "2026"}"#,
            r#"{"year": 1e20}"#,
        ] {
            let Err(AppError::Validation(errors)) = year(bad) else {
                panic!("{bad} was taken");
            };
            assert_eq!(errors[0].field, "year", "{bad}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        inner: Option<Inner>,
        #[serde(default)]
        kind: Option<Kind>,
    }
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Remote,
        OnSite,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn fields(e: AppError) -> Vec<String> {
        match e {
            AppError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("expected validation, got {other:?}"),
        }
    }

    #[test]
    fn syntax_error_is_bad_request() {
        assert!(matches!(
            parse_json::<Body>(b"{\"email\":"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(br#"{"email":"a"} trailing"#),
            Err(AppError::BadRequest(_))
        ));
    }

    #[test]
    fn a_body_is_an_object_not_an_array_of_its_fields() {
        assert_eq!(
            fields(parse_json::<Body>(br#"  ["a", null, null]"#).unwrap_err()),
            ["body"]
        );
    }

    #[test]
    fn shape_errors_name_the_field() {
        assert_eq!(fields(parse_json::<Body>(b"{}").unwrap_err()), ["email"]);
        assert_eq!(
            fields(parse_json::<Body>(br#"{"email":"a","evil":1}"#).unwrap_err()),
            ["evil"]
        );
        assert_eq!(
            fields(parse_json::<Body>(br#"{"email":5}"#).unwrap_err()),
            ["email"]
        );
        assert_eq!(
            fields(parse_json::<Body>(br#"{"email":"a","inner":{"count":"x"}}"#).unwrap_err()),
            ["inner.count"]
        );
        assert_eq!(
            fields(parse_json::<Body>(br#"{"email":"a","inner":{}}"#).unwrap_err()),
            ["inner.count"]
        );
    }

    /// serde_json reports a non-string for an enum as a syntax error ("expected value"); it is
    /// still well-formed JSON of the wrong shape.
    #[test]
    fn wrong_types_anywhere_name_the_field() {
        for body in [
            &br#"{"email":"a","kind":true}"#[..],
            br#"{"email":"a","kind":7}"#,
            br#"{"email":"a","kind":[]}"#,
            br#"{"email":"a","kind":{}}"#,
            br#"{"email":"a","kind":null,"kind":"remote"}"#,
            br#"{"email":"a","kind":"elsewhere"}"#,
        ] {
            let text = String::from_utf8_lossy(body);
            let err = parse_json::<Body>(body).expect_err(&text);
            assert_eq!(fields(err), ["kind"], "{text}");
        }
        assert_eq!(
            fields(parse_json::<Body>(br#"{"email":"a","inner":{"count":1e400}}"#).unwrap_err()),
            ["inner.count"],
            "a number no type holds is still JSON"
        );
        assert!(matches!(
            parse_json::<Body>(br#"{"email":"a","kind":"remote"}"#),
            Ok(Body {
                kind: Some(Kind::Remote),
                ..
            })
        ));
        assert!(matches!(
            parse_json::<Body>(br#"{"email":"a","kind":tru}"#),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(br#"{"email":"a","kind":true} x"#),
            Err(AppError::BadRequest(_))
        ));
    }

    #[test]
    fn from_value_names_the_field() {
        let value = serde_json::json!({"email": "a", "kind": false});
        assert_eq!(fields(from_value::<Body>(value).unwrap_err()), ["kind"]);
        let value = serde_json::json!({"email": "a", "kind": "on_site"});
        assert!(from_value::<Body>(value).is_ok());
    }

    /// The extractor's answers as an HTTP client sees them.
    #[actix_web::test]
    async fn answers_each_failure_with_its_status() {
        use actix_web::{test, App, HttpResponse};

        let app = test::init_service(App::new().app_data(web::Data::new(BodyLimit(64))).route(
            "/",
            web::post().to(|body: ApiJson<Body>| async move {
                HttpResponse::Ok().body(body.into_inner().email)
            }),
        ))
        .await;
        let post = |content_type: &'static str, body: &'static str| {
            test::TestRequest::post()
                .uri("/")
                .insert_header(("content-type", content_type))
                .set_payload(body)
                .to_request()
        };

        let ok = test::call_service(&app, post("application/json", r#"{"email":"a"}"#)).await;
        assert_eq!(ok.status(), 200);
        let charset = test::call_service(
            &app,
            post("application/json; charset=utf-8", r#"{"email":"a"}"#),
        )
        .await;
        assert_eq!(charset.status(), 200);

        let wrong_type = test::call_service(&app, post("text/plain", r#"{"email":"a"}"#)).await;
        assert_eq!(wrong_type.status(), 415);
        assert_eq!(
            wrong_type
                .headers()
                .get("content-type")
                .map(|v| v.as_bytes()),
            Some(&b"application/problem+json"[..])
        );

        let big = Box::leak(format!(r#"{{"email":"{}"}}"#, "x".repeat(100)).into_boxed_str());
        let too_large = test::call_service(&app, post("application/json", big)).await;
        assert_eq!(too_large.status(), 413);

        let malformed = test::call_service(&app, post("application/json", r#"{"email":"#)).await;
        assert_eq!(malformed.status(), 400);

        let invalid =
            test::call_service(&app, post("application/json", r#"{"email":"a","x":1}"#)).await;
        assert_eq!(invalid.status(), 422);
        let problem: serde_json::Value = test::read_body_json(invalid).await;
        assert_eq!(problem["status"], 422);
        assert_eq!(problem["errors"][0]["field"], "x");
    }
}
