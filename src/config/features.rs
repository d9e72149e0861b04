//! The smaller features' sections: feedback, comments, jobs, retention, the demo page.

use serde::{Deserialize, Serialize};

/// "Was this content helpful?" votes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeedbackSettings {
    /// Reasons a reader may give with a vote (`snake_case` words).
    pub reasons: Vec<String>,
    /// Most votes the writer commits in one transaction (group commit).
    pub write_batch_max: usize,
    /// Votes that may wait for the writer; beyond this, requests wait their turn.
    pub write_queue: usize,
    /// Votes an article needs before it is ranked in the staff report.
    pub min_votes: u32,
}

impl Default for FeedbackSettings {
    fn default() -> Self {
        FeedbackSettings {
            reasons: [
                "factual_error",
                "unclear",
                "missing_context",
                "too_long",
                "other",
            ]
            .map(String::from)
            .to_vec(),
            write_batch_max: 512,
            write_queue: 8192,
            min_votes: 10,
        }
    }
}

impl FeedbackSettings {
    pub(super) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.reasons.is_empty() {
            problems.push("feedback.reasons: name at least one reason".into());
        }
        for reason in &self.reasons {
            let ok = !reason.is_empty()
                && reason.len() <= 64
                && reason
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                problems.push(format!(
                    "feedback.reasons: {reason:?} must be 1 to 64 characters of a-z, 0-9 and _"
                ));
            }
        }
        if self.write_batch_max == 0 {
            problems.push("feedback.write_batch_max: must be at least 1".into());
        }
        if self.write_queue == 0 {
            problems.push("feedback.write_queue: must be at least 1".into());
        }
        problems
    }
}

/// "What are your thoughts?" reader comments and their spam defence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CommentSettings {
    /// A form sent back sooner than this after it was rendered is spam (time-trap).
    pub min_form_seconds: u64,
    /// A form token older than this is spam.
    pub max_form_age_hours: u64,
    /// Comments from one client IP per hour before further ones go to the spam folder.
    pub max_per_ip_per_hour: u32,
    /// Comments from one email address per day before further ones go to the spam folder.
    pub max_per_address_per_day: u32,
    /// Content score (links, repeated text, missing form token) at which a comment is spam.
    pub spam_score_threshold: i32,
    /// The newsroom's stronger channel for sources (a Signal number, a SecureDrop address),
    /// shown by the comment widget next to the confidential option.
    pub secure_contact_note: Option<String>,
}

impl Default for CommentSettings {
    fn default() -> Self {
        CommentSettings {
            min_form_seconds: 3,
            max_form_age_hours: 24,
            max_per_ip_per_hour: 10,
            max_per_address_per_day: 5,
            spam_score_threshold: 5,
            secure_contact_note: None,
        }
    }
}

impl CommentSettings {
    pub(super) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.max_form_age_hours == 0
            || self.min_form_seconds >= self.max_form_age_hours.saturating_mul(3600)
        {
            problems.push(
                "comments: min_form_seconds must be shorter than max_form_age_hours (at least 1)"
                    .into(),
            );
        }
        if self.max_per_ip_per_hour == 0 || self.max_per_address_per_day == 0 {
            problems.push(
                "comments: max_per_ip_per_hour and max_per_address_per_day must be at least 1"
                    .into(),
            );
        }
        if self.secure_contact_note.as_deref().is_some_and(|n| {
            n.chars().count() > 500 || n.chars().any(|c| c.is_control() && c != '\n')
        }) {
            problems.push(
                "comments.secure_contact_note: at most 500 characters, no control characters"
                    .into(),
            );
        }
        if self.spam_score_threshold < 1 {
            problems.push("comments.spam_score_threshold: must be at least 1".into());
        }
        problems
    }
}

/// Open positions: applications, CVs and how long they are kept.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JobsSettings {
    /// Days after a posting closes before its applicants' CVs are erased and their records
    /// anonymised (unless they agreed to be kept on file).
    pub retention_days: u32,
    /// The version of the privacy notice applicants agree to; stored with each consent.
    pub privacy_notice_version: String,
    /// Where the privacy notice can be read; linked from the application form when set.
    pub privacy_notice_url: Option<url::Url>,
}

/// How long personal data is kept: what the retention scheduler (run with the mail worker)
/// deletes, and when. Applicants follow `jobs.retention_days`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Minutes between two runs of the retention tasks.
    pub interval_minutes: u64,
    /// Days after its last confirmation email before a subscription never confirmed is
    /// deleted (the address, name, tokens and consent records).
    pub unconfirmed_subscription_days: u32,
    /// Days after it arrived before a comment in the spam folder is deleted.
    pub spam_comment_days: u32,
    /// Days after an email was sent (or cancelled) before its bodies and extra headers are
    /// cleared; recipient, subject, template, state and dates stay.
    pub sent_email_body_days: u32,
    /// Days of feedback voter keys kept, today included; older keys are deleted, after which
    /// the cookie-less voters hashed with them link to no IP address.
    pub voter_key_days: u32,
    /// Hours a reader's emailed "delete my data" link works; expired requests are deleted.
    pub erasure_link_hours: u32,
    /// Days after it arrived before a confidential tip is deleted with its notes and replies,
    /// unless a staff member holding the tips permission chose to keep it.
    pub confidential_tip_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            interval_minutes: 60,
            unconfirmed_subscription_days: 30,
            spam_comment_days: 30,
            sent_email_body_days: 90,
            voter_key_days: 1,
            erasure_link_hours: 24,
            confidential_tip_days: 180,
        }
    }
}

impl RetentionSettings {
    pub(super) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, value) in [
            ("interval_minutes", self.interval_minutes),
            (
                "unconfirmed_subscription_days",
                u64::from(self.unconfirmed_subscription_days),
            ),
            ("spam_comment_days", u64::from(self.spam_comment_days)),
            ("sent_email_body_days", u64::from(self.sent_email_body_days)),
            ("voter_key_days", u64::from(self.voter_key_days)),
            ("erasure_link_hours", u64::from(self.erasure_link_hours)),
            (
                "confidential_tip_days",
                u64::from(self.confidential_tip_days),
            ),
        ] {
            if value == 0 {
                problems.push(format!("retention.{key}: must be at least 1"));
            }
        }
        problems
    }
}

/// The demo article page (`/demo/article`) with every reader widget embedded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// Serve `/demo/article` and allow `server.public_url` as a CORS origin of the public API.
    pub enabled: bool,
}
