//! The audit log: append-only, written in the same transaction as the change it records.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use std::ops::Range;

use crate::db::lower;
use crate::db::schema::audit_log;
use crate::db::{new_id, DbConnection};
use crate::domain::{addresses_in, EmailAddress};

/// Who acted: a staff member, or the system itself (CLI, scheduled tasks).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<String>,
    pub label: String,
    pub ip_hash: Option<String>,
}

impl Actor {
    pub fn system(label: &str) -> Actor {
        Actor {
            id: None,
            label: label.to_string(),
            ip_hash: None,
        }
    }
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub action: &'a str,
    pub target_kind: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub details: serde_json::Value,
}

impl<'a> Entry<'a> {
    pub fn new(action: &'a str) -> Self {
        Entry {
            action,
            target_kind: None,
            target_id: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn target(mut self, kind: &'a str, id: &'a str) -> Self {
        self.target_kind = Some(kind);
        self.target_id = Some(id);
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Appends an entry; call inside the transaction of the change.
pub fn record(conn: &mut DbConnection, actor: &Actor, entry: Entry<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(new_id()),
            audit_log::at.eq(crate::db::now()),
            audit_log::actor_id.eq(actor.id.as_deref()),
            audit_log::actor_label.eq(&actor.label),
            audit_log::action.eq(entry.action),
            audit_log::target_kind.eq(entry.target_kind),
            audit_log::target_id.eq(entry.target_id),
            audit_log::ip_hash.eq(actor.ip_hash.as_deref()),
            audit_log::details.eq(entry.details.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    #[serde(skip)]
    pub ip_hash: Option<String>,
    pub details: String,
}

/// Newest first; `before` is the cursor (an entry id: ids are time-ordered).
pub fn list(
    conn: &mut DbConnection,
    before: Option<&str>,
    action: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before.to_string()));
    }
    if let Some(action) = action {
        query = query.filter(audit_log::action.eq(action.to_string()));
    }
    query.order(audit_log::id.desc()).limit(limit).load(conn)
}

/// Runs a change to one record and appends its audit entry in the same transaction;
/// 404 when the change touched no row (unknown record, or not the actor's to change).
pub async fn change<F>(
    db: &crate::db::Db,
    actor: Actor,
    action: &'static str,
    target: (&'static str, String),
    details: serde_json::Value,
    f: F,
) -> Result<(), crate::error::AppError>
where
    F: FnOnce(&mut DbConnection) -> QueryResult<usize> + Send + 'static,
{
    db.write(move |conn| {
        if f(conn)? == 0 {
            return Err(crate::error::AppError::NotFound);
        }
        record(
            conn,
            &actor,
            Entry::new(action)
                .target(target.0, &target.1)
                .details(details),
        )?;
        Ok(())
    })
    .await
}

/// What an erased personal value reads as in the audit log.
pub const SCRUBBED: &str = "(erased)";

/// A value to scrub: an address is matched whole wherever an address is written (never as
/// part of a longer one: `ann@gmail.com` is not in `jo.ann@gmail.com`); any other value
/// (a name, a phone number) as whole words, ASCII letters compared without case, and never
/// inside an address.
enum Needle<'a> {
    Address(EmailAddress),
    Text(&'a str),
}

/// Parses the values to scrub, addresses first; blank ones are dropped.
fn needles<'a>(values: &[&'a str]) -> Vec<Needle<'a>> {
    let mut addresses = Vec::new();
    let mut texts = Vec::new();
    for value in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        match EmailAddress::parse(value) {
            Ok(address) => addresses.push(Needle::Address(address)),
            Err(_) => texts.push(Needle::Text(value)),
        }
    }
    addresses.extend(texts);
    addresses
}

/// Replaces every whole-word occurrence of `needle` in `text` outside the byte ranges in
/// `skip`, ASCII letters compared without case (a name may have been typed as `jane QUILL`).
/// `None` when there was none.
fn replace_ignoring_case(text: &str, needle: &str, skip: &[Range<usize>]) -> Option<String> {
    if needle.is_empty() || needle.len() > text.len() {
        return None;
    }
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let (hay, pin) = (text.as_bytes(), needle.as_bytes());
    let (starts_word, ends_word) = (word(needle.chars().next()), word(needle.chars().last()));
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut i, mut found) = (0, 0, false);
    while i + pin.len() <= hay.len() {
        let end = i + pin.len();
        if hay[i..end].eq_ignore_ascii_case(pin)
            && text.is_char_boundary(i)
            && text.is_char_boundary(end)
            && !(starts_word && word(text[..i].chars().next_back()))
            && !(ends_word && word(text[end..].chars().next()))
            && !skip.iter().any(|r| r.start < end && i < r.end)
        {
            out.push_str(&text[copied..i]);
            out.push_str(SCRUBBED);
            i = end;
            copied = i;
            found = true;
        } else {
            i += 1;
        }
    }
    found.then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

/// Replaces the erased addresses written in `text`. `None` when there was none.
fn replace_addresses(text: &str, erased: &[&EmailAddress]) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut found) = (0, false);
    for (range, address) in addresses_in(text) {
        if erased
            .iter()
            .any(|e| e.normalized() == address.normalized())
        {
            out.push_str(&text[copied..range.start]);
            out.push_str(SCRUBBED);
            copied = range.end;
            found = true;
        }
    }
    found.then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

fn scrub_text(text: &str, needles: &[Needle<'_>]) -> Option<String> {
    let erased: Vec<&EmailAddress> = needles
        .iter()
        .filter_map(|n| match n {
            Needle::Address(a) => Some(a),
            Needle::Text(_) => None,
        })
        .collect();
    let mut current = replace_addresses(text, &erased);
    for needle in needles {
        let Needle::Text(needle) = needle else {
            continue;
        };
        let base = current.as_deref().unwrap_or(text);
        // Addresses left in the text (other people's) are not searched for names.
        let skip: Vec<Range<usize>> = addresses_in(base).into_iter().map(|(r, _)| r).collect();
        if let Some(replaced) = replace_ignoring_case(base, needle, &skip) {
            current = Some(replaced);
        }
    }
    current
}

fn scrub_value(value: &mut serde_json::Value, needles: &[Needle<'_>]) -> bool {
    match value {
        serde_json::Value::String(s) => match scrub_text(s, needles) {
            Some(replaced) => {
                *s = replaced;
                true
            }
            None => false,
        },
        // Every element is visited (no short circuit): all of them must be scrubbed.
        serde_json::Value::Array(items) => {
            let mut changed = false;
            for v in items {
                changed |= scrub_value(v, needles);
            }
            changed
        }
        serde_json::Value::Object(map) => {
            let mut changed = false;
            for v in map.values_mut() {
                changed |= scrub_value(v, needles);
            }
            changed
        }
        _ => false,
    }
}

/// Erasure on request: replaces each of `needles` (a person's name, address…) with
/// [`SCRUBBED`] in the `details` of the entries about one record, so the log keeps what was
/// done without keeping whom it was done to. Empty needles are ignored. Returns the number of
/// entries changed; call inside the erasure's transaction.
pub fn scrub(
    conn: &mut DbConnection,
    target_kind: &str,
    target_id: &str,
    needles: &[&str],
) -> QueryResult<usize> {
    let needles = self::needles(needles);
    if needles.is_empty() {
        return Ok(0);
    }
    let rows: Vec<(String, String)> = audit_log::table
        .filter(audit_log::target_kind.eq(target_kind))
        .filter(audit_log::target_id.eq(target_id))
        .select((audit_log::id, audit_log::details))
        .load(conn)?;
    let mut changed = 0;
    for (id, details) in rows {
        let scrubbed = match serde_json::from_str::<serde_json::Value>(&details) {
            Ok(mut value) => scrub_value(&mut value, &needles).then(|| value.to_string()),
            Err(_) => scrub_text(&details, &needles),
        };
        if let Some(new_details) = scrubbed {
            diesel::update(audit_log::table.find(&id))
                .set(audit_log::details.eq(new_details))
                .execute(conn)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Erasure of a person: like [`scrub`], but in every entry whose details name one of
/// `needles` (an address or a name can appear in entries about other records, such as an
/// import). Call inside the erasure's transaction; returns the number of entries changed.
pub fn scrub_everywhere(conn: &mut DbConnection, needles: &[&str]) -> QueryResult<usize> {
    let needles = self::needles(needles);
    let mut changed = 0;
    for needle in &needles {
        let pattern = match needle {
            Needle::Address(a) => a.normalized(),
            Needle::Text(t) => t.to_lowercase(),
        };
        // A coarse filter in SQL (`_` and `%` in the needle only widen it); the exact,
        // whole-address or whole-word match is made below.
        let rows: Vec<(String, String)> = audit_log::table
            .filter(lower(audit_log::details).like(format!("%{pattern}%")))
            .select((audit_log::id, audit_log::details))
            .load(conn)?;
        for (id, details) in rows {
            let scrubbed = match serde_json::from_str::<serde_json::Value>(&details) {
                Ok(mut value) => scrub_value(&mut value, &needles).then(|| value.to_string()),
                Err(_) => scrub_text(&details, &needles),
            };
            if let Some(new_details) = scrubbed {
                diesel::update(audit_log::table.find(&id))
                    .set(audit_log::details.eq(new_details))
                    .execute(conn)?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub(text: &str, values: &[&str]) -> Option<String> {
        scrub_text(text, &needles(values))
    }

    #[test]
    fn scrubbing_reaches_nested_strings_only() {
        let mut v = serde_json::json!({
            "to": "Jane <jane@example.org>",
            "list": ["jane@example.org", 3],
            "keep": "other",
        });
        assert!(scrub_value(&mut v, &needles(&["Jane", "jane@example.org"])));
        assert_eq!(v["to"], "(erased) <(erased)>");
        assert_eq!(v["list"][0], "(erased)");
        assert_eq!(v["list"][1], 3);
        assert_eq!(v["keep"], "other");
        assert!(!scrub_value(&mut v, &needles(&["nobody"])));
    }

    #[test]
    fn scrubbing_ignores_ascii_case_and_keeps_other_text() {
        assert_eq!(
            scrub(
                "to Jane@Example.ORG and jane@example.org!",
                &["jane@example.org"]
            )
            .as_deref(),
            Some("to (erased) and (erased)!")
        );
        assert_eq!(
            scrub("Zoë Quill wrote", &["zoë quill"]).as_deref(),
            Some("(erased) wrote")
        );
        assert_eq!(scrub("nothing here", &["jane"]), None);
        assert_eq!(scrub("jan", &["jane"]), None);
    }

    #[test]
    fn addresses_and_names_are_matched_whole() {
        let text = "from jo.ann@gmail.com, ann@gmail.com.au and Joanne; cc ann@gmail.com";
        assert_eq!(
            scrub(text, &["ann@gmail.com", "Ann"]).as_deref(),
            Some("from jo.ann@gmail.com, ann@gmail.com.au and Joanne; cc (erased)")
        );
        assert_eq!(
            scrub("Ann wrote to jo.ann@gmail.com", &["ann"]).as_deref(),
            Some("(erased) wrote to jo.ann@gmail.com")
        );
        assert_eq!(scrub("jo.ann@gmail.com", &["ann@gmail.com"]), None);
        assert_eq!(
            scrub("call +44 20 7946 0000.", &["+44 20 7946 0000"]).as_deref(),
            Some("call (erased).")
        );
    }
}
