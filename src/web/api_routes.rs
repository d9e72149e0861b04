//! The public JSON API's route table: every route under `/api/v1` outside the staff API is
//! declared once, by one call that registers its handler and records what stands in front of
//! it (which scope, so which budget and CORS; whether it reaches the database).
//!
//! ```ignore
//! r.post("/feedback", handlers::vote)
//!     .get("/feedback/options", handlers::options)
//!     .without_database();
//! ```
//!
//! The wiring reads the same table to build the routes and to complete the OpenAPI document
//! ([`crate::web::openapi`]), and a test compares it with the document, so a route cannot be
//! served undocumented, nor documented and not served. The staff API has its own table
//! (`staff::StaffRoutes`), which also holds each route's roles.

use actix_web::dev::HttpServiceFactory;
use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{web, FromRequest, Handler, Responder};

use crate::config::Settings;

/// Where every route of the table lives.
pub const PREFIX: &str = "/api/v1";

/// Who calls a route, which decides the scope it is registered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// Readers' browsers and the newsroom's pages: the `/api/v1` scope, with CORS for
    /// `server.allowed_origins`; every POST counts against the client IP's public budget
    /// (`limits.public_per_minute`, [`crate::web::rate_limit::limit_public_posts`]).
    Reader,
    /// Machines (a payment processor's webhooks, generated clients reading the document):
    /// registered ahead of that scope, outside the readers' budget and CORS. A webhook
    /// authenticates by its signature; a processor delivers bursts from few addresses.
    Machine,
}

/// One declared route, as the table reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRoute {
    pub method: Method,
    /// The full pattern, e.g. `/api/v1/donations/{id}`.
    pub path: String,
    pub caller: Caller,
    /// False for routes answered from the settings alone, which therefore cannot answer 503
    /// when the database is unreachable.
    pub database: bool,
}

impl ApiRoute {
    /// True when a request to this route counts against the readers' per-IP budget (429).
    pub fn rate_limited(&self) -> bool {
        self.caller == Caller::Reader && self.method == Method::POST
    }
}

struct Entry {
    route: ApiRoute,
    relative: &'static str,
    actix: actix_web::Route,
}

/// The public API's routes, declared by each feature's `routes` function.
#[derive(Default)]
pub struct ApiRoutes {
    entries: Vec<Entry>,
}

impl ApiRoutes {
    /// Declares a reader's GET.
    pub fn get<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Caller::Reader, Method::GET, path, handler)
    }

    /// Declares a reader's POST (rate limited per client IP).
    pub fn post<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Caller::Reader, Method::POST, path, handler)
    }

    /// Declares a route for machines, outside the readers' scope (see [`Caller::Machine`]).
    pub fn machine<F, Args>(&mut self, method: Method, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Caller::Machine, method, path, handler)
    }

    /// Marks the route declared last as answered without the database.
    pub fn without_database(&mut self) -> &mut Self {
        if let Some(entry) = self.entries.last_mut() {
            entry.route.database = false;
        }
        self
    }

    fn add<F, Args>(
        &mut self,
        caller: Caller,
        method: Method,
        relative: &'static str,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.entries.push(Entry {
            route: ApiRoute {
                method: method.clone(),
                path: format!("{PREFIX}{relative}"),
                caller,
                database: true,
            },
            relative,
            actix: web::method(method).to(handler),
        });
        self
    }

    /// The table: every declared route, in declaration order.
    pub fn routes(&self) -> Vec<ApiRoute> {
        self.entries.iter().map(|e| e.route.clone()).collect()
    }

    /// Routes declared twice (the same method and pattern), which start-up refuses.
    pub fn duplicates(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.entries
            .iter()
            .filter(|e| !seen.insert((e.route.method.clone(), e.route.path.clone())))
            .map(|e| format!("{} {}", e.route.method, e.route.path))
            .collect()
    }

    /// The machines' routes (register them ahead of the readers' scope, whose prefix they
    /// share) and the readers' scope. Routes sharing a pattern share one resource, which
    /// answers any other method with 405 and `Allow`.
    pub fn into_services(
        self,
        settings: &Settings,
    ) -> (impl HttpServiceFactory, impl HttpServiceFactory) {
        let (readers, machines): (Vec<Entry>, Vec<Entry>) = self
            .entries
            .into_iter()
            .partition(|e| e.route.caller == Caller::Reader);
        let machines: Vec<_> = resources(machines)
            .into_iter()
            .map(|(relative, routes)| resource(&format!("{PREFIX}{relative}"), routes))
            .collect();
        let scope = resources(readers).into_iter().fold(
            web::scope(PREFIX)
                .wrap(from_fn(crate::web::rate_limit::limit_public_posts))
                .wrap(from_fn(crate::web::problem_lang::localize))
                .wrap(crate::web::headers::public_cors(settings)),
            |scope, (relative, routes)| scope.service(resource(relative, routes)),
        );
        (machines, scope)
    }
}

/// Entries grouped by pattern, in order of first declaration.
fn resources(entries: Vec<Entry>) -> Vec<(&'static str, Vec<actix_web::Route>)> {
    let mut grouped: Vec<(&'static str, Vec<actix_web::Route>)> = Vec::new();
    for entry in entries {
        match grouped.iter_mut().find(|(path, _)| *path == entry.relative) {
            Some((_, routes)) => routes.push(entry.actix),
            None => grouped.push((entry.relative, vec![entry.actix])),
        }
    }
    grouped
}

fn resource(path: &str, routes: Vec<actix_web::Route>) -> actix_web::Resource {
    routes
        .into_iter()
        .fold(web::resource(path), |resource, route| resource.route(route))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::{call_service, init_service, TestRequest};
    use actix_web::{App, HttpResponse};

    fn table() -> ApiRoutes {
        let mut r = ApiRoutes::default();
        r.get("/items", || async { HttpResponse::Ok().body("list") })
            .without_database()
            .post("/items", || async { HttpResponse::Created().finish() })
            .machine(Method::POST, "/hooks/x", || async {
                HttpResponse::Ok().body("hook")
            });
        r
    }

    #[test]
    fn the_table_reports_each_route_with_its_facts() {
        let routes = table().routes();
        let list: Vec<_> = routes
            .iter()
            .map(|r| {
                (
                    r.method.as_str(),
                    r.path.as_str(),
                    r.database,
                    r.rate_limited(),
                )
            })
            .collect();
        assert_eq!(
            list,
            [
                ("GET", "/api/v1/items", false, false),
                ("POST", "/api/v1/items", true, true),
                ("POST", "/api/v1/hooks/x", true, false),
            ]
        );
        let mut twice = table();
        twice.get("/items", || async { HttpResponse::Ok().finish() });
        assert_eq!(twice.duplicates(), ["GET /api/v1/items"]);
    }

    #[actix_web::test]
    async fn routes_are_served_and_other_methods_get_405_with_allow() {
        let settings = crate::config::Settings::default();
        let (machines, readers) = table().into_services(&settings);
        let app = init_service(App::new().service(machines).service(readers)).await;

        let res = call_service(&app, TestRequest::get().uri("/api/v1/items").to_request()).await;
        assert_eq!(res.status(), 200);
        let res = call_service(&app, TestRequest::post().uri("/api/v1/items").to_request()).await;
        assert_eq!(res.status(), 201);
        let res = call_service(
            &app,
            TestRequest::post().uri("/api/v1/hooks/x").to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);

        let res = call_service(
            &app,
            TestRequest::delete().uri("/api/v1/items").to_request(),
        )
        .await;
        assert_eq!(res.status(), 405);
        let allow = res
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    }
}
