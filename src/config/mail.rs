//! Mail delivery and the newsletter's sending settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MailTransportKind {
    File,
    Smtp,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub transport: MailTransportKind,
    pub file_dir: PathBuf,
    /// `smtp://host:port` (plain or STARTTLS when offered), `smtps://user:pass@host:465`,
    /// add `?tls=required` to insist on STARTTLS.
    pub smtp_url: Option<Secret>,
    pub from: String,
    pub staff_inbox: String,
    /// Global send rate cap (0 = none): on PostgreSQL shared by every worker process through
    /// the database, on SQLite (one process) kept in memory.
    pub max_per_second: u32,
    /// Delivery attempts before an email is failed for good.
    pub max_attempts: u32,
    /// Parallel SMTP connections per worker process.
    pub smtp_connections: usize,
    /// Seconds before an SMTP command times out.
    pub smtp_timeout_seconds: u64,
    /// Rows a worker claims at a time.
    pub batch_size: u32,
    /// Milliseconds between outbox polls when idle (a local enqueue wakes the worker at once).
    pub poll_interval_ms: u64,
    /// Seconds a claimed row stays leased at most; an expired lease is reclaimed by any worker.
    pub lease_seconds: u64,
    /// Seconds between two heartbeats of a running worker.
    pub heartbeat_seconds: u64,
    /// Seconds without a heartbeat after which a worker counts as dead and its claimed rows
    /// are taken over by the others.
    pub heartbeat_timeout_seconds: u64,
    /// First retry delay in milliseconds; doubles per attempt, with jitter.
    pub retry_base_ms: u64,
    /// Longest retry delay in milliseconds.
    pub retry_max_ms: u64,
    /// Run the outbox worker inside `serve`.
    pub worker_in_serve: bool,
}

/// The newsletter: double opt-in, sending, bounce webhooks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewsletterSettings {
    /// Version of the consent wording shown on the sign-up form; recorded with each consent.
    pub consent_wording_version: String,
    /// Days a confirmation link stays valid.
    pub confirm_token_days: u32,
    /// Minutes between two confirmation emails to one address.
    pub confirmation_interval_minutes: u32,
    /// Subscription requests per address per minute (burst of a fifth); 429 beyond.
    pub per_address_per_minute: u32,
    /// Text at the foot of every newsletter issue (who sends it, postal address).
    pub footer: String,
    /// Milliseconds between two looks for issues due to send.
    pub dispatch_interval_ms: u64,
    /// Recipients queued per transaction while sending an issue.
    pub dispatch_batch_size: u32,
    /// Soft bounces in a row that suppress an address.
    pub soft_bounce_limit: u32,
    /// Key for `POST /api/v1/webhooks/mail/generic` (HMAC-SHA256 of the body). Secret.
    pub webhook_secret: Option<Secret>,
    /// Mailgun's webhook signing key for `POST /api/v1/webhooks/mail/mailgun`. Secret.
    pub mailgun_signing_key: Option<Secret>,
}

impl Default for NewsletterSettings {
    fn default() -> Self {
        NewsletterSettings {
            consent_wording_version: "1".into(),
            confirm_token_days: 7,
            confirmation_interval_minutes: 10,
            per_address_per_minute: 10,
            footer: "You receive this email because you subscribed to our newsletter.".into(),
            dispatch_interval_ms: 1_000,
            dispatch_batch_size: 500,
            soft_bounce_limit: 3,
            webhook_secret: None,
            mailgun_signing_key: None,
        }
    }
}
