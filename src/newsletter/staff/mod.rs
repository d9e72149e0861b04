//! The staff side of the newsletter: issues (compose with preview, test send, send now or
//! later, pause/resume/cancel, retry failed, progress) for roles `fundraising` and `editor`;
//! subscribers (list, CSV export, CSV import with a dry run) for `fundraising`; lists.
//! Every change and every view or export of subscribers' data is audited.

mod api;
mod forms;
mod pages;
mod report;
mod subscribers;

pub use api::*;
pub use pages::*;
pub use report::*;
pub use subscribers::*;

use actix_web::http::Method;
use actix_web::HttpRequest;

use crate::staff::{NavItem, Role, StaffRoutes};

const NEWSLETTERS: &[Role] = &[Role::Fundraising, Role::Editor];
const SUBSCRIBERS: &[Role] = &[Role::Fundraising];
/// Largest CSV accepted by the import page (the JSON endpoint uses `server.max_body_bytes`).
pub(super) const IMPORT_MAX_BYTES: usize = 20 * 1024 * 1024;

pub fn staff_nav() -> Vec<NavItem> {
    vec![
        NavItem {
            key: "newsletters",
            label: "Newsletters",
            href: "/staff/newsletters",
            hint: "Compose, test and send issues; lists",
            roles: NEWSLETTERS,
        },
        NavItem {
            key: "subscribers",
            label: "Subscribers",
            href: "/staff/subscribers",
            hint: "Who subscribed, exports and imports",
            roles: SUBSCRIBERS,
        },
    ]
}

/// The issue actions that take no body: the last segment of their paths.
pub(super) const ACTIONS: [&str; 4] = ["pause", "resume", "cancel", "retry-failed"];
/// Every staff route of this feature, each with the roles that may use it.
pub fn staff_routes(r: &mut StaffRoutes) {
    use Method as M;
    r.api(M::GET, "/subscribers", SUBSCRIBERS, subscribers_json)
        .api(M::GET, "/subscribers.csv", SUBSCRIBERS, subscribers_csv)
        .api(M::POST, "/subscribers/import", SUBSCRIBERS, import_json)
        .api(M::GET, "/subscribers/{id}", SUBSCRIBERS, subscriber_json)
        .api(M::GET, "/newsletters", NEWSLETTERS, issues_json)
        .api(M::POST, "/newsletters", NEWSLETTERS, create_json)
        .api(M::GET, "/newsletters/{id}", NEWSLETTERS, issue_json)
        .api(M::PUT, "/newsletters/{id}", NEWSLETTERS, update_json)
        .api(M::POST, "/newsletters/{id}/test", NEWSLETTERS, test_json)
        .api(M::POST, "/newsletters/{id}/send", NEWSLETTERS, send_json)
        .api(M::POST, "/newsletters/{id}/pause", NEWSLETTERS, pause_json)
        .api(
            M::POST,
            "/newsletters/{id}/resume",
            NEWSLETTERS,
            resume_json,
        )
        .api(
            M::POST,
            "/newsletters/{id}/cancel",
            NEWSLETTERS,
            cancel_json,
        )
        .api(
            M::POST,
            "/newsletters/{id}/retry-failed",
            NEWSLETTERS,
            retry_failed_json,
        )
        .api(M::GET, "/newsletter-lists", NEWSLETTERS, lists_json)
        .api(M::POST, "/newsletter-lists", NEWSLETTERS, create_list_json)
        .page(M::GET, "/subscribers", SUBSCRIBERS, subscribers_page)
        .page(M::GET, "/subscribers/import", SUBSCRIBERS, import_form_page)
        .page(M::POST, "/subscribers/import", SUBSCRIBERS, import_page)
        .page(M::GET, "/subscribers/{id}", SUBSCRIBERS, subscriber_page)
        .page(M::GET, "/newsletters", NEWSLETTERS, issues_page)
        .page(M::GET, "/newsletters/new", NEWSLETTERS, compose_page)
        .page(M::POST, "/newsletters/new", NEWSLETTERS, compose_submit)
        .page(M::GET, "/newsletters/{id}", NEWSLETTERS, issue_page)
        .page(
            M::GET,
            "/newsletters/{id}/report",
            NEWSLETTERS,
            issue_report_page,
        )
        .page(M::POST, "/newsletters/{id}", NEWSLETTERS, edit_submit)
        .page(M::POST, "/newsletters/{id}/test", NEWSLETTERS, test_page)
        .page(M::POST, "/newsletters/{id}/send", NEWSLETTERS, send_page)
        .page(M::POST, "/newsletters/{id}/pause", NEWSLETTERS, action_page)
        .page(
            M::POST,
            "/newsletters/{id}/resume",
            NEWSLETTERS,
            action_page,
        )
        .page(
            M::POST,
            "/newsletters/{id}/cancel",
            NEWSLETTERS,
            action_page,
        )
        .page(
            M::POST,
            "/newsletters/{id}/retry-failed",
            NEWSLETTERS,
            action_page,
        )
        .page(M::POST, "/newsletter-lists", NEWSLETTERS, create_list_page);
}

/// The action a request names: the last segment of its path.
pub(super) fn action_of(req: &HttpRequest) -> &str {
    req.path().rsplit('/').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_api_and_page_rules() {
        let mut routes = StaffRoutes::default();
        staff_routes(&mut routes);
        let rules = routes.rules();
        for action in ACTIONS {
            let n = rules
                .iter()
                .filter(|r| r.path.ends_with(&format!("/{{id}}/{action}")))
                .count();
            assert_eq!(n, 2, "{action}");
        }
    }
}
