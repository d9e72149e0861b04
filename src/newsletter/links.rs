//! The links a newsletter carries that lead back to the reader's pages, and the signed token
//! in them. Both the sending engine (`dispatch`) and the renderer that personalises each email
//! at delivery (`render`) need them, so they sit here, below both, and neither imports the
//! other for them.

use crate::config::Settings;
use crate::keys::Keys;

const UNSUBSCRIBE_PURPOSE: &str = "newsletter-unsubscribe";

/// The long-lived unsubscribe/preferences token of a subscriber.
pub fn unsubscribe_token(keys: &Keys, subscriber_id: &str) -> String {
    format!(
        "{subscriber_id}.{}",
        keys.sign(UNSUBSCRIBE_PURPOSE, subscriber_id)
    )
}

/// The subscriber id an unsubscribe token names, when its signature holds.
pub fn verify_unsubscribe_token(keys: &Keys, token: &str) -> Option<String> {
    let (id, signature) = token.rsplit_once('.')?;
    (!id.is_empty() && keys.verify(UNSUBSCRIBE_PURPOSE, id, signature)).then(|| id.to_string())
}

/// The link in every newsletter to the unsubscribe and preferences page.
pub fn unsubscribe_url(settings: &Settings, keys: &Keys, subscriber_id: &str) -> String {
    format!(
        "{}/newsletter/unsubscribe?token={}",
        settings.server.public_url.as_str().trim_end_matches('/'),
        unsubscribe_token(keys, subscriber_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_tokens_verify_only_unchanged() {
        let keys = Keys::new("k");
        let token = unsubscribe_token(&keys, "0190-abc");
        assert_eq!(
            verify_unsubscribe_token(&keys, &token).as_deref(),
            Some("0190-abc")
        );
        assert!(verify_unsubscribe_token(&keys, &token.replace("abc", "abd")).is_none());
        assert!(verify_unsubscribe_token(&Keys::new("other"), &token).is_none());
        assert!(verify_unsubscribe_token(&keys, "no-dot").is_none());
        assert!(verify_unsubscribe_token(&keys, "").is_none());
    }
}
