use frontdesk::config::{DatabaseSettings, Secret, Settings};
use frontdesk::db::{revert_all_migrations, run_migrations, Db};

use crate::both_backends;
use crate::helpers::{Backend, TestDatabase};

both_backends!(every_migration_runs_up_down_and_up_again);

async fn every_migration_runs_up_down_and_up_again(backend: Backend) {
    tokio::task::spawn_blocking(move || {
        let database = TestDatabase::new(backend);
        let settings = DatabaseSettings {
            url: Secret::new(database.url.clone()),
            ..Settings::default().database
        };
        let db = Db::connect(&settings).expect("connect");
        let mut conn = db.get().expect("connection");

        let applied = run_migrations(&mut conn).expect("up");
        assert!(applied >= 1);
        let reverted = revert_all_migrations(&mut conn).expect("down");
        assert_eq!(reverted, applied);
        let again = run_migrations(&mut conn).expect("up again");
        assert_eq!(again, applied);
        assert_eq!(run_migrations(&mut conn).expect("nothing pending"), 0);
    })
    .await
    .expect("join");
}

both_backends!(both_migration_trees_produce_the_schema_that_schema_rs_describes);

/// The tables of `src/db/schema.rs`: each with its columns and whether they are nullable.
fn described_schema() -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, bool>>
{
    let text = include_str!("../../src/db/schema.rs");
    let mut tables = std::collections::BTreeMap::new();
    for block in text.split("diesel::table! {").skip(1) {
        let block = block.split("\n}\n").next().expect("a table block");
        let name = block
            .trim_start()
            .split(|c: char| c.is_whitespace() || c == '(')
            .next()
            .expect("a table name")
            .to_string();
        let columns = block
            .lines()
            .filter_map(|line| line.trim().split_once(" -> "))
            .map(|(column, ty)| {
                (
                    column.trim().to_string(),
                    ty.trim().starts_with("Nullable<"),
                )
            })
            .collect();
        tables.insert(name, columns);
    }
    tables
}

#[derive(diesel::QueryableByName, Debug)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
}

async fn both_migration_trees_produce_the_schema_that_schema_rs_describes(backend: Backend) {
    use diesel::RunQueryDsl;
    tokio::task::spawn_blocking(move || {
        let database = TestDatabase::new(backend);
        let settings = DatabaseSettings {
            url: Secret::new(database.url.clone()),
            ..Settings::default().database
        };
        let db = Db::connect(&settings).expect("connect");
        let mut conn = db.get().expect("connection");
        run_migrations(&mut conn).expect("up");
        // SQLite lets a non-integer primary key hold NULL unless declared NOT NULL; diesel
        // describes it as not nullable either way, so a key column counts as NOT NULL.
        let query = match backend {
            Backend::Sqlite => {
                "SELECT m.name AS table_name, c.name AS column_name, \
                 (c.\"notnull\" = 0 AND c.pk = 0) AS nullable \
                 FROM sqlite_master m JOIN pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                 AND m.name NOT LIKE '__diesel%'"
            }
            Backend::Postgres => {
                "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                 (is_nullable = 'YES') AS nullable FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '__diesel%'"
            }
        };
        let rows: Vec<Column> = diesel::sql_query(query).load(&mut *conn).expect("columns");
        let mut actual =
            std::collections::BTreeMap::<String, std::collections::BTreeMap<String, bool>>::new();
        for row in rows {
            actual
                .entry(row.table_name)
                .or_default()
                .insert(row.column_name, row.nullable);
        }

        let described = described_schema();
        assert!(
            described.len() >= 20,
            "schema.rs parsed: {}",
            described.len()
        );
        let described_tables: Vec<&String> = described.keys().collect();
        let actual_tables: Vec<&String> = actual.keys().collect();
        assert_eq!(actual_tables, described_tables, "{backend:?}: tables");
        for (table, columns) in &described {
            assert_eq!(
                &actual[table], columns,
                "{backend:?}: columns of {table} (name → nullable)"
            );
        }
    })
    .await
    .expect("join");
}
