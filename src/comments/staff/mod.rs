//! The staff side of reader comments: the inbox (by status, address and assignee, with the
//! age of unanswered comments), one comment with its spam verdict, notes and replies,
//! status / assignment / sensitive / spam changes, replies sent through the outbox, and the
//! CSV export. Editors and admins only; every change, every view of one comment and every
//! export is audited in the transaction that makes or reads it.
//!
//! [`api`] answers the JSON API, [`pages`] the HTML pages and their forms, [`forms`] reads
//! what both send; the operations they share (reading one comment, changing it, adding a
//! note) and the route table are here.

pub mod api;
mod forms;
mod pages;

use api::{
    detail_json, export_csv, list_json, note_json, patch_json, reply_json, CommentDetail,
    CommentItem, NoteItem, ReplyItem,
};
use forms::{parse_note, Changes, InboxQuery};
use pages::{
    assign_form, comment_page, inbox_page, note_form, reply_form, sensitive_form, spam_form,
    status_form,
};

use actix_web::http::Method;
use serde_json::json;

use crate::comments::model::{Clearance, Status};
use crate::comments::store::{self, Comment};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::staff::audit::{self, Actor, Entry};
use crate::staff::ui::rfc3339;
use crate::staff::{NavItem, Role, Staff, StaffRoutes};
use crate::state::AppState;
use crate::web::pagination::{Page, PageRequest};

/// Who may open comments (admin always may).
const EDITORS: &[Role] = &[Role::Editor];

/// Longest internal note, in characters.
pub const MAX_NOTE_CHARS: usize = 5_000;
/// Every staff route of this feature, each with the roles that may use it.
pub fn staff_routes(r: &mut StaffRoutes) {
    use Method as M;
    r.api(M::GET, "/comments", EDITORS, list_json)
        .api(M::GET, "/comments.csv", EDITORS, export_csv)
        .api(M::GET, "/comments/{id}", EDITORS, detail_json)
        .api(M::PATCH, "/comments/{id}", EDITORS, patch_json)
        .api(M::POST, "/comments/{id}/reply", EDITORS, reply_json)
        .api(M::POST, "/comments/{id}/notes", EDITORS, note_json)
        .page(M::GET, "/comments", EDITORS, inbox_page)
        .page(M::GET, "/comments/{id}", EDITORS, comment_page)
        .page(M::POST, "/comments/{id}/status", EDITORS, status_form)
        .page(M::POST, "/comments/{id}/assign", EDITORS, assign_form)
        .page(M::POST, "/comments/{id}/sensitive", EDITORS, sensitive_form)
        .page(M::POST, "/comments/{id}/spam", EDITORS, spam_form)
        .page(M::POST, "/comments/{id}/notes", EDITORS, note_form)
        .page(M::POST, "/comments/{id}/reply", EDITORS, reply_form);
}

/// The staff navigation section.
pub fn staff_nav() -> Vec<NavItem> {
    vec![NavItem {
        key: "comments",
        label: "Comments",
        href: "/staff/comments",
        hint: "Readers' comments: inbox, notes, replies",
        roles: EDITORS,
    }]
}

/// "3 min", "5 h", "2 d": how long an unanswered comment has waited.
pub fn age_text(seconds: i64) -> String {
    match seconds {
        s if s < 3_600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3_600),
        s => format!("{} d", s / 86_400),
    }
}

/// Reads one comment with its notes and replies (inside the caller's transaction).
fn load_detail(
    conn: &mut DbConnection,
    id: &str,
    clearance: Clearance,
) -> Result<CommentDetail, AppError> {
    let c: Comment = store::get(conn, id, clearance)?;
    let notes = store::notes(conn, id)?
        .into_iter()
        .map(NoteItem::from)
        .collect();
    let mut replies = Vec::new();
    for r in store::replies(conn, id)? {
        let delivery = crate::mail::outbox::find(conn, &r.outbox_id)
            .map(|row| row.state)
            .ok();
        replies.push(ReplyItem::new(r, delivery));
    }
    let now = crate::db::now();
    let unanswered_seconds = Some(c.status)
        .filter(|s| s.is_unanswered())
        .map(|_| (now - c.created_at).num_seconds().max(0));
    Ok(CommentDetail {
        id: c.id,
        reference: c.reference,
        name: c.name,
        email: c.email,
        subject: c.subject,
        message: c.message,
        article_url: c.article_url,
        status: c.status,
        spam_verdict: c.spam_verdict,
        spam_rule: c.spam_rule,
        spam_score: c.spam_score,
        spam_signals: c.spam_signals,
        sensitive: c.sensitive,
        assigned_to: c.assigned_to,
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
        replied_at: c.replied_at.map(rfc3339),
        unanswered_seconds,
        notes,
        replies,
    })
}

/// Reads one comment for a staff member and audits the view, in one transaction.
async fn view(state: &AppState, staff: &Staff, id: String) -> Result<CommentDetail, AppError> {
    let (actor, clearance) = (staff.actor(), clearance(staff));
    state
        .db
        .write(move |conn| {
            let detail = load_detail(conn, &id, clearance)?;
            audit::record(
                conn,
                &actor,
                Entry::new("comment.viewed").target("comment", &id),
            )?;
            Ok(detail)
        })
        .await
}

fn clearance(staff: &Staff) -> Clearance {
    Clearance::for_role(staff.role.as_str())
}

async fn inbox(
    state: &AppState,
    staff: &Staff,
    query: &InboxQuery,
) -> Result<Page<CommentItem>, AppError> {
    let request = PageRequest::parse(query.cursor.as_deref(), query.limit)?;
    let filter = query.filter()?;
    let clearance = clearance(staff);
    let (cursor, limit) = (request.cursor.clone(), request.limit);
    let (rows, next_cursor) = state
        .db
        .run(move |conn| {
            Ok(store::list(
                conn,
                &filter,
                clearance,
                cursor.as_deref(),
                limit,
            )?)
        })
        .await?;
    Ok(Page {
        items: rows.into_iter().map(CommentItem::from).collect(),
        next_cursor,
    })
}

/// Applies changes to one comment and audits each, in one transaction.
async fn apply(
    state: &AppState,
    staff: &Staff,
    id: String,
    changes: Changes,
) -> Result<CommentDetail, AppError> {
    let (actor, clearance) = (staff.actor(), clearance(staff));
    if changes.sensitive.is_some() && clearance != Clearance::Sensitive {
        return Err(AppError::Forbidden(
            "Only admins and editors can flag a comment as sensitive.".into(),
        ));
    }
    state
        .db
        .write(move |conn| {
            apply_in(conn, &actor, &id, clearance, &changes)?;
            load_detail(conn, &id, clearance)
        })
        .await
}

fn apply_in(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    clearance: Clearance,
    changes: &Changes,
) -> Result<(), AppError> {
    let before = store::get(conn, id, clearance)?;
    let target = |action| Entry::new(action).target("comment", id);
    if let Some(Some(email)) = &changes.assigned_to {
        let colleague = crate::staff::store::find_user_by_email(conn, email)?
            .filter(|u| !u.disabled && u.role().is_some_and(|r| r.permits(EDITORS)));
        if colleague.is_none() {
            return Err(AppError::field(
                "assigned_to",
                "Choose an active editor or admin by their staff email.",
            ));
        }
    }
    if let Some(status) = changes.status {
        if before.status != status {
            store::set_status(conn, id, status)?;
            audit::record(
                conn,
                actor,
                target("comment.status_changed")
                    .details(json!({ "from": before.status, "to": status.as_str() })),
            )?;
        }
    }
    match changes.spam {
        Some(true)
            if before.status != Status::Spam || before.spam_rule.as_deref() != Some("staff") =>
        {
            store::mark_spam(conn, id)?;
            audit::record(
                conn,
                actor,
                target("comment.marked_spam").details(json!({ "from": before.status })),
            )?;
        }
        Some(false) if before.status == Status::Spam => {
            store::mark_not_spam(conn, id)?;
            audit::record(
                conn,
                actor,
                target("comment.marked_not_spam").details(json!({ "rule": before.spam_rule })),
            )?;
        }
        _ => {}
    }
    if let Some(assignee) = &changes.assigned_to {
        if *assignee != before.assigned_to {
            store::assign(conn, id, assignee.as_deref())?;
            audit::record(
                conn,
                actor,
                target("comment.assigned").details(json!({ "assigned_to": assignee })),
            )?;
        }
    }
    if let Some(sensitive) = changes.sensitive {
        if sensitive != before.sensitive {
            store::set_sensitive(conn, id, sensitive)?;
            audit::record(
                conn,
                actor,
                target("comment.sensitive_changed").details(json!({ "sensitive": sensitive })),
            )?;
        }
    }
    Ok(())
}

async fn add_note(
    state: &AppState,
    staff: &Staff,
    id: String,
    body: &str,
) -> Result<NoteItem, AppError> {
    let body = parse_note(body)?;
    let (actor, clearance) = (staff.actor(), clearance(staff));
    state
        .db
        .write(move |conn| {
            store::get(conn, &id, clearance)?;
            let note = store::add_note(conn, &id, &actor.label, &body)?;
            audit::record(
                conn,
                &actor,
                Entry::new("comment.note_added")
                    .target("comment", &id)
                    .details(json!({ "note_id": note.id })),
            )?;
            Ok(NoteItem::from(note))
        })
        .await
}

fn statuses() -> Vec<&'static str> {
    Status::ALL.iter().map(|s| s.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age_text(59), "0 min");
        assert_eq!(age_text(600), "10 min");
        assert_eq!(age_text(7_200), "2 h");
        assert_eq!(age_text(3 * 86_400), "3 d");
    }
}
