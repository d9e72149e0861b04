//! Who is asking, and may they? One middleware guards the whole `/staff` and `/api/v1/staff`
//! scopes:
//!
//! 1. Authentication: a personal API token (`Authorization: Bearer fd_…`) or a session cookie.
//!    Anonymous requests get 303 to the sign-in page (HTML) or 401 (JSON).
//! 2. Authorization: every staff route is declared with the roles that may use it, in one call
//!    that registers the handler and its rule together ([`super::routes`]); the rule runs on the
//!    route that matched, and a handler can only obtain a [`Staff`] through it (fail closed).
//! 3. CSRF, for cookie-authenticated state changes: the Origin/Sec-Fetch-Site headers must be
//!    same-origin and the session's synchroniser token must come with the request (form field
//!    `csrf_token` or header `X-CSRF-Token`). Token-authenticated requests are exempt.

use std::future::{ready, Ready};

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use chrono::TimeDelta;
use subtle::ConstantTimeEq;

use crate::error::AppError;
use crate::keys::token_hash;
use crate::staff::audit::Actor;
use crate::staff::model::{Role, StaffUser};
use crate::staff::routes::Area;
use crate::staff::store;
use crate::staff::two_factor;
use crate::state::AppState;
use crate::web::ClientIp;

/// Every role; for routes any signed-in staff member may use.
pub const ANY_ROLE: &[Role] = &Role::ALL;
pub const ADMIN: &[Role] = &[Role::Admin];

/// How the request was authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// A browser session; `csrf` is its synchroniser token.
    Session { token_hash: String, csrf: String },
    /// A personal API token (CSRF-exempt).
    Token { token_id: String },
}

/// The signed-in staff member, for handlers under the guarded scopes. Only the route's own
/// rule ([`super::routes`]) hands it to handlers, once the role has been checked.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: StaffUser,
    pub role: Role,
    pub via: Via,
    pub ip_hash: Option<String>,
    /// The account has a second factor turned on.
    pub second_factor: bool,
    /// When this session last proved a second factor again (never for API tokens).
    pub second_factor_at: Option<chrono::NaiveDateTime>,
}

impl Staff {
    /// The audit log's view of this staff member.
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.user.id.clone()),
            label: format!("{} <{}>", self.user.display_name, self.user.email),
            ip_hash: self.ip_hash.clone(),
        }
    }

    pub fn csrf_token(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token { .. } => "",
        }
    }

    pub fn session_hash(&self) -> Option<&str> {
        match &self.via {
            Via::Session { token_hash, .. } => Some(token_hash),
            Via::Token { .. } => None,
        }
    }

    pub fn is(&self, roles: &[Role]) -> bool {
        self.role.permits(roles)
    }
}

impl FromRequest for Staff {
    type Error = AppError;
    type Future = Ready<Result<Staff, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Staff>()
                .cloned()
                .ok_or(AppError::Unauthorized),
        )
    }
}

/// A staff member whose credentials checked out but whose role has not yet been checked
/// against the route that will run; private to the staff area's guards.
#[derive(Clone)]
pub(super) struct Authenticated(pub(super) Staff);

/// The session cookie's name: `__Host-` prefixed on https, so it is bound to this host and path `/`.
pub fn session_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-fd_session"
    } else {
        "fd_session"
    }
}

/// Finds the staff member behind a request, if any.
async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Option<Staff>, AppError> {
    let ip_hash = ClientIp::from_request(req)
        .map(|ip| state.keys.hash("staff-ip", ip.0.to_string().as_bytes()));
    if let Some(auth) = req.headers().get(header::AUTHORIZATION) {
        let Some(token) = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
        else {
            return Ok(None);
        };
        if !token.starts_with("fd_") {
            return Ok(None);
        }
        let hash = token_hash(token);
        let found = state
            .db
            .run(move |conn| {
                let Some((token, user)) = store::find_token(conn, &hash)? else {
                    return Ok(None);
                };
                let now = crate::db::now();
                if token
                    .last_used_at
                    .is_none_or(|t| now - t > TimeDelta::seconds(60))
                {
                    store::touch_token(conn, &token.id, now)?;
                }
                let second_factor = two_factor::store::has_second_factor(conn, &user.id)?;
                Ok(Some((token, user, second_factor)))
            })
            .await?;
        return Ok(found.and_then(|(token, user, second_factor)| {
            let role = user.role()?;
            Some(Staff {
                user,
                role,
                via: Via::Token { token_id: token.id },
                ip_hash,
                second_factor,
                second_factor_at: None,
            })
        }));
    }
    let https = state.settings.is_https();
    let Some(cookie) = req.cookie(session_cookie_name(https)) else {
        return Ok(None);
    };
    let hash = token_hash(cookie.value());
    let idle = TimeDelta::minutes(i64::from(state.settings.staff.session_idle_minutes));
    let found = state
        .db
        .run(move |conn| {
            let Some((session, user)) = store::find_session(conn, &hash)? else {
                return Ok(None);
            };
            let now = crate::db::now();
            if session.expires_at <= now || session.last_seen_at + idle <= now {
                store::delete_session(conn, &hash)?;
                return Ok(None);
            }
            if now - session.last_seen_at > TimeDelta::seconds(60) {
                store::touch_session(conn, &hash, now)?;
            }
            let second_factor = two_factor::store::has_second_factor(conn, &user.id)?;
            Ok(Some((session, user, second_factor)))
        })
        .await?;
    Ok(found.and_then(|(session, user, second_factor)| {
        let role = user.role()?;
        let second_factor_at = session.second_factor_at;
        Some(Staff {
            user,
            role,
            via: Via::Session {
                token_hash: session.id,
                csrf: session.csrf_token,
            },
            ip_hash,
            second_factor,
            second_factor_at,
        })
    }))
}

/// Renders an error the way the area's callers expect: problem+json for the API, a page for
/// browsers.
pub(super) fn refuse(area: Area, req: ServiceRequest, error: AppError) -> ServiceResponse<BoxBody> {
    if area == Area::Api {
        return req.into_response(error.error_response());
    }
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let status = error.status_code();
    let response = state
        .and_then(|s| crate::staff::handlers::error_page(&s, status, &error).ok())
        .unwrap_or_else(|| error.error_response());
    req.into_response(response)
}

/// The guard on the `/staff` and `/api/v1/staff` scopes: authentication, then CSRF for
/// cookie-authenticated state changes. Roles are checked by each route's own rule.
pub(super) async fn require_staff(
    area: Area,
    mut req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(refuse(
            area,
            req,
            AppError::unexpected(anyhow::anyhow!("no application state")),
        ));
    };

    let staff = match authenticate(req.request(), &state).await {
        Ok(Some(staff)) => staff,
        Ok(None) if area == Area::Api => return Ok(refuse(area, req, AppError::Unauthorized)),
        Ok(None) => {
            let wanted = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/staff/");
            let location = format!(
                "/staff/login?next={}",
                url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect::<String>()
            );
            return Ok(req.into_response(
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .finish(),
            ));
        }
        Err(e) => return Ok(refuse(area, req, e)),
    };

    if let Via::Session { csrf, .. } = &staff.via {
        if !req.method().is_safe() {
            if let Err(e) = check_csrf(&mut req, csrf, &state).await {
                return Ok(refuse(area, req, e));
            }
        }
    }

    req.extensions_mut().insert(Authenticated(staff));
    next.call(req).await
}

/// Origin and Sec-Fetch-Site must say same-origin; the synchroniser token must match.
async fn check_csrf(
    req: &mut ServiceRequest,
    expected: &str,
    state: &AppState,
) -> Result<(), AppError> {
    same_origin(req.request(), state)?;
    let from_header = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let presented = match from_header {
        Some(token) => Some(token),
        None if is_form(req.request()) => {
            let limit = state.settings.server.max_body_bytes;
            let mut payload = req.take_payload();
            let body = crate::web::json::read_limited(&mut payload, limit)
                .await?
                .freeze();
            let token = url::form_urlencoded::parse(&body)
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v.into_owned());
            req.set_payload(bytes_payload(body));
            token
        }
        None => req
            .query_string()
            .split('&')
            .find_map(|kv| kv.strip_prefix("csrf_token="))
            .map(String::from),
    };
    match presented {
        Some(token) if bool::from(token.as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
        _ => Err(AppError::Forbidden(
            "The form has expired or did not come from this site; reload the page and try again."
                .into(),
        )),
    }
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Refuses cross-site requests by their Origin and Sec-Fetch-Site headers.
pub fn same_origin(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
    let refuse = || AppError::Forbidden("Cross-site requests are not accepted here.".into());
    if let Some(site) = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
    {
        if site != "same-origin" && site != "none" {
            return Err(refuse());
        }
    }
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        let public = state
            .settings
            .server
            .public_url
            .origin()
            .ascii_serialization();
        let info = req.connection_info();
        let own = format!("{}://{}", info.scheme(), info.host());
        if origin != public && origin != own {
            return Err(refuse());
        }
    }
    Ok(())
}

fn bytes_payload(body: web::Bytes) -> Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    Payload::from(payload)
}
