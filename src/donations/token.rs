//! Signed, expiring links to a donor's self-service page. The token names the address and
//! the expiry and carries a signature over both with the service key; nothing is stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::keys::Keys;

const PURPOSE: &str = "donor-manage";

/// A token for `email` (normalised) valid until `expires` (unix seconds).
pub fn issue(keys: &Keys, email: &str, expires: i64) -> String {
    let message = format!("{email}\n{expires}");
    format!(
        "{}.{expires}.{}",
        URL_SAFE_NO_PAD.encode(email),
        keys.sign(PURPOSE, &message)
    )
}

/// The address a token names, when its signature holds and it has not expired at `now`.
pub fn verify(keys: &Keys, token: &str, now: i64) -> Option<String> {
    let mut parts = token.trim().splitn(3, '.');
    let (email, expires, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let email = String::from_utf8(URL_SAFE_NO_PAD.decode(email).ok()?).ok()?;
    let expires_at: i64 = expires.parse().ok()?;
    if !keys.verify(PURPOSE, &format!("{email}\n{expires_at}"), signature) {
        return None;
    }
    (expires_at > now).then_some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_only_its_address_until_it_expires() {
        let keys = Keys::new("k");
        let t = issue(&keys, "jane@example.org", 1_000);
        assert_eq!(verify(&keys, &t, 999).as_deref(), Some("jane@example.org"));
        assert_eq!(verify(&keys, &t, 1_000), None, "expired");
        assert_eq!(verify(&Keys::new("other"), &t, 0), None, "other key");
        let forged = t.replacen(
            &URL_SAFE_NO_PAD.encode("jane@example.org"),
            &URL_SAFE_NO_PAD.encode("eve@example.org"),
            1,
        );
        assert_eq!(verify(&keys, &forged, 0), None, "other address");
        let extended = t.replacen(".1000.", ".9999.", 1);
        assert_eq!(verify(&keys, &extended, 0), None, "other expiry");
        assert_eq!(verify(&keys, "garbage", 0), None);
    }
}
