//! actix-web's hello world, the baseline `bench/feedback_load.sh` measures the feedback
//! endpoint against on the same machine in the same run.
//!
//!     cargo run --release --example hello -- 127.0.0.1:18081

use actix_web::{get, App, HttpResponse, HttpServer};

#[get("/")]
async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("Hello, world!")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_string());
    HttpServer::new(|| App::new().service(hello))
        .bind(bind)?
        .run()
        .await
}
