//! TOTP (RFC 6238) as authenticator apps expect it: HMAC-SHA-1, six digits, 30-second steps.
//! Codes are computed by `totp-rs`; this module chooses the step a code matches (one step
//! either side of now, for clocks a little off) so the caller can refuse any step at or before
//! the last one accepted. The secret is kept sealed (AES-256-GCM under a key derived from the
//! service key, the account id as associated data) and opened only to check a code or to show
//! it during enrolment.

use base64::Engine;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use rand::RngCore;
use totp_rs::{Algorithm, TOTP};

use crate::error::AppError;
use crate::keys::Keys;

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: usize = 6;
/// 160 bits, the length RFC 4226 recommends for HMAC-SHA-1.
const SECRET_BYTES: usize = 20;
const SEAL_PURPOSE: &str = "staff-totp-secret";
const SEAL_VERSION: &str = "v1:";

/// A TOTP shared secret (never printed by `Debug`).
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(********)")
    }
}

/// Six digits as typed (spaces allowed between them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpCode(String);

impl TotpCode {
    pub fn parse(input: &str) -> Option<TotpCode> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some(TotpCode(digits))
    }
}

impl TotpSecret {
    pub fn generate() -> TotpSecret {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        TotpSecret(bytes)
    }

    /// A secret as shown for typing in (what an authenticator app, or a test, starts from).
    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        totp_rs::Secret::Encoded(text.trim().to_string())
            .to_bytes()
            .ok()
            .filter(|b| !b.is_empty())
            .map(TotpSecret)
    }

    fn totp(&self, digits: usize) -> TOTP {
        TOTP::new_unchecked(Algorithm::SHA1, digits, 0, STEP_SECONDS, self.0.clone())
    }

    /// The secret as authenticator apps take it when typed in (RFC 4648 base32, no padding).
    pub fn base32(&self) -> String {
        self.totp(DIGITS).get_secret_base32()
    }

    /// The code of one time step.
    pub fn code_at_step(&self, step: u64) -> String {
        self.totp(DIGITS).generate(step * STEP_SECONDS)
    }

    /// The time step `code` belongs to, if it is the code of the step of `unix_seconds` or of
    /// the step just before or after it. Every candidate is compared in constant time.
    pub fn matching_step(&self, code: &TotpCode, unix_seconds: u64) -> Option<u64> {
        let now = unix_seconds / STEP_SECONDS;
        let mut found = None;
        for step in [now.saturating_sub(1), now, now + 1] {
            let expected = self.code_at_step(step);
            if bool::from(subtle::ConstantTimeEq::ct_eq(
                expected.as_bytes(),
                code.0.as_bytes(),
            )) {
                found = found.or(Some(step));
            }
        }
        found
    }

    /// The `otpauth://` URI the QR code holds (Google Authenticator's key URI format).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            enc(issuer),
            enc(account),
            self.base32(),
            enc(issuer),
        )
    }

    /// The secret encrypted for storage, bound to the account it belongs to.
    pub fn seal(&self, keys: &Keys, user_id: &str) -> Result<String, AppError> {
        let key = keys.key_for(SEAL_PURPOSE);
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let mut tag = [0u8; 16];
        let sealed = encrypt_aead(
            Cipher::aes_256_gcm(),
            &key,
            Some(&nonce),
            user_id.as_bytes(),
            &self.0,
            &mut tag,
        )
        .map_err(AppError::unexpected)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out.extend_from_slice(&tag);
        Ok(format!(
            "{SEAL_VERSION}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        ))
    }

    /// Opens a sealed secret; fails when it was sealed for another account or another key.
    pub fn open(sealed: &str, keys: &Keys, user_id: &str) -> Result<TotpSecret, AppError> {
        let unreadable = || {
            AppError::unexpected(anyhow::anyhow!(
                "a stored TOTP secret cannot be opened (was security.secret_key changed?)"
            ))
        };
        let bytes = sealed
            .strip_prefix(SEAL_VERSION)
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(b)
                    .ok()
            })
            .filter(|b| b.len() > 12 + 16)
            .ok_or_else(unreadable)?;
        let (nonce, rest) = bytes.split_at(12);
        let (data, tag) = rest.split_at(rest.len() - 16);
        let key = keys.key_for(SEAL_PURPOSE);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            &key,
            Some(nonce),
            user_id.as_bytes(),
            data,
            tag,
        )
        .map(TotpSecret)
        .map_err(|_| unreadable())
    }
}

/// `data` as a QR code in inline SVG (no image crate, no third-party service).
pub fn qr_svg(data: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M)
        .map_err(AppError::unexpected)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    // Inline in HTML: drop the XML declaration.
    Ok(match svg.find("<svg") {
        Some(at) => svg[at..].to_string(),
        None => svg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (eight digits), computed the way this module uses the library.
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = TotpSecret(b"12345678901234567890".to_vec());
        let totp = secret.totp(8);
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.generate(time), code, "T = {time}");
            // Six digits are the last six of the same value.
            assert_eq!(secret.code_at_step(time / STEP_SECONDS), code[2..]);
        }
    }

    #[test]
    fn a_code_matches_its_step_and_the_steps_either_side_only() {
        let secret = TotpSecret(b"12345678901234567890".to_vec());
        let code = TotpCode::parse("287 082").expect("six digits");
        assert_eq!(secret.matching_step(&code, 59), Some(1));
        assert_eq!(secret.matching_step(&code, 89), Some(1), "one step late");
        assert_eq!(secret.matching_step(&code, 5), Some(1), "one step early");
        assert_eq!(secret.matching_step(&code, 120), None, "two steps late");
        assert!(TotpCode::parse("12345").is_none());
        assert!(TotpCode::parse("12345a").is_none());
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_account_and_key() {
        let keys = Keys::new("k1");
        let secret = TotpSecret::generate();
        let sealed = secret.seal(&keys, "user-a").expect("seal");
        assert!(!sealed.contains(&secret.base32()));
        let opened = TotpSecret::open(&sealed, &keys, "user-a").expect("open");
        assert_eq!(opened.base32(), secret.base32());
        let typed = TotpSecret::from_base32(&secret.base32()).expect("base32");
        assert_eq!(typed.code_at_step(7), secret.code_at_step(7));
        assert!(TotpSecret::open(&sealed, &keys, "user-b").is_err());
        assert!(TotpSecret::open(&sealed, &Keys::new("k2"), "user-a").is_err());
    }

    #[test]
    fn the_qr_code_is_inline_svg() {
        let secret = TotpSecret::generate();
        let svg = qr_svg(&secret.otpauth_uri("Example News", "ana@example.org")).expect("qr");
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(!svg.contains("style="), "CSP allows no inline styles");
    }
}
