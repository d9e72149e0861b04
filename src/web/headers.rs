//! Security headers on every response, and CORS for public routes.

use actix_cors::Cors;
use actix_web::http::{header, Method};
use actix_web::middleware::DefaultHeaders;

use crate::config::Settings;

/// CSP, nosniff, frame-ancestors, referrer policy; HSTS when `public_url` is https.
/// Handlers may set their own (e.g. a page that needs a nonce) and keep them.
pub fn security_headers(settings: &Settings) -> DefaultHeaders {
    let mut headers = DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
        .add(("cross-origin-opener-policy", "same-origin"))
        .add((
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        ));
    if settings.is_https() {
        headers = headers.add((
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ));
    }
    headers
}

/// CORS for the public API: only `server.allowed_origins`, plus the service's own origin
/// (`server.public_url`) while the demo article page is on (`demo.enabled`). Other origins
/// get no `Access-Control-Allow-Origin` (their preflight is refused), so browsers keep the
/// answers from their pages. Credentials are allowed for the voter cookie; the widgets send
/// them only to the feedback endpoints.
pub fn public_cors(settings: &Settings) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("idempotency-key"),
        ])
        .supports_credentials()
        .max_age(3600);
    for origin in &settings.server.allowed_origins {
        cors = cors.allowed_origin(origin.trim_end_matches('/'));
    }
    if settings.demo.enabled {
        cors = cors.allowed_origin(&demo_origin(settings));
    }
    cors
}

/// The origin the demo article page is served from: `server.public_url`'s scheme, host and port.
pub fn demo_origin(settings: &Settings) -> String {
    settings.server.public_url.origin().ascii_serialization()
}
