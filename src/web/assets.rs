//! Static assets embedded in the binary (the pages' stylesheet), served with long caching.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

const FRONTDESK_CSS: &str = include_str!("../../assets/frontdesk.css");
const STAFF_CSS: &str = include_str!("../../assets/staff.css");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(stylesheet).service(staff_stylesheet);
}

#[get("/assets/frontdesk.css")]
async fn stylesheet() -> HttpResponse {
    css(FRONTDESK_CSS)
}

#[get("/assets/staff.css")]
async fn staff_stylesheet() -> HttpResponse {
    css(STAFF_CSS)
}

fn css(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}
