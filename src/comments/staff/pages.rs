//! The staff HTML pages of comments: the inbox, one comment, and the forms that act on it
//! (each answers with a 303 and a notice, or the page again with its errors).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::forms::{
    parse_readers, parse_status, AssignForm, Changes, FlagForm, InboxQuery, NoteForm, ReadersForm,
    ReplyForm, StatusForm,
};
use super::{add_note, age_text, apply, inbox, send_reply, statuses, view, EDITORS};
use crate::error::{AppError, FieldError};
use crate::staff::handlers::page;
use crate::staff::ui::{present, redirect_with_notice};
use crate::staff::Staff;
use crate::state::AppState;

/// Active editors and admins, who may be assigned a comment.
async fn colleagues(state: &AppState) -> Result<Vec<String>, AppError> {
    let users = state
        .db
        .run(|conn| Ok(crate::staff::store::list_users(conn)?))
        .await?;
    Ok(users
        .into_iter()
        .filter(|u| !u.disabled && u.role().is_some_and(|r| r.permits(EDITORS)))
        .map(|u| u.email)
        .collect())
}

/// The inbox page: status tabs, filters, the age of unanswered comments.
pub async fn inbox_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    let data = inbox(&state, &staff, &query).await?;
    let items: Vec<Value> = data
        .items
        .iter()
        .map(|c| {
            let mut v = json!(c);
            v["age"] = json!(c.unanswered_seconds.map(age_text));
            v
        })
        .collect();
    let status = present(&query.status).map(String::from).unwrap_or_default();
    let email = present(&query.email).map(String::from).unwrap_or_default();
    let assigned_to = present(&query.assigned_to)
        .map(String::from)
        .unwrap_or_default();
    page(
        &req,
        &state,
        Some(&staff),
        "comments",
        "staff/comments/inbox.html",
        StatusCode::OK,
        json!({
            "items": items, "next_cursor": data.next_cursor, "statuses": statuses(),
            "status": status, "email": email, "assigned_to": assigned_to,
            "colleagues": colleagues(&state).await?,
        }),
    )
}

async fn render_comment(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: String,
    status: StatusCode,
    errors: Vec<FieldError>,
    form: Value,
) -> Result<HttpResponse, AppError> {
    let detail = view(state, staff, id).await?;
    let age = detail.unanswered_seconds.map(age_text);
    page(
        req,
        state,
        Some(staff),
        "comments",
        "staff/comments/comment.html",
        status,
        json!({
            "c": detail, "age": age, "statuses": statuses(),
            "colleagues": colleagues(state).await?, "errors": errors, "form": form,
            "alert": if errors.is_empty() { Value::Null } else { json!("Please check the form.") },
        }),
    )
}

/// One comment: message, spam verdict and rule, notes, replies, and the forms to act on it.
pub async fn comment_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    render_comment(
        &req,
        &state,
        &staff,
        path.into_inner(),
        StatusCode::OK,
        Vec::new(),
        json!({}),
    )
    .await
}

/// Runs a form's change; a validation error shows the page again with the message.
async fn after_form(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: String,
    result: Result<(), AppError>,
    notice: &str,
    form: Value,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(()) => Ok(redirect_with_notice(
            &format!("/staff/comments/{id}"),
            notice,
        )),
        Err(AppError::Validation(errors)) => {
            render_comment(
                req,
                state,
                staff,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                form,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn status_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let result = match parse_status("status", &form.status) {
        Ok(status) => {
            let changes = Changes {
                status: Some(status),
                ..Default::default()
            };
            apply(&state, &staff, id.clone(), changes).await.map(|_| ())
        }
        Err(e) => Err(AppError::Validation(vec![e])),
    };
    after_form(&req, &state, &staff, id, result, "saved", json!({})).await
}

pub async fn assign_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<AssignForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let assignee = form.assigned_to.trim().to_lowercase();
    let changes = Changes {
        assigned_to: Some(Some(assignee).filter(|a| !a.is_empty())),
        ..Default::default()
    };
    let result = apply(&state, &staff, id.clone(), changes).await.map(|_| ());
    after_form(&req, &state, &staff, id, result, "saved", json!({})).await
}

pub async fn sensitive_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<FlagForm>,
) -> Result<HttpResponse, AppError> {
    flag_form(
        &req,
        &state,
        &staff,
        path.into_inner(),
        &form,
        "sensitive",
        |on| Changes {
            sensitive: Some(on),
            ..Default::default()
        },
    )
    .await
}

pub async fn spam_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<FlagForm>,
) -> Result<HttpResponse, AppError> {
    flag_form(
        &req,
        &state,
        &staff,
        path.into_inner(),
        &form,
        "spam",
        |on| Changes {
            spam: Some(on),
            ..Default::default()
        },
    )
    .await
}

/// One on/off form (`sensitive`, `spam`): reads the flag named `field`, applies the change it
/// makes, and answers like every other form on the comment page.
async fn flag_form(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: String,
    form: &FlagForm,
    field: &str,
    change: impl FnOnce(bool) -> Changes,
) -> Result<HttpResponse, AppError> {
    let result = match form.flag(field) {
        Ok(on) => apply(state, staff, id.clone(), change(on))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after_form(req, state, staff, id, result, "saved", json!({})).await
}

/// Keeps a confidential tip past retention, or lets it go (`value` true / false).
pub async fn keep_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<FlagForm>,
) -> Result<HttpResponse, AppError> {
    flag_form(
        &req,
        &state,
        &staff,
        path.into_inner(),
        &form,
        "keep",
        |on| Changes {
            keep: Some(on),
            ..Default::default()
        },
    )
    .await
}

/// Restricts a confidential tip to the staff emails listed (one per line); empty lifts it.
pub async fn readers_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<ReadersForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let changes = Changes {
        readers: Some(parse_readers(&form.readers)),
        ..Default::default()
    };
    let result = apply(&state, &staff, id.clone(), changes).await.map(|_| ());
    let echo = json!({ "readers": form.readers });
    after_form(&req, &state, &staff, id, result, "saved", echo).await
}

pub async fn note_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<NoteForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let result = add_note(&state, &staff, id.clone(), &form.body)
        .await
        .map(|_| ());
    let echo = json!({ "body": form.body });
    after_form(&req, &state, &staff, id, result, "saved", echo).await
}

pub async fn reply_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    form: web::Form<ReplyForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let result = send_reply(&state, &staff, &id, &form.message)
        .await
        .map(|_| ());
    let echo = json!({ "message": form.message });
    after_form(&req, &state, &staff, id, result, "reply_sent", echo).await
}
