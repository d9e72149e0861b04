//! The staff HTML pages for issues and lists; form redirects carry a flash notice
//! (`?notice=`) that the page turns into its text.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use crate::error::{AppError, FieldError};
use crate::staff::Staff;
use crate::state::AppState;

use crate::newsletter::model::{IssueStatus, NewIssue, NewList, SubscriberStatus};
use crate::newsletter::store::{self};
use crate::staff::ui::{self};

use super::api::{
    act, create_list, issues_data, load_detail, save_issue, schedule, test_send, IssueDetail,
    IssueQuery, StaffList,
};
use super::forms::{parse_local, ComposeForm, ListForm, SendForm, TestForm};
use super::subscribers::{run_import, subscribers_data, SubscriberPage, SubscriberQuery};
use super::{action_of, IMPORT_MAX_BYTES};

/// The flash notice a form's redirect names (`?notice=`, [`ui::NOTICE`]).
#[derive(Debug, Deserialize)]
struct Notice {
    notice: Option<String>,
}

fn notice_text(req: &HttpRequest) -> Option<&'static str> {
    let q = web::Query::<Notice>::from_query(req.query_string()).ok()?;
    Some(match q.notice.as_deref()? {
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

fn add_notice(req: &HttpRequest, mut context: serde_json::Value) -> serde_json::Value {
    if let Some(notice) = notice_text(req) {
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
        add_notice(&req, context),
    )
}

#[allow(clippy::too_many_arguments)]
async fn render_compose(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    issue_id: Option<&str>,
    form: &ComposeForm,
    preview: Option<crate::newsletter::Preview>,
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

pub(super) async fn compose(
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
        let preview = crate::newsletter::render_preview(
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
    // The form has no language fields: an edit keeps what the staff API set.
    let mut new = new;
    if let Some(id) = issue_id.clone() {
        let kept = state
            .db
            .run(move |conn| Ok(store::find_issue(conn, &id)?))
            .await?;
        new.lang = kept.lang;
        new.translation_of = kept.translation_of;
    }
    match save_issue(state, staff, issue_id.clone(), new).await {
        Ok(issue) => Ok(ui::redirect_with_notice(
            &format!("/staff/newsletters/{}", issue.id),
            "saved",
        )),
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
    let status = d.summary.status;
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
    let status = d.summary.status;
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
        add_notice(req, context),
    )
}

/// An RFC 3339 time as `YYYY-MM-DDTHH:MM` in the newsroom's time zone (the form's value).
pub(super) fn in_zone(rfc3339: &str, tz: chrono_tz::Tz) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some(t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
}

fn errors_present(context: &serde_json::Value) -> bool {
    context["errors"].as_array().is_some_and(|e| !e.is_empty())
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
        Ok(_) => Ok(ui::redirect_with_notice(
            &format!("/staff/newsletters/{id}"),
            "test_sent",
        )),
        Err(AppError::Validation(errors)) => {
            let d = load_detail(&state, id).await?;
            render_issue(&req, &state, &staff, &d, None, errors).await
        }
        Err(e) => Err(e),
    }
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
    Ok(ui::redirect_with_notice(
        &format!("/staff/newsletters/{id}"),
        "scheduled",
    ))
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
    Ok(ui::redirect_with_notice(
        &format!("/staff/newsletters/{id}"),
        action,
    ))
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
        Ok(()) => {
            return Ok(ui::redirect_with_notice(
                "/staff/newsletters",
                "list_created",
            ))
        }
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
