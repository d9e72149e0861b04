//! The staff dashboard, above the features (no feature imports it): the numbers each role
//! needs on the staff home page and at `GET /api/v1/staff/dashboard`, with charts drawn as
//! SVG by the service.
//!
//! Each feature answers for its own numbers through its `figures` module (aggregate queries
//! over its indexes); [`service`] composes them for the signed-in role, cut into calendar
//! windows of `site.timezone` ([`windows`]); [`chart`] lays out the bars that
//! `templates/staff/_chart.html` draws.

pub mod api;
pub mod chart;
pub mod pages;
pub mod service;
pub mod windows;

use actix_web::http::Method;
use utoipa::OpenApi;

use crate::staff::{StaffRoutes, ANY_ROLE};

/// The dashboard's staff routes: every role has one (showing what it may see).
pub fn staff_routes(r: &mut StaffRoutes) {
    r.page(Method::GET, "/", ANY_ROLE, pages::dashboard_page)
        .api(Method::GET, "/dashboard", ANY_ROLE, api::dashboard_json);
}

#[derive(OpenApi)]
#[openapi(
    paths(api::dashboard_json),
    components(schemas(
        service::Dashboard,
        service::Month,
        service::Fundraising,
        service::Newsletter,
        service::Editors,
        service::ServiceHealth,
        service::StatusCount,
        crate::donations::figures::CurrencySum,
        crate::donations::figures::Source,
        crate::newsletter::figures::Week,
        crate::newsletter::figures::IssueReport,
        crate::newsletter::store::IssueProgress,
        crate::feedback::figures::Day,
        crate::feedback::figures::Article,
        crate::comments::figures::Unanswered,
        crate::jobs::figures::Hiring,
        crate::jobs::figures::StageCount,
        crate::jobs::figures::Waiting,
    ))
)]
pub struct ApiDoc;
