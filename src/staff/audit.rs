//! The audit log: append-only, written in the same transaction as the change it records.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::audit_log;
use crate::db::{new_id, DbConnection};

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
