//! The staff side of the newsletter: issues (compose with preview, test send, send now or
//! later, pause/resume/cancel, retry failed, progress) for roles `fundraising` and `editor`;
//! subscribers (list, CSV export, CSV import with a dry run) for `fundraising`; lists.
//! Every change and every view or export of subscribers' data is audited.

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::{AppError, FieldError};
use crate::staff::audit::{self, Entry};
use crate::staff::{NavItem, Role, Staff, StaffRoutes};
use crate::web::pagination::PageRequest;
use crate::web::ApiJson;

use super::csv_io::{self, ImportReport};
use super::model::{EmailAddress, IssueStatus, ListSlug, NewIssue, NewList, SubscriberStatus};
use super::store::{self, Issue, IssueProgress, List, SubscriberFilter, SubscriberItem};

const NEWSLETTERS: &[Role] = &[Role::Fundraising, Role::Editor];
const SUBSCRIBERS: &[Role] = &[Role::Fundraising];
/// Largest CSV accepted by the import page (the JSON endpoint uses `server.max_body_bytes`).
const IMPORT_MAX_BYTES: usize = 20 * 1024 * 1024;

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
const ACTIONS: [&str; 4] = ["pause", "resume", "cancel", "retry-failed"];
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

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

// ---- subscribers ----

/// Subscriber filters, as query parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SubscriberQuery {
    pub status: Option<String>,
    pub list: Option<String>,
    pub email: Option<String>,
    /// Part of the address or name.
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl SubscriberQuery {
    fn filter(&self) -> Result<SubscriberFilter, AppError> {
        let request = PageRequest::parse(self.cursor.as_deref(), self.limit)?;
        let mut errors = Vec::new();
        let status = present(&self.status).and_then(|s| {
            SubscriberStatus::parse(s).or_else(|| {
                errors.push(FieldError::new(
                    "status",
                    "Use pending, confirmed, unsubscribed or suppressed.",
                ));
                None
            })
        });
        let list = present(&self.list).and_then(|l| {
            ListSlug::parse(l)
                .map_err(|m| errors.push(FieldError::new("list", m)))
                .ok()
        });
        let email = present(&self.email).and_then(|e| {
            EmailAddress::parse(e)
                .map_err(|m| errors.push(FieldError::new("email", m)))
                .ok()
        });
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(SubscriberFilter {
            status,
            list,
            email,
            search: present(&self.q).map(String::from),
            cursor: request.cursor,
            limit: request.limit,
        })
    }

    /// The filters as they go back into links (without the cursor).
    fn echo(&self) -> serde_json::Value {
        json!({
            "status": self.status.clone().unwrap_or_default(),
            "list": self.list.clone().unwrap_or_default(),
            "email": self.email.clone().unwrap_or_default(),
            "q": self.q.clone().unwrap_or_default(),
        })
    }
}

/// A subscriber as staff see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffSubscriber {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub status: String,
    /// Slugs of the lists where the subscriber is pending or confirmed.
    pub lists: Vec<String>,
    pub created_at: String,
    pub confirmed_at: Option<String>,
}

impl From<SubscriberItem> for StaffSubscriber {
    fn from(s: SubscriberItem) -> Self {
        StaffSubscriber {
            id: s.id,
            email: s.email,
            name: s.name,
            status: s.status,
            lists: s.lists,
            created_at: rfc3339(s.created_at),
            confirmed_at: s.confirmed_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriberPage {
    pub items: Vec<StaffSubscriber>,
    pub next_cursor: Option<String>,
}

async fn subscribers_data(
    state: &AppState,
    staff: &Staff,
    query: &SubscriberQuery,
) -> Result<SubscriberPage, AppError> {
    let filter = query.filter()?;
    let actor = staff.actor();
    let details = query.echo();
    let page = state
        .db
        .write(move |conn| {
            let page = store::list_subscribers(conn, &filter)?;
            audit::record(
                conn,
                &actor,
                Entry::new("newsletter.subscribers_viewed").details(details),
            )?;
            Ok(page)
        })
        .await?;
    Ok(SubscriberPage {
        items: page.items.into_iter().map(StaffSubscriber::from).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Subscribers, newest first, with filters.
#[utoipa::path(get, path = "/api/v1/staff/subscribers", tag = "staff",
    params(("status" = Option<String>, Query, description = "pending, confirmed, unsubscribed or suppressed"),
           ("list" = Option<String>, Query, description = "a list slug"),
           ("email" = Option<String>, Query), ("q" = Option<String>, Query, description = "part of the address or name"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, body = SubscriberPage), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn subscribers_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<SubscriberQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(subscribers_data(&state, &staff, &query).await?))
}

/// The filtered subscribers as CSV (`email,name,status,lists,created_at,confirmed_at`;
/// cells a spreadsheet would run as formulas are escaped), streamed page by page.
#[utoipa::path(get, path = "/api/v1/staff/subscribers.csv", tag = "staff",
    params(("status" = Option<String>, Query), ("list" = Option<String>, Query),
           ("email" = Option<String>, Query), ("q" = Option<String>, Query)),
    responses((status = 200, description = "text/csv", content_type = "text/csv"), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn subscribers_csv(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<SubscriberQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query.filter()?;
    let counted = filter.clone();
    let rows = state
        .db
        .run(move |conn| Ok(store::count_subscribers(conn, &counted)?))
        .await?;
    let actor = staff.actor();
    let mut details = query.echo();
    details["rows"] = json!(rows);
    // Audited in its own short transaction before any row leaves; the rows are then read
    // page by page outside any write transaction, as the client takes them.
    state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &actor,
                Entry::new("newsletter.subscribers_exported").details(details),
            )?;
            Ok(())
        })
        .await?;
    let body = crate::web::csv::stream(
        state.db.clone(),
        csv_io::export_header()?,
        move |conn, before: Option<String>| csv_io::export_page(conn, &filter, before),
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"subscribers.csv\"",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

/// A list membership of one subscriber.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffMembership {
    pub list: String,
    pub name: String,
    /// pending, confirmed or unsubscribed
    pub status: String,
}

/// One consent event (subscribed, confirmed, imported, unsubscribed, ...).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffConsent {
    pub kind: String,
    pub recorded_at: String,
    pub source_url: Option<String>,
    pub wording_version: Option<String>,
    /// A keyed hash of the IP address, never the address itself.
    pub ip_hash: Option<String>,
}

/// One subscriber with memberships and consent history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriberDetail {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub status: String,
    pub source: String,
    pub created_at: String,
    pub confirmed_at: Option<String>,
    pub unsubscribed_at: Option<String>,
    pub memberships: Vec<StaffMembership>,
    pub consents: Vec<StaffConsent>,
}

async fn subscriber_detail(
    state: &AppState,
    staff: &Staff,
    id: String,
) -> Result<SubscriberDetail, AppError> {
    let actor = staff.actor();
    state
        .db
        .write(move |conn| {
            let s = store::find_subscriber(conn, &id)?;
            let memberships = store::memberships(conn, &id)?;
            let consents = store::consents_of(conn, &id)?;
            audit::record(
                conn,
                &actor,
                Entry::new("newsletter.subscriber_viewed").target("newsletter_subscriber", &id),
            )?;
            Ok(SubscriberDetail {
                id: s.id,
                email: s.email,
                name: s.name,
                status: s.status,
                source: s.source,
                created_at: rfc3339(s.created_at),
                confirmed_at: s.confirmed_at.map(rfc3339),
                unsubscribed_at: s.unsubscribed_at.map(rfc3339),
                memberships: memberships
                    .into_iter()
                    .map(|(l, status)| StaffMembership {
                        list: l.slug,
                        name: l.name,
                        status,
                    })
                    .collect(),
                consents: consents
                    .into_iter()
                    .map(|c| StaffConsent {
                        kind: c.kind,
                        recorded_at: rfc3339(c.recorded_at),
                        source_url: c.source_url,
                        wording_version: c.wording_version,
                        ip_hash: c.ip_hash,
                    })
                    .collect(),
            })
        })
        .await
}

/// One subscriber: lists and the consent record.
#[utoipa::path(get, path = "/api/v1/staff/subscribers/{id}", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, body = SubscriberDetail), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn subscriber_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(subscriber_detail(&state, &staff, path.into_inner()).await?))
}

pub async fn subscriber_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let s = subscriber_detail(&state, &staff, path.into_inner()).await?;
    crate::staff::handlers::page(
        &req,
        &state,
        Some(&staff),
        "subscribers",
        "staff/newsletter/subscriber.html",
        StatusCode::OK,
        json!({ "s": s }),
    )
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    pub dry_run: bool,
}

async fn run_import(
    state: &AppState,
    staff: &Staff,
    csv: Vec<u8>,
    dry_run: bool,
) -> Result<ImportReport, AppError> {
    if csv.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::field("file", "The CSV file is empty."));
    }
    let actor = staff.actor();
    let keys = state.keys.clone();
    state
        .db
        .write(move |conn| {
            let report = csv_io::import_subscribers(conn, &keys, &csv, dry_run, crate::db::now())?;
            audit::record(
                conn,
                &actor,
                Entry::new(if dry_run {
                    "newsletter.import_checked"
                } else {
                    "newsletter.subscribers_imported"
                })
                .details(json!({
                    "dry_run": dry_run, "rows": report.rows, "created": report.created,
                    "updated": report.updated, "errors": report.errors.len(),
                })),
            )?;
            Ok(report)
        })
        .await
}

/// Imports subscribers from a CSV body (header row; columns `email`, `name`, `lists`,
/// `consent`). With `?dry_run=true` nothing changes and the report says what would.
#[utoipa::path(post, path = "/api/v1/staff/subscribers/import", tag = "staff",
    params(("dry_run" = Option<bool>, Query)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "`{dry_run, rows, created, updated, unchanged, confirmed, skipped_suppressed, skipped_unsubscribed, errors: [{line, field, message}]}`"),
              (status = 401), (status = 403), (status = 413), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn import_json(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let report = run_import(&state, &staff, body.to_vec(), query.dry_run).await?;
    Ok(HttpResponse::Ok().json(report))
}

// ---- lists ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffList {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub public: bool,
    pub created_at: String,
}

impl From<List> for StaffList {
    fn from(l: List) -> Self {
        StaffList {
            id: l.id,
            slug: l.slug,
            name: l.name,
            description: l.description,
            public: l.is_public,
            created_at: rfc3339(l.created_at),
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRequest {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub public: bool,
}

async fn create_list(state: &AppState, staff: &Staff, new: NewList) -> Result<List, AppError> {
    let actor = staff.actor();
    state
        .db
        .write(move |conn| {
            let list = store::create_list(conn, &new)?;
            audit::record(
                conn,
                &actor,
                Entry::new("newsletter.list_created")
                    .target("newsletter_list", &list.id)
                    .details(json!({"slug": list.slug, "public": list.is_public})),
            )?;
            Ok(list)
        })
        .await
}

/// Every list, public or not.
#[utoipa::path(get, path = "/api/v1/staff/newsletter-lists", tag = "staff",
    responses((status = 200, body = [StaffList]), (status = 401), (status = 403)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn lists_json(
    state: web::Data<AppState>,
    _staff: Staff,
) -> Result<HttpResponse, AppError> {
    let lists = state.db.run(|conn| Ok(store::all_lists(conn)?)).await?;
    let lists: Vec<StaffList> = lists.into_iter().map(StaffList::from).collect();
    Ok(HttpResponse::Ok().json(lists))
}

/// Creates a list (409 when the slug is taken).
#[utoipa::path(post, path = "/api/v1/staff/newsletter-lists", tag = "staff",
    request_body = ListRequest,
    responses((status = 201, body = StaffList), (status = 401), (status = 403), (status = 409), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn create_list_json(
    state: web::Data<AppState>,
    staff: Staff,
    body: ApiJson<ListRequest>,
) -> Result<HttpResponse, AppError> {
    let r = body.into_inner();
    let new = NewList::parse(&r.slug, &r.name, &r.description, r.public)?;
    let list = create_list(&state, &staff, new).await?;
    Ok(HttpResponse::Created().json(StaffList::from(list)))
}

// ---- issues ----

/// An issue in the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueSummary {
    pub id: String,
    pub subject: String,
    pub status: String,
    pub send_at: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

impl From<&Issue> for IssueSummary {
    fn from(i: &Issue) -> Self {
        IssueSummary {
            id: i.id.clone(),
            subject: i.subject.clone(),
            status: i.status.clone(),
            send_at: i.send_at.map(rfc3339),
            created_at: rfc3339(i.created_at),
            started_at: i.started_at.map(rfc3339),
            finished_at: i.finished_at.map(rfc3339),
        }
    }
}

/// One issue with its lists and sending progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueDetail {
    #[serde(flatten)]
    pub summary: IssueSummary,
    pub body_markdown: String,
    /// Target list slugs; empty: every confirmed subscriber.
    pub lists: Vec<String>,
    pub updated_at: String,
    pub recipients: i64,
    pub sent: i64,
    pub failed: i64,
    pub pending: i64,
    pub skipped: i64,
}

fn detail_of(issue: &Issue, lists: &[List], p: &IssueProgress) -> IssueDetail {
    IssueDetail {
        summary: IssueSummary::from(issue),
        body_markdown: issue.body_markdown.clone(),
        lists: lists.iter().map(|l| l.slug.clone()).collect(),
        updated_at: rfc3339(issue.updated_at),
        recipients: p.recipients,
        sent: p.sent,
        failed: p.failed,
        pending: p.pending,
        skipped: p.skipped,
    }
}

async fn load_detail(state: &AppState, id: String) -> Result<IssueDetail, AppError> {
    state
        .db
        .run(move |conn| {
            let issue = store::find_issue(conn, &id)?;
            let lists = store::issue_lists(conn, &id)?;
            let progress = store::issue_progress(conn, &id)?;
            Ok(detail_of(&issue, &lists, &progress))
        })
        .await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IssueQuery {
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuePage {
    pub items: Vec<IssueSummary>,
    pub next_cursor: Option<String>,
}

async fn issues_data(state: &AppState, query: &IssueQuery) -> Result<IssuePage, AppError> {
    let request = PageRequest::parse(query.cursor.as_deref(), query.limit)?;
    let status = match present(&query.status) {
        None => None,
        Some(s) => Some(IssueStatus::parse(s).ok_or_else(|| {
            AppError::field(
                "status",
                "Use draft, scheduled, sending, paused, sent or cancelled.",
            )
        })?),
    };
    let page = state
        .db
        .run(move |conn| {
            Ok(store::list_issues(
                conn,
                status,
                request.cursor.as_deref(),
                request.limit,
            )?)
        })
        .await?;
    Ok(IssuePage {
        items: page.items.iter().map(IssueSummary::from).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Issues, newest first.
#[utoipa::path(get, path = "/api/v1/staff/newsletters", tag = "staff",
    params(("status" = Option<String>, Query), ("cursor" = Option<String>, Query),
           ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, body = IssuePage), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn issues_json(
    state: web::Data<AppState>,
    _staff: Staff,
    query: web::Query<IssueQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(issues_data(&state, &query).await?))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub subject: String,
    pub body_markdown: String,
    /// List slugs; none or empty: every confirmed subscriber.
    #[serde(default)]
    pub lists: Option<Vec<String>>,
}

impl TryFrom<IssueRequest> for NewIssue {
    type Error = AppError;

    fn try_from(r: IssueRequest) -> Result<NewIssue, AppError> {
        NewIssue::parse(&r.subject, &r.body_markdown, &r.lists.unwrap_or_default())
    }
}

async fn save_issue(
    state: &AppState,
    staff: &Staff,
    id: Option<String>,
    new: NewIssue,
) -> Result<Issue, AppError> {
    let actor = staff.actor();
    state
        .db
        .write(move |conn| {
            let (issue, action) = match &id {
                None => (store::create_issue(conn, &new)?, "newsletter.issue_created"),
                Some(id) => (
                    store::update_issue(conn, id, &new)?,
                    "newsletter.issue_updated",
                ),
            };
            let lists: Vec<&str> = new.lists.iter().map(ListSlug::as_str).collect();
            audit::record(
                conn,
                &actor,
                Entry::new(action)
                    .target("newsletter_issue", &issue.id)
                    .details(json!({"subject": issue.subject, "lists": lists})),
            )?;
            Ok(issue)
        })
        .await
}

/// Creates a draft issue.
#[utoipa::path(post, path = "/api/v1/staff/newsletters", tag = "staff",
    request_body = IssueRequest,
    responses((status = 201, body = IssueDetail), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn create_json(
    state: web::Data<AppState>,
    staff: Staff,
    body: ApiJson<IssueRequest>,
) -> Result<HttpResponse, AppError> {
    let new = NewIssue::try_from(body.into_inner())?;
    let issue = save_issue(&state, &staff, None, new).await?;
    Ok(HttpResponse::Created().json(load_detail(&state, issue.id).await?))
}

/// Rewrites a draft (409 once it is scheduled or sent).
#[utoipa::path(put, path = "/api/v1/staff/newsletters/{id}", tag = "staff",
    params(("id" = String, Path)), request_body = IssueRequest,
    responses((status = 200, body = IssueDetail), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn update_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: ApiJson<IssueRequest>,
) -> Result<HttpResponse, AppError> {
    let new = NewIssue::try_from(body.into_inner())?;
    let issue = save_issue(&state, &staff, Some(path.into_inner()), new).await?;
    Ok(HttpResponse::Ok().json(load_detail(&state, issue.id).await?))
}

/// One issue with its progress: `recipients`, `sent`, `failed`, `pending`, `skipped`.
#[utoipa::path(get, path = "/api/v1/staff/newsletters/{id}", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, body = IssueDetail), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn issue_json(
    state: web::Data<AppState>,
    _staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(load_detail(&state, path.into_inner()).await?))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    pub email: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestQueued {
    pub outbox_id: String,
}

async fn test_send(
    state: &AppState,
    staff: &Staff,
    id: String,
    email: &str,
) -> Result<String, AppError> {
    let to = EmailAddress::parse(email).map_err(|m| AppError::field("email", m))?;
    let outbox_id = super::send_test(state, &id, &to).await?;
    let actor = staff.actor();
    let details = json!({"outbox_id": outbox_id, "to": crate::mail::mask_email(to.as_str())});
    state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &actor,
                Entry::new("newsletter.test_sent")
                    .target("newsletter_issue", &id)
                    .details(details),
            )?;
            Ok(())
        })
        .await?;
    Ok(outbox_id)
}

/// Sends a test copy (subject prefixed `[Test]`) to one address.
#[utoipa::path(post, path = "/api/v1/staff/newsletters/{id}/test", tag = "staff",
    params(("id" = String, Path)), request_body = TestRequest,
    responses((status = 202, body = TestQueued), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn test_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: ApiJson<TestRequest>,
) -> Result<HttpResponse, AppError> {
    let outbox_id = test_send(&state, &staff, path.into_inner(), &body.0.email).await?;
    Ok(HttpResponse::Accepted().json(TestQueued { outbox_id }))
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// RFC 3339; absent or past: now.
    pub send_at: Option<String>,
}

async fn schedule(
    state: &AppState,
    staff: &Staff,
    id: String,
    send_at: Option<NaiveDateTime>,
) -> Result<Issue, AppError> {
    let actor = staff.actor();
    let issue = state
        .db
        .write(move |conn| {
            let issue = store::schedule_send(conn, &id, send_at)?;
            audit::record(
                conn,
                &actor,
                Entry::new("newsletter.issue_scheduled")
                    .target("newsletter_issue", &id)
                    .details(json!({"send_at": issue.send_at.map(rfc3339)})),
            )?;
            Ok(issue)
        })
        .await?;
    state.mailer.wake();
    Ok(issue)
}

/// Sends a draft to every confirmed subscriber (of its lists): now, or at `send_at`. The
/// sending engine queues one delivery per recipient.
#[utoipa::path(post, path = "/api/v1/staff/newsletters/{id}/send", tag = "staff",
    params(("id" = String, Path)), request_body(content = Option<SendRequest>),
    responses((status = 202, body = IssueDetail), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "already sending, sent or cancelled"), (status = 422)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn send_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let request: SendRequest = if body.iter().all(u8::is_ascii_whitespace) {
        SendRequest::default()
    } else {
        crate::web::json::parse_json(&body)?
    };
    let send_at = match present(&request.send_at) {
        None => None,
        Some(s) => Some(
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.naive_utc())
                .map_err(|_| {
                    AppError::field("send_at", "Use an RFC 3339 time like 2026-12-01T08:00:00Z.")
                })?,
        ),
    };
    let issue = schedule(&state, &staff, path.into_inner(), send_at).await?;
    Ok(HttpResponse::Accepted().json(load_detail(&state, issue.id).await?))
}

/// The action a request names: the last segment of its path.
fn action_of(req: &HttpRequest) -> &str {
    req.path().rsplit('/').next().unwrap_or_default()
}

async fn act(state: &AppState, staff: &Staff, id: String, action: &str) -> Result<(), AppError> {
    let action = ACTIONS
        .into_iter()
        .find(|a| *a == action)
        .ok_or(AppError::NotFound)?;
    let actor = staff.actor();
    state
        .db
        .write(move |conn| {
            let details = match action {
                "pause" => json!({"status": store::pause_issue(conn, &id)?.status}),
                "resume" => json!({"status": store::resume_issue(conn, &id)?.status}),
                "cancel" => json!({"status": store::cancel_issue(conn, &id)?.status}),
                _ => json!({"requeued": store::retry_failed(conn, &id)?}),
            };
            audit::record(
                conn,
                &actor,
                Entry::new(match action {
                    "pause" => "newsletter.issue_paused",
                    "resume" => "newsletter.issue_resumed",
                    "cancel" => "newsletter.issue_cancelled",
                    _ => "newsletter.failed_retried",
                })
                .target("newsletter_issue", &id)
                .details(details),
            )?;
            Ok(())
        })
        .await?;
    state.mailer.wake();
    Ok(())
}

async fn action_json(
    state: &AppState,
    staff: &Staff,
    id: String,
    action: &str,
) -> Result<HttpResponse, AppError> {
    act(state, staff, id.clone(), action).await?;
    Ok(HttpResponse::Ok().json(load_detail(state, id).await?))
}

/// Pauses a scheduled or sending issue: nothing more is queued and queued emails are held.
#[utoipa::path(post, path = "/api/v1/staff/newsletters/{id}/pause", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, body = IssueDetail), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn pause_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    action_json(&state, &staff, path.into_inner(), "pause").await
}

/// Resumes a paused issue where it stopped.
#[utoipa::path(post, path = "/api/v1/staff/newsletters/{id}/resume", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, body = IssueDetail), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn resume_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    action_json(&state, &staff, path.into_inner(), "resume").await
}

/// Cancels an issue: queued emails are cancelled, sent ones stay sent.
#[utoipa::path(post, path = "/api/v1/staff/newsletters/{id}/cancel", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, body = IssueDetail), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn cancel_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    action_json(&state, &staff, path.into_inner(), "cancel").await
}

/// Queues the issue's failed emails again (recipients still confirmed only).
#[utoipa::path(post, path = "/api/v1/staff/newsletters/{id}/retry-failed", tag = "staff",
    params(("id" = String, Path)),
    responses((status = 200, body = IssueDetail), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "not sending, sent or paused")),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
pub async fn retry_failed_json(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    action_json(&state, &staff, path.into_inner(), "retry-failed").await
}

// ---- pages ----

#[derive(Debug, Deserialize)]
struct Done {
    done: Option<String>,
}

fn done_notice(req: &HttpRequest) -> Option<&'static str> {
    let q = web::Query::<Done>::from_query(req.query_string()).ok()?;
    Some(match q.done.as_deref()? {
        "saved" => "The draft is saved.",
        "test_sent" => "The test email is on its way.",
        "scheduled" => "The issue is scheduled; sending starts at its time.",
        "pause" => "Sending is paused.",
        "resume" => "Sending resumed.",
        "cancel" => "The issue is cancelled.",
        "retry-failed" => "Failed emails are queued again.",
        "list_created" => "The list was created.",
        _ => return None,
    })
}

fn with_notice(req: &HttpRequest, mut context: serde_json::Value) -> serde_json::Value {
    if let Some(notice) = done_notice(req) {
        context["notice"] = json!(notice);
    }
    context
}

pub async fn issues_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<IssueQuery>,
) -> Result<HttpResponse, AppError> {
    let page = issues_data(&state, &query).await?;
    let lists = state.db.run(|conn| Ok(store::all_lists(conn)?)).await?;
    let lists: Vec<StaffList> = lists.into_iter().map(StaffList::from).collect();
    let context = json!({
        "items": page.items, "next_cursor": page.next_cursor, "lists": lists,
        "q": {"status": query.status.clone().unwrap_or_default()},
        "statuses": IssueStatus::ALL.map(IssueStatus::as_str),
        "list_form": {"slug": "", "name": "", "description": "", "public": false},
    });
    crate::staff::handlers::page(
        &req,
        &state,
        Some(&staff),
        "newsletters",
        "staff/newsletter/issues.html",
        StatusCode::OK,
        with_notice(&req, context),
    )
}

/// The compose form, as posted (checkbox lists arrive as repeated `lists` fields).
#[derive(Debug, Clone, Default)]
struct ComposeForm {
    subject: String,
    body_markdown: String,
    lists: Vec<String>,
    action: String,
}

impl ComposeForm {
    fn parse(body: &[u8]) -> ComposeForm {
        let mut form = ComposeForm::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "subject" => form.subject = v.into_owned(),
                "body_markdown" => form.body_markdown = v.into_owned(),
                "lists" => form.lists.push(v.into_owned()),
                "action" => form.action = v.into_owned(),
                _ => {}
            }
        }
        form
    }
}

#[allow(clippy::too_many_arguments)]
async fn render_compose(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    issue_id: Option<&str>,
    form: &ComposeForm,
    preview: Option<super::Preview>,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lists = state.db.run(|conn| Ok(store::all_lists(conn)?)).await?;
    let lists: Vec<_> = lists
        .into_iter()
        .map(|l| json!({"slug": l.slug, "name": l.name, "checked": form.lists.contains(&l.slug)}))
        .collect();
    crate::staff::handlers::page(
        req,
        state,
        Some(staff),
        "newsletters",
        "staff/newsletter/compose.html",
        status,
        json!({
            "issue_id": issue_id,
            "form": {"subject": form.subject, "body_markdown": form.body_markdown},
            "lists": lists, "preview": preview, "errors": errors,
        }),
    )
}

pub async fn compose_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    render_compose(
        &req,
        &state,
        &staff,
        None,
        &ComposeForm::default(),
        None,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

async fn compose(
    req: HttpRequest,
    state: &AppState,
    staff: &Staff,
    issue_id: Option<String>,
    body: &[u8],
) -> Result<HttpResponse, AppError> {
    let form = ComposeForm::parse(body);
    let parsed = NewIssue::parse(&form.subject, &form.body_markdown, &form.lists);
    let id = issue_id.as_deref();
    let new = match parsed {
        Ok(new) => new,
        Err(AppError::Validation(errors)) => {
            return render_compose(
                &req,
                state,
                staff,
                id,
                &form,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e) => return Err(e),
    };
    if form.action == "preview" {
        let preview = super::render_preview(
            &state.mailer,
            &state.settings,
            &new.subject,
            &new.body_markdown,
        )?;
        return render_compose(
            &req,
            state,
            staff,
            id,
            &form,
            Some(preview),
            Vec::new(),
            StatusCode::OK,
        )
        .await;
    }
    match save_issue(state, staff, issue_id.clone(), new).await {
        Ok(issue) => Ok(see_other(format!(
            "/staff/newsletters/{}?done=saved",
            issue.id
        ))),
        Err(AppError::Validation(errors)) => {
            render_compose(
                &req,
                state,
                staff,
                id,
                &form,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn compose_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    compose(req, &state, &staff, None, &body).await
}

pub async fn edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    compose(req, &state, &staff, Some(path.into_inner()), &body).await
}

pub async fn issue_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let d = load_detail(&state, path.into_inner()).await?;
    let status = IssueStatus::parse(&d.summary.status).unwrap_or(IssueStatus::Draft);
    if status == IssueStatus::Draft {
        let form = ComposeForm {
            subject: d.summary.subject.clone(),
            body_markdown: d.body_markdown.clone(),
            lists: d.lists.clone(),
            action: String::new(),
        };
        return render_issue(&req, &state, &staff, &d, Some(form), Vec::new()).await;
    }
    render_issue(&req, &state, &staff, &d, None, Vec::new()).await
}

async fn render_issue(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    d: &IssueDetail,
    form: Option<ComposeForm>,
    errors: Vec<FieldError>,
) -> Result<HttpResponse, AppError> {
    let status = IssueStatus::parse(&d.summary.status).unwrap_or(IssueStatus::Draft);
    let lists = state.db.run(|conn| Ok(store::all_lists(conn)?)).await?;
    let form_lists: Vec<_> = lists
        .into_iter()
        .map(|l| {
            let checked = d.lists.contains(&l.slug);
            json!({"slug": l.slug, "name": l.name, "checked": checked})
        })
        .collect();
    let context = json!({
        "i": d,
        "draft": status == IssueStatus::Draft,
        "refresh": matches!(status, IssueStatus::Sending | IssueStatus::Scheduled),
        "can_send": matches!(status, IssueStatus::Draft | IssueStatus::Scheduled),
        "can_pause": matches!(status, IssueStatus::Scheduled | IssueStatus::Sending),
        "can_resume": status == IssueStatus::Paused,
        "can_cancel": !matches!(status, IssueStatus::Sent | IssueStatus::Cancelled),
        "can_retry": d.failed > 0 && matches!(status, IssueStatus::Sending | IssueStatus::Sent | IssueStatus::Paused),
        "form": form.map_or_else(
            || json!({"subject": d.summary.subject, "body_markdown": d.body_markdown}),
            |f| json!({"subject": f.subject, "body_markdown": f.body_markdown}),
        ),
        "lists": form_lists,
        "timezone": state.settings.site.tz().name(),
        "send_at_local": d.summary.send_at.as_deref().and_then(|t| in_zone(t, state.settings.site.tz())),
        "errors": errors,
    });
    let code = if errors_present(&context) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    crate::staff::handlers::page(
        req,
        state,
        Some(staff),
        "newsletters",
        "staff/newsletter/issue.html",
        code,
        with_notice(req, context),
    )
}

/// An RFC 3339 time as `YYYY-MM-DDTHH:MM` in the newsroom's time zone (the form's value).
fn in_zone(rfc3339: &str, tz: chrono_tz::Tz) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
}

fn errors_present(context: &serde_json::Value) -> bool {
    context["errors"].as_array().is_some_and(|e| !e.is_empty())
}

#[derive(Debug, Deserialize)]
pub struct TestForm {
    #[serde(default)]
    email: String,
}

pub async fn test_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<TestForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    match test_send(&state, &staff, id.clone(), &form.email).await {
        Ok(_) => Ok(see_other(format!("/staff/newsletters/{id}?done=test_sent"))),
        Err(AppError::Validation(errors)) => {
            let d = load_detail(&state, id).await?;
            render_issue(&req, &state, &staff, &d, None, errors).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct SendForm {
    /// `datetime-local` in the newsroom's time zone; empty: now.
    #[serde(default)]
    send_at: String,
}

/// A `datetime-local` value (`2026-12-01T08:00`, seconds optional) read in the newsroom's
/// time zone, as UTC. A time skipped by a clock change is refused; a repeated one (clocks
/// going back) means its first occurrence.
fn parse_local(value: &str, tz: chrono_tz::Tz) -> Result<Option<NaiveDateTime>, FieldError> {
    use chrono::TimeZone;
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let local = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| FieldError::new("send_at", "Use a date and time like 2026-12-01T08:00."))?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| Some(t.naive_utc()))
        .ok_or_else(|| {
            FieldError::new(
                "send_at",
                format!(
                    "{value} does not exist in {} (the clocks skip it); choose another time.",
                    tz.name()
                ),
            )
        })
}

pub async fn send_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<SendForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let send_at = match parse_local(&form.send_at, state.settings.site.tz()) {
        Ok(t) => t,
        Err(e) => {
            let d = load_detail(&state, id).await?;
            return render_issue(&req, &state, &staff, &d, None, vec![e]).await;
        }
    };
    schedule(&state, &staff, id.clone(), send_at).await?;
    Ok(see_other(format!("/staff/newsletters/{id}?done=scheduled")))
}

pub async fn action_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let action = action_of(&req);
    act(&state, &staff, id.clone(), action).await?;
    Ok(see_other(format!("/staff/newsletters/{id}?done={action}")))
}

#[derive(Debug, Deserialize)]
pub struct ListForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    public: Option<String>,
}

pub async fn create_list_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<ListForm>,
) -> Result<HttpResponse, AppError> {
    let public = form.public.is_some();
    let result = match NewList::parse(&form.slug, &form.name, &form.description, public) {
        Ok(new) => create_list(&state, &staff, new).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let errors = match result {
        Ok(()) => return Ok(see_other("/staff/newsletters?done=list_created".into())),
        Err(AppError::Validation(errors)) => errors,
        Err(AppError::Conflict(_)) => vec![FieldError::new("slug", "This slug is taken.")],
        Err(e) => return Err(e),
    };
    let page = issues_data(&state, &IssueQuery::default()).await?;
    let lists = state.db.run(|conn| Ok(store::all_lists(conn)?)).await?;
    let lists: Vec<StaffList> = lists.into_iter().map(StaffList::from).collect();
    crate::staff::handlers::page(
        &req,
        &state,
        Some(&staff),
        "newsletters",
        "staff/newsletter/issues.html",
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({
            "items": page.items, "next_cursor": page.next_cursor, "lists": lists,
            "q": {"status": ""}, "statuses": IssueStatus::ALL.map(IssueStatus::as_str),
            "list_form": {"slug": form.slug, "name": form.name, "description": form.description, "public": public},
            "errors": errors,
        }),
    )
}

pub async fn subscribers_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<SubscriberQuery>,
) -> Result<HttpResponse, AppError> {
    let lists = state.db.run(|conn| Ok(store::all_lists(conn)?)).await?;
    let list_slugs: Vec<String> = lists.into_iter().map(|l| l.slug).collect();
    let export_query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            query
                .echo()
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| {
                    v.as_str()
                        .filter(|s| !s.is_empty())
                        .map(|s| (k.clone(), s.to_string()))
                }),
        )
        .finish();
    let statuses = SubscriberStatus::ALL.map(SubscriberStatus::as_str);
    let (page, errors, code) = match subscribers_data(&state, &staff, &query).await {
        Ok(page) => (page, Vec::new(), StatusCode::OK),
        Err(AppError::Validation(errors)) => (
            SubscriberPage {
                items: Vec::new(),
                next_cursor: None,
            },
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(e),
    };
    crate::staff::handlers::page(
        &req,
        &state,
        Some(&staff),
        "subscribers",
        "staff/newsletter/subscribers.html",
        code,
        json!({
            "items": page.items, "next_cursor": page.next_cursor, "q": query.echo(),
            "statuses": statuses, "list_slugs": list_slugs, "export_query": export_query,
            "errors": errors,
        }),
    )
}

pub async fn import_form_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, AppError> {
    crate::staff::handlers::page(
        &req,
        &state,
        Some(&staff),
        "subscribers",
        "staff/newsletter/import.html",
        StatusCode::OK,
        json!({ "report": null, "dry_run": true }),
    )
}

/// The import form: a CSV file and a dry-run checkbox, as `multipart/form-data`.
pub async fn import_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    mut multipart: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    let mut csv = Vec::new();
    let mut dry_run = false;
    while let Some(field) = multipart.next().await {
        let mut field = field
            .map_err(|e| AppError::BadRequest(format!("The upload could not be read: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk
                .map_err(|e| AppError::BadRequest(format!("The upload could not be read: {e}")))?;
            if value.len() + chunk.len() > IMPORT_MAX_BYTES {
                return Err(AppError::PayloadTooLarge(format!(
                    "The CSV file is larger than {} MiB.",
                    IMPORT_MAX_BYTES / (1024 * 1024)
                )));
            }
            value.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "file" => csv = value,
            "dry_run" => dry_run = !value.is_empty(),
            _ => {}
        }
    }
    let (report, errors, code) = match run_import(&state, &staff, csv, dry_run).await {
        Ok(report) => (Some(report), Vec::new(), StatusCode::OK),
        Err(AppError::Validation(errors)) => (None, errors, StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => return Err(e),
    };
    crate::staff::handlers::page(
        &req,
        &state,
        Some(&staff),
        "subscribers",
        "staff/newsletter/import.html",
        code,
        json!({ "report": report, "dry_run": dry_run, "errors": errors }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_local_values_are_read_in_the_newsrooms_zone() {
        let utc = chrono_tz::UTC;
        let bogota = chrono_tz::America::Bogota;
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(parse_local(" ", utc).expect("empty"), None);
        let t = parse_local("2026-12-01T08:30", utc)
            .expect("valid")
            .expect("some");
        assert_eq!(rfc3339(t), "2026-12-01T08:30:00Z");
        let t = parse_local("2026-12-01T08:30", bogota)
            .expect("valid")
            .expect("some");
        assert_eq!(rfc3339(t), "2026-12-01T13:30:00Z");
        assert!(parse_local("2026-12-01T08:30:15", utc)
            .expect("valid")
            .is_some());
        assert!(parse_local("tomorrow", utc).is_err());
        // Skipped when clocks go forward; the first of the two when they go back.
        assert!(parse_local("2026-03-29T02:30", berlin).is_err());
        let t = parse_local("2026-10-25T02:30", berlin)
            .expect("valid")
            .expect("some");
        assert_eq!(rfc3339(t), "2026-10-25T00:30:00Z");
        assert_eq!(
            in_zone("2026-12-01T13:30:00Z", bogota).as_deref(),
            Some("2026-12-01T08:30")
        );
    }

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
