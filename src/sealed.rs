//! Sealed fields: what a confidential tip holds, encrypted with XChaCha20-Poly1305 under the
//! tips key (`security.tips_key_file` or `security.tips_key`), a key that is never stored in
//! the database.
//!
//! A sealed value reads `v1.<key id>.<base64 of nonce ‖ ciphertext ‖ tag>`: a random 24-byte
//! nonce per value, and the record's id and the field's name as associated data, so a
//! ciphertext moved to another row or field fails to open. The key id (the first 8 bytes of
//! a keyed hash of the key, hex) tells a wrong key from a tampered value: opening with
//! another key fails with [`SealError::WrongKey`], never with garbage.
//!
//! The same key also makes the blind indexes ([`TipsKey::index`]): keyed hashes that let the
//! database find a tip by the reader's address (erasure, export) without holding it.

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The version prefix of every sealed value.
const VERSION: &str = "v1";
/// Bytes of a key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

/// Why a sealed value could not be opened (or a key read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error(
        "this confidential value was sealed under tips key {stored}, but the configured tips key \
         is {configured}: configure the key it was written with (or rotate with it)"
    )]
    WrongKey { stored: String, configured: String },
    #[error("a confidential value failed its integrity check (it was changed, or moved to another record or field)")]
    Tampered,
    #[error("a confidential value is not in the sealed format")]
    Malformed,
    #[error("a tips key must be 32 bytes written in base64 (44 characters); generate one with `frontdesk tips new-key`")]
    BadKey,
    #[error("cannot read the tips key file {0}")]
    Unreadable(String),
    #[error("encryption failed")]
    Encrypt,
}

impl From<SealError> for crate::error::AppError {
    /// A tip that cannot be opened is a server fault (500); the log names the key ids.
    fn from(e: SealError) -> Self {
        crate::error::AppError::unexpected(e)
    }
}

/// The key of confidential tips.
#[derive(Clone)]
pub struct TipsKey {
    cipher: XChaCha20Poly1305,
    index_key: [u8; KEY_BYTES],
    id: String,
}

impl fmt::Debug for TipsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TipsKey({})", self.id)
    }
}

type HmacSha256 = Hmac<Sha256>;

fn derive(key: &[u8; KEY_BYTES], purpose: &str) -> [u8; KEY_BYTES] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(b"frontdesk tips\0");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl TipsKey {
    pub fn from_bytes(key: [u8; KEY_BYTES]) -> TipsKey {
        let id = hex::encode(&derive(&key, "key id")[..8]);
        TipsKey {
            cipher: XChaCha20Poly1305::new(&key.into()),
            index_key: derive(&key, "blind index"),
            id,
        }
    }

    /// A new random key.
    pub fn generate() -> (TipsKey, String) {
        let mut bytes = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        (TipsKey::from_bytes(bytes), STANDARD.encode(bytes))
    }

    /// Reads a key written as base64 (surrounding white space ignored).
    pub fn parse(text: &str) -> Result<TipsKey, SealError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SealError::BadKey)?;
        let key: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| SealError::BadKey)?;
        Ok(TipsKey::from_bytes(key))
    }

    /// Reads a key file holding the base64 key.
    pub fn read_file(path: &Path) -> Result<TipsKey, SealError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SealError::Unreadable(format!("{}: {e}", path.display())))?;
        TipsKey::parse(&text)
    }

    /// The key's id: stored with every value it seals; says nothing about the key.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `plaintext` as field `field` of record `record`.
    pub fn seal(&self, record: &str, field: &str, plaintext: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let aad = associated_data(&self.id, record, field);
        let ciphertext = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Encrypt)?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Ok(format!("{VERSION}.{}.{}", self.id, STANDARD.encode(blob)))
    }

    /// Opens a value sealed as field `field` of record `record`.
    pub fn open(&self, record: &str, field: &str, sealed: &str) -> Result<String, SealError> {
        let stored = key_id_of(sealed).ok_or(SealError::Malformed)?;
        if stored != self.id {
            return Err(SealError::WrongKey {
                stored: stored.to_string(),
                configured: self.id.clone(),
            });
        }
        let encoded = sealed
            .rsplit_once('.')
            .map(|(_, b)| b)
            .ok_or(SealError::Malformed)?;
        let blob = STANDARD.decode(encoded).map_err(|_| SealError::Malformed)?;
        if blob.len() < NONCE_BYTES {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_BYTES);
        let aad = associated_data(&self.id, record, field);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Tampered)?;
        String::from_utf8(plain).map_err(|_| SealError::Tampered)
    }

    /// Seals an optional field (`None` stays `None`).
    pub fn seal_opt(
        &self,
        record: &str,
        field: &str,
        plaintext: Option<&str>,
    ) -> Result<Option<String>, SealError> {
        plaintext.map(|p| self.seal(record, field, p)).transpose()
    }

    /// Opens an optional field.
    pub fn open_opt(
        &self,
        record: &str,
        field: &str,
        sealed: Option<&str>,
    ) -> Result<Option<String>, SealError> {
        sealed.map(|s| self.open(record, field, s)).transpose()
    }

    /// A blind index of `value` for one purpose (hex): equal values give equal indexes under
    /// one key; without the key it cannot be computed, so a dump cannot test guesses.
    pub fn index(&self, purpose: &str, value: &str) -> String {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.index_key).unwrap_or_else(|_| unreachable!());
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The key id a sealed value names, if it is one.
pub fn key_id_of(sealed: &str) -> Option<&str> {
    let mut parts = sealed.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(VERSION), Some(id), Some(_)) if !id.is_empty() => Some(id),
        _ => None,
    }
}

fn associated_data(key_id: &str, record: &str, field: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(key_id.len() + record.len() + field.len() + 8);
    for part in [VERSION, key_id, record, field] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> TipsKey {
        TipsKey::from_bytes([byte; KEY_BYTES])
    }

    #[test]
    fn round_trip_hides_the_text() {
        let k = key(1);
        let sealed = k
            .seal("row-1", "message", "the mayor took €5000")
            .expect("seal");
        assert!(!sealed.contains("mayor"));
        assert!(sealed.starts_with(&format!("v1.{}.", k.id())));
        assert_eq!(
            k.open("row-1", "message", &sealed).as_deref(),
            Ok("the mayor took €5000")
        );
        // Random nonces: the same text seals differently each time.
        assert_ne!(
            sealed,
            k.seal("row-1", "message", "the mayor took €5000")
                .expect("seal")
        );
        assert_eq!(
            k.open("r", "f", &k.seal("r", "f", "").expect("seal"))
                .as_deref(),
            Ok("")
        );
    }

    #[test]
    fn a_wrong_key_fails_loudly() {
        let sealed = key(1).seal("row-1", "message", "secret").expect("seal");
        let err = key(2)
            .open("row-1", "message", &sealed)
            .expect_err("wrong key");
        assert!(matches!(err, SealError::WrongKey { .. }), "{err:?}");
        assert!(err.to_string().contains(key(1).id()), "{err}");
        // A forged key id does not help: the key id is part of the associated data.
        let forged = sealed.replacen(key(1).id(), key(2).id(), 1);
        assert_eq!(
            key(2).open("row-1", "message", &forged),
            Err(SealError::Tampered)
        );
    }

    #[test]
    fn tampering_is_detected() {
        let k = key(1);
        let sealed = k.seal("row-1", "message", "secret").expect("seal");
        let (head, body) = sealed.rsplit_once('.').expect("format");
        let mut blob = STANDARD.decode(body).expect("base64");
        let last = blob.len() - 1;
        blob[last] ^= 1;
        let changed = format!("{head}.{}", STANDARD.encode(blob));
        assert_eq!(
            k.open("row-1", "message", &changed),
            Err(SealError::Tampered)
        );
        assert_eq!(
            k.open("row-1", "message", "plain text"),
            Err(SealError::Malformed)
        );
        assert_eq!(
            k.open("row-1", "message", &format!("v1.{}.AAAA", k.id())),
            Err(SealError::Malformed)
        );
    }

    #[test]
    fn values_cannot_move_between_rows_or_fields() {
        let k = key(1);
        let sealed = k.seal("row-1", "name", "Jane").expect("seal");
        assert_eq!(k.open("row-2", "name", &sealed), Err(SealError::Tampered));
        assert_eq!(k.open("row-1", "email", &sealed), Err(SealError::Tampered));
    }

    #[test]
    fn keys_parse_from_base64_of_32_bytes() {
        let (generated, text) = TipsKey::generate();
        let parsed = TipsKey::parse(&format!("  {text}\n")).expect("parse");
        assert_eq!(parsed.id(), generated.id());
        assert_eq!(TipsKey::parse("c2hvcnQ=").err(), Some(SealError::BadKey));
        assert_eq!(TipsKey::parse("not base64!").err(), Some(SealError::BadKey));
        assert!(!format!("{parsed:?}").contains(&text));
    }

    #[test]
    fn blind_indexes_depend_on_key_and_purpose() {
        let (a, b) = (key(1), key(2));
        assert_eq!(a.index("email", "j@x.org"), a.index("email", "j@x.org"));
        assert_ne!(a.index("email", "j@x.org"), b.index("email", "j@x.org"));
        assert_ne!(a.index("email", "j@x.org"), a.index("message", "j@x.org"));
    }
}
