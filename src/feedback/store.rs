//! Storage of votes, the day's voter keys, and the queries behind the staff report and the
//! queue of comments left with votes.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, Nullable, Text, Timestamp};
use rand::RngCore;
use serde::Serialize;

use crate::db::schema::{feedback_notes, feedback_voter_keys, feedback_votes as fv};
use crate::db::DbConnection;
use crate::feedback::model::{wilson_lower_bound, CommentStatus, NewVote, VoteOutcome};

/// Writes one vote; see [`record_votes`].
pub fn record_vote(
    conn: &mut DbConnection,
    vote: &NewVote,
    now: NaiveDateTime,
) -> QueryResult<VoteOutcome> {
    record_votes(conn, std::slice::from_ref(vote), now)?
        .pop()
        .ok_or(diesel::result::Error::NotFound)
}

/// Votes merged per (article, voter) within one batch, in arrival order.
struct Merged<'a> {
    new_id: String,
    article_url: &'a str,
    voter: &'a str,
    /// Today's cookie-less vote of this voter to carry over is looked up under this hash
    /// (see `Voter::carry_over_from`).
    carry_over_from: Option<&'a str>,
    helpful: bool,
    reason: Option<&'a str>,
    comment: Option<&'a str>,
    /// `new` and the batch's time when the vote carries a comment (see [`Merged::set_comment`]);
    /// kept as fields because the upsert binds them by reference.
    comment_status: Option<&'static str>,
    comment_at: Option<NaiveDateTime>,
}

impl<'a> Merged<'a> {
    /// A comment sent with a vote replaces the earlier one and goes back to the queue as
    /// `new`; a vote without one keeps the earlier comment.
    fn set_comment(&mut self, comment: Option<&'a str>, now: NaiveDateTime) {
        if comment.is_some() {
            self.comment = comment;
            self.comment_status = Some(CommentStatus::New.as_str());
            self.comment_at = Some(now);
        }
    }
}

#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    article_url: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    voter: String,
}

/// The largest upsert statement, in rows (10 parameters each, well under both backends'
/// limits). A batch is cut into chunks whose sizes are powers of two up to this, so at most
/// nine distinct statements exist and each is prepared once per connection.
const UPSERT_CHUNK: usize = 256;

/// The sizes a batch of `rows` distinct votes is written in: powers of two, largest first.
fn chunk_sizes(rows: usize) -> impl Iterator<Item = usize> {
    let mut left = rows;
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let size = if left >= UPSERT_CHUNK {
            UPSERT_CHUNK
        } else {
            1 << left.ilog2()
        };
        left -= size;
        Some(size)
    })
}

/// `INSERT … VALUES (…), (…) ON CONFLICT (article_url, voter) DO UPDATE … RETURNING` for a
/// chunk of votes. Unlike `sql_query`, its SQL depends only on the number of rows, so diesel
/// caches the prepared statement (keyed by the SQL) instead of parsing it for every batch.
struct VoteUpsert<'q, 'a> {
    rows: &'q [Merged<'a>],
    now: NaiveDateTime,
}

impl QueryId for VoteUpsert<'_, '_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for VoteUpsert<'_, '_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for VoteUpsert<'_, '_> {}

impl<DB> QueryFragment<DB> for VoteUpsert<'_, '_>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<Bool>
        + diesel::sql_types::HasSqlType<Timestamp>,
    str: ToSql<Text, DB>,
    bool: ToSql<Bool, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO feedback_votes (id, article_url, voter, helpful, reason, comment, \
             comment_status, comment_at, created_at, updated_at) VALUES ",
        );
        for (i, row) in self.rows.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            out.push_bind_param::<Text, str>(&row.new_id)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, str>(row.article_url)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, str>(row.voter)?;
            out.push_sql(", ");
            out.push_bind_param::<Bool, bool>(&row.helpful)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, _>(&row.reason)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, _>(&row.comment)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, _>(&row.comment_status)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Timestamp>, _>(&row.comment_at)?;
            out.push_sql(", ");
            out.push_bind_param::<Timestamp, _>(&self.now)?;
            out.push_sql(", ");
            out.push_bind_param::<Timestamp, _>(&self.now)?;
            out.push_sql(")");
        }
        out.push_sql(
            " ON CONFLICT (article_url, voter) DO UPDATE SET helpful = excluded.helpful, \
             reason = excluded.reason, \
             comment = COALESCE(excluded.comment, feedback_votes.comment), \
             comment_status = COALESCE(excluded.comment_status, feedback_votes.comment_status), \
             comment_at = COALESCE(excluded.comment_at, feedback_votes.comment_at), \
             updated_at = excluded.updated_at RETURNING id, article_url, voter",
        );
        Ok(())
    }
}

/// Writes votes: each inserted on a voter's first vote on an article and changed in place
/// on any later one, so a retried request never makes a second row. A comment sent with a
/// vote replaces the earlier one and goes back to the staff queue as `new`; a vote without a
/// comment keeps the earlier comment.
///
/// A cookie voter's first vote carries over a vote cast earlier today from the same IP and
/// User-Agent without the cookie (the request that set it), instead of counting twice.
///
/// A batch is a few `INSERT … ON CONFLICT DO UPDATE … RETURNING` statements (see
/// [`chunk_sizes`]) whose prepared forms are cached, plus one point lookup for a vote to
/// carry over per new cookie voter whose cookie may have been issued today. Outcomes come
/// back in the order of `votes`; of two votes of one voter on one article in a batch, only
/// the first can be `created`.
/// Call inside a write transaction.
pub fn record_votes(
    conn: &mut DbConnection,
    votes: &[NewVote],
    now: NaiveDateTime,
) -> QueryResult<Vec<VoteOutcome>> {
    let mut merged: Vec<Merged> = Vec::with_capacity(votes.len());
    let mut index: HashMap<(&str, &str), usize> = HashMap::with_capacity(votes.len());
    // For each vote: its merged row, and whether it was that row's first vote.
    let mut slots: Vec<(usize, bool)> = Vec::with_capacity(votes.len());
    for vote in votes {
        let key = (vote.ballot.article_url.as_str(), vote.voter.key.as_str());
        match index.get(&key) {
            Some(&m) => {
                let row = &mut merged[m];
                row.helpful = vote.ballot.helpful;
                row.reason = vote.ballot.reason.as_deref();
                row.set_comment(vote.ballot.comment.as_deref(), now);
                slots.push((m, false));
            }
            None => {
                index.insert(key, merged.len());
                slots.push((merged.len(), true));
                let mut row = Merged {
                    new_id: crate::db::new_id(),
                    article_url: key.0,
                    voter: key.1,
                    carry_over_from: vote.voter.carry_over_from.as_deref(),
                    helpful: vote.ballot.helpful,
                    reason: vote.ballot.reason.as_deref(),
                    comment: None,
                    comment_status: None,
                    comment_at: None,
                };
                row.set_comment(vote.ballot.comment.as_deref(), now);
                merged.push(row);
            }
        }
    }

    let mut written: HashMap<(String, String), String> = HashMap::with_capacity(merged.len());
    let mut rest = merged.as_slice();
    for size in chunk_sizes(merged.len()) {
        let (chunk, after) = rest.split_at(size);
        rest = after;
        let upsert = VoteUpsert { rows: chunk, now };
        let rows = crate::db::dialect::on_backend!(conn, |c| upsert.load::<Written>(c))?;
        for row in rows {
            written.insert((row.article_url, row.voter), row.id);
        }
    }
    let mut final_ids: Vec<(String, bool)> = Vec::with_capacity(merged.len());
    for row in &merged {
        let id = written
            .get(&(row.article_url.to_string(), row.voter.to_string()))
            .cloned()
            .ok_or(diesel::result::Error::NotFound)?;
        let created = id == row.new_id;
        final_ids.push((id, created));
    }

    // Carry over today's cookie-less vote of a cookie voter's first vote: one cached point
    // lookup on the (article_url, voter) key per new cookie voter whose cookie may be from
    // today.
    for (m, row) in merged.iter().enumerate() {
        let Some(fingerprint) = row.carry_over_from.filter(|_| final_ids[m].1) else {
            continue;
        };
        // At most one row (the pair is unique). No `.first()`: SQLite re-prepares a statement
        // with a bound LIMIT every time it is bound again.
        let earlier: Vec<String> = fv::table
            .filter(fv::article_url.eq(row.article_url))
            .filter(fv::voter.eq(fingerprint))
            .select(fv::id)
            .load(conn)?;
        if let Some(earlier_id) = earlier.into_iter().next() {
            carry_over(conn, row, &final_ids[m].0, &earlier_id, now)?;
            final_ids[m] = (earlier_id, false);
        }
    }

    Ok(slots
        .into_iter()
        .map(|(m, first)| VoteOutcome {
            id: final_ids[m].0.clone(),
            created: final_ids[m].1 && first,
        })
        .collect())
}

/// Moves a cookie voter's just-inserted vote onto the row their cookie-less vote made.
fn carry_over(
    conn: &mut DbConnection,
    row: &Merged,
    inserted_id: &str,
    earlier_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(fv::table.find(inserted_id)).execute(conn)?;
    diesel::update(fv::table.find(earlier_id))
        .set((
            fv::voter.eq(row.voter),
            fv::helpful.eq(row.helpful),
            fv::reason.eq(row.reason),
            fv::updated_at.eq(now),
        ))
        .execute(conn)?;
    if let Some(comment) = row.comment {
        diesel::update(fv::table.find(earlier_id))
            .set((
                fv::comment.eq(comment),
                fv::comment_status.eq(CommentStatus::New),
                fv::comment_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Counts of one article's votes: `(helpful, not_helpful)`.
pub fn summary(conn: &mut DbConnection, article_url: &str) -> QueryResult<(i64, i64)> {
    let rows: Vec<(bool, i64)> = fv::table
        .filter(fv::article_url.eq(article_url))
        .group_by(fv::helpful)
        .select((fv::helpful, count_star()))
        .load(conn)?;
    let count = |want: bool| {
        rows.iter()
            .filter(|(helpful, _)| *helpful == want)
            .map(|(_, n)| n)
            .sum()
    };
    Ok((count(true), count(false)))
}

/// Number of vote rows for one article (all voters).
pub fn vote_count(conn: &mut DbConnection, article_url: &str) -> QueryResult<i64> {
    fv::table
        .filter(fv::article_url.eq(article_url))
        .count()
        .get_result(conn)
}

/// The key for hashing cookie-less voters on `today` (UTC): created on first use, the same
/// for every instance sharing the database. Keys of earlier days are deleted, so hashes
/// made with them can no longer be linked to an IP address.
pub fn rotate_voter_keys(conn: &mut DbConnection, today: NaiveDate) -> QueryResult<Vec<u8>> {
    use feedback_voter_keys::dsl as k;
    let day = today.format("%Y-%m-%d").to_string();
    diesel::delete(k::feedback_voter_keys.filter(k::day.lt(&day))).execute(conn)?;
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let secret = hex::encode(secret);
    let values = (
        k::day.eq(&day),
        k::secret.eq(&secret),
        k::created_at.eq(crate::db::now()),
    );
    // Another instance may have made today's key first: keep theirs.
    crate::db::dialect::on_backend!(conn, |c| diesel::insert_into(k::feedback_voter_keys)
        .values(values)
        .on_conflict_do_nothing()
        .execute(c))?;
    let stored: String = k::feedback_voter_keys
        .find(&day)
        .select(k::secret)
        .first(conn)?;
    hex::decode(stored).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// Days whose voter key is still stored (for tests and the staff outbox of keys).
pub fn voter_key_days(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    use feedback_voter_keys::dsl as k;
    k::feedback_voter_keys
        .select(k::day)
        .order(k::day)
        .load(conn)
}

// ---------------------------------------------------------------------------------------
// Staff side: the helpfulness report and the queue of comments left with votes.

/// Which articles come first in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RankOrder {
    /// The articles most surely unhelpful first: highest Wilson lower bound of the
    /// not-helpful share first.
    #[default]
    NeedsImprovementFirst,
    /// The articles most surely helpful first: highest Wilson lower bound of the helpful
    /// share first.
    MostHelpfulFirst,
}

/// Which time of a vote the report's dates apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RankTime {
    /// When the vote was last cast or changed (the helpfulness report).
    #[default]
    Changed,
    /// When the vote was first cast (the dashboard, beside its votes per day; read from the
    /// covering index `feedback_votes_created`).
    Cast,
}

/// Filters of the helpfulness report.
#[derive(Debug, Clone, Default)]
pub struct RankFilter {
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    /// Whether `from` and `to` apply to when votes were changed or first cast.
    pub time: RankTime,
    /// Only articles with at least one vote giving this reason.
    pub reason: Option<String>,
    /// Articles with fewer votes (in the range) are left out.
    pub min_votes: i64,
    pub order: RankOrder,
}

/// One article in the helpfulness report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleRank {
    pub article_url: String,
    pub helpful: i64,
    pub not_helpful: i64,
    pub total: i64,
    /// `helpful / total`.
    pub helpful_share: f64,
    /// Wilson score lower bound (95 %) of the helpful share: the key of
    /// [`RankOrder::MostHelpfulFirst`].
    pub wilson_lower_bound: f64,
    /// Wilson score lower bound (95 %) of the not-helpful share: the key of
    /// [`RankOrder::NeedsImprovementFirst`].
    pub not_helpful_lower_bound: f64,
    /// Votes per reason given.
    pub reasons: BTreeMap<String, i64>,
}

/// Articles ranked as `filter.order` says (see [`rank`]), with at least `min_votes` votes; a page of `limit` from `cursor` (an opaque offset), and the next cursor.
pub fn ranked_articles(
    conn: &mut DbConnection,
    filter: &RankFilter,
    cursor: Option<&str>,
    limit: i64,
) -> QueryResult<(Vec<ArticleRank>, Option<String>)> {
    let mut counts = fv::table
        .group_by((fv::article_url, fv::helpful))
        .select((fv::article_url, fv::helpful, count_star()))
        .into_boxed();
    let mut reasons = fv::table
        .filter(fv::reason.is_not_null())
        .group_by((fv::article_url, fv::reason))
        .select((fv::article_url, fv::reason, count_star()))
        .into_boxed();
    match filter.time {
        RankTime::Changed => {
            if let Some(from) = filter.from {
                counts = counts.filter(fv::updated_at.ge(from));
                reasons = reasons.filter(fv::updated_at.ge(from));
            }
            if let Some(to) = filter.to {
                counts = counts.filter(fv::updated_at.lt(to));
                reasons = reasons.filter(fv::updated_at.lt(to));
            }
        }
        RankTime::Cast => {
            if let Some(from) = filter.from {
                counts = counts.filter(fv::created_at.ge(from));
                reasons = reasons.filter(fv::created_at.ge(from));
            }
            if let Some(to) = filter.to {
                counts = counts.filter(fv::created_at.lt(to));
                reasons = reasons.filter(fv::created_at.lt(to));
            }
        }
    }
    let counts: Vec<(String, bool, i64)> = counts.load(conn)?;
    let reasons: Vec<(String, Option<String>, i64)> = reasons.load(conn)?;

    let mut articles: BTreeMap<String, ArticleRank> = BTreeMap::new();
    for (url, helpful, n) in counts {
        let entry = articles.entry(url.clone()).or_insert_with(|| ArticleRank {
            article_url: url,
            helpful: 0,
            not_helpful: 0,
            total: 0,
            helpful_share: 0.0,
            wilson_lower_bound: 0.0,
            not_helpful_lower_bound: 0.0,
            reasons: BTreeMap::new(),
        });
        if helpful {
            entry.helpful += n;
        } else {
            entry.not_helpful += n;
        }
        entry.total += n;
    }
    for (url, reason, n) in reasons {
        if let (Some(entry), Some(reason)) = (articles.get_mut(&url), reason) {
            entry.reasons.insert(reason, n);
        }
    }
    let mut ranked: Vec<ArticleRank> = articles
        .into_values()
        .filter(|a| a.total >= filter.min_votes.max(1))
        .filter(|a| {
            filter
                .reason
                .as_ref()
                .is_none_or(|r| a.reasons.get(r).is_some_and(|n| *n > 0))
        })
        .map(scored)
        .collect();
    rank(&mut ranked, filter.order);
    let offset = cursor
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0)
        .min(ranked.len());
    let limit = limit.max(1) as usize;
    let end = (offset + limit).min(ranked.len());
    let next = (end < ranked.len()).then(|| end.to_string());
    Ok((ranked.drain(offset..end).collect(), next))
}

/// An article with its share and both bounds computed from its counts (`total` > 0).
fn scored(mut a: ArticleRank) -> ArticleRank {
    a.helpful_share = a.helpful as f64 / a.total as f64;
    a.wilson_lower_bound = wilson_lower_bound(a.helpful, a.total);
    a.not_helpful_lower_bound = wilson_lower_bound(a.not_helpful, a.total);
    a
}

/// Sorts articles for `order`, each by the Wilson lower bound of the share that order is
/// about, highest first: what the votes make surest comes first, so 60 not helpful of 100
/// needs improvement before 5 of 10 does (a lower helpful bound alone would say the
/// opposite, as few votes pull every bound down). Ties: more votes first, then by URL.
pub fn rank(articles: &mut [ArticleRank], order: RankOrder) {
    let key = |a: &ArticleRank| match order {
        RankOrder::NeedsImprovementFirst => a.not_helpful_lower_bound,
        RankOrder::MostHelpfulFirst => a.wilson_lower_bound,
    };
    articles.sort_by(|a, b| {
        key(b)
            .total_cmp(&key(a))
            .then(b.total.cmp(&a.total))
            .then(a.article_url.cmp(&b.article_url))
    });
}

/// Filters of the queue of comments left with votes. Dates apply to when the comment was left.
#[derive(Debug, Clone, Default)]
pub struct CommentQueueFilter {
    pub status: Option<CommentStatus>,
    pub article_url: Option<String>,
    pub reason: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// A comment left with a vote, as the staff queue shows it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = fv)]
pub struct QueuedComment {
    /// The vote's id.
    pub id: String,
    pub article_url: String,
    pub helpful: bool,
    pub reason: Option<String>,
    pub comment: Option<String>,
    pub comment_status: Option<CommentStatus>,
    pub comment_at: Option<NaiveDateTime>,
}

/// The comments left with votes, newest first, a page of `limit` after `cursor`; returns the
/// next cursor when more follow.
pub fn comment_queue(
    conn: &mut DbConnection,
    filter: &CommentQueueFilter,
    cursor: Option<&str>,
    limit: i64,
) -> QueryResult<(Vec<QueuedComment>, Option<String>)> {
    let mut query = fv::table
        .filter(fv::comment.is_not_null())
        .select(QueuedComment::as_select())
        .order((fv::comment_at.desc(), fv::id.desc()))
        .limit(limit.max(1) + 1)
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(fv::comment_status.eq(status));
    }
    if let Some(url) = &filter.article_url {
        query = query.filter(fv::article_url.eq(url.clone()));
    }
    if let Some(reason) = &filter.reason {
        query = query.filter(fv::reason.eq(reason.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(fv::comment_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(fv::comment_at.lt(to));
    }
    if let Some((at, id)) = cursor.and_then(parse_time_cursor) {
        query = query.filter(
            fv::comment_at
                .lt(at)
                .or(fv::comment_at.eq(at).and(fv::id.lt(id))),
        );
    }
    let mut rows = query.load(conn)?;
    let more = rows.len() as i64 > limit.max(1);
    rows.truncate(limit.max(1) as usize);
    let next = more
        .then(|| rows.last())
        .flatten()
        .and_then(|r| Some(time_cursor(r.comment_at?, &r.id)));
    Ok((rows, next))
}

/// One comment left with a vote; `NotFound` when the vote is unknown or has no comment.
pub fn queued_comment(conn: &mut DbConnection, vote_id: &str) -> QueryResult<QueuedComment> {
    fv::table
        .find(vote_id)
        .filter(fv::comment.is_not_null())
        .select(QueuedComment::as_select())
        .first(conn)
}

/// Moves a comment left with a vote to another status; `NotFound` when the vote has none.
pub fn set_comment_status(
    conn: &mut DbConnection,
    vote_id: &str,
    status: CommentStatus,
) -> QueryResult<()> {
    let updated = diesel::update(fv::table.find(vote_id).filter(fv::comment.is_not_null()))
        .set(fv::comment_status.eq(status))
        .execute(conn)?;
    if updated == 0 {
        return Err(diesel::result::Error::NotFound);
    }
    Ok(())
}

/// An internal note on a comment left with a vote.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = feedback_notes)]
pub struct FeedbackNote {
    pub id: String,
    pub vote_id: String,
    pub author: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// Adds an internal note to a vote's comment; `NotFound` for an unknown vote.
pub fn add_note(
    conn: &mut DbConnection,
    vote_id: &str,
    author: &str,
    body: &str,
) -> QueryResult<FeedbackNote> {
    fv::table
        .find(vote_id)
        .select(fv::id)
        .first::<String>(conn)?;
    let note = FeedbackNote {
        id: crate::db::new_id(),
        vote_id: vote_id.to_string(),
        author: author.to_string(),
        body: body.to_string(),
        created_at: crate::db::now(),
    };
    diesel::insert_into(feedback_notes::table)
        .values(&note)
        .execute(conn)?;
    Ok(note)
}

/// A vote's notes, oldest first.
pub fn notes(conn: &mut DbConnection, vote_id: &str) -> QueryResult<Vec<FeedbackNote>> {
    feedback_notes::table
        .filter(feedback_notes::vote_id.eq(vote_id))
        .order((feedback_notes::created_at, feedback_notes::id))
        .select(FeedbackNote::as_select())
        .load(conn)
}

/// The notes of several votes at once (a page of the queue), oldest first.
pub fn notes_for(conn: &mut DbConnection, vote_ids: &[String]) -> QueryResult<Vec<FeedbackNote>> {
    if vote_ids.is_empty() {
        return Ok(Vec::new());
    }
    feedback_notes::table
        .filter(feedback_notes::vote_id.eq_any(vote_ids))
        .order((feedback_notes::created_at, feedback_notes::id))
        .select(FeedbackNote::as_select())
        .load(conn)
}

/// `<microseconds since the epoch>_<id>`: a keyset cursor over (time, id).
pub(crate) fn time_cursor(at: NaiveDateTime, id: &str) -> String {
    format!("{}_{id}", at.and_utc().timestamp_micros())
}

pub(crate) fn parse_time_cursor(cursor: &str) -> Option<(NaiveDateTime, String)> {
    let (micros, id) = cursor.split_once('_')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((at, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(url: &str, helpful: i64, total: i64) -> ArticleRank {
        scored(ArticleRank {
            article_url: url.into(),
            helpful,
            not_helpful: total - helpful,
            total,
            helpful_share: 0.0,
            wilson_lower_bound: 0.0,
            not_helpful_lower_bound: 0.0,
            reasons: BTreeMap::new(),
        })
    }

    fn order(articles: &[ArticleRank], order: RankOrder) -> Vec<String> {
        let mut ranked = articles.to_vec();
        rank(&mut ranked, order);
        ranked.into_iter().map(|a| a.article_url).collect()
    }

    /// 40 helpful of 100 is far more surely a problem than 5 of 10; 90 of 100 is more surely
    /// helpful than 9 of 10. The two orders are not each other's reverse: 10 unhelpful
    /// votes of 100 are surer evidence of a problem than 1 of 10.
    #[test]
    fn each_order_ranks_by_the_bound_of_its_own_share() {
        let articles = [
            article("half-of-ten", 5, 10),
            article("forty-of-hundred", 40, 100),
            article("nine-of-ten", 9, 10),
            article("ninety-of-hundred", 90, 100),
        ];
        assert_eq!(
            order(&articles, RankOrder::NeedsImprovementFirst),
            [
                "forty-of-hundred",
                "half-of-ten",
                "ninety-of-hundred",
                "nine-of-ten"
            ]
        );
        assert_eq!(
            order(&articles, RankOrder::MostHelpfulFirst),
            [
                "ninety-of-hundred",
                "nine-of-ten",
                "forty-of-hundred",
                "half-of-ten"
            ]
        );
    }

    #[test]
    fn ties_go_to_more_votes_then_the_url() {
        let same = [article("b", 2, 4), article("a", 2, 4)];
        assert_eq!(order(&same, RankOrder::NeedsImprovementFirst), ["a", "b"]);
        assert_eq!(order(&same, RankOrder::MostHelpfulFirst), ["a", "b"]);
        // No helpful vote: a helpful bound of 0 however many votes.
        let none_helpful = [article("few", 0, 3), article("many", 0, 5)];
        assert_eq!(
            order(&none_helpful, RankOrder::MostHelpfulFirst),
            ["many", "few"]
        );
    }

    #[test]
    fn batches_are_cut_into_powers_of_two_largest_first() {
        let sizes = |n| chunk_sizes(n).collect::<Vec<_>>();
        assert!(sizes(0).is_empty());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(13), [8, 4, 1]);
        assert_eq!(sizes(256), [256]);
        assert_eq!(sizes(600), [256, 256, 64, 16, 8]);
        for n in 0..1000 {
            let cut = sizes(n);
            assert_eq!(cut.iter().sum::<usize>(), n);
            assert!(cut
                .iter()
                .all(|s| s.is_power_of_two() && *s <= UPSERT_CHUNK));
        }
    }
}
