//! Authorization is decided on the route that runs, whatever the spelling of its path.
//!
//! Requests go over a raw TCP connection, byte for byte: HTTP clients such as reqwest
//! normalise `%61` to `a` before sending, so an attack spelled that way would never reach the
//! server from them.

use std::collections::HashMap;

use frontdesk::staff::{Area, Role, Rule};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};

both_backends!(
    every_spelling_of_every_staff_route_is_authorized_on_the_route_that_runs,
    an_editor_cannot_make_themselves_admin_with_an_encoded_path,
);

const PLACEHOLDER_ID: &str = "0190e0d2-0000-7000-8000-000000000000";

/// One raw HTTP/1.1 request; returns the status code and the raw response head.
async fn raw(
    app: &TestApp,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let port = app
        .address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .expect("port");
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?} for {method} {target}"));
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string();
    (status, head)
}

/// The route's pattern with a placeholder for each parameter.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                PLACEHOLDER_ID
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Percent-encodes the first ASCII letter of `segment`.
fn encode_first_letter(segment: &str) -> Option<String> {
    let at = segment.find(|c: char| c.is_ascii_alphabetic())?;
    let letter = segment.as_bytes()[at];
    Some(format!(
        "{}%{letter:02X}{}",
        &segment[..at],
        &segment[at + 1..]
    ))
}

/// Spellings the router resolves to the same route (it decodes unreserved characters).
fn routable_spellings(rule: &Rule) -> Vec<String> {
    let path = concrete(&rule.path);
    let prefix = rule.area.prefix();
    let rest = &path[prefix.len()..];
    let mut out = vec![path.clone()];
    // A letter of the scope's own prefix, e.g. `/st%61ff/...`.
    let (head, last) = prefix.rsplit_once('/').expect("prefix has a slash");
    out.push(format!(
        "{head}/{}{rest}",
        encode_first_letter(last).expect("letters")
    ));
    // A letter of the route's last static segment, e.g. `/staff/%61udit`.
    let segments: Vec<&str> = rest.split('/').collect();
    if let Some(i) = segments.iter().rposition(|s| {
        !s.is_empty() && *s != PLACEHOLDER_ID && s.contains(|c: char| c.is_ascii_alphabetic())
    }) {
        let mut encoded: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
        encoded[i] = encode_first_letter(segments[i]).expect("letters");
        out.push(format!("{prefix}{}", encoded.join("/")));
    }
    out
}

/// Spellings a router might or might not resolve: none may ever let the wrong role through.
fn other_spellings(rule: &Rule) -> Vec<String> {
    let path = concrete(&rule.path);
    let prefix = rule.area.prefix();
    let rest = &path[prefix.len()..];
    let mut out = vec![
        format!("{prefix}/.{rest}"),
        format!("{prefix}/x/..{rest}"),
        format!("/{path}"),
        format!("{prefix}/{rest}"),
    ];
    if let Some((dir, last)) = path.rsplit_once('/') {
        out.push(format!("{dir}//{last}"));
    }
    if !path.ends_with('/') {
        out.push(format!("{path}/"));
    }
    out.push(path.replace('/', "%2F").replacen("%2F", "/", 1));
    out
}

async fn every_spelling_of_every_staff_route_is_authorized_on_the_route_that_runs(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let mut tokens = HashMap::new();
    for role in Role::ALL {
        tokens.insert(
            role,
            format!("Bearer {}", app.staff_token(role.as_str()).await),
        );
    }
    let rules = frontdesk::app::access_rules();
    assert!(
        rules.len() >= 90,
        "the table lists every staff route: {}",
        rules.len()
    );

    for rule in &rules {
        let method = rule.method.as_str();
        for (routable, spellings) in [
            (true, routable_spellings(rule)),
            (false, other_spellings(rule)),
        ] {
            for target in spellings {
                let (status, head) = raw(&app, method, &target, &[], "").await;
                let anonymous_refused = match rule.area {
                    Area::Api => status == 401,
                    Area::Pages => status == 303 && head.contains("location: /staff/login?next="),
                };
                assert!(
                    anonymous_refused || (!routable && matches!(status, 400 | 404)),
                    "anonymous {method} {target} ({}): {status}\n{head}",
                    rule.path
                );
                for role in Role::ALL {
                    let auth = [("Authorization", tokens[&role].as_str())];
                    let (status, head) = raw(&app, method, &target, &auth, "").await;
                    if role.permits(rule.roles) {
                        if routable {
                            assert!(
                                status != 401 && status != 403,
                                "{role} refused on {method} {target} ({}): {status}\n{head}",
                                rule.path
                            );
                        }
                    } else if routable {
                        assert_eq!(
                            status, 403,
                            "{role} on {method} {target} ({}):\n{head}",
                            rule.path
                        );
                    } else {
                        assert!(
                            matches!(status, 400 | 403 | 404),
                            "{role} on {method} {target} ({}): {status}\n{head}",
                            rule.path
                        );
                    }
                }
            }
        }
    }
}

async fn an_editor_cannot_make_themselves_admin_with_an_encoded_path(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = format!("Bearer {}", app.staff_token("editor").await);
    let auth = ("Authorization", token.as_str());
    let me: serde_json::Value = app
        .client
        .get(app.url("/api/v1/staff/me"))
        .header("Authorization", &token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let id = me["id"].as_str().expect("id").to_string();

    for target in [
        "/api/v1/staff/%61udit",
        "/api/v1/staff/%61UDIT",
        "/api/v1/%73taff/outbox",
    ] {
        let (status, head) = raw(&app, "GET", target, &[auth], "").await;
        assert!(
            matches!(status, 403 | 404),
            "GET {target}: {status}\n{head}"
        );
        assert!(
            status != 404 || target.contains("UDIT"),
            "{target} routes: {head}"
        );
    }
    for target in [
        format!("/staff/%61ccounts/{id}/role"),
        format!("/st%61ff/accounts/{id}/role"),
        format!("/staff/accounts/{id}/%72ole"),
    ] {
        let (status, head) = raw(
            &app,
            "POST",
            &target,
            &[auth, ("Content-Type", "application/x-www-form-urlencoded")],
            "role=admin",
        )
        .await;
        assert_eq!(status, 403, "POST {target}:\n{head}");
    }

    let me: serde_json::Value = app
        .client
        .get(app.url("/api/v1/staff/me"))
        .header("Authorization", &token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["role"], "editor", "{me}");
}
