//! One person across Frontdesk, above the features (no feature imports it): everything
//! stored about an email address, its export for a data-access request and its erasure,
//! for admins ([`staff`]) and for readers themselves ([`self_service`]).
//!
//! Each feature answers for its own records through its `privacy` module (`find_by_email`,
//! `erase_by_email` inside the caller's transaction); [`service`] composes them, adds the
//! emails (`mail::outbox`) and the audit log, and runs the erasure in one transaction.

pub mod self_service;
pub mod service;
pub mod staff;
pub mod store;

use utoipa::OpenApi;

pub use self_service::pages;
pub use staff::{staff_nav, staff_routes};

#[derive(OpenApi)]
#[openapi(
    paths(
        staff::person_json,
        staff::export_json,
        staff::export_zip,
        staff::erase_json,
        staff::lift_block_json,
    ),
    components(schemas(
        service::Person,
        service::EmailRecord,
        service::ErasureReport,
        crate::newsletter::privacy::NewsletterRecord,
        crate::newsletter::privacy::SubscriberRecord,
        crate::newsletter::privacy::ListMembership,
        crate::newsletter::privacy::ConsentRecord,
        crate::newsletter::privacy::IssueReceived,
        crate::donations::privacy::DonationRecord,
        crate::donations::privacy::PaymentRecord,
        crate::feedback::privacy::VoteRecord,
        crate::comments::privacy::CommentRecord,
        crate::comments::privacy::ReplyRecord,
        crate::jobs::privacy::ApplicationRecord,
        crate::jobs::privacy::AnswerRecord,
    ))
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    #[test]
    fn the_openapi_document_lists_every_people_endpoint() {
        let doc = serde_json::to_value(<super::ApiDoc as utoipa::OpenApi>::openapi())
            .expect("serialises");
        for (path, method) in [
            ("/api/v1/staff/people", "get"),
            ("/api/v1/staff/people", "delete"),
            ("/api/v1/staff/people/export.json", "get"),
            ("/api/v1/staff/people/export.zip", "get"),
            ("/api/v1/staff/people/newsletter-block", "delete"),
        ] {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} is documented"
            );
        }
        assert!(doc["components"]["schemas"]["Person"].is_object());
        assert!(doc["components"]["schemas"]["ErasureReport"].is_object());
    }

    #[test]
    fn every_people_route_is_for_admins_only() {
        let mut routes = crate::staff::StaffRoutes::default();
        super::staff_routes(&mut routes);
        let rules = routes.rules();
        assert_eq!(rules.len(), 8);
        assert!(rules.iter().all(|r| r.roles == crate::staff::ADMIN));
    }
}
