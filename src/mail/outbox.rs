//! The outbox store: emails written in the caller's transaction, claimed by workers under a
//! lease, completed with their outcome.
//!
//! Claiming is one statement: on PostgreSQL the candidate rows are locked with
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint rows; on SQLite the claim
//! runs in an IMMEDIATE transaction, which serialises writers. A worker that dies leaves
//! its rows leased; any worker claims them again as soon as the dead worker's heartbeat has
//! expired ([`crate::mail::heartbeat`]), or at the latest when their lease ends.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use lettre::message::Mailbox;

use crate::db::lower;
use crate::db::schema::{outbox, workers};
use crate::db::DbConnection;
use crate::domain::EmailAddress;

/// Delivery state of an outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Queued,
    Sent,
    Failed,
    Cancelled,
}

impl OutboxState {
    pub const ALL: [OutboxState; 4] = [
        OutboxState::Queued,
        OutboxState::Sent,
        OutboxState::Failed,
        OutboxState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxState> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// A rendered email ready to be stored.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewOutboxEmail {
    pub id: String,
    pub template: String,
    pub to_addr: String,
    pub to_name: Option<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub headers: String,
    pub message_id: String,
    pub ref_kind: Option<String>,
    pub ref_id: Option<String>,
}

/// A stored outbox row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub template: String,
    pub to_addr: String,
    pub to_name: Option<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub headers: String,
    pub message_id: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub ref_kind: Option<String>,
    pub ref_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// The `ref_kind`s starting with this are confidential: their recipient is made at send time
/// and never logged.
pub const CONFIDENTIAL_KIND_PREFIX: &str = "confidential";

impl OutboxRow {
    /// The recipient as log lines may show it: masked, or withheld for a confidential email.
    pub fn logged_recipient(&self) -> String {
        match &self.ref_kind {
            Some(kind) if kind.starts_with(CONFIDENTIAL_KIND_PREFIX) => "(confidential)".into(),
            _ => crate::mail::mask_email(&self.to_addr),
        }
    }

    /// Stored by reference: its bodies are made at send time by the renderer of its
    /// `ref_kind` (see [`crate::mail::worker::Renderer`]).
    pub fn is_deferred(&self) -> bool {
        self.body_text.is_empty() && self.body_html.is_empty()
    }
}

/// Stores emails; call inside the transaction of whatever caused them.
#[tracing::instrument(skip_all, fields(count = emails.len()))]
pub fn enqueue(conn: &mut DbConnection, emails: &[NewOutboxEmail]) -> QueryResult<()> {
    let now = crate::db::now();
    for chunk in emails.chunks(500) {
        // Batch inserts are typed per backend (the multi-backend has no batch insert); on
        // PostgreSQL one short INSERT … SELECT FROM unnest(…) beats a 6,000-parameter VALUES.
        crate::db::dialect::per_backend(
            conn,
            |c| {
                let rows: Vec<_> = chunk
                    .iter()
                    .map(|e| {
                        (
                            e,
                            outbox::state.eq(OutboxState::Queued.as_str()),
                            outbox::attempts.eq(0),
                            outbox::next_attempt_at.eq(now),
                            outbox::created_at.eq(now),
                        )
                    })
                    .collect();
                diesel::insert_into(outbox::table).values(rows).execute(c)
            },
            |c| enqueue_postgres(c, chunk, now),
        )?;
    }
    Ok(())
}

/// PostgreSQL: one statement over arrays (`unnest`), so the server parses a short query
/// once per chunk instead of a 500-row `VALUES` list with 6,000 parameters.
const ENQUEUE_POSTGRES: &str = "INSERT INTO outbox (id, template, to_addr, to_name, reply_to, \
     subject, body_text, body_html, headers, message_id, ref_kind, ref_id, state, attempts, \
     next_attempt_at, created_at) \
     SELECT id, template, to_addr, to_name, reply_to, subject, body_text, body_html, headers, \
     message_id, ref_kind, ref_id, 'queued', 0, $13, $13 \
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) \
     AS t(id, template, to_addr, to_name, reply_to, subject, body_text, body_html, headers, \
     message_id, ref_kind, ref_id)";

fn enqueue_postgres(
    conn: &mut diesel::PgConnection,
    emails: &[NewOutboxEmail],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::sql_types::{Array, Nullable};
    fn column<'a>(
        emails: &'a [NewOutboxEmail],
        f: impl Fn(&'a NewOutboxEmail) -> &'a str,
    ) -> Vec<&'a str> {
        emails.iter().map(f).collect()
    }
    fn optional<'a>(
        emails: &'a [NewOutboxEmail],
        f: impl Fn(&'a NewOutboxEmail) -> Option<&'a str>,
    ) -> Vec<Option<&'a str>> {
        emails.iter().map(f).collect()
    }
    diesel::sql_query(ENQUEUE_POSTGRES)
        .bind::<Array<Text>, _>(column(emails, |e| &e.id))
        .bind::<Array<Text>, _>(column(emails, |e| &e.template))
        .bind::<Array<Text>, _>(column(emails, |e| &e.to_addr))
        .bind::<Array<Nullable<Text>>, _>(optional(emails, |e| e.to_name.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(optional(emails, |e| e.reply_to.as_deref()))
        .bind::<Array<Text>, _>(column(emails, |e| &e.subject))
        .bind::<Array<Text>, _>(column(emails, |e| &e.body_text))
        .bind::<Array<Text>, _>(column(emails, |e| &e.body_html))
        .bind::<Array<Text>, _>(column(emails, |e| &e.headers))
        .bind::<Array<Text>, _>(column(emails, |e| &e.message_id))
        .bind::<Array<Nullable<Text>>, _>(optional(emails, |e| e.ref_kind.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(optional(emails, |e| e.ref_id.as_deref()))
        .bind::<Timestamp, _>(now)
        .execute(conn)
}

/// The claim, with `{skip_locked}` where PostgreSQL locks the rows it takes. A row is free
/// when nobody holds it, its lease is over, or its holder's heartbeat has expired: the same
/// rule as [`not_in_flight`].
const CLAIM: &str =
    "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= $3 \
     AND (lease_until IS NULL OR lease_until < $3 \
     OR lease_owner IN (SELECT id FROM workers WHERE expires_at < $3)) \
     ORDER BY next_attempt_at, id LIMIT $4{skip_locked}) RETURNING *";

/// Outbox rows no live worker is sending: never claimed, their lease over, or leased to a
/// worker whose heartbeat has expired (they are claimed again at the next pass). What a
/// claim may take, and what pausing or cancelling may still change.
#[diesel::dsl::auto_type]
pub fn not_in_flight(now: NaiveDateTime) -> _ {
    outbox::lease_until
        .is_null()
        .or(outbox::lease_until.lt(now))
        .or(outbox::lease_owner.eq_any(
            workers::table
                .filter(workers::expires_at.lt(now))
                .select(workers::id.nullable()),
        ))
}

/// Leases up to `limit` due rows to `owner` until `lease_until`, counting an attempt on each.
/// On SQLite call it inside [`crate::db::write_tx`].
#[tracing::instrument(skip_all, fields(limit))]
pub fn claim(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let claim = CLAIM.replace("{skip_locked}", crate::db::dialect::skip_locked(conn));
    let mut rows = crate::db::dialect::sql(conn, &claim)
        .bind::<Text, _>(owner)
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load::<OutboxRow>(conn)?;
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rows)
}

/// What became of one claimed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the mail server.
    Sent,
    /// Try again at the given time.
    Retry { error: String, at: NaiveDateTime },
    /// Failed for good (a 5xx answer, or out of attempts).
    Failed { error: String },
    /// Not attempted (the worker is stopping): back in the queue, the attempt uncounted.
    Released,
}

/// Records outcomes for rows leased to `owner`; rows whose lease passed to another worker
/// are left alone. Returns how many rows were updated.
#[tracing::instrument(skip_all, fields(count = results.len()))]
pub fn complete(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    results: &[(String, Outcome)],
) -> QueryResult<usize> {
    use outbox::dsl as o;
    // PostgreSQL: lock every row first, in id order (the order an erasure updates them in),
    // so the outcome updates below never wait on a lock while holding another one.
    let mut ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    crate::db::dialect::per_backend(
        conn,
        |_| Ok(()),
        |c| {
            o::outbox
                .filter(o::id.eq_any(&ids))
                .order(o::id)
                .select(o::id)
                .for_update()
                .load::<String>(c)
                .map(drop)
        },
    )?;
    let sent: Vec<&str> = results
        .iter()
        .filter(|(_, outcome)| *outcome == Outcome::Sent)
        .map(|(id, _)| id.as_str())
        .collect();
    let mut updated = 0;
    for chunk in sent.chunks(500) {
        updated += diesel::update(
            o::outbox
                .filter(o::id.eq_any(chunk))
                .filter(o::lease_owner.eq(owner)),
        )
        .set((
            o::state.eq(OutboxState::Sent.as_str()),
            o::sent_at.eq(Some(now)),
            o::lease_owner.eq(None::<String>),
            o::lease_until.eq(None::<NaiveDateTime>),
            o::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    }
    for (id, outcome) in results {
        let target = o::outbox
            .filter(o::id.eq(id))
            .filter(o::lease_owner.eq(owner));
        let no_lease = (
            o::lease_owner.eq(None::<String>),
            o::lease_until.eq(None::<NaiveDateTime>),
        );
        updated += match outcome {
            Outcome::Sent => 0,
            Outcome::Retry { error, at } => diesel::update(target)
                .set((
                    o::next_attempt_at.eq(at),
                    o::last_error.eq(Some(error)),
                    no_lease,
                ))
                .execute(conn)?,
            Outcome::Failed { error } => diesel::update(target)
                .set((
                    o::state.eq(OutboxState::Failed.as_str()),
                    o::last_error.eq(Some(error)),
                    no_lease,
                ))
                .execute(conn)?,
            Outcome::Released => diesel::update(target)
                .set((o::attempts.eq(o::attempts - 1), no_lease))
                .execute(conn)?,
        };
    }
    Ok(updated)
}

/// Row counts by state, for metrics and the staff outbox page.
pub fn counts_by_state(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    use diesel::dsl::count_star;
    outbox::table
        .group_by(outbox::state)
        .select((outbox::state, count_star()))
        .load(conn)
}

/// When the email that has waited longest in the queue was queued.
pub fn oldest_queued(conn: &mut DbConnection) -> QueryResult<Option<NaiveDateTime>> {
    outbox::table
        .filter(outbox::state.eq(OutboxState::Queued.as_str()))
        .select(diesel::dsl::min(outbox::created_at))
        .get_result(conn)
}

/// Loads one row.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<OutboxRow> {
    outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
}

/// Puts a failed row back in the queue with a fresh attempt budget.
pub fn retry(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    use outbox::dsl as o;
    diesel::update(
        o::outbox
            .filter(o::id.eq(id))
            .filter(o::state.eq(OutboxState::Failed.as_str())),
    )
    .set((
        o::state.eq(OutboxState::Queued.as_str()),
        o::attempts.eq(0),
        o::next_attempt_at.eq(crate::db::now()),
    ))
    .execute(conn)
}

/// Newest first, optionally in one state; `before` is the cursor (ids are time-ordered).
pub fn list(
    conn: &mut DbConnection,
    state: Option<OutboxState>,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let mut query = outbox::table.select(OutboxRow::as_select()).into_boxed();
    if let Some(state) = state {
        query = query.filter(outbox::state.eq(state.as_str()));
    }
    if let Some(before) = before {
        query = query.filter(outbox::id.lt(before.to_string()));
    }
    query.order(outbox::id.desc()).limit(limit).load(conn)
}

/// Every email addressed to `email` (compared lower-cased), newest first: the people view
/// of one address.
pub fn find_by_recipient(conn: &mut DbConnection, email: &str) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(lower(outbox::to_addr).eq(email.to_lowercase()))
        .order(outbox::id.desc())
        .select(OutboxRow::as_select())
        .load(conn)
}

/// What [`erase_recipient`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipientErasure {
    /// Queued emails cancelled (never sent).
    pub cancelled: usize,
    /// Emails whose content and personal fields were cleared.
    pub cleared: usize,
    /// The ids of those emails (copies kept outside the database, such as the `file`
    /// transport's `.eml` files, are named by them).
    pub ids: Vec<String>,
}

/// What an erased recipient, subject or body reads as.
pub const ERASED: &str = "(erased)";

/// Erases one person from the outbox, inside the caller's transaction: every email to
/// `email`, every email whose Reply-To is it (both compared whole, as [`EmailAddress`]
/// does), and every email about one of `refs` (`(ref_kind, ref_id)`, e.g. a staff
/// notification about their comment). Queued ones are cancelled, claimed or not (a worker
/// holding one may still send it; its retry, if any, never happens); all of them lose the
/// subject, both bodies, the extra headers, the names, Reply-To and the last error, and
/// those to the person their address. The rest of the row (template, state, dates,
/// Message-ID) stays as a record that an email went out.
pub fn erase_recipient(
    conn: &mut DbConnection,
    email: &EmailAddress,
    refs: &[(String, String)],
) -> QueryResult<RecipientErasure> {
    use outbox::dsl as o;
    let address = email.normalized();
    let mut ids: Vec<String> = o::outbox
        .filter(lower(o::to_addr).eq(&address))
        .select(o::id)
        .load(conn)?;
    let to_person = ids.clone();
    // Reply-To is a rendered mailbox ("Name <address>"): narrowed in SQL (`_` and `%` in the
    // address only widen the pattern), then parsed and its address compared whole.
    let with_reply_to: Vec<(String, String)> = o::outbox
        .filter(o::reply_to.is_not_null())
        .filter(lower(o::reply_to.assume_not_null()).like(format!("%{address}%")))
        .select((o::id, o::reply_to.assume_not_null()))
        .load(conn)?;
    ids.extend(
        with_reply_to
            .into_iter()
            .filter(|(_, r)| {
                r.parse::<Mailbox>()
                    .is_ok_and(|m| email.same_as(m.email.as_ref()))
            })
            .map(|(id, _)| id),
    );
    for (kind, id) in refs {
        ids.extend(
            o::outbox
                .filter(o::ref_kind.eq(kind))
                .filter(o::ref_id.eq(id))
                .select(o::id)
                .load::<String>(conn)?,
        );
    }
    ids.sort_unstable();
    ids.dedup();
    let mut done = RecipientErasure::default();
    for chunk in ids.chunks(500) {
        // The last error may quote the address (an SMTP reply such as "550 <jane@…>").
        done.cleared += diesel::update(o::outbox.filter(o::id.eq_any(chunk)))
            .set((
                o::subject.eq(ERASED),
                o::body_text.eq(""),
                o::body_html.eq(""),
                o::headers.eq("{}"),
                o::to_name.eq(None::<String>),
                o::reply_to.eq(None::<String>),
                o::last_error.eq(None::<String>),
            ))
            .execute(conn)?;
        done.cancelled += diesel::update(
            o::outbox
                .filter(o::id.eq_any(chunk))
                .filter(o::state.eq(OutboxState::Queued.as_str())),
        )
        .set((
            o::state.eq(OutboxState::Cancelled.as_str()),
            o::last_error.eq(Some("cancelled: the recipient's data was erased")),
        ))
        .execute(conn)?;
    }
    for chunk in to_person.chunks(500) {
        diesel::update(o::outbox.filter(o::id.eq_any(chunk)))
            .set(o::to_addr.eq(ERASED))
            .execute(conn)?;
    }
    done.ids = ids;
    Ok(done)
}

/// Retention: clears the content (both bodies and the extra headers) of emails done with
/// before `before`: sent ones by their sending time, cancelled ones by their creation.
/// Failed ones keep theirs, as staff may still retry them. Recipient, subject, template,
/// state and dates stay. Idempotent; returns how many rows were cleared now.
pub fn clear_old_bodies(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    use outbox::dsl as o;
    let not_cleared = o::body_text.ne("").or(o::body_html.ne(""));
    let sent = diesel::update(
        o::outbox
            .filter(o::state.eq(OutboxState::Sent.as_str()))
            .filter(o::sent_at.lt(before))
            .filter(not_cleared),
    )
    .set((
        o::body_text.eq(""),
        o::body_html.eq(""),
        o::headers.eq("{}"),
    ))
    .execute(conn)?;
    let not_cleared = o::body_text.ne("").or(o::body_html.ne(""));
    let ended = diesel::update(
        o::outbox
            .filter(o::state.eq(OutboxState::Cancelled.as_str()))
            .filter(o::created_at.lt(before))
            .filter(not_cleared),
    )
    .set((
        o::body_text.eq(""),
        o::body_html.eq(""),
        o::headers.eq("{}"),
    ))
    .execute(conn)?;
    Ok(sent + ended)
}
