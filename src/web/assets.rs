//! Static assets embedded in the binary (the pages' stylesheets, the staff passkey script),
//! served with long caching.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

const FRONTDESK_CSS: &str = include_str!("../../assets/frontdesk.css");
const STAFF_CSS: &str = include_str!("../../assets/staff.css");
const STAFF_PASSKEYS_JS: &str = include_str!("../../assets/staff-passkeys.js");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(stylesheet)
        .service(staff_stylesheet)
        .service(staff_passkeys_script);
}

#[get("/assets/frontdesk.css")]
async fn stylesheet() -> HttpResponse {
    css(FRONTDESK_CSS)
}

#[get("/assets/staff.css")]
async fn staff_stylesheet() -> HttpResponse {
    css(STAFF_CSS)
}

/// The staff pages' passkey script (a file of its own: the CSP allows no inline script).
#[get("/assets/staff-passkeys.js")]
async fn staff_passkeys_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STAFF_PASSKEYS_JS)
}

fn css(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}
