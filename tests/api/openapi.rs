//! The API document against the routes the app registers: nothing served undocumented,
//! nothing documented that is not served, and the document whole (every reference resolves,
//! operation ids are unique, every error is a problem document, links lead somewhere).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{spawn_app, Backend};

fn document() -> Value {
    serde_json::to_value(frontdesk::app::openapi()).expect("the document serialises")
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Every `(method, path)` the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .into_iter()
                .filter(|m| item.get(*m).is_some())
                .map(move |m| (m.to_string(), path.clone()))
        })
        .collect()
}

/// Every `(method, path)` under `/api/v1` the app registers: the public table and the staff
/// API's routes.
fn registered() -> BTreeSet<(String, String)> {
    let public = frontdesk::app::api_rules()
        .into_iter()
        .map(|r| (r.method.as_str().to_lowercase(), r.path));
    let staff = frontdesk::app::access_rules()
        .into_iter()
        .filter(|r| r.area == frontdesk::staff::Area::Api)
        .map(|r| (r.method.as_str().to_lowercase(), r.path));
    public.chain(staff).collect()
}

#[test]
fn every_registered_route_is_documented_and_every_documented_operation_is_registered() {
    let doc = document();
    let documented = documented(&doc);
    let registered = registered();

    let undocumented: Vec<_> = registered.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    // The liveness and readiness probes sit outside `/api/v1` and are documented for load
    // balancers' sake.
    let probes = [frontdesk::ops::LIVENESS, frontdesk::ops::READINESS]
        .map(|path| ("get".to_string(), path.to_string()));
    // So are the reader pages' language forms, for the pages' sake (served at App level).
    let forms =
        frontdesk::web::page::LANGUAGE_FORMS.map(|path| ("post".to_string(), path.to_string()));
    let unserved: Vec<_> = documented
        .difference(&registered)
        .filter(|op| !probes.contains(op) && !forms.contains(op))
        .collect();
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );
    assert!(
        registered.len() > 60,
        "the tables hold every route ({})",
        registered.len()
    );
}

#[test]
fn the_document_is_whole() {
    let doc = document();
    let text = doc.to_string();

    let mut ids = BTreeSet::new();
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][&method];
        let id = op["operationId"].as_str().expect("an operation id");
        assert!(ids.insert(id.to_string()), "operation id {id} used twice");
        for (status, response) in op["responses"].as_object().expect("responses") {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let response = match response["$ref"].as_str() {
                Some(r) => &doc["components"]["responses"][r.rsplit('/').next().expect("name")],
                None => response,
            };
            let is_problem = response["content"]["application/problem+json"]["schema"]["$ref"]
                == "#/components/schemas/Problem";
            // The liveness check answers 503 with its own JSON body; the reader pages'
            // language forms answer a link they cannot use with their "link not valid" page.
            let own_body = path == "/healthz"
                || (status == "404"
                    && frontdesk::web::page::LANGUAGE_FORMS.contains(&path.as_str()));
            assert!(
                is_problem || own_body,
                "{method} {path} {status} is a problem document"
            );
        }
    }

    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().expect("a reference");
        let pointer = target.trim_start_matches('#');
        assert!(doc.pointer(pointer).is_some(), "{target} resolves");
    }

    for (method, path) in documented(&doc) {
        for response in doc["paths"][&path][&method]["responses"]
            .as_object()
            .expect("responses")
            .values()
        {
            for link in response["links"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, l)| l)
            {
                let target = link["operationId"].as_str().expect("an operation id");
                assert!(
                    ids.contains(target),
                    "{method} {path} links to {target}, which exists"
                );
            }
        }
    }
}

#[test]
fn the_staff_api_says_who_may_call_and_readers_posts_say_they_are_limited() {
    let doc = document();
    let me = &doc["paths"]["/api/v1/staff/me"]["get"]["responses"];
    assert!(me["401"].is_object(), "anonymous callers get 401");
    assert!(me["403"].is_null(), "every role may read its own account");
    let audit = &doc["paths"]["/api/v1/staff/audit"]["get"]["responses"];
    assert!(audit["403"].is_object(), "the audit log is for admins");
    assert!(
        audit["400"].is_object(),
        "a query string that cannot be read"
    );

    let vote = &doc["paths"]["/api/v1/feedback"]["post"]["responses"];
    for status in ["400", "413", "415", "422", "429", "503"] {
        assert!(
            vote[status].is_object(),
            "POST /api/v1/feedback documents {status}"
        );
    }
    let options = &doc["paths"]["/api/v1/feedback/options"]["get"]["responses"];
    assert!(
        options["503"].is_null(),
        "the options come from the settings alone"
    );
    let stripe = &doc["paths"]["/api/v1/webhooks/stripe"]["post"]["responses"];
    assert!(
        stripe["429"].is_null(),
        "the processor is outside the readers' budget"
    );

    assert!(
        doc["paths"]["/api/v1/donations"]["post"]["responses"]["201"]["links"]["show"].is_object(),
        "a new donation links to where it is read"
    );
}

/// The document the server serves is the one the tests above read.
#[tokio::test]
async fn the_served_document_is_the_built_one() {
    let app = spawn_app(Backend::Sqlite).await;

    let served: Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");

    assert_eq!(served, document());
}

/// The first property of a JSON request body's schema that the document types as a string (or
/// as a named schema: an enum or an object), where a boolean is the wrong type.
fn a_string_property(doc: &Value, schema: &Value) -> Option<String> {
    let schema = match schema["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#'))?,
        None => match schema["oneOf"].as_array() {
            Some(options) => return options.iter().find_map(|o| a_string_property(doc, o)),
            None => schema,
        },
    };
    let properties = schema["properties"].as_object()?;
    let is = |p: &Value, kind: &str| {
        p["type"] == kind
            || p["type"]
                .as_array()
                .is_some_and(|t| t.contains(&kind.into()))
    };
    // A string field when there is one, else a number (a body of numbers only).
    properties
        .iter()
        .find(|(_, p)| p["$ref"].is_string() || is(p, "string"))
        .or_else(|| properties.iter().find(|(_, p)| is(p, "integer")))
        .map(|(name, _)| name.clone())
}

/// A JSON body with a boolean where a string (or a number) belongs gets 422 naming that field, on every
/// documented JSON endpoint but the webhooks (which check a signature first).
#[tokio::test]
async fn a_wrong_type_in_any_json_field_is_a_422_naming_it() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = app.staff_token("admin").await;
    let doc = document();
    // A patch of a posting is merged into the stored one before it is read, so it needs one.
    let created = app
        .staff(&token)
        .send(
            reqwest::Method::POST,
            "/api/v1/staff/jobs",
            Some(serde_json::json!({
                "slug": "type-check", "title": "Reporter", "description_markdown": "Report.",
                "location": "Remote", "remote": "remote", "employment_type": "full_time",
                "status": "draft",
            })),
        )
        .await;
    assert_eq!(created.status(), 201);

    let mut checked = 0;
    for (method, path) in documented(&doc) {
        let op = &doc["paths"][&path][&method];
        let Some(schema) = op["requestBody"]["content"]["application/json"].get("schema") else {
            continue;
        };
        if path.starts_with("/api/v1/webhooks/") {
            continue;
        }
        let field = a_string_property(&doc, schema)
            .unwrap_or_else(|| panic!("{method} {path} has a string field"));
        let target = path.replace("{id}", "0").replace("{slug}", "type-check");

        let res = app
            .staff(&token)
            .send(
                method.to_uppercase().parse().expect("method"),
                &target,
                Some(serde_json::json!({ field.clone(): true })),
            )
            .await;

        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 422, "{method} {path}: {body}");
        assert_eq!(
            body["errors"][0]["field"],
            field.as_str(),
            "{method} {path}: {body}"
        );
        checked += 1;
    }
    assert!(checked >= 15, "every JSON endpoint ({checked})");
}
