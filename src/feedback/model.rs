//! Domain types of "Was this content helpful?": what a request must turn into before it is
//! stored.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::FeedbackSettings;
use crate::domain::text::{self, Lines};
use crate::domain::ArticleUrl;
use crate::error::{AppError, FieldError};

/// Longest comment left with a vote, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// `POST /api/v1/feedback` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteRequest {
    /// The article's absolute address, on one of the newsroom's hosts.
    #[schema(example = "https://news.example.org/2024/05/story")]
    pub article_url: String,
    pub helpful: bool,
    /// One of `feedback.reasons` (defaults: factual_error, unclear, missing_context, too_long, other).
    pub reason: Option<String>,
    /// At most 2,000 characters.
    pub comment: Option<String>,
    /// Checked like every public body's (a vote stores no language: no email follows it).
    #[serde(default)]
    #[schema(schema_with = crate::web::openapi::lang_schema)]
    pub lang: Option<String>,
}

/// The answer to a vote.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VoteResponse {
    /// The vote's identifier (the same when a voter changes or repeats a vote).
    pub id: String,
    pub helpful: bool,
}

/// `GET /api/v1/feedback/summary` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SummaryResponse {
    /// The article's normalised address.
    pub article_url: String,
    pub helpful: i64,
    pub not_helpful: i64,
    pub total: i64,
}

/// `GET /api/v1/feedback/options` answer: what a vote may carry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OptionsResponse {
    /// The accepted `reason` values (`feedback.reasons`), in the configured order.
    pub reasons: Vec<String>,
    /// Longest `comment`, in characters.
    pub comment_max_chars: usize,
}

/// A valid vote, as a reader gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    pub article_url: ArticleUrl,
    pub helpful: bool,
    pub reason: Option<String>,
    pub comment: Option<String>,
}

impl Ballot {
    /// Checks every field and names each failing one.
    pub fn parse(
        request: VoteRequest,
        settings: &FeedbackSettings,
        hosts: &[String],
    ) -> Result<Ballot, AppError> {
        let mut errors = Vec::new();
        let article_url = ArticleUrl::parse(&request.article_url, hosts)
            .map_err(|m| errors.push(FieldError::new("article_url", m)))
            .ok();
        let reason = match request.reason.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) if settings.reasons.iter().any(|known| known == r) => Some(r.to_string()),
            Some(_) => {
                errors.push(FieldError::new(
                    "reason",
                    format!("Choose one of: {}.", settings.reasons.join(", ")),
                ));
                None
            }
        };
        let comment = match request.comment.as_deref().map(clean_text) {
            None => None,
            Some(Ok(c)) if c.is_empty() => None,
            Some(Ok(c)) if c.chars().count() > MAX_COMMENT_CHARS => {
                errors.push(FieldError::new(
                    "comment",
                    format!("A comment has at most {MAX_COMMENT_CHARS} characters."),
                ));
                None
            }
            Some(Ok(c)) => Some(c),
            Some(Err(m)) => {
                errors.push(FieldError::new("comment", m));
                None
            }
        };
        match article_url {
            Some(article_url) if errors.is_empty() => Ok(Ballot {
                article_url,
                helpful: request.helpful,
                reason,
                comment,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// A reader's or editor's free text, by the one rule ([`crate::domain::text::clean_text`]);
/// the length is checked by each caller, which names the field in its message.
pub fn clean_text(input: &str) -> Result<String, String> {
    text::clean_text(input, Lines::Many, usize::MAX).map_err(|e| e.to_string())
}

/// Who voted: the `fd_voter` cookie, or (without one) the day's hash of IP and User-Agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voter {
    /// Stored in `feedback_votes.voter`: `c:…` for a cookie, `h:…` for the fallback hash.
    pub key: String,
    /// For a cookie voter whose cookie may have been set today (see `voter::may_carry_over`):
    /// this request's fallback hash. On the voter's first vote on an article, the writer
    /// looks for a vote cast under it before the cookie was set and carries it over to the
    /// cookie. `None` when there is nothing to look for, and then no hash is computed.
    pub carry_over_from: Option<String>,
}

/// A vote ready to be written.
#[derive(Debug, Clone)]
pub struct NewVote {
    pub ballot: Ballot,
    pub voter: Voter,
}

/// What writing a vote did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteOutcome {
    pub id: String,
    /// True for a first vote (201), false for a changed or repeated one (200).
    pub created: bool,
}

crate::text_enum! {
    /// Where staff are with a comment left with a vote.
    pub enum CommentStatus {
        New => "new",
        InProgress => "in_progress",
        Resolved => "resolved",
        Dismissed => "dismissed",
    }
}

/// The Wilson score interval's lower bound for `positive` out of `total` at 95 % confidence:
/// the helpful share an article can be trusted to reach, low for few votes.
pub fn wilson_lower_bound(positive: i64, total: i64) -> f64 {
    // Exactly 0 without a positive vote (the formula gives 0 give or take rounding), so
    // articles without one tie and are told apart by their vote count.
    if total <= 0 || positive <= 0 {
        return 0.0;
    }
    const Z: f64 = 1.959_963_984_540_054;
    let n = total as f64;
    let p = positive as f64 / n;
    let z2 = Z * Z;
    let centre = p + z2 / (2.0 * n);
    let margin = Z * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt();
    ((centre - margin) / (1.0 + z2 / n)).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["localhost".into()]
    }

    fn request(article_url: &str) -> VoteRequest {
        VoteRequest {
            article_url: article_url.into(),
            helpful: false,
            reason: None,
            comment: None,
            lang: None,
        }
    }

    fn fields(e: AppError) -> Vec<String> {
        match e {
            AppError::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_ballot_is_trimmed_and_normalised() {
        let ballot = Ballot::parse(
            VoteRequest {
                reason: Some(" unclear ".into()),
                comment: Some("  Too vague.\r\nWhat happened next?  ".into()),
                lang: None,
                ..request("http://LOCALHOST/story/?x=1")
            },
            &FeedbackSettings::default(),
            &hosts(),
        )
        .expect("valid");
        assert_eq!(ballot.article_url.as_str(), "http://localhost/story");
        assert_eq!(ballot.reason.as_deref(), Some("unclear"));
        assert_eq!(
            ballot.comment.as_deref(),
            Some("Too vague.\nWhat happened next?")
        );
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let err = Ballot::parse(
            VoteRequest {
                reason: Some("boring".into()),
                comment: Some("x".repeat(MAX_COMMENT_CHARS + 1)),
                lang: None,
                ..request("https://elsewhere.example/story")
            },
            &FeedbackSettings::default(),
            &hosts(),
        )
        .expect_err("invalid");
        assert_eq!(fields(err), ["article_url", "reason", "comment"]);
        let err = Ballot::parse(
            VoteRequest {
                comment: Some("bell\u{7}".into()),
                lang: None,
                ..request("http://localhost/a")
            },
            &FeedbackSettings::default(),
            &hosts(),
        )
        .expect_err("control character");
        assert_eq!(fields(err), ["comment"]);
    }

    #[test]
    fn empty_reason_and_comment_are_absent() {
        let ballot = Ballot::parse(
            VoteRequest {
                reason: Some("".into()),
                comment: Some("   ".into()),
                lang: None,
                ..request("http://localhost/a")
            },
            &FeedbackSettings::default(),
            &hosts(),
        )
        .expect("valid");
        assert_eq!((ballot.reason, ballot.comment), (None, None));
    }

    #[test]
    fn wilson_bound_prefers_more_evidence() {
        assert_eq!(wilson_lower_bound(0, 0), 0.0);
        // 1 of 1 is less convincing than 90 of 100.
        assert!(wilson_lower_bound(1, 1) < wilson_lower_bound(90, 100));
        // Known value: 8 of 10 → about 0.4902.
        assert!((wilson_lower_bound(8, 10) - 0.4902).abs() < 1e-3);
        assert!(wilson_lower_bound(100, 100) < 1.0);
        assert!(wilson_lower_bound(0, 50) >= 0.0);
    }

    #[test]
    fn statuses_round_trip() {
        for st in CommentStatus::ALL {
            assert_eq!(CommentStatus::parse(st.as_str()), Some(st));
        }
        assert_eq!(CommentStatus::parse("open"), None);
    }
}
