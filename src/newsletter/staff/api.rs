//! The staff JSON API for lists and issues, with its request and response types; the
//! pages share the same inner functions, so a form and its API call do the same thing.

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::staff::audit::{self, Entry};
use crate::staff::Staff;
use crate::state::AppState;
use crate::web::pagination::PageRequest;
use crate::web::ApiJson;

use crate::newsletter::model::{EmailAddress, IssueStatus, ListSlug, NewIssue, NewList};
use crate::newsletter::store::{self, Issue, IssueProgress, List};
use crate::staff::ui::{self, present};

use super::ACTIONS;

// ---- lists ----

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffList {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub public: bool,
    pub created_at: String,
    /// The language of the list's issues (`null`: any).
    pub lang: Option<String>,
}

impl From<List> for StaffList {
    fn from(l: List) -> Self {
        StaffList {
            id: l.id,
            slug: l.slug,
            name: l.name,
            description: l.description,
            public: l.is_public,
            created_at: ui::rfc3339_seconds(l.created_at),
            lang: l.lang,
        }
    }
}

fn list_slug_schema() -> utoipa::openapi::Object {
    ListSlug::schema()
}
fn list_description_schema() -> utoipa::openapi::Object {
    crate::domain::text::schema(
        crate::domain::text::Lines::Many,
        NewList::MAX_DESCRIPTION_CHARS,
        false,
    )
}
fn list_name_schema() -> utoipa::openapi::Object {
    crate::domain::text::schema(
        crate::domain::text::Lines::One,
        NewList::MAX_NAME_CHARS,
        true,
    )
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRequest {
    #[schema(schema_with = list_slug_schema)]
    pub slug: String,
    #[schema(schema_with = list_name_schema)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = list_description_schema)]
    pub description: String,
    #[serde(default)]
    pub public: bool,
    /// The language of the list's issues, one of `site.languages`; absent: any.
    #[serde(default)]
    #[schema(schema_with = crate::web::openapi::lang_schema)]
    pub lang: Option<String>,
}

pub(super) async fn create_list(
    state: &AppState,
    staff: &Staff,
    new: NewList,
) -> Result<List, AppError> {
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
    let lang = match r.lang.as_deref() {
        None => Ok(None),
        Some(raw) => state
            .languages
            .parse(raw)
            .map(|l| Some(l.to_string()))
            .map_err(|m| AppError::field("lang", m)),
    };
    let (mut new, lang) = AppError::both(
        NewList::parse(&r.slug, &r.name, &r.description, r.public),
        lang,
    )?;
    new.lang = lang;
    let list = create_list(&state, &staff, new).await?;
    Ok(HttpResponse::Created().json(StaffList::from(list)))
}

// ---- issues ----

/// An issue in the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueSummary {
    pub id: String,
    pub subject: String,
    pub status: IssueStatus,
    pub send_at: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The issue's language (`null`: written for everyone).
    pub lang: Option<String>,
    /// The issue this one translates (sent with it, never alone).
    pub translation_of: Option<String>,
}

impl From<&Issue> for IssueSummary {
    fn from(i: &Issue) -> Self {
        IssueSummary {
            id: i.id.clone(),
            subject: i.subject.clone(),
            status: i.status,
            send_at: i.send_at.map(ui::rfc3339_seconds),
            created_at: ui::rfc3339_seconds(i.created_at),
            started_at: i.started_at.map(ui::rfc3339_seconds),
            finished_at: i.finished_at.map(ui::rfc3339_seconds),
            lang: i.lang.clone(),
            translation_of: i.translation_of.clone(),
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
        updated_at: ui::rfc3339_seconds(issue.updated_at),
        recipients: p.recipients,
        sent: p.sent,
        failed: p.failed,
        pending: p.pending,
        skipped: p.skipped,
    }
}

pub(super) async fn load_detail(state: &AppState, id: String) -> Result<IssueDetail, AppError> {
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

pub(super) async fn issues_data(
    state: &AppState,
    query: &IssueQuery,
) -> Result<IssuePage, AppError> {
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
    params(("status" = Option<IssueStatus>, Query), ("cursor" = Option<String>, Query),
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
    /// The issue's language, one of `site.languages`; absent or `null`: written for everyone.
    #[serde(default)]
    #[schema(schema_with = crate::web::openapi::lang_schema)]
    pub lang: Option<String>,
    /// The id of the issue this one translates (which must have another language). A
    /// translation is never sent alone: sending the original gives each subscriber whose
    /// language is the translation's the translated subject and body.
    #[serde(default)]
    pub translation_of: Option<String>,
}

impl IssueRequest {
    /// The new issue, its `lang` one the site offers (422 naming every failing field).
    fn parse(self, languages: &crate::i18n::Languages) -> Result<NewIssue, AppError> {
        let lang = match self.lang.as_deref() {
            None => Ok(None),
            Some(raw) => languages
                .parse(raw)
                .map(|l| Some(l.to_string()))
                .map_err(|m| AppError::field("lang", m)),
        };
        let issue = NewIssue::parse(
            &self.subject,
            &self.body_markdown,
            &self.lists.unwrap_or_default(),
        );
        let (mut issue, lang) = AppError::both(issue, lang)?;
        issue.lang = lang;
        issue.translation_of = self.translation_of.filter(|t| !t.trim().is_empty());
        Ok(issue)
    }
}

pub(super) async fn save_issue(
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
    let new = body.into_inner().parse(&state.languages)?;
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
    let new = body.into_inner().parse(&state.languages)?;
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
    #[schema(schema_with = crate::domain::EmailAddress::schema)]
    pub email: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestQueued {
    pub outbox_id: String,
}

pub(super) async fn test_send(
    state: &AppState,
    staff: &Staff,
    id: String,
    email: &str,
) -> Result<String, AppError> {
    let to = EmailAddress::parse(email).map_err(|m| AppError::field("email", m))?;
    let outbox_id = crate::newsletter::send_test(state, &id, &to).await?;
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
    #[schema(format = DateTime)]
    pub send_at: Option<String>,
}

pub(super) async fn schedule(
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
                    .details(json!({"send_at": issue.send_at.map(ui::rfc3339_seconds)})),
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
    // No body, or `null`, sends now.
    let request: SendRequest = if body.iter().all(u8::is_ascii_whitespace) {
        SendRequest::default()
    } else {
        crate::web::json::parse_json::<Option<SendRequest>>(&body)?.unwrap_or_default()
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

pub(super) async fn act(
    state: &AppState,
    staff: &Staff,
    id: String,
    action: &str,
) -> Result<(), AppError> {
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
