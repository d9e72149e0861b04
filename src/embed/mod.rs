//! The reader-facing view above the features: the embeddable widgets a newsroom adds to its
//! article pages (`/embed/frontdesk.js` and `/embed/frontdesk.css`, one dependency-free script
//! talking to each feature's public JSON API; `/embed/i18n/{lang}.json`, their messages in
//! one language), and the demo article page that embeds them
//! (`/demo/article`, on with `demo.enabled`).
//!
//! Nothing here reads a feature's store: the widgets use the same public endpoints any page
//! could, so this folder only serves files, the widgets' messages and one page.

pub mod assets;
pub mod demo;
pub mod messages;

pub use messages::WidgetMessages;

use actix_web::web;

/// `/embed/*` always; `/demo/*` answers 404 unless `demo.enabled`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/embed/frontdesk.js", web::get().to(assets::script))
        .route("/embed/frontdesk.css", web::get().to(assets::stylesheet))
        .route("/embed/i18n/{lang}.json", web::get().to(messages::messages))
        .route("/demo/article", web::get().to(demo::article))
        .route("/demo/article.css", web::get().to(demo::stylesheet));
}
