//! Issues: drafting, scheduling, pausing, resuming, cancelling and retrying, and progress.
//! Status changes are compare-and-set so two staff members never both win.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::newsletter_deliveries as deliveries;
use crate::db::schema::newsletter_issue_lists as issue_lists;
use crate::db::schema::newsletter_issues as issues;
use crate::db::schema::newsletter_lists as lists;
use crate::db::schema::newsletter_subscribers as subs;
use crate::db::schema::outbox;
use crate::db::DbConnection;
use crate::error::AppError;
use crate::mail::outbox::{not_in_flight, OutboxState};

use super::lists::{resolve_lists, List};
use super::{held_until, Page};
use crate::newsletter::model::{IssueStatus, NewIssue, SubscriberStatus};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = issues)]
pub struct Issue {
    pub id: String,
    pub subject: String,
    pub body_markdown: String,
    pub status: IssueStatus,
    pub send_at: Option<NaiveDateTime>,
    pub queue_cursor: Option<String>,
    pub queue_done: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    /// The issue's language (`None`: written for everyone).
    pub lang: Option<String>,
    /// The issue this one translates; a translation is sent only with it.
    pub translation_of: Option<String>,
}

/// Checks that an issue in `lang` may translate `original`: both have a language, they
/// differ, `original` is no translation itself and has no other translation into `lang`
/// (`except`: the issue being edited).
fn check_translation(
    conn: &mut DbConnection,
    original: &str,
    lang: Option<&str>,
    except: Option<&str>,
) -> Result<(), AppError> {
    let field = |m: &str| AppError::field("translation_of", m);
    let Some(lang) = lang else {
        return Err(AppError::field("lang", "A translation names its language."));
    };
    let target = match find_issue(conn, original) {
        Ok(t) => t,
        Err(diesel::result::Error::NotFound) => return Err(field("No such issue.")),
        Err(e) => return Err(e.into()),
    };
    if target.translation_of.is_some() {
        return Err(field("That issue is a translation itself."));
    }
    match target.lang.as_deref() {
        None => return Err(field("Give the issue it translates a language first.")),
        Some(l) if l == lang => return Err(field("That issue is already in this language.")),
        Some(_) => {}
    }
    let mut taken = issues::table
        .filter(issues::translation_of.eq(original))
        .filter(issues::lang.eq(lang))
        .select(issues::id)
        .into_boxed();
    if let Some(id) = except {
        taken = taken.filter(issues::id.ne(id.to_string()));
    }
    if taken.first::<String>(conn).optional()?.is_some() {
        return Err(field(
            "That issue already has a translation into this language.",
        ));
    }
    Ok(())
}

/// The translation of `issue_id` into `lang`, if there is one.
pub fn translation_into(
    conn: &mut DbConnection,
    issue_id: &str,
    lang: &str,
) -> QueryResult<Option<Issue>> {
    issues::table
        .filter(issues::translation_of.eq(issue_id))
        .filter(issues::lang.eq(lang))
        .select(Issue::as_select())
        .first(conn)
        .optional()
}

/// Stores a draft issue. Its lists must exist (422 on `lists[i]` otherwise); none means
/// every confirmed subscriber.
pub fn create_issue(conn: &mut DbConnection, new: &NewIssue) -> Result<Issue, AppError> {
    let targets = resolve_lists(conn, &new.lists, false)?;
    if let Some(original) = &new.translation_of {
        check_translation(conn, original, new.lang.as_deref(), None)?;
    }
    let now = crate::db::now();
    let id = crate::db::new_id();
    diesel::insert_into(issues::table)
        .values((
            issues::id.eq(&id),
            issues::subject.eq(&new.subject),
            issues::body_markdown.eq(&new.body_markdown),
            issues::status.eq(IssueStatus::Draft),
            issues::queue_done.eq(false),
            issues::lang.eq(&new.lang),
            issues::translation_of.eq(&new.translation_of),
            issues::created_at.eq(now),
            issues::updated_at.eq(now),
        ))
        .execute(conn)?;
    for list in &targets {
        diesel::insert_into(issue_lists::table)
            .values((
                issue_lists::issue_id.eq(&id),
                issue_lists::list_id.eq(&list.id),
            ))
            .execute(conn)?;
    }
    Ok(find_issue(conn, &id)?)
}

/// Rewrites a draft (409 once it is scheduled or sent).
pub fn update_issue(conn: &mut DbConnection, id: &str, new: &NewIssue) -> Result<Issue, AppError> {
    let issue = find_issue(conn, id)?;
    if issue.status != IssueStatus::Draft {
        return Err(AppError::Conflict("Only a draft can be edited.".into()));
    }
    let targets = resolve_lists(conn, &new.lists, false)?;
    if let Some(original) = &new.translation_of {
        if original == id {
            return Err(AppError::field(
                "translation_of",
                "An issue cannot translate itself.",
            ));
        }
        check_translation(conn, original, new.lang.as_deref(), Some(id))?;
    }
    diesel::update(issues::table.find(id))
        .set((
            issues::subject.eq(&new.subject),
            issues::body_markdown.eq(&new.body_markdown),
            issues::lang.eq(&new.lang),
            issues::translation_of.eq(&new.translation_of),
            issues::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    diesel::delete(issue_lists::table.filter(issue_lists::issue_id.eq(id))).execute(conn)?;
    for list in &targets {
        diesel::insert_into(issue_lists::table)
            .values((
                issue_lists::issue_id.eq(id),
                issue_lists::list_id.eq(&list.id),
            ))
            .execute(conn)?;
    }
    Ok(find_issue(conn, id)?)
}

pub fn find_issue(conn: &mut DbConnection, id: &str) -> QueryResult<Issue> {
    issues::table
        .find(id)
        .select(Issue::as_select())
        .first(conn)
}

/// The lists an issue goes to (empty: every confirmed subscriber).
pub fn issue_lists(conn: &mut DbConnection, issue_id: &str) -> QueryResult<Vec<List>> {
    lists::table
        .filter(
            lists::id.eq_any(
                issue_lists::table
                    .filter(issue_lists::issue_id.eq(issue_id))
                    .select(issue_lists::list_id),
            ),
        )
        .order(lists::name.asc())
        .select(List::as_select())
        .load(conn)
}

/// Issues, newest first, cursor-paginated.
pub fn list_issues(
    conn: &mut DbConnection,
    status: Option<IssueStatus>,
    cursor: Option<&str>,
    limit: i64,
) -> QueryResult<Page<Issue>> {
    let limit = limit.clamp(1, 500);
    let mut query = issues::table.select(Issue::as_select()).into_boxed();
    if let Some(status) = status {
        query = query.filter(issues::status.eq(status));
    }
    if let Some(cursor) = cursor {
        query = query.filter(issues::id.lt(cursor.to_string()));
    }
    let mut rows: Vec<Issue> = query.order(issues::id.desc()).limit(limit + 1).load(conn)?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|i| i.id.clone())
    } else {
        None
    };
    Ok(Page {
        items: rows,
        next_cursor,
    })
}

fn set_issue_status(
    conn: &mut DbConnection,
    id: &str,
    from: &[IssueStatus],
    to: IssueStatus,
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    Ok(
        diesel::update(issues::table.find(id).filter(issues::status.eq_any(from)))
            .set((issues::status.eq(to), issues::updated_at.eq(now)))
            .execute(conn)?,
    )
}

fn conflict_unless_changed(
    conn: &mut DbConnection,
    id: &str,
    changed: usize,
    what: &str,
) -> Result<Issue, AppError> {
    let issue = find_issue(conn, id)?;
    if changed == 0 {
        return Err(AppError::Conflict(format!(
            "An issue that is {} cannot be {what}.",
            issue.status.as_str()
        )));
    }
    Ok(issue)
}

/// Sends a draft now (`send_at` None or past) or at `send_at` (UTC); a scheduled issue can
/// be moved. The dispatcher picks it up when due.
pub fn schedule_send(
    conn: &mut DbConnection,
    id: &str,
    send_at: Option<NaiveDateTime>,
) -> Result<Issue, AppError> {
    if find_issue(conn, id)?.translation_of.is_some() {
        return Err(AppError::Conflict(
            "A translation goes out with the issue it translates; send that one.".into(),
        ));
    }
    let now = crate::db::now();
    let changed = diesel::update(issues::table.find(id).filter(
        issues::status.eq_any([IssueStatus::Draft.as_str(), IssueStatus::Scheduled.as_str()]),
    ))
    .set((
        issues::status.eq(IssueStatus::Scheduled),
        issues::send_at.eq(Some(send_at.unwrap_or(now))),
        issues::updated_at.eq(now),
    ))
    .execute(conn)?;
    conflict_unless_changed(conn, id, changed, "scheduled")
}

/// Holds an issue's queued emails (not the ones in flight) until it is resumed.
pub(super) fn hold_queued(
    conn: &mut DbConnection,
    issue_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let theirs = deliveries::table
        .filter(deliveries::issue_id.eq(issue_id))
        .filter(deliveries::outbox_id.is_not_null())
        .select(deliveries::outbox_id.assume_not_null());
    diesel::update(
        outbox::table
            .filter(outbox::state.eq(OutboxState::Queued.as_str()))
            .filter(outbox::next_attempt_at.lt(held_until()))
            .filter(not_in_flight(now))
            .filter(outbox::id.eq_any(theirs)),
    )
    .set(outbox::next_attempt_at.eq(held_until()))
    .execute(conn)
}

/// Cancels an issue's queued emails (not the ones in flight).
pub(super) fn cancel_queued(
    conn: &mut DbConnection,
    issue_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let theirs = deliveries::table
        .filter(deliveries::issue_id.eq(issue_id))
        .filter(deliveries::outbox_id.is_not_null())
        .select(deliveries::outbox_id.assume_not_null());
    diesel::update(
        outbox::table
            .filter(outbox::state.eq(OutboxState::Queued.as_str()))
            .filter(not_in_flight(now))
            .filter(outbox::id.eq_any(theirs)),
    )
    .set((
        outbox::state.eq(OutboxState::Cancelled.as_str()),
        outbox::last_error.eq(Some("the issue was cancelled")),
    ))
    .execute(conn)
}

/// Pauses a scheduled or sending issue: no more recipients are queued and queued emails
/// are held. Emails a worker has already claimed (at most `mail.batch_size` per worker) are
/// in flight and still go out.
pub fn pause_issue(conn: &mut DbConnection, id: &str) -> Result<Issue, AppError> {
    let now = crate::db::now();
    let changed = set_issue_status(
        conn,
        id,
        &[IssueStatus::Scheduled, IssueStatus::Sending],
        IssueStatus::Paused,
        now,
    )?;
    if changed > 0 {
        hold_queued(conn, id, now)?;
    }
    conflict_unless_changed(conn, id, changed, "paused")
}

/// Resumes a paused issue where it stopped.
pub fn resume_issue(conn: &mut DbConnection, id: &str) -> Result<Issue, AppError> {
    let now = crate::db::now();
    let issue = find_issue(conn, id)?;
    let to = if issue.started_at.is_some() {
        IssueStatus::Sending
    } else {
        IssueStatus::Scheduled
    };
    let changed = set_issue_status(conn, id, &[IssueStatus::Paused], to, now)?;
    if changed > 0 {
        let theirs = deliveries::table
            .filter(deliveries::issue_id.eq(id))
            .filter(deliveries::outbox_id.is_not_null())
            .select(deliveries::outbox_id.assume_not_null());
        diesel::update(
            outbox::table
                .filter(outbox::state.eq(OutboxState::Queued.as_str()))
                .filter(outbox::next_attempt_at.ge(held_until()))
                .filter(outbox::id.eq_any(theirs)),
        )
        .set(outbox::next_attempt_at.eq(now))
        .execute(conn)?;
    }
    conflict_unless_changed(conn, id, changed, "resumed")
}

/// Cancels an issue: nothing more is queued, queued emails are cancelled (counted as
/// skipped); those already sent stay sent.
pub fn cancel_issue(conn: &mut DbConnection, id: &str) -> Result<Issue, AppError> {
    let now = crate::db::now();
    let changed = set_issue_status(
        conn,
        id,
        &[
            IssueStatus::Draft,
            IssueStatus::Scheduled,
            IssueStatus::Sending,
            IssueStatus::Paused,
        ],
        IssueStatus::Cancelled,
        now,
    )?;
    if changed > 0 {
        cancel_queued(conn, id, now)?;
        diesel::update(issues::table.find(id))
            .set(issues::finished_at.eq(Some(now)))
            .execute(conn)?;
    }
    conflict_unless_changed(conn, id, changed, "cancelled")
}

/// Queues the issue's failed emails again (same rows, same `Message-ID`s, a fresh attempt
/// budget); only recipients still confirmed are retried. Returns how many.
pub fn retry_failed(conn: &mut DbConnection, id: &str) -> Result<usize, AppError> {
    let now = crate::db::now();
    let issue = find_issue(conn, id)?;
    if !matches!(
        issue.status,
        IssueStatus::Sending | IssueStatus::Sent | IssueStatus::Paused
    ) {
        return Err(AppError::Conflict(format!(
            "An issue that is {} has nothing to retry.",
            issue.status.as_str()
        )));
    }
    let still_confirmed = subs::table
        .filter(subs::status.eq(SubscriberStatus::Confirmed))
        .select(subs::id);
    let retryable = deliveries::table
        .filter(deliveries::issue_id.eq(id))
        .filter(deliveries::outbox_id.is_not_null())
        .filter(
            deliveries::subscriber_id
                .assume_not_null()
                .eq_any(still_confirmed),
        )
        .select(deliveries::outbox_id.assume_not_null());
    let next_attempt = if issue.status == IssueStatus::Paused {
        held_until()
    } else {
        now
    };
    let n = diesel::update(
        outbox::table
            .filter(outbox::state.eq(OutboxState::Failed.as_str()))
            .filter(outbox::id.eq_any(retryable)),
    )
    .set((
        outbox::state.eq(OutboxState::Queued.as_str()),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(next_attempt),
    ))
    .execute(conn)?;
    if n > 0 && issue.status == IssueStatus::Sent {
        diesel::update(issues::table.find(id))
            .set((
                issues::status.eq(IssueStatus::Sending),
                issues::finished_at.eq(None::<NaiveDateTime>),
                issues::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(n)
}

/// Where an issue's sending stands. When it is done, `recipients = sent + failed + skipped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IssueProgress {
    pub status: IssueStatus,
    /// Every delivery row (one per subscriber the issue went to, or skipped).
    pub recipients: i64,
    pub sent: i64,
    /// Failed for good (retry with `retry_failed`).
    pub failed: i64,
    /// Queued or held, not yet sent.
    pub pending: i64,
    /// Not sent: unsubscribed or suppressed at send time, or cancelled.
    pub skipped: i64,
}

pub fn issue_progress(conn: &mut DbConnection, id: &str) -> QueryResult<IssueProgress> {
    use diesel::dsl::count_star;
    let issue = find_issue(conn, id)?;
    let recipients: i64 = deliveries::table
        .filter(deliveries::issue_id.eq(id))
        .count()
        .get_result(conn)?;
    let without_email: i64 = deliveries::table
        .filter(deliveries::issue_id.eq(id))
        .filter(deliveries::outbox_id.is_null())
        .count()
        .get_result(conn)?;
    let theirs = deliveries::table
        .filter(deliveries::issue_id.eq(id))
        .filter(deliveries::outbox_id.is_not_null())
        .select(deliveries::outbox_id.assume_not_null());
    let by_state: Vec<(String, i64)> = outbox::table
        .filter(outbox::id.eq_any(theirs))
        .group_by(outbox::state)
        .select((outbox::state, count_star()))
        .load(conn)?;
    let count = |st: OutboxState| {
        by_state
            .iter()
            .find(|(s, _)| s == st.as_str())
            .map_or(0, |(_, n)| *n)
    };
    let with_email: i64 = by_state.iter().map(|(_, n)| n).sum();
    Ok(IssueProgress {
        status: issue.status,
        recipients,
        sent: count(OutboxState::Sent),
        failed: count(OutboxState::Failed),
        pending: count(OutboxState::Queued),
        // An outbox row purged by retention counts as skipped too.
        skipped: without_email
            + count(OutboxState::Cancelled)
            + (recipients - without_email - with_email),
    })
}
