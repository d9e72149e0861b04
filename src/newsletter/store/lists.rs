//! Lists: the newsletters a reader can join, and resolving the slugs a request names.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::newsletter_lists as lists;
use crate::db::DbConnection;
use crate::error::{AppError, FieldError};

use crate::newsletter::model::{ListSlug, NewList};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = lists)]
pub struct List {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub is_public: bool,
    pub created_at: NaiveDateTime,
    /// The language the list's issues are written in (`None`: any).
    pub lang: Option<String>,
}

/// Creates a list (409 when the slug is taken).
pub fn create_list(conn: &mut DbConnection, new: &NewList) -> QueryResult<List> {
    let list = List {
        id: crate::db::new_id(),
        slug: new.slug.as_str().to_string(),
        name: new.name.clone(),
        description: new.description.clone(),
        is_public: new.is_public,
        created_at: crate::db::now(),
        lang: new.lang.clone(),
    };
    diesel::insert_into(lists::table)
        .values((
            lists::id.eq(&list.id),
            lists::slug.eq(&list.slug),
            lists::name.eq(&list.name),
            lists::description.eq(&list.description),
            lists::is_public.eq(list.is_public),
            lists::created_at.eq(list.created_at),
            lists::lang.eq(&list.lang),
        ))
        .execute(conn)?;
    Ok(list)
}

/// Changes a list's slug, name, description and visibility.
pub fn update_list(conn: &mut DbConnection, slug: &str, new: &NewList) -> QueryResult<List> {
    let n = diesel::update(lists::table.filter(lists::slug.eq(slug)))
        .set((
            lists::slug.eq(new.slug.as_str()),
            lists::name.eq(&new.name),
            lists::description.eq(&new.description),
            lists::is_public.eq(new.is_public),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(diesel::result::Error::NotFound);
    }
    find_list(conn, new.slug.as_str())
}

pub fn find_list(conn: &mut DbConnection, slug: &str) -> QueryResult<List> {
    lists::table
        .filter(lists::slug.eq(slug))
        .select(List::as_select())
        .first(conn)
}

/// Every list, by name (staff).
pub fn all_lists(conn: &mut DbConnection) -> QueryResult<Vec<List>> {
    lists::table
        .order((lists::name.asc(), lists::slug.asc()))
        .select(List::as_select())
        .load(conn)
}

/// The lists readers may see and choose.
pub fn public_lists(conn: &mut DbConnection) -> QueryResult<Vec<List>> {
    lists::table
        .filter(lists::is_public.eq(true))
        .order((lists::name.asc(), lists::slug.asc()))
        .select(List::as_select())
        .load(conn)
}

/// Resolves slugs to lists, in the order given; unknown slugs (and, with `public_only`,
/// private ones) are a 422 naming `lists[i]` for each.
pub fn resolve_lists(
    conn: &mut DbConnection,
    slugs: &[ListSlug],
    public_only: bool,
) -> Result<Vec<List>, AppError> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = slugs.iter().map(ListSlug::as_str).collect();
    let mut query = lists::table
        .filter(lists::slug.eq_any(&names))
        .select(List::as_select())
        .into_boxed();
    if public_only {
        query = query.filter(lists::is_public.eq(true));
    }
    let found = query.load(conn)?;
    let mut ordered = Vec::with_capacity(slugs.len());
    let mut errors = Vec::new();
    for (i, slug) in slugs.iter().enumerate() {
        match found.iter().find(|l| l.slug == slug.as_str()) {
            Some(list) => ordered.push(list.clone()),
            None => errors.push(FieldError::new(
                format!("lists[{i}]"),
                format!("There is no list called {:?}.", slug.as_str()),
            )),
        }
    }
    if errors.is_empty() {
        Ok(ordered)
    } else {
        Err(AppError::Validation(errors))
    }
}
