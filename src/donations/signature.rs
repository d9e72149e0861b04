//! `Stripe-Signature` verification: `t=<unix time>,v1=<hex HMAC-SHA256>[,v1=…]`, the HMAC
//! taken with the `whsec_` secret over `t + "." + raw body`. Any `v1` may match (Stripe sends
//! two while a secret is being rolled), compared in constant time, and the timestamp must be
//! within the tolerance of now, in both directions.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Seconds a signature's timestamp may differ from now.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    NoMatch,
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `v1` signature of `body` at `timestamp` (hex), as Stripe computes it.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    hex::encode(
        mac(secret, &timestamp.to_string(), body)
            .finalize()
            .into_bytes(),
    )
}

/// Checks a `Stripe-Signature` header against the raw body.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &str,
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match k {
            "t" => timestamp = Some(v),
            "v1" => signatures.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    let t: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, timestamp, body);
    // Check every candidate, so the time taken does not say which one matched.
    let matched = signatures.iter().fold(false, |ok, sig| {
        expected.clone().verify_slice(sig).is_ok() | ok
    });
    if matched {
        Ok(())
    } else {
        Err(SignatureError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    const NOW: i64 = 1_800_000_000;

    fn header(secret: &str, t: i64, body: &[u8]) -> String {
        format!("t={t},v1={}", sign(secret, t, body))
    }

    #[test]
    fn valid_signature_is_accepted() {
        let h = header(SECRET, NOW, BODY);
        assert_eq!(verify(Some(&h), BODY, SECRET, NOW), Ok(()));
        let h = format!("{h},v0=deadbeef");
        assert_eq!(verify(Some(&h), BODY, SECRET, NOW + 299), Ok(()));
    }

    #[test]
    fn tampered_body_is_refused() {
        let h = header(SECRET, NOW, BODY);
        let tampered = br#"{"id":"evt_1","type":"invoice.paid "}"#;
        assert_eq!(
            verify(Some(&h), tampered, SECRET, NOW),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn wrong_secret_is_refused() {
        let h = header("whsec_other", NOW, BODY);
        assert_eq!(
            verify(Some(&h), BODY, SECRET, NOW),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let stale = header(SECRET, NOW - 301, BODY);
        assert_eq!(
            verify(Some(&stale), BODY, SECRET, NOW),
            Err(SignatureError::Stale)
        );
        let future = header(SECRET, NOW + 301, BODY);
        assert_eq!(
            verify(Some(&future), BODY, SECRET, NOW),
            Err(SignatureError::Stale)
        );
        let edge = header(SECRET, NOW - 300, BODY);
        assert_eq!(verify(Some(&edge), BODY, SECRET, NOW), Ok(()));
    }

    #[test]
    fn any_of_two_v1_may_match_while_a_secret_rolls() {
        let h = format!(
            "t={NOW},v1={},v1={}",
            sign("whsec_old", NOW, BODY),
            sign(SECRET, NOW, BODY)
        );
        assert_eq!(verify(Some(&h), BODY, SECRET, NOW), Ok(()));
        assert_eq!(verify(Some(&h), BODY, "whsec_old", NOW), Ok(()));
        assert_eq!(
            verify(Some(&h), BODY, "whsec_third", NOW),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        for h in [
            "",
            "t=abc,v1=00",
            "v1=00",
            "t=1800000000",
            "t=1800000000,v1=zz",
        ] {
            assert!(verify(Some(h), BODY, SECRET, NOW).is_err(), "{h:?}");
        }
        assert_eq!(
            verify(None, BODY, SECRET, NOW),
            Err(SignatureError::Missing)
        );
    }
}
