//! Spam defence for reader comments, cheapest rule first. Every comment gets a verdict, the
//! rule that gave it and the signals seen; spam is kept (in the spam folder), never dropped,
//! and gets no email.
//!
//! 1. `honeypot`: the hidden `website` field was filled in.
//! 2. The time-trap: the form carries a signed render-time token from
//!    `GET /api/v1/comments/token`. `too_fast` (sent sooner than `comments.min_form_seconds`
//!    after rendering), `token_expired` (older than `comments.max_form_age_hours`),
//!    `bad_token` (not signed by us). A missing token is allowed but scored.
//! 3. `ip_limit` / `address_limit`: more comments from the client IP this hour, or from the
//!    address today, than configured.
//! 4. `content_score`: links, link markup, repeated text, the same text sent recently, and
//!    a missing token add up to `comments.spam_score_threshold`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::CommentSettings;
use crate::keys::Keys;

const TOKEN_PURPOSE: &str = "comment-form";

/// Issues a form token for a form rendered at `now`.
pub fn issue_token(keys: &Keys, now: DateTime<Utc>) -> String {
    let issued = now.timestamp_millis().to_string();
    let signature = keys.sign(TOKEN_PURPOSE, &issued);
    format!("{issued}.{signature}")
}

/// What the time-trap made of a form token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Fine,
    Missing,
    Forged,
    TooFast,
    Expired,
}

pub fn check_token(
    keys: &Keys,
    token: Option<&str>,
    now: DateTime<Utc>,
    settings: &CommentSettings,
) -> TokenCheck {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return TokenCheck::Missing;
    };
    let Some((issued, signature)) = token.split_once('.') else {
        return TokenCheck::Forged;
    };
    if issued.len() > 20 || !keys.verify(TOKEN_PURPOSE, issued, signature) {
        return TokenCheck::Forged;
    }
    let Ok(issued_ms) = issued.parse::<i64>() else {
        return TokenCheck::Forged;
    };
    let age_ms = now.timestamp_millis() - issued_ms;
    let min_ms = i64::try_from(settings.min_form_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
    let max_ms =
        i64::try_from(settings.max_form_age_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
    if age_ms < min_ms {
        TokenCheck::TooFast
    } else if age_ms > max_ms {
        TokenCheck::Expired
    } else {
        TokenCheck::Fine
    }
}

/// The decision on one comment, stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub spam: bool,
    /// The rule that made it spam (`None` for a comment that passed).
    pub rule: Option<&'static str>,
    /// The content score.
    pub score: i32,
    /// Every signal seen, e.g. `["no_token:2", "links:3"]`.
    pub signals: Vec<String>,
}

impl Verdict {
    fn spam(rule: &'static str, score: i32, mut signals: Vec<String>) -> Verdict {
        signals.push(rule.to_string());
        Verdict {
            spam: true,
            rule: Some(rule),
            score,
            signals,
        }
    }

    pub fn signals_text(&self) -> String {
        self.signals.join(",")
    }
}

/// What the rules that need no database decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstPass {
    /// Spam already (honeypot or time-trap).
    pub decided: Option<Verdict>,
    pub score: i32,
    pub signals: Vec<String>,
}

/// Rules 1, 2 and the content part of 4 that needs no database.
pub fn first_pass(
    honeypot: bool,
    token: TokenCheck,
    subject: Option<&str>,
    message: &str,
) -> FirstPass {
    let (score, mut signals) = content_score(subject, message);
    let mut score = score;
    if token == TokenCheck::Missing {
        score += 2;
        signals.push("no_token:2".into());
    }
    let decided = if honeypot {
        Some(Verdict::spam("honeypot", score, signals.clone()))
    } else {
        match token {
            TokenCheck::Forged => Some(Verdict::spam("bad_token", score, signals.clone())),
            TokenCheck::TooFast => Some(Verdict::spam("too_fast", score, signals.clone())),
            TokenCheck::Expired => Some(Verdict::spam("token_expired", score, signals.clone())),
            TokenCheck::Fine | TokenCheck::Missing => None,
        }
    };
    FirstPass {
        decided,
        score,
        signals,
    }
}

/// What the database knows about recent comments like this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recent {
    /// Comments from the same client IP in the last hour.
    pub from_ip: i64,
    /// Comments from the same address in the last 24 hours.
    pub from_address: i64,
    /// Comments with the same text in the last 24 hours.
    pub same_text: i64,
}

/// Rules 3 and 4, after [`first_pass`] found nothing.
pub fn final_verdict(first: FirstPass, recent: Recent, settings: &CommentSettings) -> Verdict {
    if let Some(verdict) = first.decided {
        return verdict;
    }
    let FirstPass {
        mut score,
        mut signals,
        ..
    } = first;
    if recent.from_ip >= i64::from(settings.max_per_ip_per_hour) {
        return Verdict::spam("ip_limit", score, signals);
    }
    if recent.from_address >= i64::from(settings.max_per_address_per_day) {
        return Verdict::spam("address_limit", score, signals);
    }
    if recent.same_text > 0 {
        score += 3;
        signals.push("duplicate_text:3".into());
    }
    if score >= settings.spam_score_threshold {
        return Verdict::spam("content_score", score, signals);
    }
    Verdict {
        spam: false,
        rule: None,
        score,
        signals,
    }
}

/// Scores links, link markup and repeated text; returns the score and its signals.
pub fn content_score(subject: Option<&str>, message: &str) -> (i32, Vec<String>) {
    let mut score = 0;
    let mut signals = Vec::new();
    let text = format!("{}\n{message}", subject.unwrap_or_default()).to_lowercase();

    let links = ["http://", "https://", "www."]
        .iter()
        .map(|needle| text.matches(needle).count())
        .sum::<usize>()
        // `https://www.` is one link, not two.
        .saturating_sub(text.matches("://www.").count()) as i32;
    if links > 0 {
        let points = 1 + 2 * (links - 1);
        score += points;
        signals.push(format!("links:{points}"));
    }
    if text.contains("<a ") || text.contains("[url") || text.contains("[link") {
        score += 3;
        signals.push("link_markup:3".into());
    }
    if has_repeated_text(message) {
        score += 3;
        signals.push("repeated_text:3".into());
    }
    if subject.is_some_and(super::model::looks_like_url) {
        score += 2;
        signals.push("link_in_subject:2".into());
    }
    (score, signals)
}

/// A line said three times, one word making up most of a long text, or a character run.
fn has_repeated_text(message: &str) -> bool {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| l.chars().count() >= 8)
        .collect();
    for (i, line) in lines.iter().enumerate() {
        if lines[i..].iter().filter(|other| *other == line).count() >= 3 {
            return true;
        }
    }
    let words: Vec<String> = message
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| w.chars().count() >= 3)
        .collect();
    if words.len() >= 12 {
        let mut counts = std::collections::HashMap::new();
        for w in &words {
            *counts.entry(w.as_str()).or_insert(0usize) += 1;
        }
        if counts.values().any(|n| n * 10 >= words.len() * 4) {
            return true;
        }
    }
    let mut run = 0;
    let mut last = None;
    for c in message.chars().filter(|c| !c.is_whitespace()) {
        if Some(c) == last {
            run += 1;
            if run >= 20 {
                return true;
            }
        } else {
            run = 1;
            last = Some(c);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn settings() -> CommentSettings {
        CommentSettings::default()
    }

    #[test]
    fn tokens_trap_fast_old_and_forged_forms() {
        let keys = Keys::new("k");
        let now = Utc::now();
        let token = issue_token(&keys, now - Duration::seconds(10));
        let s = settings();
        assert_eq!(check_token(&keys, Some(&token), now, &s), TokenCheck::Fine);
        let fresh = issue_token(&keys, now - Duration::milliseconds(500));
        assert_eq!(
            check_token(&keys, Some(&fresh), now, &s),
            TokenCheck::TooFast
        );
        let old = issue_token(&keys, now - Duration::hours(25));
        assert_eq!(check_token(&keys, Some(&old), now, &s), TokenCheck::Expired);
        assert_eq!(check_token(&keys, None, now, &s), TokenCheck::Missing);
        assert_eq!(check_token(&keys, Some(" "), now, &s), TokenCheck::Missing);
        let other = issue_token(&Keys::new("other"), now - Duration::seconds(10));
        assert_eq!(
            check_token(&keys, Some(&other), now, &s),
            TokenCheck::Forged
        );
        let (_, sig) = token.split_once('.').expect("dot");
        let backdated = format!("{}.{sig}", (now - Duration::seconds(60)).timestamp_millis());
        assert_eq!(
            check_token(&keys, Some(&backdated), now, &s),
            TokenCheck::Forged
        );
        assert_eq!(
            check_token(&keys, Some("garbage"), now, &s),
            TokenCheck::Forged
        );
    }

    #[test]
    fn cheapest_rule_decides_first() {
        let s = settings();
        let first = first_pass(true, TokenCheck::TooFast, None, "hello");
        let v = final_verdict(first, Recent::default(), &s);
        assert_eq!(v.rule, Some("honeypot"));
        let first = first_pass(false, TokenCheck::TooFast, None, "hello");
        assert_eq!(
            final_verdict(first, Recent::default(), &s).rule,
            Some("too_fast")
        );
        let first = first_pass(false, TokenCheck::Fine, None, "hello");
        let busy = Recent {
            from_ip: 10,
            from_address: 10,
            same_text: 0,
        };
        assert_eq!(
            final_verdict(first.clone(), busy, &s).rule,
            Some("ip_limit")
        );
        let busy_address = Recent { from_ip: 0, ..busy };
        assert_eq!(
            final_verdict(first.clone(), busy_address, &s).rule,
            Some("address_limit")
        );
        let v = final_verdict(first, Recent::default(), &s);
        assert!(!v.spam);
        assert_eq!(v.rule, None);
    }

    #[test]
    fn content_score_adds_links_markup_and_repetition() {
        let s = settings();
        let (score, _) = content_score(None, "I liked the piece, see https://example.org/ref");
        assert_eq!(score, 1);
        let (score, signals) = content_score(
            None,
            "buy https://a.example https://b.example www.c.example",
        );
        assert_eq!(score, 5, "{signals:?}");
        let first = first_pass(
            false,
            TokenCheck::Fine,
            None,
            "buy https://a.example https://b.example www.c.example",
        );
        assert_eq!(
            final_verdict(first, Recent::default(), &s).rule,
            Some("content_score")
        );
        assert!(has_repeated_text(
            "BUY NOW PLEASE\nBUY NOW PLEASE\nBUY NOW PLEASE"
        ));
        assert!(has_repeated_text(&"cheap ".repeat(20)));
        assert!(has_repeated_text(&"!".repeat(25)));
        assert!(!has_repeated_text(
            "The article says the training will take place next year, but the ministry said otherwise."
        ));
        // A missing token alone is allowed; with two links it tips over.
        let v = final_verdict(
            first_pass(false, TokenCheck::Missing, None, "Fine story."),
            Recent::default(),
            &s,
        );
        assert!(!v.spam);
        assert_eq!(v.score, 2);
        let v = final_verdict(
            first_pass(
                false,
                TokenCheck::Missing,
                None,
                "See https://a.example and https://b.example",
            ),
            Recent::default(),
            &s,
        );
        assert_eq!(v.rule, Some("content_score"));
        let v = final_verdict(
            first_pass(false, TokenCheck::Missing, None, "Same words again."),
            Recent {
                same_text: 1,
                ..Recent::default()
            },
            &s,
        );
        assert_eq!(v.rule, Some("content_score"));
    }
}
