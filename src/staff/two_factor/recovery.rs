//! Recovery codes: ten random codes shown once when a second factor is turned on, each good
//! for one sign-in. A code carries 60 random bits (twelve characters of Crockford's base32),
//! so it is stored as a keyed hash (HMAC-SHA256 with the service key, the account id mixed
//! in) rather than with argon2: guessing one online is hopeless under the sign-in limits, a
//! database dump alone does not let anyone check guesses, and a sign-in attempt costs one
//! cheap hash instead of ten argon2 runs that a flood could multiply.

use rand::Rng;

use crate::keys::Keys;

pub const COUNT: usize = 10;
const LENGTH: usize = 12;
/// Crockford's base32: no I, L, O or U, so codes read aloud or copied by hand survive.
const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A recovery code as typed: dashes, spaces and case ignored, look-alikes mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    pub fn parse(input: &str) -> Option<RecoveryCode> {
        let code: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_lowercase() {
                'o' => '0',
                'i' | 'l' => '1',
                c => c,
            })
            .collect();
        (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b)))
            .then_some(RecoveryCode(code))
    }

    /// The keyed hash stored for this code of this account.
    pub fn hash(&self, keys: &Keys, user_id: &str) -> String {
        keys.hash(
            "staff-recovery-code",
            format!("{user_id}:{}", self.0).as_bytes(),
        )
    }
}

/// Ten fresh codes, formatted for reading (`xxxx-xxxx-xxxx`).
pub fn generate() -> Vec<String> {
    let mut rng = rand::rng();
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..LENGTH)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_back_and_are_distinct() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let keys = Keys::new("k");
        let hashes: std::collections::HashSet<String> = codes
            .iter()
            .map(|c| RecoveryCode::parse(c).expect("parses").hash(&keys, "u"))
            .collect();
        assert_eq!(hashes.len(), COUNT);
    }

    #[test]
    fn typing_variations_are_the_same_code() {
        let a = RecoveryCode::parse("ab0c-1d2e-3f4g").expect("code");
        assert_eq!(RecoveryCode::parse("AB0C 1D2E 3F4G"), Some(a.clone()));
        assert_eq!(RecoveryCode::parse("abOc-ld2e-3f4g"), Some(a));
        assert!(RecoveryCode::parse("123456").is_none());
        assert!(RecoveryCode::parse("abcu-1d2e-3f4g").is_none(), "no U");
    }

    #[test]
    fn the_hash_depends_on_the_account() {
        let keys = Keys::new("k");
        let code = RecoveryCode::parse("ab0c-1d2e-3f4g").expect("code");
        assert_ne!(code.hash(&keys, "a"), code.hash(&keys, "b"));
    }
}
