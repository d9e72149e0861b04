//! The widget script and its stylesheet, embedded in the binary.
//!
//! Caching: both carry a weak `ETag` (a hash of their content) and answer `If-None-Match`
//! with 304. Unversioned URLs are cached for five minutes, so a newsroom that pasted the
//! plain snippet gets a new release quickly; `?v=<version>` (the current [`version`]) is
//! cached for a year as immutable. Compression comes from the app's `Compress` middleware.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

pub const SCRIPT: &str = include_str!("../../assets/embed/frontdesk.js");
pub const STYLESHEET: &str = include_str!("../../assets/embed/frontdesk.css");

/// Short cache for unversioned URLs; a versioned URL never changes.
const SHORT_CACHE: &str = "public, max-age=300";
const LONG_CACHE: &str = "public, max-age=31536000, immutable";

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    hash.update(SCRIPT.as_bytes());
    hash.update([0]);
    hash.update(STYLESHEET.as_bytes());
    // The widgets' messages are fetched with the same `v`, so they change it too.
    for (lang, text) in crate::i18n::embedded_in_every_language(super::messages::FILE) {
        hash.update([0]);
        hash.update(lang.as_bytes());
        hash.update([0]);
        hash.update(text.as_bytes());
    }
    hex::encode(hash.finalize())[..12].to_string()
});

/// A short hash of both files and the widgets' catalogues: the `v` query value that makes their URLs immutable.
pub fn version() -> &'static str {
    &VERSION
}

pub async fn script(req: HttpRequest) -> HttpResponse {
    serve_static(&req, SCRIPT, "text/javascript; charset=utf-8")
}

pub async fn stylesheet(req: HttpRequest) -> HttpResponse {
    serve_static(&req, STYLESHEET, "text/css; charset=utf-8")
}

fn serve_static(req: &HttpRequest, body: &'static str, content_type: &str) -> HttpResponse {
    let etag = format!("W/\"{}-{}\"", version(), body.len());
    serve(
        req,
        &etag,
        Bytes::from_static(body.as_bytes()),
        content_type,
        true,
    )
}

/// Answers with `body` (or 304 when `If-None-Match` names `etag`), cached for a year when
/// it `follows_release` and the URL carries the current `?v=`, else five minutes; any origin
/// may read it.
pub(super) fn serve(
    req: &HttpRequest,
    etag: &str,
    body: Bytes,
    content_type: &str,
    follows_release: bool,
) -> HttpResponse {
    let versioned = follows_release
        && url::form_urlencoded::parse(req.query_string().as_bytes())
            .any(|(k, v)| k == "v" && v == version());
    let cache = if versioned { LONG_CACHE } else { SHORT_CACHE };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        // Any page may load them (also with `crossorigin` for Subresource Integrity).
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        .insert_header(("cross-origin-resource-policy", "cross-origin"));
    if fresh {
        response.finish()
    } else {
        response.content_type(content_type).body(body)
    }
}
