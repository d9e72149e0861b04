//! Who is voting: the `fd_voter` first-party cookie, or, without one, a keyed hash of the
//! client IP and User-Agent under a key that rotates daily (the raw IP is never stored, and
//! past days' keys are deleted).

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::Db;
use crate::error::AppError;
use crate::feedback::model::Voter;
use crate::keys::Keys;

pub const COOKIE_NAME: &str = "fd_voter";
/// The cookie is sent only to the feedback endpoints.
pub const COOKIE_PATH: &str = "/api/v1/feedback";

/// The voter cookie's value if the request carries a well-formed one. Reads the `Cookie`
/// headers (`name=value` pairs split by `;`) up to our cookie rather than through
/// `HttpRequest::cookie`, which parses and stores every cookie the browser sends with
/// each vote.
pub fn cookie_value(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim_matches('"'))?;
    let well_formed = (16..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| value.to_string())
}

/// A new voter cookie: `<day>_<random 128 bits>`, HttpOnly, SameSite=Lax, one year, Secure
/// on https. `<day>` is the UTC day it was issued (days since 1970-01-01), which tells the
/// vote writer whether the voter's cookie-less vote can still be carried over (see
/// [`may_carry_over`]).
pub fn new_cookie(secure: bool, today: NaiveDate) -> Cookie<'static> {
    let value = format!("{}_{}", day_number(today), crate::keys::random_token(16));
    Cookie::build(COOKIE_NAME, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieDuration::days(365))
        .finish()
}

/// Days since 1970-01-01.
fn day_number(day: NaiveDate) -> i64 {
    day.signed_duration_since(NaiveDate::default()).num_days()
}

/// Whether a cookie voter's first vote on an article may have a cookie-less vote to carry
/// over. That vote is the one whose answer set the cookie, and it was hashed with that day's
/// key, so only a cookie issued today can have one. A cookie issued on an earlier day is
/// known by its day prefix and spares the writer a lookup per vote; a cookie of any other
/// form (issued before cookies carried their day) is looked up as before.
pub fn may_carry_over(cookie: &str, today: NaiveDate) -> bool {
    let issued = cookie
        .split_once('_')
        .and_then(|(day, _)| day.parse::<i64>().ok());
    issued.is_none_or(|day| day >= day_number(today))
}

/// A day and its voter key.
pub type DayKey = (NaiveDate, Arc<Vec<u8>>);

/// The day's voter key, cached per process and rotated on the first vote of a new day.
#[derive(Clone, Default)]
pub struct VoterKeys {
    current: Arc<RwLock<Option<DayKey>>>,
}

impl VoterKeys {
    /// Today (UTC) and its key, from the cache or the database. A vote's cookie is dated
    /// with the same day its fingerprint is hashed under.
    pub async fn today(&self, db: &Db) -> Result<DayKey, AppError> {
        let today = chrono::Utc::now().date_naive();
        if let Ok(guard) = self.current.read() {
            if let Some((day, key)) = guard.as_ref() {
                if *day == today {
                    return Ok((today, key.clone()));
                }
            }
        }
        let key = db
            .write(move |conn| Ok(crate::feedback::store::rotate_voter_keys(conn, today)?))
            .await?;
        let key = Arc::new(key);
        if let Ok(mut guard) = self.current.write() {
            *guard = Some((today, key.clone()));
        }
        Ok((today, key))
    }
}

/// The fallback identity: HMAC-SHA256 of IP and User-Agent under the day's key.
pub fn fingerprint(day_key: &[u8], ip: IpAddr, user_agent: &str) -> Result<String, AppError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(day_key)
        .map_err(|e| AppError::unexpected(anyhow::anyhow!("voter key: {e}")))?;
    match ip {
        IpAddr::V4(v4) => mac.update(&v4.octets()),
        IpAddr::V6(v6) => mac.update(&v6.octets()),
    }
    mac.update(&[0]);
    mac.update(user_agent.as_bytes());
    Ok(format!("h:{}", hex::encode(mac.finalize().into_bytes())))
}

/// The voter for a request on `today` (UTC): the cookie when present, else the fallback hash.
/// `fingerprint` (the request's fallback hash, see [`fingerprint`]) is called only when the
/// hash is used: without a cookie, or for a cookie that may have been set today and so may
/// have a cookie-less vote to carry over. A returning reader's IP address is not processed.
pub fn voter(
    keys: &Keys,
    cookie: Option<&str>,
    today: NaiveDate,
    fingerprint: impl FnOnce() -> Result<String, AppError>,
) -> Result<Voter, AppError> {
    Ok(match cookie {
        Some(value) => Voter {
            key: format!("c:{}", keys.hash("fd_voter", value.as_bytes())),
            carry_over_from: may_carry_over(value, today).then(fingerprint).transpose()?,
        },
        None => Voter {
            key: fingerprint()?,
            carry_over_from: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_change_with_key_ip_and_agent() {
        let ip: IpAddr = "203.0.113.7".parse().expect("ip");
        let other_ip: IpAddr = "203.0.113.8".parse().expect("ip");
        let f = |key: &[u8], ip, ua| fingerprint(key, ip, ua).expect("hash");
        let a = f(b"day-1", ip, "Firefox");
        assert_eq!(a, f(b"day-1", ip, "Firefox"));
        assert_ne!(a, f(b"day-2", ip, "Firefox"));
        assert_ne!(a, f(b"day-1", other_ip, "Firefox"));
        assert_ne!(a, f(b"day-1", ip, "Chrome"));
        assert!(a.starts_with("h:") && !a.contains("203.0.113.7"));
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn cookie_voters_are_hashed_and_marked() {
        let keys = Keys::new("k");
        let today = day("2026-12-02");
        let hash = || Ok("h:x".to_string());
        let v = voter(&keys, Some("abcdefghijklmnopqrstuv"), today, hash).expect("voter");
        assert!(v.key.starts_with("c:"));
        assert_eq!(v.carry_over_from.as_deref(), Some("h:x"));
        assert!(!v.key.contains("abcdefghijklmnopqrstuv"));
        let anonymous = voter(&keys, None, today, hash).expect("voter");
        assert!(!anonymous.key.starts_with("c:"));
        assert_eq!(anonymous.carry_over_from, None);
        assert_eq!(anonymous.key, "h:x");
    }

    #[test]
    fn a_returning_readers_address_is_not_hashed() {
        let keys = Keys::new("k");
        let today = day("2026-12-02");
        let cookie = new_cookie(false, day("2026-11-30"));
        let v = voter(&keys, Some(cookie.value()), today, || {
            panic!("the fallback hash is not needed for a cookie from an earlier day")
        })
        .expect("voter");
        assert!(v.key.starts_with("c:"));
        assert_eq!(v.carry_over_from, None);
    }

    #[test]
    fn only_cookies_issued_today_or_of_unknown_day_look_for_a_vote_to_carry_over() {
        let today = day("2026-12-02");
        let issued_today = new_cookie(false, today);
        assert!(issued_today.value().starts_with("20789_"));
        assert!(may_carry_over(issued_today.value(), today));
        let yesterday = new_cookie(false, day("2026-12-01"));
        assert!(!may_carry_over(yesterday.value(), today));
        // Cookies from before the day prefix, or of another form, are looked up.
        assert!(may_carry_over("abcdefghijklmnopqrstuv", today));
        assert!(may_carry_over("bench_t00_000000000001", today));
    }

    #[test]
    fn the_voter_cookie_is_found_among_others_and_checked() {
        use actix_web::test::TestRequest;
        let value = |cookie: &str| {
            cookie_value(
                &TestRequest::default()
                    .insert_header((header::COOKIE, cookie))
                    .to_http_request(),
            )
        };
        let good = "abcdefghijklmnop-_0123";
        assert_eq!(value(&format!("fd_voter={good}")).as_deref(), Some(good));
        assert_eq!(
            value(&format!("theme=dark; fd_voter={good}; lang=en")).as_deref(),
            Some(good)
        );
        assert_eq!(value(&format!("xfd_voter={good}")), None);
        assert_eq!(value("fd_voter=short"), None);
        assert_eq!(value("fd_voter=abcdefghijklmnop%0D%0Aevil"), None);
        assert_eq!(value("theme=dark"), None);
        assert_eq!(
            cookie_value(&TestRequest::default().to_http_request()),
            None
        );
    }

    #[test]
    fn new_cookie_has_the_promised_attributes() {
        let c = new_cookie(true, day("2026-12-02"));
        assert_eq!(c.name(), COOKIE_NAME);
        assert!(c.value().len() >= 22);
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.same_site(), Some(SameSite::Lax));
        assert_eq!(c.secure(), Some(true));
        assert_eq!(c.max_age(), Some(CookieDuration::days(365)));
        assert_ne!(c.value(), new_cookie(true, day("2026-12-02")).value());
    }
}
