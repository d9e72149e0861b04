//! Storage for postings and applications: plain synchronous functions over one connection,
//! one module per area; everything is re-exported here so callers keep `jobs::store::…`.
//!
//! Functions that write several rows say so; call them inside `Db::write` so they commit
//! together. Functions marked *staff* are for the staff area's handlers (not public routes):
//! they do no role checks themselves; [`is_hiring_contact`] and [`application_posting_id`]
//! are what those checks need.

mod applications;
mod detail;
mod erasure;
mod postings;
mod review;

pub use applications::{
    application_exists, application_posting_id, insert_application, list_applications,
    ApplicationFilter, ApplicationSort, ApplicationSummary, NewApplication, Page, StoredCv,
};
pub use detail::{
    cv_download, get_application, Answer, ApplicationDetail, CvDownload, CvInfo, Note,
    ReviewerRating,
};
pub(crate) use erasure::anonymise_application;
pub use erasure::{retention_candidates, stored_cv_names, Anonymised};
pub use postings::{
    close_expired, find_posting, find_posting_by_slug, hiring_contacts, insert_posting,
    is_hiring_contact, list_open_postings, list_postings, posting_questions, postings_for_contact,
    update_posting,
};
pub use review::{add_note, set_rating, set_stage, RatingSummary, StageChange};

/// How outbox rows caused by an application are referenced (and found again on erasure).
pub const REF_KIND: &str = "job_application";

/// The name an anonymised application keeps.
pub const ERASED_NAME: &str = "(erased)";

/// The mean rating from the stored score (the average times 100, which the list sorts by);
/// `None` while nobody has rated.
fn rating_average(score: i32, count: i32) -> Option<f64> {
    (count > 0).then(|| f64::from(score) / 100.0)
}
