//! The request-metrics middleware: every request's route, method and status, and its latency,
//! recorded in [`crate::metrics::Metrics`].

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

pub use crate::metrics::{Metrics, RequestLabels, RouteLabels, StateLabels};

/// The method as a label: one of the methods HTTP defines, or `other` for any method a
/// client invents (a label per invented name would let anyone grow `/metrics` without bound).
pub fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", Method::as_str)
}

/// Middleware recording each request's route, method and status, and its latency.
///
/// Every label value comes from a fixed set: the route is a registered pattern or
/// `unmatched` ([`crate::web::route::label`], never the path as sent), the method one of
/// [`method_label`]'s, the status a three-digit number.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = method_label(req.method()).to_string();
    let res = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = crate::web::route::label(res.request());
        let status = res.status().as_u16();
        metrics
            .requests
            .get_or_create(&RequestLabels {
                route: route.clone(),
                method: method.clone(),
                status,
            })
            .inc();
        metrics
            .latency
            .get_or_create(&RouteLabels { route, method })
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_http_are_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"BREW").expect("a token");
        assert_eq!(method_label(&invented), "other");
        let long = Method::from_bytes("X".repeat(2048).as_bytes()).expect("a token");
        assert_eq!(method_label(&long), "other");
    }
}
