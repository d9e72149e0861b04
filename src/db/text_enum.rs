//! Enums stored as text columns (`status`, `stage`, `frequency`, …), read and written by
//! diesel as the enum itself, on both backends, and sent as the same text in JSON.
//!
//! [`text_enum!`](crate::text_enum) declares such an enum from its variants and their texts:
//! `as_str`, `parse`, `ALL`, serde and OpenAPI under the same texts, and the diesel
//! impls of [`text_column!`](crate::text_column), which gives `ToSql`/`FromSql` for the
//! connection's backend to any enum with `as_str(self) -> &'static str` and
//! `parse(&str) -> Option<Self>`. A value in the database that the enum does not know is a
//! deserialization error naming the type, never a silent default.

/// Declares an enum stored as text: `Variant => "text"` pairs.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            utoipa::ToSchema,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        // Every text is its variant in snake_case; said once more for the API document, whose
        // generator does not read a `rename` whose value comes from a macro argument.
        #[serde(rename_all = "snake_case")]
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value spelled exactly `s`.
            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.into_iter().find(|v| v.as_str() == s)
            }
        }

        $crate::text_column!($name);
    };
}

/// Implements diesel's `ToSql<Text>` and `FromSql<Text>` for an enum through its
/// `as_str` and `parse`.
#[macro_export]
macro_rules! text_column {
    ($ty:ty) => {
        // Inserts through the multi-backend connection bind values per backend, so each
        // backend gets its own `ToSql`.
        $crate::text_column!(@to_sql $ty, $crate::db::MultiBackend);
        $crate::text_column!(@to_sql $ty, diesel::sqlite::Sqlite);
        $crate::text_column!(@to_sql $ty, diesel::pg::Pg);

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend>
            for $ty
        {
            fn from_sql(
                bytes: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    $crate::db::MultiBackend,
                >>::from_sql(bytes)?;
                <$ty>::parse(&text).ok_or_else(|| {
                    format!("unknown {} {text:?} in the database", stringify!($ty)).into()
                })
            }
        }
    };
    (@to_sql $ty:ty, $backend:ty) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, $backend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $backend>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, $backend>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;
    use diesel::{Connection, RunQueryDsl};

    use crate::db::DbConnection;

    crate::text_enum! {
        pub enum Colour {
            Red => "red",
            Green => "green",
        }
    }

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        colour: Colour,
    }

    fn conn() -> DbConnection {
        DbConnection::Sqlite(
            diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        )
    }

    #[test]
    fn an_enum_is_bound_and_read_back_as_its_text() {
        let mut c = conn();
        let rows: Vec<Row> = diesel::sql_query("SELECT ? AS colour")
            .bind::<Text, _>(Colour::Green)
            .load(&mut c)
            .expect("query");
        assert_eq!(rows[0].colour, Colour::Green);
    }

    #[test]
    fn an_unknown_value_is_an_error_naming_the_type_not_a_default() {
        let mut c = conn();
        let err = diesel::sql_query("SELECT 'blue' AS colour")
            .load::<Row>(&mut c)
            .err()
            .expect("an unknown value must not load");
        let message = err.to_string();
        assert!(message.contains("unknown Colour \"blue\""), "{message}");
    }
}
