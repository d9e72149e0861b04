//! Staff subscribers: the filtered list (JSON, CSV export, page), one subscriber's
//! memberships and consents, and CSV import with a dry run. Every view is audited.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{AppError, FieldError};
use crate::staff::audit::{self, Entry};
use crate::staff::Staff;
use crate::state::AppState;
use crate::web::pagination::PageRequest;

use crate::newsletter::csv_io::{self, ImportReport};
use crate::newsletter::model::{EmailAddress, ListSlug, SubscriberStatus};
use crate::newsletter::store::{self, SubscriberFilter, SubscriberItem};
use crate::staff::ui::{self, present};

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
    pub(super) fn echo(&self) -> serde_json::Value {
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
    pub status: SubscriberStatus,
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
            created_at: ui::rfc3339_seconds(s.created_at),
            confirmed_at: s.confirmed_at.map(ui::rfc3339_seconds),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriberPage {
    pub items: Vec<StaffSubscriber>,
    pub next_cursor: Option<String>,
}

pub(super) async fn subscribers_data(
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
    params(("status" = Option<SubscriberStatus>, Query),
           ("list" = Option<String>, Query, pattern = r"^\s*[a-z0-9_-]{1,64}\s*$", description = "a list slug"),
           ("email" = Option<String>, Query), ("q" = Option<String>, Query, description = "part of the address or name"),
           ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1..=500")),
    responses((status = 200, body = SubscriberPage), (status = 422, description = "A filter, `limit` or `cursor` this list does not take")),
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
    params(("status" = Option<SubscriberStatus>, Query), ("list" = Option<String>, Query, pattern = r"^\s*[a-z0-9_-]{1,64}\s*$"),
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
    pub status: SubscriberStatus,
    pub source: String,
    pub created_at: String,
    pub confirmed_at: Option<String>,
    pub unsubscribed_at: Option<String>,
    pub memberships: Vec<StaffMembership>,
    pub consents: Vec<StaffConsent>,
    /// The reader's language (`null`: the site default).
    pub lang: Option<String>,
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
                created_at: ui::rfc3339_seconds(s.created_at),
                confirmed_at: s.confirmed_at.map(ui::rfc3339_seconds),
                unsubscribed_at: s.unsubscribed_at.map(ui::rfc3339_seconds),
                lang: s.lang,
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
                        recorded_at: ui::rfc3339_seconds(c.recorded_at),
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

pub(super) async fn run_import(
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
