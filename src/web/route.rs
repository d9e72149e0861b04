//! The route a request is served by, as a key or label that the client cannot choose: the
//! pattern the route was registered with (`/api/v1/jobs/{slug}/applications`), or
//! [`UNMATCHED`] for every request no route serves. Rate-limit buckets and metric labels use
//! it, so their number is bounded by the routes the service has, whatever paths are sent.

use actix_web::HttpRequest;

/// The one key for every request that no route serves.
pub const UNMATCHED: &str = "unmatched";

/// The registered pattern of the route that serves `req`, or `None` when no route does.
///
/// The router matches the request path with its percent-escapes decoded (all but `%`, `/`
/// and `+`), so `/api/v1/%66eedback` is served by `/api/v1/feedback`. Actix's
/// `HttpRequest::match_pattern` matches the raw path instead until the routing has reached
/// the resource (in a scope's middleware it has not), and would see no route there. This
/// matches the path as the router holds it (`match_info`), against the same route table, so
/// the answer is the same before and after the routing.
pub fn pattern(req: &HttpRequest) -> Option<String> {
    req.resource_map().match_pattern(req.match_info().as_str())
}

/// [`pattern`], or [`UNMATCHED`].
pub fn label(req: &HttpRequest) -> String {
    pattern(req).unwrap_or_else(|| UNMATCHED.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::middleware::{from_fn, Next};
    use actix_web::{test, web, App, HttpResponse};

    /// Answers with the label seen by a scope's middleware (before the scope routes) and by
    /// the handler (after), in a header each.
    async fn seen_before_routing(
        req: actix_web::dev::ServiceRequest,
        next: Next<impl actix_web::body::MessageBody + 'static>,
    ) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
        let before = label(req.request());
        let mut res = next.call(req).await?;
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-before"),
            actix_web::http::header::HeaderValue::from_str(&before)
                .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?,
        );
        Ok(res)
    }

    async fn handler(req: HttpRequest) -> HttpResponse {
        HttpResponse::Ok().body(label(&req))
    }

    #[actix_web::test]
    async fn encoded_spellings_name_the_route_that_serves_them() {
        let app = test::init_service(
            App::new().service(
                web::scope("/api")
                    .wrap(from_fn(seen_before_routing))
                    .route("/items/{id}", web::post().to(handler))
                    .route("/feedback", web::post().to(handler)),
            ),
        )
        .await;
        for (path, expected) in [
            ("/api/feedback", "/api/feedback"),
            ("/api/%66eedback", "/api/feedback"),
            ("/api/fe%65dbac%6B", "/api/feedback"),
            ("/api/items/%31", "/api/items/{id}"),
            ("/api/%69tems/a%2Fb", "/api/items/{id}"),
            ("/api/nothing-here", UNMATCHED),
            ("/elsewhere", UNMATCHED),
        ] {
            let res = app
                .call(test::TestRequest::post().uri(path).to_request())
                .await
                .expect("response");
            let before = res
                .headers()
                .get("x-before")
                .map(|v| v.to_str().unwrap_or_default().to_string());
            if expected == UNMATCHED {
                assert_eq!(res.status(), 404, "{path}");
                if path.starts_with("/api") {
                    assert_eq!(before.as_deref(), Some(UNMATCHED), "{path}");
                }
                continue;
            }
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(before.as_deref(), Some(expected), "{path}, before routing");
            let after = test::read_body(res).await;
            assert_eq!(after, expected.as_bytes(), "{path}, after routing");
        }
    }
}
