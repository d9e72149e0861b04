//! The service's own sections: where it listens, its database, limits, keys, staff sessions,
//! logs, uploads and the site it serves.

use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::Secret;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Base of every link in emails and pages.
    pub public_url: url::Url,
    /// Site origins allowed to call the public API from a browser.
    pub allowed_origins: Vec<String>,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Cap for JSON and form bodies.
    pub max_body_bytes: usize,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds to drain in-flight requests on SIGTERM/SIGINT.
    pub shutdown_timeout_seconds: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://relative.db`, `sqlite:///absolute.db` or `postgres://…`.
    pub url: Secret,
    pub pool_size: u32,
    /// Seconds to wait for a pooled connection before failing the request.
    pub connect_timeout_seconds: u64,
    /// SQLite: milliseconds a writer waits for the lock before giving up.
    pub sqlite_busy_timeout_ms: u64,
    /// SQLite `synchronous` pragma: `full` (durable on power loss) or `normal`.
    pub sqlite_synchronous: SqliteSynchronous,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

impl SiteSettings {
    /// The newsroom's time zone (checked when the settings are loaded; UTC if unreadable).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiteSettings {
    pub name: String,
    pub article_hosts: Vec<String>,
    pub timezone: String,
    /// The organisation's legal name, printed on donation receipts.
    pub legal_name: String,
    /// The organisation's tax id (e.g. an EIN), printed on donation receipts when set.
    pub tax_id: Option<String>,
    /// Reader-facing languages; each needs a catalogue under `locales/<tag>/`.
    pub languages: Vec<String>,
    /// The language of a reader who asks for none we offer; one of `languages`.
    pub default_language: String,
    /// The site's own words per language: `[site.wording.<lang>]` with `message-id = "text"`
    /// (Fluent syntax) replaces that catalogue message for that language, e.g.
    /// `receipt-legal` or `newsletter-footer`. Checked at start-up.
    #[serde(default)]
    pub wording: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UploadSettings {
    pub dir: PathBuf,
    pub max_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    pub enabled: bool,
    pub public_per_minute: u32,
    pub login_per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Key for hashing IPs and signing links. When unset, a random key is generated once
    /// and kept in the database, so every instance sharing the database agrees on it.
    pub secret_key: Option<Secret>,
    /// A file holding the key of confidential tips (32 bytes, base64). Confidential tips are
    /// accepted exactly when a tips key is configured (this or `tips_key`, not both).
    pub tips_key_file: Option<PathBuf>,
    /// The key of confidential tips itself (32 bytes, base64), e.g. from the environment
    /// variable `FRONTDESK_SECURITY__TIPS_KEY`. Secret.
    pub tips_key: Option<Secret>,
}

impl SecuritySettings {
    /// The configured tips key: `None` when confidential tips are off; an error naming the
    /// key (never its value) when one is configured but unusable.
    pub fn load_tips_key(&self) -> Result<Option<crate::sealed::TipsKey>, String> {
        match (&self.tips_key_file, &self.tips_key) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(
                "security.tips_key_file and security.tips_key: set one of them, not both".into(),
            ),
            (Some(path), None) => crate::sealed::TipsKey::read_file(path)
                .map(Some)
                .map_err(|e| format!("security.tips_key_file: {e}")),
            (None, Some(key)) => crate::sealed::TipsKey::parse(key.expose())
                .map(Some)
                .map_err(|e| format!("security.tips_key: {e}")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StaffSettings {
    /// Minutes of inactivity after which a staff session ends.
    pub session_idle_minutes: u32,
    /// Hours after sign-in after which a staff session ends, active or not.
    pub session_absolute_hours: u32,
    /// Failed sign-ins per (account, client IP) per hour before each further attempt from that
    /// client must wait.
    pub max_failed_logins_per_hour: u32,
    /// Seconds between one client's attempts on an account past that limit (never a lock-out).
    pub failed_login_delay_seconds: u32,
    /// Password hashes computed at once per process; more sign-ins at the same moment get 429.
    pub max_concurrent_hashes: usize,
    /// Minutes a first-run setup link stays valid.
    pub setup_link_minutes: u32,
    /// Every staff account must have a second factor: one without is sent to enrolment after
    /// signing in and can do nothing else (pages redirect there, the API answers 403).
    pub require_two_factor: bool,
    /// Email a staff member when their account signs in from a browser it has not seen before.
    pub new_browser_emails: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `frontdesk=debug,actix_web=info`; `RUST_LOG` wins.
    pub level: String,
}
