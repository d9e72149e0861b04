//! Open positions: postings with their hiring contacts and custom questions, the public
//! list, detail and page (with a schema.org `JobPosting` block and a no-JavaScript form),
//! applications with a streamed, content-checked CV, the emails they cause, and retention.
//!
//! The staff side (creating postings, reviewing applications) is [`staff`], built on
//! [`postings`] (who may change a posting and who may be its hiring contacts), [`store`]'s
//! functions marked *staff* and [`emails::rejection`].

pub mod cv;
pub mod emails;
pub mod figures;
mod handlers;
pub mod jsonld;
pub mod markdown;
pub mod model;
mod pages;
pub mod postings;
pub mod privacy;
pub mod retention;
pub mod search;
pub mod service;
pub mod staff;
pub mod store;
pub mod upload;

use utoipa::OpenApi;

pub use handlers::routes;
pub use pages::pages;

#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::list,
        handlers::detail,
        handlers::apply,
        staff::api::list_postings_json,
        staff::api::create_posting_json,
        staff::api::posting_json,
        staff::api::patch_posting_json,
        staff::api::applications_json,
        staff::api::application_json,
        staff::api::patch_application_json,
        staff::api::cv_json,
        staff::api::erase_json,
    ),
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
        model::PostingInput,
        model::SalaryInput,
        model::QuestionInput,
        model::Stage,
        staff::api::StaffPosting,
        staff::api::PostingRow,
        staff::api::ApplicationPatch,
        store::ApplicationSummary,
        store::ApplicationSort,
        store::ApplicationDetail,
        store::Answer,
        store::Note,
        store::ReviewerRating,
        store::CvInfo,
    )),
    tags((name = "jobs", description = "Open positions and applications")),
    modifiers(&Links, &Shapes)
)]
pub struct ApiDoc;

/// What the derived schemas cannot say by themselves.
struct Shapes;

impl utoipa::Modify for Shapes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        use utoipa::openapi::RefOr;
        let Some(components) = doc.components.as_mut() else {
            return;
        };
        // A staff posting is the posting's fields plus its dates: the fields' schema without
        // the request's "no other fields" (which would refuse the dates).
        let fields = match components.schemas.get("PostingInput") {
            Some(RefOr::T(Schema::Object(o))) => {
                let mut o = o.clone();
                o.additional_properties = None;
                Some(o)
            }
            _ => None,
        };
        if let (Some(fields), Some(RefOr::T(Schema::AllOf(all)))) =
            (fields, components.schemas.get_mut("StaffPosting"))
        {
            for item in &mut all.items {
                if matches!(item, RefOr::Ref(r) if r.ref_location.ends_with("/PostingInput")) {
                    *item = RefOr::T(Schema::Object(fields.clone()));
                }
            }
        }
        // The application form takes the fields it names and one `answer_<id>` per question
        // of the posting (listed in the posting's `questions`), nothing else.
        if let Some(RefOr::T(Schema::Object(form))) = components.schemas.get_mut("ApplicationForm")
        {
            form.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// From a new posting and a new application to the operations that take their slug or id.
struct Links;

impl utoipa::Modify for Links {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use crate::web::openapi::link;
        link(
            doc,
            ("post", "/api/v1/staff/jobs"),
            "201",
            "slug",
            "slug",
            &[
                ("get", "/api/v1/staff/jobs/{slug}"),
                ("patch", "/api/v1/staff/jobs/{slug}"),
                ("get", "/api/v1/staff/jobs/{slug}/applications"),
                ("get", "/api/v1/jobs/{slug}"),
                ("post", "/api/v1/jobs/{slug}/applications"),
            ],
        );
        link(
            doc,
            ("post", "/api/v1/jobs/{slug}/applications"),
            "201",
            "id",
            "id",
            &[
                ("get", "/api/v1/staff/applications/{id}"),
                ("patch", "/api/v1/staff/applications/{id}"),
                ("get", "/api/v1/staff/applications/{id}/cv"),
                ("delete", "/api/v1/staff/applications/{id}"),
            ],
        );
    }
}
