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
    assign_form, comment_page, inbox_page, keep_form, note_form, readers_form, reply_form,
    sensitive_form, spam_form, status_form,
};

use actix_web::http::Method;
use serde_json::json;

use crate::comments::confidential;
use crate::comments::model::{Clearance, Status};
use crate::comments::store::{self, Comment, CommentNote};
use crate::db::DbConnection;
use crate::error::AppError;
use crate::sealed::TipsKey;
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
        .page(M::POST, "/comments/{id}/keep", EDITORS, keep_form)
        .page(M::POST, "/comments/{id}/readers", EDITORS, readers_form)
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

/// Reads one comment with its notes and replies (inside the caller's transaction); a
/// confidential tip is opened with `tips` (the caller checked that the reader may).
fn load_detail(
    conn: &mut DbConnection,
    id: &str,
    clearance: Clearance,
    tips: Option<&TipsKey>,
) -> Result<CommentDetail, AppError> {
    let mut c: Comment = store::get(conn, id, clearance)?;
    let key = if c.confidential {
        Some(confidential::require(tips)?)
    } else {
        None
    };
    let mut notes = Vec::new();
    for mut n in store::notes(conn, id)? {
        if let Some(key) = key {
            confidential::open_note(key, &mut n)?;
        }
        notes.push(NoteItem::from(n));
    }
    let mut replies = Vec::new();
    for mut r in store::replies(conn, id)? {
        if let Some(key) = key {
            confidential::open_reply(key, &mut r)?;
        }
        let delivery = crate::mail::outbox::find(conn, &r.outbox_id)
            .map(|row| row.state)
            .ok();
        replies.push(ReplyItem::new(r, delivery));
    }
    let readers = match key {
        Some(key) => {
            confidential::open(key, &mut c)?;
            confidential::readers(conn, id)?
                .into_iter()
                .map(|(_, email)| email)
                .collect()
        }
        None => Vec::new(),
    };
    let now = crate::db::now();
    let unanswered_seconds = Some(c.status)
        .filter(|s| s.is_unanswered())
        .map(|_| (now - c.created_at).num_seconds().max(0));
    Ok(CommentDetail {
        lang: c.lang.clone(),
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
        confidential: c.confidential,
        kept: c.kept,
        readers,
        assigned_to: c.assigned_to,
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
        replied_at: c.replied_at.map(rfc3339),
        unanswered_seconds,
        notes,
        replies,
    })
}

/// Why a confidential tip is refused (the 403's detail).
const TIP_REFUSED: &str = "This is a confidential tip: only staff given the tips permission (and, \
     when the tip is restricted, named on it) can open it. The attempt was recorded.";

/// Reads one comment for a staff member and audits the view, in one transaction. A
/// confidential tip is opened only for a staff member who may ([`confidential::may_open`]):
/// the opening is audited as `comment.tip_opened`, a refusal as `comment.tip_refused` (403).
async fn view(state: &AppState, staff: &Staff, id: String) -> Result<CommentDetail, AppError> {
    let (actor, clearance) = (staff.actor(), clearance(staff));
    let (user_id, tips) = (staff.user.id.clone(), state.tips.clone());
    state
        .db
        .write(move |conn| {
            let confidential = store::get(conn, &id, clearance)?.confidential;
            if confidential && !confidential::may_open(conn, &user_id, &id)? {
                audit::record(
                    conn,
                    &actor,
                    Entry::new("comment.tip_refused").target("comment", &id),
                )?;
                return Ok(None);
            }
            let detail = load_detail(conn, &id, clearance, tips.as_ref())?;
            let action = if confidential {
                "comment.tip_opened"
            } else {
                "comment.viewed"
            };
            audit::record(conn, &actor, Entry::new(action).target("comment", &id))?;
            Ok(Some(detail))
        })
        .await?
        .ok_or_else(|| AppError::Forbidden(TIP_REFUSED.into()))
}

/// Refuses (403, audited as `comment.tip_refused`) a change to a confidential tip by a staff
/// member who may not open it; anything else passes.
async fn guard(state: &AppState, staff: &Staff, id: &str) -> Result<(), AppError> {
    let (actor, clearance) = (staff.actor(), clearance(staff));
    let (user_id, id) = (staff.user.id.clone(), id.to_string());
    let allowed = state
        .db
        .write(move |conn| {
            if !store::get(conn, &id, clearance)?.confidential
                || confidential::may_open(conn, &user_id, &id)?
            {
                return Ok(true);
            }
            audit::record(
                conn,
                &actor,
                Entry::new("comment.tip_refused").target("comment", &id),
            )?;
            Ok(false)
        })
        .await?;
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(TIP_REFUSED.into()))
    }
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
    guard(state, staff, &id).await?;
    let tips = state.tips.clone();
    state
        .db
        .write(move |conn| {
            apply_in(conn, &actor, &id, clearance, &changes)?;
            let detail = load_detail(conn, &id, clearance, tips.as_ref())?;
            if detail.confidential {
                // The answer holds the opened tip: that is an opening too.
                audit::record(
                    conn,
                    &actor,
                    Entry::new("comment.tip_opened").target("comment", &id),
                )?;
            }
            Ok(detail)
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
    apply_tip_changes(conn, actor, &before, changes)?;
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

/// The changes only a tip takes: keeping it past retention, restricting it to named
/// accounts (each holding the tips permission; a restriction must name the one who sets it,
/// so nobody locks themselves out). The caller checked that the actor may open the tip.
fn apply_tip_changes(
    conn: &mut DbConnection,
    actor: &Actor,
    before: &Comment,
    changes: &Changes,
) -> Result<(), AppError> {
    let id = before.id.as_str();
    if (changes.keep.is_some() || changes.readers.is_some()) && !before.confidential {
        let field = if changes.keep.is_some() {
            "keep"
        } else {
            "readers"
        };
        return Err(AppError::field(
            field,
            "Only a confidential tip can be kept or restricted.",
        ));
    }
    if let Some(keep) = changes.keep {
        if keep != before.kept {
            confidential::set_kept(conn, id, keep)?;
            let action = if keep {
                "comment.tip_kept"
            } else {
                "comment.tip_keep_lifted"
            };
            audit::record(conn, actor, Entry::new(action).target("comment", id))?;
        }
    }
    if let Some(emails) = &changes.readers {
        let mut ids = Vec::new();
        for email in emails {
            let user = crate::staff::store::find_user_by_email(conn, email)?.filter(|u| {
                !u.disabled
                    && u.role().is_some_and(|r| {
                        r.permits(crate::staff::permissions::Permission::Tips.roles())
                    })
            });
            let holds = match &user {
                Some(u) => crate::staff::permissions::has(
                    conn,
                    &u.id,
                    crate::staff::permissions::Permission::Tips,
                )?,
                None => false,
            };
            match user {
                Some(u) if holds => ids.push(u.id),
                _ => {
                    return Err(AppError::field(
                        "readers",
                        format!("{email} is not an active account holding the tips permission."),
                    ))
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        if !ids.is_empty() && !actor.id.as_ref().is_some_and(|me| ids.contains(me)) {
            return Err(AppError::field(
                "readers",
                "Name yourself too, or you could no longer open the tip.",
            ));
        }
        confidential::set_readers(conn, id, &ids)?;
        audit::record(
            conn,
            actor,
            Entry::new("comment.tip_readers_changed")
                .target("comment", id)
                .details(json!({ "readers": ids })),
        )?;
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
    guard(state, staff, &id).await?;
    let tips = state.tips.clone();
    state
        .db
        .write(move |conn| {
            let comment = store::get(conn, &id, clearance)?;
            let mut note = CommentNote {
                id: crate::db::new_id(),
                comment_id: id.clone(),
                author: actor.label.clone(),
                body: body.clone(),
                created_at: crate::db::now(),
            };
            if comment.confidential {
                // A note on a tip may quote it: sealed like the tip.
                note.body = confidential::require(tips.as_ref())?.seal(&note.id, "body", &body)?;
            }
            store::insert_note(conn, &note)?;
            audit::record(
                conn,
                &actor,
                Entry::new("comment.note_added")
                    .target("comment", &id)
                    .details(json!({ "note_id": note.id })),
            )?;
            note.body = body;
            Ok(NoteItem::from(note))
        })
        .await
}

/// Replies to the reader, once [`guard`] let the staff member through.
async fn send_reply(
    state: &AppState,
    staff: &Staff,
    id: &str,
    message: &str,
) -> Result<store::CommentReply, AppError> {
    guard(state, staff, id).await?;
    crate::comments::reply(state, id, &staff.actor(), message, clearance(staff)).await
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
