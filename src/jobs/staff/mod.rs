//! The staff side of open positions (role `hiring`, and `admin`): postings created and
//! edited, each posting's applications (filtered, sorted, paged), one application with its
//! answers, notes and ratings, stage changes (a move into `rejected` may email the
//! applicant; nothing else does), CV downloads and erasure on request.
//!
//! Hiring contacts see only their postings' applicants and change only their postings; admins
//! see and change all; every other role none (the access rules keep them out, [`may_review`]
//! and [`super::postings`] keep hiring staff to their postings, and only admins choose a
//! posting's hiring contacts).
//! Every change, every application view and every CV download is audited in the transaction
//! that makes or reads it.
//!
//! [`api`] answers the JSON API, [`pages`] the HTML pages, [`forms`] reads what both send;
//! the route table, the reviewer check and the operations both sides share are here.

pub mod api;
mod forms;
mod pages;

use api::{
    application_json, applications_json, create_posting_json, cv_json, erase_json,
    list_postings_json, patch_application_json, patch_posting_json, posting_json, PostingRow,
    StaffPosting,
};
use forms::{parse_posting_status, ApplicationsQuery, PostingsQuery, Review};
use pages::{
    application_page, applications_page, create_posting_form, edit_posting_page, erase_form,
    new_posting_page, note_form, postings_page, rating_form, stage_form, update_posting_form,
};

use actix_web::http::Method;
use serde_json::json;

use super::emails;
use super::model::{Posting, PostingInput, Stage};
use super::postings::{self, Editor};
use super::privacy;
use super::store::{self, ApplicationDetail, ApplicationSummary};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::staff::audit::{self, Actor, Entry};
use crate::staff::{NavItem, Role, Staff, StaffRoutes};
use crate::state::AppState;

/// Who may use the jobs section (admin always may).
const HIRING: &[Role] = &[Role::Hiring];

/// How applications are named in the audit log and the outbox.
const APPLICATION: &str = store::REF_KIND;

/// Every staff route of this feature, each with the roles that may use it.
pub fn staff_routes(r: &mut StaffRoutes) {
    use Method as M;
    r.api(M::GET, "/jobs", HIRING, list_postings_json)
        .api(M::POST, "/jobs", HIRING, create_posting_json)
        .api(M::GET, "/jobs/{slug}", HIRING, posting_json)
        .api(M::PATCH, "/jobs/{slug}", HIRING, patch_posting_json)
        .api(
            M::GET,
            "/jobs/{slug}/applications",
            HIRING,
            applications_json,
        )
        .api(M::GET, "/applications/{id}", HIRING, application_json)
        .api(
            M::PATCH,
            "/applications/{id}",
            HIRING,
            patch_application_json,
        )
        .api(M::DELETE, "/applications/{id}", HIRING, erase_json)
        .api(M::GET, "/applications/{id}/cv", HIRING, cv_json)
        .page(M::GET, "/jobs", HIRING, postings_page)
        .page(M::POST, "/jobs", HIRING, create_posting_form)
        .page(M::GET, "/jobs/new", HIRING, new_posting_page)
        .page(M::GET, "/jobs/{slug}/edit", HIRING, edit_posting_page)
        .page(M::POST, "/jobs/{slug}/edit", HIRING, update_posting_form)
        .page(
            M::GET,
            "/jobs/{slug}/applications",
            HIRING,
            applications_page,
        )
        .page(
            M::GET,
            "/jobs/{slug}/applications/{id}",
            HIRING,
            application_page,
        )
        .page(M::POST, "/applications/{id}/stage", HIRING, stage_form)
        .page(M::POST, "/applications/{id}/notes", HIRING, note_form)
        .page(M::POST, "/applications/{id}/rating", HIRING, rating_form)
        .page(M::POST, "/applications/{id}/erase", HIRING, erase_form);
}

/// The staff navigation section.
pub fn staff_nav() -> Vec<NavItem> {
    vec![NavItem {
        key: "jobs",
        label: "Jobs",
        href: "/staff/jobs",
        hint: "Open positions and their applicants",
        roles: HIRING,
    }]
}

// ---- who may see applicants ----

/// The facts the applicant check needs, movable into a database closure.
#[derive(Debug, Clone)]
struct Reviewer {
    role: Role,
    email: String,
    actor: Actor,
}

impl Reviewer {
    fn of(staff: &Staff) -> Reviewer {
        Reviewer {
            role: staff.role,
            email: staff.user.email.clone(),
            actor: staff.actor(),
        }
    }
}

/// Admins see every posting's applicants; hiring staff only those of postings they are a
/// hiring contact of (403 otherwise): the postings they may change ([`postings::looks_after`]).
fn may_review(conn: &mut DbConnection, who: &Reviewer, posting_id: &str) -> Result<(), AppError> {
    if postings::looks_after(conn, who.role, &who.email, posting_id)? {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only this posting's hiring contacts and admins see its applicants.".into(),
        ))
    }
}

/// Loads an application after checking the reviewer may see it.
fn reviewable(
    conn: &mut DbConnection,
    who: &Reviewer,
    id: &str,
) -> Result<ApplicationDetail, AppError> {
    let posting_id = store::application_posting_id(conn, id)?;
    may_review(conn, who, &posting_id)?;
    Ok(store::get_application(conn, id)?)
}

fn staff_posting(
    state: &AppState,
    posting: &Posting,
    contacts: &[String],
    questions: &[super::model::Question],
) -> StaffPosting {
    StaffPosting {
        id: posting.id.clone(),
        fields: PostingInput::from_posting(posting, contacts, questions),
        effective_status: posting.effective_status(crate::db::now()),
        published_at: posting.published_at.map(|t| t.and_utc()),
        closed_at: posting.closed_at.map(|t| t.and_utc()),
        created_at: posting.created_at.and_utc(),
        updated_at: posting.updated_at.and_utc(),
        url: format!(
            "{}/jobs/{}",
            state
                .settings
                .server
                .public_url
                .as_str()
                .trim_end_matches('/'),
            posting.slug
        ),
    }
}

/// Reads a posting with its contacts and active questions.
fn load_posting(conn: &mut DbConnection, slug: &str) -> Result<PostingParts, AppError> {
    let posting = store::find_posting_by_slug(conn, slug)?;
    let contacts = store::hiring_contacts(conn, &posting.id)?;
    let questions = store::posting_questions(conn, &posting.id, true)?;
    Ok((posting, contacts, questions))
}

type PostingParts = (Posting, Vec<String>, Vec<super::model::Question>);

async fn posting_rows(
    state: &AppState,
    staff: &Staff,
    query: &PostingsQuery,
) -> Result<Vec<PostingRow>, AppError> {
    let status = parse_posting_status(query.status.as_deref())?;
    let who = Reviewer::of(staff);
    state
        .db
        .run(move |conn| {
            let all = store::list_postings(conn, status)?;
            let mine: Vec<String> = store::postings_for_contact(conn, &who.email)?
                .into_iter()
                .map(|p| p.id)
                .collect();
            let now = crate::db::now();
            Ok(all
                .into_iter()
                .map(|p| PostingRow {
                    can_review: who.role == Role::Admin || mine.contains(&p.id),
                    effective_status: p.effective_status(now),
                    id: p.id,
                    slug: p.slug,
                    title: p.title,
                    location: p.location,
                    status: p.status,
                    opens_at: p.opens_at.map(|t| t.and_utc()),
                    closes_at: p.closes_at.map(|t| t.and_utc()),
                    created_at: p.created_at.and_utc(),
                })
                .collect())
        })
        .await
}

async fn create_posting(
    state: &AppState,
    staff: &Staff,
    input: PostingInput,
) -> Result<StaffPosting, AppError> {
    let editor = Editor::of(staff);
    let (posting, contacts, questions) = state
        .db
        .write(move |conn| {
            let posting = postings::create(conn, &editor, input)?;
            load_posting(conn, &posting.slug)
        })
        .await?;
    Ok(staff_posting(state, &posting, &contacts, &questions))
}

async fn update_posting(
    state: &AppState,
    staff: &Staff,
    slug: String,
    change: impl FnOnce(&PostingInput) -> Result<PostingInput, AppError> + Send + 'static,
) -> Result<StaffPosting, AppError> {
    let editor = Editor::of(staff);
    let (posting, contacts, questions) = state
        .db
        .write(move |conn| {
            let updated = postings::update(conn, &editor, &slug, change)?;
            load_posting(conn, &updated.slug)
        })
        .await?;
    Ok(staff_posting(state, &posting, &contacts, &questions))
}

async fn applications(
    state: &AppState,
    staff: &Staff,
    slug: String,
    query: &ApplicationsQuery,
) -> Result<(Posting, store::Page<ApplicationSummary>), AppError> {
    let filter = query.filter()?;
    let who = Reviewer::of(staff);
    state
        .db
        .run(move |conn| {
            let posting = store::find_posting_by_slug(conn, &slug)?;
            may_review(conn, &who, &posting.id)?;
            let page = store::list_applications(conn, &posting.id, &filter)?;
            Ok((posting, page))
        })
        .await
}

/// Reads one application for a reviewer and audits the view, in one transaction.
async fn view(state: &AppState, staff: &Staff, id: String) -> Result<ApplicationDetail, AppError> {
    let who = Reviewer::of(staff);
    state
        .db
        .write(move |conn| {
            let detail = reviewable(conn, &who, &id)?;
            audit::record(
                conn,
                &who.actor,
                Entry::new("job_application.viewed").target(APPLICATION, &id),
            )?;
            Ok(detail)
        })
        .await
}

/// Applies a review in one transaction (the rejection email composed before it); returns
/// the application as it now stands.
async fn apply_review(
    state: &AppState,
    staff: &Staff,
    id: String,
    review: Review,
) -> Result<ApplicationDetail, AppError> {
    let who = Reviewer::of(staff);
    let before = {
        let (who, id) = (who.clone(), id.clone());
        state
            .db
            .run(move |conn| reviewable(conn, &who, &id))
            .await?
    };
    let rejection = match (&review.rejection_email, review.stage) {
        (Some(message), Some(Stage::Rejected)) if before.stage != Stage::Rejected => Some(
            emails::rejection(&state.mailer, &before, message.as_deref())?,
        ),
        _ => None,
    };
    let (detail, queued) = state
        .db
        .write(move |conn| {
            let current = reviewable(conn, &who, &id)?;
            let now = crate::db::now();
            let mut queued = false;
            if let Some(stage) = review.stage.filter(|s| *s != current.stage) {
                let change = store::set_stage(conn, &id, stage, rejection.as_ref(), now)?;
                queued = change.email_queued;
                audit::record(
                    conn,
                    &who.actor,
                    Entry::new("job_application.stage_changed")
                        .target(APPLICATION, &id)
                        .details(json!({
                            "from": change.from.as_str(),
                            "to": change.to.as_str(),
                            "rejection_email_to": queued.then_some(&current.email),
                        })),
                )?;
            }
            if let Some(note) = &review.note {
                let note = store::add_note(conn, &id, &who.actor.label, note, now)?;
                audit::record(
                    conn,
                    &who.actor,
                    Entry::new("job_application.note_added")
                        .target(APPLICATION, &id)
                        .details(json!({ "note_id": note.id })),
                )?;
            }
            if let Some(rating) = review.rating {
                let summary = store::set_rating(conn, &id, &who.email, rating, now)?;
                audit::record(
                    conn,
                    &who.actor,
                    Entry::new("job_application.rated")
                        .target(APPLICATION, &id)
                        .details(json!({ "rating": rating.get(), "average": summary.average })),
                )?;
            }
            Ok((store::get_application(conn, &id)?, queued))
        })
        .await?;
    if queued {
        state.mailer.wake();
    }
    Ok(detail)
}

/// Erases an applicant on request; returns the posting's slug.
async fn erase(state: &AppState, staff: &Staff, id: String) -> Result<String, AppError> {
    let who = Reviewer::of(staff);
    let dir = state.settings.uploads.dir.clone();
    let (slug, erased) = state
        .db
        .write(move |conn| {
            let detail = reviewable(conn, &who, &id)?;
            let erased = privacy::erase_application(conn, &dir, &id, crate::db::now())?;
            if let Some(erasure) = &erased {
                audit::record(
                    conn,
                    &who.actor,
                    Entry::new("job_application.erased")
                        .target(APPLICATION, &id)
                        .details(json!({ "audit_entries_scrubbed": erasure.audit_entries })),
                )?;
            }
            Ok((detail.posting_slug, erased))
        })
        .await?;
    if let Some(erasure) = erased {
        privacy::delete_after_commit(&state.settings.mail, erasure).await;
    }
    Ok(slug)
}
