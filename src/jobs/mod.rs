//! Open positions: postings with their hiring contacts and custom questions, the public
//! list, detail and page (with a schema.org `JobPosting` block and a no-JavaScript form),
//! applications with a streamed, content-checked CV, the emails they cause, and retention.
//!
//! The staff side (creating postings, reviewing applications) builds on [`store`] and
//! [`emails::rejection`]; see `store`'s functions marked *staff*.

pub mod cv;
pub mod emails;
mod handlers;
pub mod jsonld;
pub mod markdown;
pub mod model;
mod pages;
pub mod retention;
pub mod service;
pub mod store;
pub mod upload;

use utoipa::OpenApi;

pub use handlers::routes;
pub use pages::pages;

#[derive(OpenApi)]
#[openapi(
    paths(handlers::list, handlers::detail, handlers::apply),
    components(schemas(
        handlers::PostingListItem,
        handlers::PostingDetail,
        handlers::SalaryView,
        handlers::ApplicationReceived,
        handlers::ApplicationForm,
        model::Question,
        model::QuestionKind,
        model::EmploymentType,
        model::Workplace,
        model::PostingStatus,
        model::SalaryPeriod,
    )),
    tags((name = "jobs", description = "Open positions and applications"))
)]
pub struct ApiDoc;
