//! What the API document says that no handler's annotation holds: the problem responses the
//! layers in front of every handler can answer. Each is declared once, as a response
//! component, and [`complete`] adds it to every operation it applies to, by what really
//! stands in front of that operation's handler:
//!
//! | status | when | answered by |
//! |---|---|---|
//! | 400 | the body is not JSON (or not multipart); the query string cannot be read | [`crate::web::json`], the multipart reader, the app's `QueryConfig` |
//! | 401 | a staff API route without valid credentials | the staff scope's guard |
//! | 403 | a staff API route the caller's role does not open | the route's own rule |
//! | 413 | a body over `server.max_body_bytes` (or an upload over its limit) | the same readers |
//! | 415 | a body that is not `application/json` (or not multipart) | the same readers |
//! | 422 | a body of the wrong shape: unknown, missing or mistyped field, named | the same readers |
//! | 429 | a reader's POST past the client's budget, with `Retry-After` | [`crate::web::rate_limit`] |
//! | 503 | no database connection within `database.connect_timeout_seconds` | every store call |
//!
//! Statuses a handler answers itself (404 for an unknown id, 409, 422 for a value its domain
//! type refuses) stay in its annotation; [`complete`] gives every 4xx and 5xx the problem
//! document as its body (`application/problem+json`), so annotations name only the status
//! and what it means there.

use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, Schema, SchemaFormat};
use utoipa::openapi::{
    Components, Content, Object, ObjectBuilder, OpenApi, Ref, RefOr, Required, Response,
    ResponseBuilder, Type,
};

use crate::web::pagination::{MAX_CURSOR_CHARS, MAX_LIMIT};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What stands in front of one operation's handler, as its route table declares it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Guards {
    /// A staff API route: 401 without valid credentials.
    pub authenticated: bool,
    /// Open to some roles only: 403 for the others.
    pub role_checked: bool,
    /// Counted against the client's budget: 429.
    pub rate_limited: bool,
    /// Reaches the database (the staff guard always does): 503.
    pub database: bool,
}

/// One registered operation: its method (lower case, as in the document), full path and guards.
#[derive(Debug, Clone)]
pub struct Registered {
    pub method: String,
    pub path: String,
    pub guards: Guards,
}

/// A problem response shared by many operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shared {
    Malformed,
    Unauthenticated,
    Forbidden,
    TooLarge,
    UnsupportedMediaType,
    Invalid,
    RateLimited,
    Unavailable,
}

impl Shared {
    const ALL: [Shared; 8] = [
        Shared::Malformed,
        Shared::Unauthenticated,
        Shared::Forbidden,
        Shared::TooLarge,
        Shared::UnsupportedMediaType,
        Shared::Invalid,
        Shared::RateLimited,
        Shared::Unavailable,
    ];

    fn status(self) -> &'static str {
        match self {
            Shared::Malformed => "400",
            Shared::Unauthenticated => "401",
            Shared::Forbidden => "403",
            Shared::TooLarge => "413",
            Shared::UnsupportedMediaType => "415",
            Shared::Invalid => "422",
            Shared::RateLimited => "429",
            Shared::Unavailable => "503",
        }
    }

    /// The component's name under `components.responses`.
    fn name(self) -> &'static str {
        match self {
            Shared::Malformed => "Malformed",
            Shared::Unauthenticated => "Unauthenticated",
            Shared::Forbidden => "Forbidden",
            Shared::TooLarge => "TooLarge",
            Shared::UnsupportedMediaType => "UnsupportedMediaType",
            Shared::Invalid => "Invalid",
            Shared::RateLimited => "RateLimited",
            Shared::Unavailable => "Unavailable",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Shared::Malformed => "The body is not valid JSON (or multipart), or the query string cannot be read (a parameter of the wrong type, repeated or unknown).",
            Shared::Unauthenticated => "No valid API token (`Authorization: Bearer fd_…`) or staff session.",
            Shared::Forbidden => "The staff member's role does not open this operation.",
            Shared::TooLarge => "The body is over its limit (`server.max_body_bytes`; uploads: `uploads.max_bytes`).",
            Shared::UnsupportedMediaType => "The body is not sent as the media type this operation reads.",
            Shared::Invalid => "The input is well-formed but invalid: `errors` names every failing field (an unknown, missing or mistyped field included).",
            Shared::RateLimited => "Too many requests from this client; retry after `Retry-After` seconds.",
            Shared::Unavailable => "The database cannot be reached, or (creating a gift, refunding) the payment processor did not answer and nothing was done; retry shortly, after `Retry-After` seconds when it is given.",
        }
    }

    fn response(self) -> Response {
        with_problem_body(
            ResponseBuilder::new()
                .description(self.description())
                .build(),
            self.status(),
        )
    }
}

/// A header every answer with `status` carries.
fn header_for(status: &str) -> Option<(&'static str, Header)> {
    let integer = || {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
    };
    let string = || ObjectBuilder::new().schema_type(Type::String);
    match status {
        "429" => Some(("Retry-After", {
            let mut h = Header::new(integer());
            h.description = Some("Seconds to wait before retrying.".into());
            h
        })),
        "401" => Some(("WWW-Authenticate", {
            let mut h = Header::new(string());
            h.description = Some("`Bearer`".into());
            h
        })),
        _ => None,
    }
}

/// `response` with the problem document as its body, and the headers its status carries.
fn with_problem_body(mut response: Response, status: &str) -> Response {
    response.content.clear();
    response.content.insert(
        PROBLEM_JSON.to_string(),
        Content::new(Some(Ref::from_schema_name("Problem"))),
    );
    if let Some((name, header)) = header_for(status) {
        response.headers.entry(name.to_string()).or_insert(header);
    }
    response
}

/// True for a body the handler left to this module: none, or the problem document declared
/// as `application/json`.
fn is_problem_or_empty(response: &Response) -> bool {
    response.content.is_empty()
        || response.content.values().all(|content| {
            matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
        })
}

/// Adds the shared problem responses to every operation of `registered`, by its guards and
/// the body and query it reads, and gives every 4xx/5xx response the problem document body.
pub fn complete(doc: &mut OpenApi, registered: &[Registered]) {
    let components = doc.components.get_or_insert_with(Components::new);
    for shared in Shared::ALL {
        components
            .responses
            .insert(shared.name().to_string(), RefOr::T(shared.response()));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ] {
            let Some(operation) = operation.as_mut() else {
                continue;
            };
            let guards = registered
                .iter()
                .find(|r| r.method == method && r.path == *path)
                .map(|r| r.guards)
                .unwrap_or_default();
            problem_bodies(operation);
            for parameter in operation.parameters.iter_mut().flatten() {
                describe_query_parameter(parameter);
            }
            for shared in applicable(operation, guards) {
                operation
                    .responses
                    .responses
                    .entry(shared.status().to_string())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(shared.name())));
            }
        }
    }
}

/// The shared responses an operation can answer.
fn applicable(operation: &Operation, guards: Guards) -> Vec<Shared> {
    let reads_body = operation.request_body.as_ref().is_some_and(|body| {
        body.content
            .keys()
            .any(|t| t == "application/json" || t == "multipart/form-data")
    });
    let reads_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let mut shared = Vec::new();
    if reads_body || reads_query {
        shared.push(Shared::Malformed);
    }
    if guards.authenticated {
        shared.push(Shared::Unauthenticated);
    }
    if guards.role_checked {
        shared.push(Shared::Forbidden);
    }
    if reads_body {
        shared.extend([
            Shared::TooLarge,
            Shared::UnsupportedMediaType,
            Shared::Invalid,
        ]);
    }
    if guards.rate_limited {
        shared.push(Shared::RateLimited);
    }
    if guards.database || guards.authenticated {
        shared.push(Shared::Unavailable);
    }
    shared
}

/// An operation, by method (lower case) and path.
pub type OperationKey<'a> = (&'a str, &'a str);

/// Adds OpenAPI links from the `status` answer of the `from` operation to each `to`
/// operation, passing the answer's `field` (a top-level body field, e.g. `id`) as that
/// operation's path parameter `param`. Clients and Schemathesis' stateful phase follow them
/// from what was made to what reads, changes or removes it. A target must be in `doc` with an
/// operation id; a missing one is a programming error the document's tests catch (the link is
/// left out).
pub fn link(
    doc: &mut OpenApi,
    from: OperationKey<'_>,
    status: &str,
    field: &str,
    param: &str,
    to: &[OperationKey<'_>],
) {
    let targets: Vec<String> = to
        .iter()
        .filter_map(|&(method, path)| operation(doc, method, path)?.operation_id.clone())
        .collect();
    let Some(RefOr::T(response)) =
        operation_mut(doc, from.0, from.1).and_then(|op| op.responses.responses.get_mut(status))
    else {
        return;
    };
    for target in targets {
        // utoipa 5.5 writes `Link::operation_id` as `operation_id`, not the `operationId` the
        // specification names, so the id goes in as a field of its own (extensions are
        // flattened into the link object).
        let link = utoipa::openapi::link::LinkBuilder::new()
            .parameter(param, format!("$response.body#/{field}"))
            .extensions(Some(utoipa::openapi::extensions::Extensions::from_iter([
                ("operationId", target.clone()),
            ])))
            .build();
        response.links.insert(target, RefOr::T(link));
    }
}

fn operation<'d>(doc: &'d OpenApi, method: &str, path: &str) -> Option<&'d Operation> {
    let item = doc.paths.paths.get(path)?;
    match method {
        "get" => item.get.as_ref(),
        "put" => item.put.as_ref(),
        "post" => item.post.as_ref(),
        "delete" => item.delete.as_ref(),
        "patch" => item.patch.as_ref(),
        _ => None,
    }
}

fn operation_mut<'d>(doc: &'d mut OpenApi, method: &str, path: &str) -> Option<&'d mut Operation> {
    let item = doc.paths.paths.get_mut(path)?;
    match method {
        "get" => item.get.as_mut(),
        "put" => item.put.as_mut(),
        "post" => item.post.as_mut(),
        "delete" => item.delete.as_mut(),
        "patch" => item.patch.as_mut(),
        _ => None,
    }
}

/// `schema`, also allowing null (for an optional field, which JSON may send as null).
pub fn or_null(mut schema: Object) -> Object {
    if let utoipa::openapi::schema::SchemaType::Type(t) = schema.schema_type {
        schema.schema_type = utoipa::openapi::schema::SchemaType::from_iter([t, Type::Null]);
    }
    schema
}

/// The `lang` field of a public POST body: one of the languages with a catalogue, or null
/// (absent: `Accept-Language`, else the site default).
pub fn lang_schema() -> Object {
    let mut values: Vec<serde_json::Value> = crate::i18n::embedded_languages()
        .into_iter()
        .map(serde_json::Value::from)
        .collect();
    values.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .enum_values(Some(values))
        .description(Some(
            "The reader's language, stored for later emails; absent or null: the request's \
             Accept-Language, else the site default. Unknown: 422 naming lang.",
        ))
        .build()
}

/// A string that is one of `values` (for values a parser matches that no enum type holds).
pub fn string_enum(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// A string schema in `format`.
fn string_in(format: KnownFormat) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(format)))
        .build()
}

/// The query parameters every list shares, described from the parsers that read them:
/// `limit` and `cursor` ([`crate::web::pagination`]), `from` and `to`
/// (`staff::ui::range_bound`: a date or an RFC 3339 time), `email` (an address, as
/// `EmailAddress` parses it). An optional filter may also be sent empty (`status=`, as the
/// staff pages' forms send a filter left blank), which the lists read as no filter:
/// `allowEmptyValue`.
fn describe_query_parameter(parameter: &mut Parameter) {
    if !matches!(parameter.parameter_in, ParameterIn::Query) {
        return;
    }
    let optional = !matches!(parameter.required, Required::True);
    let shared: Option<Schema> = match parameter.name.as_str() {
        "limit" => Some(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(MAX_LIMIT as f64))
                .default(Some(crate::web::pagination::DEFAULT_LIMIT.into()))
                .build(),
        )),
        "cursor" => Some(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(MAX_CURSOR_CHARS))
                .pattern(Some(r"^[A-Za-z0-9_-]*$"))
                .build(),
        )),
        "from" | "to" => Some(Schema::AnyOf(
            AnyOfBuilder::new()
                .item(string_in(KnownFormat::Date))
                .item(string_in(KnownFormat::DateTime))
                .build(),
        )),
        "email" => Some(Schema::Object(crate::domain::EmailAddress::schema())),
        _ => None,
    };
    let filter = match &shared {
        Some(_) => !matches!(parameter.name.as_str(), "limit" | "cursor"),
        None => match &parameter.schema {
            Some(RefOr::Ref(_)) => true,
            Some(RefOr::T(Schema::Object(o))) => {
                o.enum_values.is_some() || o.pattern.is_some() || o.format.is_some()
            }
            _ => false,
        },
    };
    if let Some(schema) = shared {
        parameter.schema = Some(RefOr::T(schema));
    }
    if optional && filter {
        parameter
            .extensions
            .get_or_insert_with(Default::default)
            .insert("allowEmptyValue".to_string(), true.into());
    }
}

/// Gives the handler's own 4xx/5xx responses the problem document body.
fn problem_bodies(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if (status.starts_with('4') || status.starts_with('5')) && is_problem_or_empty(response) {
            let description = if response.description.is_empty() {
                Shared::ALL
                    .iter()
                    .find(|s| s.status() == status)
                    .map(|s| s.description().to_string())
                    .unwrap_or_else(|| default_description(status).to_string())
            } else {
                response.description.clone()
            };
            *response = with_problem_body(response.clone(), status);
            response.description = description;
        }
    }
}

fn default_description(status: &str) -> &'static str {
    match status {
        "404" => "There is nothing here.",
        "409" => "The request conflicts with the resource's state.",
        _ => "A problem document says what went wrong.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, PathItemBuilder};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::{HttpMethod, OpenApiBuilder, PathsBuilder};

    fn doc(operation: Operation) -> OpenApi {
        OpenApiBuilder::new()
            .paths(
                PathsBuilder::new().path(
                    "/x",
                    PathItemBuilder::new()
                        .operation(HttpMethod::Post, operation)
                        .build(),
                ),
            )
            .build()
    }

    fn statuses(doc: &OpenApi) -> Vec<String> {
        let value = serde_json::to_value(doc).expect("json");
        value["paths"]["/x"]["post"]["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect()
    }

    fn registered(guards: Guards) -> Vec<Registered> {
        vec![Registered {
            method: "post".into(),
            path: "/x".into(),
            guards,
        }]
    }

    #[test]
    fn a_public_json_post_gets_the_readers_and_the_bodys_statuses() {
        let operation = OperationBuilder::new()
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", Content::new(None::<RefOr<_>>))
                    .build(),
            ))
            .response("201", ResponseBuilder::new().description("made"))
            .build();
        let mut doc = doc(operation);
        complete(
            &mut doc,
            &registered(Guards {
                rate_limited: true,
                database: true,
                ..Guards::default()
            }),
        );
        assert_eq!(
            statuses(&doc),
            ["201", "400", "413", "415", "422", "429", "503"]
        );
        let value = serde_json::to_value(&doc).expect("json");
        assert_eq!(
            value["paths"]["/x"]["post"]["responses"]["429"]["$ref"],
            "#/components/responses/RateLimited"
        );
        assert!(
            value["components"]["responses"]["RateLimited"]["headers"]["Retry-After"].is_object()
        );
    }

    #[test]
    fn a_staff_list_gets_authentication_roles_and_query_statuses() {
        let operation = OperationBuilder::new()
            .parameter(
                ParameterBuilder::new()
                    .name("limit")
                    .parameter_in(ParameterIn::Query),
            )
            .response("200", ResponseBuilder::new().description("a page"))
            .response("404", ResponseBuilder::new())
            .build();
        let mut doc = doc(operation);
        complete(
            &mut doc,
            &registered(Guards {
                authenticated: true,
                role_checked: true,
                ..Guards::default()
            }),
        );
        assert_eq!(statuses(&doc), ["200", "400", "401", "403", "404", "503"]);
        let value = serde_json::to_value(&doc).expect("json");
        let not_found = &value["paths"]["/x"]["post"]["responses"]["404"];
        assert_eq!(
            not_found["content"][PROBLEM_JSON]["schema"]["$ref"], "#/components/schemas/Problem",
            "a handler's own error gets the problem body"
        );
        assert_eq!(not_found["description"], "There is nothing here.");
    }

    #[test]
    fn an_operation_no_route_guards_gets_only_what_its_body_implies() {
        let operation = OperationBuilder::new()
            .response("200", ResponseBuilder::new().description("ok"))
            .build();
        let mut doc = doc(operation);
        complete(&mut doc, &[]);
        assert_eq!(statuses(&doc), ["200"]);
    }
}
