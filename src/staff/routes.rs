//! The staff route table: each staff route is declared once, with the roles that may use it,
//! by one call that registers the handler and its rule together.
//!
//! ```ignore
//! r.api(Method::GET, "/donations", FUNDRAISING, list_json)
//!     .page(Method::GET, "/donations", FUNDRAISING, list_page);
//! ```
//!
//! Every declared route is its method's route on the resource of its pattern, wrapped in
//! [`authorize`], a middleware that holds that route's roles. Authorization is therefore decided
//! by the route that actually runs, after the router has matched (and percent-decoded) the path:
//! no second table keyed by a path spelling can drift from the routes or be bypassed by another
//! spelling of the same path. A handler sees a [`Staff`] only through [`authorize`]: the scope's
//! guard ([`require_staff`]) stores the authenticated user under a private type, so a handler
//! registered in the staff scopes by any other way fails closed (401) instead of running.

use actix_web::body::BoxBody;
use actix_web::dev::{HttpServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, Handler, HttpMessage, Responder};

use super::access::{refuse, require_staff, Authenticated, Staff};
use super::model::Role;
use crate::error::AppError;
use crate::staff::ui::see_other;
use crate::state::AppState;

/// Where an account that must enrol a second factor is sent.
pub const ENROLMENT_PAGE: &str = "/staff/account/two-factor";

/// Which guarded scope a staff route lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// JSON endpoints under `/api/v1/staff`: errors as problem documents, 401 when anonymous.
    Api,
    /// HTML pages under `/staff`: errors as pages, anonymous users sent to sign in.
    Pages,
}

impl Area {
    pub const fn prefix(self) -> &'static str {
        match self {
            Area::Api => "/api/v1/staff",
            Area::Pages => "/staff",
        }
    }
}

/// The roles allowed on one staff route (`admin` may use every route).
#[derive(Debug, Clone)]
pub struct Rule {
    pub area: Area,
    pub method: Method,
    /// The full route pattern, e.g. `/api/v1/staff/outbox/{id}/retry`.
    pub path: String,
    pub roles: &'static [Role],
    /// Usable by an account that must still enrol a second factor (`staff.require_two_factor`):
    /// the enrolment pages and signing out. Every other route refuses such an account.
    pub before_two_factor: bool,
}

struct Entry {
    rule: Rule,
    /// The pattern relative to the area's scope.
    relative: &'static str,
    route: actix_web::Route,
}

/// The staff routes of the frame and of every feature, declared with their roles.
#[derive(Default)]
pub struct StaffRoutes {
    entries: Vec<Entry>,
}

impl StaffRoutes {
    /// Declares a JSON endpoint under `/api/v1/staff`.
    pub fn api<F, Args>(
        &mut self,
        method: Method,
        path: &'static str,
        roles: &'static [Role],
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Area::Api, method, path, roles, handler)
    }

    /// Declares an HTML page (or form target) under `/staff`.
    pub fn page<F, Args>(
        &mut self,
        method: Method,
        path: &'static str,
        roles: &'static [Role],
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Area::Pages, method, path, roles, handler)
    }

    /// Declares an HTML page (or form target) under `/staff` that an account still has to
    /// reach when it must enrol a second factor first: the enrolment pages, signing out.
    pub fn enrolment_page<F, Args>(
        &mut self,
        method: Method,
        path: &'static str,
        roles: &'static [Role],
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Area::Pages, method, path, roles, handler);
        if let Some(entry) = self.entries.last_mut() {
            entry.rule.before_two_factor = true;
        }
        self
    }

    fn add<F, Args>(
        &mut self,
        area: Area,
        method: Method,
        relative: &'static str,
        roles: &'static [Role],
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let route = web::method(method.clone()).to(handler);
        self.entries.push(Entry {
            rule: Rule {
                area,
                method,
                path: format!("{}{relative}", area.prefix()),
                roles,
                before_two_factor: false,
            },
            relative,
            route,
        });
        self
    }

    /// The table: every declared route with its roles, in declaration order.
    pub fn rules(&self) -> Vec<Rule> {
        self.entries.iter().map(|e| e.rule.clone()).collect()
    }

    /// Routes declared twice (the same method and pattern), which start-up refuses.
    pub fn duplicates(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.entries
            .iter()
            .filter(|e| !seen.insert((e.rule.method.clone(), e.rule.path.clone())))
            .map(|e| format!("{} {}", e.rule.method, e.rule.path))
            .collect()
    }

    /// The two guarded scopes, each route a resource of its own behind its rule.
    pub fn into_services(self) -> impl HttpServiceFactory {
        let (api, pages): (Vec<Entry>, Vec<Entry>) = self
            .entries
            .into_iter()
            .partition(|e| e.rule.area == Area::Api);
        (scope(Area::Api, api), scope(Area::Pages, pages))
    }
}

/// One resource per pattern, holding each method's route behind that route's own rule; any
/// other method gets 405 with `Allow`.
fn scope(area: Area, entries: Vec<Entry>) -> impl HttpServiceFactory {
    let mut resources: Vec<(&'static str, Vec<actix_web::Route>)> = Vec::new();
    for entry in entries {
        let (roles, enrolment) = (entry.rule.roles, entry.rule.before_two_factor);
        let route = entry
            .route
            .wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
                authorize(area, roles, enrolment, req, next)
            }));
        match resources
            .iter_mut()
            .find(|(path, _)| *path == entry.relative)
        {
            Some((_, routes)) => routes.push(route),
            None => resources.push((entry.relative, vec![route])),
        }
    }
    resources.into_iter().fold(
        web::scope(area.prefix()).wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
            require_staff(area, req, next)
        })),
        |scope, (relative, routes)| {
            scope.service(
                routes
                    .into_iter()
                    .fold(web::resource(relative), |resource, route| {
                        resource.route(route)
                    }),
            )
        },
    )
}

/// The route's own check: the authenticated staff member's role must be one of `roles`, and
/// when `staff.require_two_factor` is on, an account without a second factor reaches only the
/// routes marked `enrolment` (pages redirect to enrolment, the API answers 403). Runs after
/// routing, so it is always the rule of the handler about to run.
async fn authorize(
    area: Area,
    roles: &'static [Role],
    enrolment: bool,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let authenticated = req.extensions().get::<Authenticated>().cloned();
    let Some(Authenticated(staff)) = authenticated else {
        return Ok(refuse(area, req, AppError::Unauthorized));
    };
    if !staff.role.permits(roles) {
        return Ok(refuse(
            area,
            req,
            AppError::Forbidden("Your role does not give access to this.".into()),
        ));
    }
    if !enrolment && !staff.second_factor {
        // Fail closed: without the settings, nothing but enrolment is reachable.
        let required = req
            .app_data::<web::Data<AppState>>()
            .is_none_or(|s| s.settings.staff.require_two_factor);
        if required {
            return Ok(match area {
                Area::Api => refuse(area, req, AppError::TwoFactorRequired),
                Area::Pages => req.into_response(see_other(ENROLMENT_PAGE)),
            });
        }
    }
    req.extensions_mut().insert::<Staff>(staff);
    next.call(req).await
}
