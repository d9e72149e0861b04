//! Staff operations shared by the pages, the JSON API and the command line.

use actix_web::cookie::{time, Cookie, SameSite};
use chrono::TimeDelta;
use diesel::QueryResult;

use crate::config::StaffSettings;
use crate::db::{Db, DbConnection};
use crate::domain::EmailAddress;
use crate::error::{AppError, FieldError};
use crate::keys::{random_token, token_hash};
use crate::staff::access::session_cookie_name;
use crate::staff::audit::{self, Actor, Entry};
use crate::staff::devices::{self, Browser};
use crate::staff::model::{DisplayName, NewPassword, NewStaff, Role, StaffUser};
use crate::staff::password::{self, Verified};
use crate::staff::store;
use crate::staff::two_factor;
use crate::state::AppState;

/// Validates account fields, naming every failing one.
pub fn parse_new_staff(
    email: &str,
    name: &str,
    role: &str,
    password: &str,
) -> Result<NewStaff, AppError> {
    let mut errors = Vec::new();
    let email = EmailAddress::parse(email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    let name = DisplayName::parse(name)
        .map_err(|m| errors.push(FieldError::new("name", m)))
        .ok();
    let role = role
        .parse::<Role>()
        .map_err(|m| errors.push(FieldError::new("role", m)))
        .ok();
    let context: Vec<&str> = [
        email.as_ref().map(|e| e.as_str()),
        name.as_ref().map(|n| n.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let password = NewPassword::parse(password, &context)
        .map_err(|m| errors.push(FieldError::new("password", m)))
        .ok();
    match (email, name, role, password) {
        (Some(email), Some(name), Some(role), Some(password)) if errors.is_empty() => {
            Ok(NewStaff {
                email,
                name,
                role,
                password,
            })
        }
        _ => Err(AppError::Validation(errors)),
    }
}

/// The role of the enabled staff account with this address, if there is one: how a feature
/// checks that an address it is given names a colleague who may do something.
pub fn enabled_role(conn: &mut DbConnection, email: &str) -> QueryResult<Option<Role>> {
    Ok(store::find_user_by_email(conn, email)?
        .filter(|u| !u.disabled)
        .and_then(|u| u.role()))
}

/// Creates an account (hashing off the runtime), audited; 409 when the email is taken.
pub async fn create_account(db: &Db, new: NewStaff, actor: Actor) -> Result<StaffUser, AppError> {
    let hash = tokio::task::spawn_blocking({
        let pw = new.password.expose().to_string();
        move || password::hash(&pw)
    })
    .await
    .map_err(AppError::unexpected)??;
    db.write(move |conn| {
        if store::find_user_by_email(conn, new.email.as_str())?.is_some() {
            return Err(AppError::Conflict(
                "A staff account with this email already exists.".into(),
            ));
        }
        let user = store::insert_user(conn, &new, &hash)?;
        audit::record(
            conn,
            &actor,
            Entry::new("staff.account_created")
                .target("staff_user", &user.id)
                .details(serde_json::json!({ "role": user.role })),
        )?;
        Ok(user)
    })
    .await
}

/// Creates a personal API token; the token is returned once and stored only as a hash.
pub async fn create_token(
    db: &Db,
    user_id: String,
    label: String,
    actor: Actor,
) -> Result<String, AppError> {
    let label = label.trim().to_string();
    if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(AppError::field(
            "label",
            "Give the token a label of 1 to 100 characters.",
        ));
    }
    let token = format!("fd_{}", random_token(32));
    let hash = token_hash(&token);
    db.write(move |conn| {
        let id = store::insert_token(conn, &user_id, &label, &hash)?;
        audit::record(
            conn,
            &actor,
            Entry::new("staff.token_created")
                .target("staff_token", &id)
                .details(serde_json::json!({ "label": label })),
        )?;
        Ok(())
    })
    .await?;
    Ok(token)
}

/// Disables an account, ending its sessions and tokens.
pub async fn disable_account(db: &Db, user_id: String, actor: Actor) -> Result<(), AppError> {
    let audited = ("staff_user", user_id.clone());
    audit::change(
        db,
        actor,
        "staff.account_disabled",
        audited,
        serde_json::json!({}),
        move |conn| store::disable_user(conn, &user_id),
    )
    .await
}

/// Creates a one-time setup link when no account exists; returns its token.
pub async fn setup_link(state: &AppState) -> Result<Option<String>, AppError> {
    let minutes = i64::from(state.settings.staff.setup_link_minutes);
    state
        .db
        .write(move |conn| {
            if store::count_users(conn)? > 0 {
                return Ok(None);
            }
            let token = random_token(32);
            let now = crate::db::now();
            store::insert_setup_token(
                conn,
                &token_hash(&token),
                now,
                now + TimeDelta::minutes(minutes),
            )?;
            Ok(Some(token))
        })
        .await
}

/// The outcome of a sign-in attempt.
pub enum SignIn {
    /// Signed in: set this cookie.
    Ok(Cookie<'static>),
    /// The password was right and the account has a second factor: set this cookie (the
    /// pending sign-in, no session yet) and ask for the second step.
    SecondFactor(Cookie<'static>),
    /// Wrong email or password (the same answer either way).
    Refused,
}

/// Checks credentials and starts a session. Failed attempts are counted per (address typed,
/// client): past `staff.max_failed_logins_per_hour` in an hour, that client waits
/// `staff.failed_login_delay_seconds` between attempts on that address, and nobody else does.
/// An address without an (enabled) account goes through the same steps: the same lookups,
/// a password verification against a dummy hash, the same failure counting, so its answers
/// (401, or 429 under a flood) and their timing match those of a real account.
/// `client_hash` is the keyed hash of the client IP (never the IP itself). An account with a
/// second factor gets no session here, only a pending sign-in that the second step
/// ([`two_factor::complete_sign_in`]) turns into one; `next` is where that step goes after.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
    browser: &Browser,
    client_hash: String,
    next: &str,
) -> Result<SignIn, AppError> {
    // The turn to hash comes first: a flood past the queue is refused before any other work.
    let permit = state.passwords.permit().await?;
    let email = email.trim().to_lowercase();
    let account_hash = state.keys.hash("staff-login-account", email.as_bytes());
    let (user, failures, second_factor) = {
        let (email, account, client) = (email.clone(), account_hash.clone(), client_hash.clone());
        state
            .db
            .run(move |conn| {
                let user = store::find_user_by_email(conn, &email)?.filter(|u| !u.disabled);
                let failures = store::login_failures(conn, &account, &client, crate::db::now())?;
                let second_factor = match &user {
                    Some(u) => two_factor::store::has_second_factor(conn, &u.id)?,
                    None => false,
                };
                Ok((user, failures, second_factor))
            })
            .await?
    };
    if let Some(wait) = failures.and_then(|f| throttled(&state.settings.staff, &f)) {
        return Err(AppError::RateLimited {
            retry_after_secs: wait,
        });
    }
    let verified = permit
        .verify(
            password.clone(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let user = match user {
        Some(user) if verified != Verified::No => user,
        _ => {
            let (account, client) = (account_hash, client_hash);
            state
                .db
                .write(move |conn| {
                    let now = crate::db::now();
                    Ok(store::record_login_failure(conn, &account, &client, now)?)
                })
                .await?;
            tracing::info!(email = %crate::mail::mask_email(&email), "staff sign-in refused");
            return Ok(SignIn::Refused);
        }
    };
    let new_hash = if verified == Verified::YesRehash {
        Some(state.passwords.hash(password).await?)
    } else {
        None
    };
    if second_factor {
        if let Some(h) = new_hash {
            let id = user.id.clone();
            state
                .db
                .write(move |conn| Ok(store::set_password_hash(conn, &id, &h)?))
                .await?;
        }
        let pending = two_factor::Pending {
            user_id: user.id,
            account_hash,
            client_hash,
            user_agent: browser.user_agent.clone(),
            next: next.to_string(),
        };
        return Ok(SignIn::SecondFactor(
            two_factor::begin_sign_in(state, pending).await?,
        ));
    }
    let session = NewSession {
        user,
        browser: browser.clone(),
        account_hash,
        client_hash,
        new_hash,
        second_factor: None,
    };
    Ok(SignIn::Ok(start_session(state, session).await?))
}

/// A session about to start: whose, from which browser, and how the sign-in was proven.
pub(crate) struct NewSession {
    pub user: StaffUser,
    /// The browser signing in: its description for the session, and its device cookie for the
    /// new-browser email.
    pub browser: Browser,
    /// The keyed hashes the sign-in's failures were counted by (cleared on success).
    pub account_hash: String,
    pub client_hash: String,
    /// A new password hash to store (the old one used weaker parameters).
    pub new_hash: Option<String>,
    /// The second factor used, when there was one (audited).
    pub second_factor: Option<&'static str>,
}

/// Starts a session for a sign-in that is complete; returns its cookie.
pub(crate) async fn start_session(
    state: &AppState,
    new: NewSession,
) -> Result<Cookie<'static>, AppError> {
    let NewSession {
        user,
        browser,
        account_hash,
        client_hash,
        new_hash,
        second_factor,
    } = new;
    let token = random_token(32);
    let csrf = random_token(32);
    let absolute = TimeDelta::hours(i64::from(state.settings.staff.session_absolute_hours));
    let hash = token_hash(&token);
    let actor = Actor {
        id: Some(user.id.clone()),
        label: format!("{} <{}>", user.display_name, user.email),
        ip_hash: Some(client_hash.clone()),
    };
    let signed_in = user.clone();
    let user_agent = browser.user_agent.clone();
    state
        .db
        .write(move |conn| {
            let now = crate::db::now();
            if let Some(h) = &new_hash {
                store::set_password_hash(conn, &user.id, h)?;
            }
            store::insert_session(
                conn,
                &hash,
                &user.id,
                &csrf,
                user_agent.as_deref(),
                now,
                now + absolute,
            )?;
            store::record_login(conn, &user.id, now)?;
            store::clear_login_failures(conn, &account_hash, &client_hash)?;
            let mut entry = Entry::new("staff.signed_in").target("staff_user", &user.id);
            if let Some(factor) = second_factor {
                entry = entry.details(serde_json::json!({ "second_factor": factor }));
            }
            audit::record(conn, &actor, entry)?;
            Ok(())
        })
        .await?;
    devices::remember(state, &signed_in, &browser).await?;
    Ok(session_cookie(
        state.settings.is_https(),
        token,
        state.settings.staff.session_absolute_hours,
    ))
}

/// Seconds this pair must still wait before its next attempt, when it is past the hourly
/// limit and its last failure is more recent than the delay (rounded up, so two clients
/// throttled alike are told the same).
pub(crate) fn throttled(settings: &StaffSettings, f: &store::LoginFailures) -> Option<u64> {
    let limit = i32::try_from(settings.max_failed_logins_per_hour).unwrap_or(i32::MAX);
    if f.failures < limit {
        return None;
    }
    let delay = TimeDelta::seconds(i64::from(settings.failed_login_delay_seconds));
    let wait = delay - (crate::db::now() - f.last_failed_at);
    (wait > TimeDelta::zero()).then(|| {
        let millis = u64::try_from(wait.num_milliseconds()).unwrap_or(0);
        millis.div_ceil(1000).max(1)
    })
}

/// The session cookie: HttpOnly, SameSite=Strict, Secure and `__Host-` on https.
pub fn session_cookie(https: bool, token: String, hours: u32) -> Cookie<'static> {
    Cookie::build(session_cookie_name(https), token)
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::hours(i64::from(hours)))
        .finish()
}

/// A cookie that removes the session cookie.
pub fn removal_cookie(https: bool) -> Cookie<'static> {
    let mut cookie = session_cookie(https, String::new(), 0);
    cookie.make_removal();
    cookie
}
