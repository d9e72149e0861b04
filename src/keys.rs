//! The service's secret key and what is derived from it: keyed hashes (client IPs are only
//! ever stored this way) and signatures for links.
//!
//! The key comes from `security.secret_key`, or, when unset, from a random key generated
//! once and kept in the database so every instance that shares the database agrees.

use diesel::prelude::*;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::db::schema::app_settings;
use crate::db::DbConnection;

const SETTING_NAME: &str = "secret_key";

#[derive(Clone)]
pub struct Keys {
    secret: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(********)")
    }
}

impl Keys {
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        Keys {
            secret: secret.as_ref().to_vec(),
        }
    }

    /// The configured key, or the one stored in the database (created on first use).
    pub fn load(configured: Option<&str>, conn: &mut DbConnection) -> QueryResult<Keys> {
        if let Some(secret) = configured {
            return Ok(Keys::new(secret));
        }
        let stored = app_settings::table
            .find(SETTING_NAME)
            .select(app_settings::value)
            .first::<String>(conn)
            .optional()?;
        if let Some(secret) = stored {
            return Ok(Keys::new(secret));
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let inserted = diesel::insert_into(app_settings::table)
            .values((
                app_settings::key.eq(SETTING_NAME),
                app_settings::value.eq(hex::encode(bytes)),
            ))
            .execute(conn);
        match inserted {
            // Another instance won the race: use its key.
            Ok(_)
            | Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {}
            Err(e) => return Err(e),
        }
        let secret = app_settings::table
            .find(SETTING_NAME)
            .select(app_settings::value)
            .first::<String>(conn)?;
        Ok(Keys::new(secret))
    }

    fn mac(&self, purpose: &str) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac
    }

    /// A keyed hash of `data` for one purpose (hex): stable, not reversible without the key.
    pub fn hash(&self, purpose: &str, data: &[u8]) -> String {
        let mut mac = self.mac(purpose);
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    /// The keyed hash that names a person (by normalised address) in the audit log, so every
    /// feature's entries about one person are found together without storing the address.
    pub fn address_hash(&self, normalized_email: &str) -> String {
        self.hash("person", normalized_email.as_bytes())
    }

    /// A 256-bit key for one purpose (e.g. encrypting stored secrets), derived from the
    /// service key: changing `security.secret_key` changes it.
    pub fn key_for(&self, purpose: &str) -> [u8; 32] {
        self.mac(purpose).finalize().into_bytes().into()
    }

    /// Signs `message` for one purpose (URL-safe base64).
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        use base64::Engine;
        let mut mac = self.mac(purpose);
        mac.update(message.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Checks a signature from [`Keys::sign`] in constant time.
    pub fn verify(&self, purpose: &str, message: &str, signature: &str) -> bool {
        use base64::Engine;
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let mut mac = self.mac(purpose);
        mac.update(message.as_bytes());
        mac.verify_slice(&bytes).is_ok()
    }
}

/// A random token of `bytes` bytes, URL-safe base64.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a token, hex: how bearer secrets are stored.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_depend_on_key_and_purpose() {
        let a = Keys::new("k1");
        let b = Keys::new("k2");
        assert_eq!(a.hash("ip", b"1.2.3.4"), a.hash("ip", b"1.2.3.4"));
        assert_ne!(a.hash("ip", b"1.2.3.4"), b.hash("ip", b"1.2.3.4"));
        assert_ne!(a.hash("ip", b"1.2.3.4"), a.hash("voter", b"1.2.3.4"));
        assert!(!a.hash("ip", b"1.2.3.4").contains("1.2.3.4"));
    }

    #[test]
    fn signatures_verify_only_unchanged() {
        let k = Keys::new("k");
        let sig = k.sign("link", "donor:42:1700000000");
        assert!(k.verify("link", "donor:42:1700000000", &sig));
        assert!(!k.verify("link", "donor:43:1700000000", &sig));
        assert!(!k.verify("other", "donor:42:1700000000", &sig));
        assert!(!Keys::new("k2").verify("link", "donor:42:1700000000", &sig));
        assert!(!k.verify("link", "donor:42:1700000000", "not base64!"));
    }

    #[test]
    fn tokens_are_random_and_long() {
        let t = random_token(32);
        assert!(t.len() >= 43);
        assert_ne!(t, random_token(32));
        assert_eq!(token_hash("x").len(), 64);
    }
}
