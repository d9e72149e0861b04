//! What every feature's handlers share: the JSON extractor, the client IP, rate limits,
//! security headers, CORS and request metrics.

pub mod api_routes;
pub mod assets;
pub mod client_ip;
pub mod csv;
pub mod headers;
pub mod json;
pub mod lang;
pub mod metrics;
pub mod openapi;
pub mod page;
pub mod pagination;
pub mod problem_lang;
pub mod rate_limit;
pub mod request_id;
pub mod route;

pub use client_ip::ClientIp;
pub use json::ApiJson;
pub use lang::ReaderLang;
pub use rate_limit::{LimitStore, RateLimiter};
