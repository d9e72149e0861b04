//! Settings: built-in defaults → `config/default.toml` → `config/$FRONTDESK_ENV.toml` →
//! `--config FILE` → `FRONTDESK_<SECTION>__<KEY>` environment variables (later wins).
//!
//! Every struct denies unknown fields, so a mistyped key stops start-up with a message
//! naming the key and the file or variable it came from. Secrets are [`Secret`]s: they
//! print as `********` wherever configuration is shown or logged.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Environment variable prefix for configuration keys.
pub const ENV_PREFIX: &str = "FRONTDESK_";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub mail: MailSettings,
    pub payments: PaymentSettings,
    pub donations: DonationSettings,
    pub site: SiteSettings,
    pub uploads: UploadSettings,
    pub limits: LimitSettings,
    pub security: SecuritySettings,
    pub staff: StaffSettings,
    pub log: LogSettings,
    pub feedback: FeedbackSettings,
    pub comments: CommentSettings,
    pub jobs: JobsSettings,
    pub newsletter: NewsletterSettings,
    pub demo: DemoSettings,
    pub retention: RetentionSettings,
}

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
    /// Global send rate cap per worker process (0 = none).
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
    /// Seconds a claimed row stays leased; an expired lease is reclaimed by any worker.
    pub lease_seconds: u64,
    /// First retry delay in milliseconds; doubles per attempt, with jitter.
    pub retry_base_ms: u64,
    /// Longest retry delay in milliseconds.
    pub retry_max_ms: u64,
    /// Run the outbox worker inside `serve`.
    pub worker_in_serve: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettings {
    pub provider: PaymentProviderKind,
    pub manual: ManualPaymentSettings,
    pub stripe: StripeSettings,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PaymentProviderKind {
    Manual,
    Stripe,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ManualPaymentSettings {
    pub instructions: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StripeSettings {
    pub secret_key: Option<Secret>,
    pub webhook_secret: Option<Secret>,
    pub api_base: url::Url,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DonationSettings {
    pub currencies: BTreeMap<String, CurrencyBounds>,
    /// Processor fee in percent of the charged total, for the optional "cover the fees" gross-up.
    pub fee_percent: f64,
    /// Fixed processor fee per charge in minor units, for the same gross-up.
    pub fee_fixed_minor: i64,
    /// First month (1-12) of the fiscal year used by yearly statements; 1 means calendar years.
    pub fiscal_year_start_month: u32,
    /// Print "No goods or services were provided in exchange for this contribution" on receipts.
    pub no_goods_or_services: bool,
    /// Hours a donor's self-service link stays valid.
    pub manage_link_hours: u32,
    /// Donation attempts per minute per client IP (card-testing defence; off with limits.enabled = false).
    pub per_ip_per_minute: u32,
    /// Donation attempts per minute per donor email address.
    pub per_email_per_minute: u32,
    /// Failed payments within an hour from one IP or email address before a cool-down starts.
    pub failure_threshold: u32,
    /// Minutes of that cool-down.
    pub failure_cooldown_minutes: u32,
    /// Failed payments within an hour, across all donors, that trigger one alert to mail.staff_inbox per hour.
    pub failure_alert_threshold: u32,
    /// Suggested amounts (minor units) per currency and frequency, offered by the donate widget.
    pub presets: BTreeMap<String, DonationPresets>,
}

/// The amounts the donate widget offers for one currency, in minor units.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DonationPresets {
    pub one_time: Vec<i64>,
    pub monthly: Vec<i64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CurrencyBounds {
    pub min: i64,
    pub max: i64,
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

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings {
                bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
                public_url: url::Url::parse("http://127.0.0.1:8080").expect("valid default URL"),
                allowed_origins: Vec::new(),
                trusted_proxies: Vec::new(),
                max_body_bytes: 64 * 1024,
                workers: 0,
                shutdown_timeout_seconds: 30,
            },
            database: DatabaseSettings {
                url: Secret::new("sqlite://data/frontdesk.db"),
                pool_size: 8,
                connect_timeout_seconds: 5,
                sqlite_busy_timeout_ms: 5_000,
                sqlite_synchronous: SqliteSynchronous::Full,
            },
            mail: MailSettings {
                transport: MailTransportKind::File,
                file_dir: PathBuf::from("data/mail"),
                smtp_url: None,
                from: "Newsroom <newsroom@localhost>".into(),
                staff_inbox: "newsroom@localhost".into(),
                max_per_second: 0,
                max_attempts: 12,
                smtp_connections: 8,
                smtp_timeout_seconds: 30,
                batch_size: 200,
                poll_interval_ms: 1_000,
                lease_seconds: 300,
                retry_base_ms: 30_000,
                retry_max_ms: 6 * 3_600_000,
                worker_in_serve: true,
            },
            payments: PaymentSettings {
                provider: PaymentProviderKind::Manual,
                manual: ManualPaymentSettings {
                    instructions: "Please transfer the amount to our bank account and quote your \
                                   donation reference. Thank you for supporting independent journalism."
                        .into(),
                },
                stripe: StripeSettings {
                    secret_key: None,
                    webhook_secret: None,
                    api_base: url::Url::parse("https://api.stripe.com").expect("valid default URL"),
                },
            },
            donations: DonationSettings {
                currencies: BTreeMap::from([(
                    "USD".to_string(),
                    CurrencyBounds {
                        min: 100,
                        max: 10_000_000,
                    },
                )]),
                fee_percent: 2.9,
                fee_fixed_minor: 30,
                fiscal_year_start_month: 1,
                no_goods_or_services: true,
                manage_link_hours: 24,
                per_ip_per_minute: 10,
                per_email_per_minute: 5,
                failure_threshold: 5,
                failure_cooldown_minutes: 60,
                failure_alert_threshold: 20,
                presets: BTreeMap::from([(
                    "USD".to_string(),
                    DonationPresets {
                        one_time: vec![1_000, 2_500, 5_000, 10_000],
                        monthly: vec![500, 1_000, 2_500, 5_000],
                    },
                )]),
            },
            site: SiteSettings {
                name: "Newsroom".into(),
                article_hosts: vec!["localhost".into(), "127.0.0.1".into()],
                timezone: "UTC".into(),
                legal_name: "Newsroom".into(),
                tax_id: None,
            },
            uploads: UploadSettings {
                dir: PathBuf::from("data/uploads"),
                max_bytes: 10 * 1024 * 1024,
            },
            limits: LimitSettings {
                enabled: true,
                public_per_minute: 60,
                login_per_minute: 10,
            },
            security: SecuritySettings { secret_key: None },
            staff: StaffSettings {
                session_idle_minutes: 8 * 60,
                session_absolute_hours: 7 * 24,
                max_failed_logins_per_hour: 100,
                failed_login_delay_seconds: 30,
                max_concurrent_hashes: 1,
                setup_link_minutes: 60,
            },
            log: LogSettings {
                format: LogFormat::Pretty,
                level: "info".into(),
            },
            feedback: FeedbackSettings::default(),
            comments: CommentSettings::default(),
            jobs: JobsSettings {
                retention_days: 180,
                privacy_notice_version: "1".into(),
                privacy_notice_url: None,
            },
            newsletter: NewsletterSettings::default(),
            demo: DemoSettings { enabled: true },
            retention: RetentionSettings::default(),
        }
    }
}

/// Where configuration is read from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Folder holding `default.toml` and `<env>.toml`.
    pub dir: PathBuf,
    /// The environment name (`FRONTDESK_ENV`, default `development`).
    pub env: String,
    /// `--config FILE`.
    pub extra_file: Option<PathBuf>,
    /// Read `FRONTDESK_*__*` variables.
    pub use_env_vars: bool,
}

impl Sources {
    /// The standard sources: `config/` in the working directory, `FRONTDESK_ENV`, env vars.
    pub fn standard(extra_file: Option<PathBuf>) -> Self {
        Sources {
            dir: PathBuf::from("config"),
            env: std::env::var("FRONTDESK_ENV").unwrap_or_else(|_| "development".into()),
            extra_file,
            use_env_vars: true,
        }
    }
}

/// The shortest accepted key we choose ourselves (the service key, the generic bounce
/// webhook's HMAC key), in bytes.
pub const OWN_KEY_MIN_BYTES: usize = 32;
/// The shortest accepted secret a provider issues (Stripe, Mailgun), in bytes: real ones are
/// longer; anything shorter is a placeholder or a typo.
pub const PROVIDER_SECRET_MIN_BYTES: usize = 16;

/// A configuration that could not be loaded; the message names each key and its source.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .0.join("\n"))]
pub struct ConfigError(pub Vec<String>);

impl Settings {
    /// Loads settings from the given sources, later sources winning.
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        let figment = Self::figment(sources)?;
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError(describe(&figment, e)))?;
        settings.validate().map_err(ConfigError)?;
        Ok(settings)
    }

    fn figment(sources: &Sources) -> Result<Figment, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        let default_file = sources.dir.join("default.toml");
        if default_file.exists() {
            figment = figment.merge(Toml::file_exact(&default_file));
        }
        let env_file = sources.dir.join(format!("{}.toml", sources.env));
        if env_file.exists() {
            figment = figment.merge(Toml::file_exact(&env_file));
        }
        if let Some(extra) = &sources.extra_file {
            if !extra.exists() {
                return Err(ConfigError(vec![format!(
                    "--config {}: no such file",
                    extra.display()
                )]));
            }
            figment = figment.merge(Toml::file_exact(extra));
        }
        if sources.use_env_vars {
            // Only `SECTION__KEY` variables are configuration; FRONTDESK_ENV and friends are not.
            figment = figment.merge(
                Env::prefixed(ENV_PREFIX)
                    .filter(|key| key.as_str().contains("__"))
                    .split("__"),
            );
        }
        Ok(figment)
    }

    /// Checks what types alone cannot express.
    fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let url = self.database.url.expose();
        if !(url.starts_with("sqlite://")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            problems.push(
                "database.url: must start with sqlite://, postgres:// or postgresql://".into(),
            );
        }
        if self.site.timezone.parse::<chrono_tz::Tz>().is_err() {
            problems.push(format!(
                "site.timezone: not an IANA time zone name (like Europe/Berlin): {:?}",
                self.site.timezone
            ));
        }
        if self.database.pool_size == 0 {
            problems.push("database.pool_size: must be at least 1".into());
        }
        if self.mail.transport == MailTransportKind::Smtp && self.mail.smtp_url.is_none() {
            problems.push("mail.smtp_url: required when mail.transport = \"smtp\"".into());
        }
        if let Some(smtp) = &self.mail.smtp_url {
            if let Err(e) = url::Url::parse(smtp.expose()) {
                problems.push(format!("mail.smtp_url: not a URL ({e})"));
            }
        }
        for (key, value) in [
            ("mail.from", &self.mail.from),
            ("mail.staff_inbox", &self.mail.staff_inbox),
        ] {
            if value.parse::<lettre::message::Mailbox>().is_err() {
                problems.push(format!("{key}: not a valid mailbox: {value:?}"));
            }
        }
        if self.mail.max_attempts == 0 {
            problems.push("mail.max_attempts: must be at least 1".into());
        }
        if self.mail.smtp_connections == 0 {
            problems.push("mail.smtp_connections: must be at least 1".into());
        }
        if self.mail.batch_size == 0 {
            problems.push("mail.batch_size: must be at least 1".into());
        }
        if self.mail.retry_base_ms > self.mail.retry_max_ms {
            problems.push("mail.retry_base_ms: must not exceed mail.retry_max_ms".into());
        }
        if self.payments.provider == PaymentProviderKind::Stripe
            && (self.payments.stripe.secret_key.is_none()
                || self.payments.stripe.webhook_secret.is_none())
        {
            problems.push(
                "payments.stripe: secret_key and webhook_secret are required when payments.provider = \"stripe\"".into(),
            );
        }
        for (code, bounds) in &self.donations.currencies {
            if code.len() != 3 || !code.chars().all(|c| c.is_ascii_uppercase()) {
                problems.push(format!(
                    "donations.currencies.{code}: currency codes are three upper-case letters (ISO 4217)"
                ));
            }
            if bounds.min <= 0 || bounds.min > bounds.max {
                problems.push(format!(
                    "donations.currencies.{code}: need 0 < min <= max (got min {} max {})",
                    bounds.min, bounds.max
                ));
            }
        }
        if !(0.0..50.0).contains(&self.donations.fee_percent) {
            problems.push("donations.fee_percent: must be at least 0 and below 50".into());
        }
        if self.donations.fee_fixed_minor < 0 {
            problems.push("donations.fee_fixed_minor: must not be negative".into());
        }
        if !(1..=12).contains(&self.donations.fiscal_year_start_month) {
            problems.push("donations.fiscal_year_start_month: must be 1 to 12".into());
        }
        if self.donations.manage_link_hours == 0 {
            problems.push("donations.manage_link_hours: must be at least 1".into());
        }
        problems.extend(self.donations.preset_problems());
        if self.limits.enabled
            && (self.donations.per_ip_per_minute == 0 || self.donations.per_email_per_minute == 0)
        {
            problems.push(
                "donations: per-minute limits must be at least 1 (or set limits.enabled = false)"
                    .into(),
            );
        }
        if self.server.public_url.scheme() != "http" && self.server.public_url.scheme() != "https" {
            problems.push("server.public_url: must be an http or https URL".into());
        }
        if self.uploads.max_bytes == 0 {
            problems.push("uploads.max_bytes: must be at least 1".into());
        }
        if self.limits.enabled
            && (self.limits.public_per_minute == 0 || self.limits.login_per_minute == 0)
        {
            problems.push(
                "limits: per-minute limits must be at least 1 (or set limits.enabled = false)"
                    .into(),
            );
        }
        if self.staff.session_idle_minutes == 0 || self.staff.session_absolute_hours == 0 {
            problems.push("staff: session timeouts must be at least 1".into());
        }
        if self.staff.max_concurrent_hashes == 0 {
            problems.push("staff.max_concurrent_hashes: must be at least 1".into());
        }
        problems.extend(self.feedback.problems());
        problems.extend(self.comments.problems());
        if self.jobs.retention_days == 0 {
            problems.push("jobs.retention_days: must be at least 1".into());
        }
        if self.jobs.privacy_notice_version.trim().is_empty() {
            problems.push("jobs.privacy_notice_version: must not be empty".into());
        }
        if self.newsletter.confirm_token_days == 0 || self.newsletter.dispatch_batch_size == 0 {
            problems.push(
                "newsletter: confirm_token_days and dispatch_batch_size must be at least 1".into(),
            );
        }
        problems.extend(self.retention.problems());
        problems.extend(self.secret_problems());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Every key or secret setting with its shortest accepted length in bytes.
    fn secrets(&self) -> [(&'static str, Option<&Secret>, usize); 5] {
        let (stripe, newsletter) = (&self.payments.stripe, &self.newsletter);
        [
            (
                "security.secret_key",
                self.security.secret_key.as_ref(),
                OWN_KEY_MIN_BYTES,
            ),
            (
                "payments.stripe.secret_key",
                stripe.secret_key.as_ref(),
                PROVIDER_SECRET_MIN_BYTES,
            ),
            (
                "payments.stripe.webhook_secret",
                stripe.webhook_secret.as_ref(),
                PROVIDER_SECRET_MIN_BYTES,
            ),
            (
                "newsletter.webhook_secret",
                newsletter.webhook_secret.as_ref(),
                OWN_KEY_MIN_BYTES,
            ),
            (
                "newsletter.mailgun_signing_key",
                newsletter.mailgun_signing_key.as_ref(),
                PROVIDER_SECRET_MIN_BYTES,
            ),
        ]
    }

    /// A problem for every key or secret that is set but blank or too short (an unset one is
    /// checked where it is required). The messages name the key and the minimum, never the value.
    fn secret_problems(&self) -> Vec<String> {
        self.secrets()
            .into_iter()
            .filter_map(|(key, secret, min)| {
                let value = secret?.expose();
                if value.trim().is_empty() {
                    Some(format!(
                        "{key}: must not be empty; leave it unset or give at least {min} bytes"
                    ))
                } else if value.len() < min {
                    Some(format!("{key}: too short; use at least {min} bytes"))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The configuration as TOML with every secret masked, for `check-config` and logs.
    pub fn to_masked_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print settings: {e}"))
    }

    /// True when the public URL is https (cookies get `Secure`, responses get HSTS).
    pub fn is_https(&self) -> bool {
        self.server.public_url.scheme() == "https"
    }
}

/// Turns figment's errors into one line each: the key, what is wrong, and where it came from.
fn describe(figment: &Figment, error: figment::Error) -> Vec<String> {
    error
        .into_iter()
        .map(|e| {
            let mut path = e.path.clone();
            if let figment::error::Kind::UnknownField(field, _) = &e.kind {
                if path.last() != Some(field) {
                    path.push(field.clone());
                }
            }
            let key = path.join(".");
            let source = e
                .metadata
                .as_ref()
                .or_else(|| figment.find_metadata(&key))
                .map(|m| match &m.source {
                    Some(figment::Source::File(p)) => p.display().to_string(),
                    Some(figment::Source::Custom(s)) => s.clone(),
                    _ => m.name.to_string(),
                })
                .map(|s| env_var_name(&s, &key))
                .unwrap_or_else(|| "built-in defaults".into());
            let what = match &e.kind {
                figment::error::Kind::UnknownField(field, _) => format!("unknown key `{field}`"),
                other => other.to_string(),
            };
            format!("{key}: {what} (from {source})")
        })
        .collect()
}

/// For values that came from the environment, name the variable itself.
fn env_var_name(source: &str, key: &str) -> String {
    if source.contains("environment") {
        format!(
            "environment variable {ENV_PREFIX}{}",
            key.to_uppercase().replace('.', "__")
        )
    } else {
        source.to_string()
    }
}

/// A configuration secret: never printed, never logged.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// A printable form: URLs keep scheme, host and path with any password masked;
    /// anything else is fully masked.
    pub fn masked(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.has_host() || u.scheme() == "sqlite" => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("********"));
                }
                u.to_string()
            }
            _ => "********".into(),
        }
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Resolves a path from configuration against the working directory.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

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
    fn problems(&self) -> Vec<String> {
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
}

impl Default for CommentSettings {
    fn default() -> Self {
        CommentSettings {
            min_form_seconds: 3,
            max_form_age_hours: 24,
            max_per_ip_per_hour: 10,
            max_per_address_per_day: 5,
            spam_score_threshold: 5,
        }
    }
}

impl CommentSettings {
    fn problems(&self) -> Vec<String> {
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

impl DonationSettings {
    /// Presets name accepted currencies, at most six amounts per frequency, each within bounds.
    fn preset_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (code, presets) in &self.presets {
            let Some(bounds) = self.currencies.get(code) else {
                problems.push(format!(
                    "donations.presets.{code}: not one of donations.currencies"
                ));
                continue;
            };
            for (frequency, amounts) in [
                ("one_time", &presets.one_time),
                ("monthly", &presets.monthly),
            ] {
                if amounts.len() > 6 {
                    problems.push(format!(
                        "donations.presets.{code}.{frequency}: at most six amounts"
                    ));
                }
                if let Some(bad) = amounts
                    .iter()
                    .find(|a| **a < bounds.min || **a > bounds.max)
                {
                    problems.push(format!(
                        "donations.presets.{code}.{frequency}: {bad} is outside {}..={}",
                        bounds.min, bounds.max
                    ));
                }
            }
        }
        problems
    }
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
        }
    }
}

impl RetentionSettings {
    fn problems(&self) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(dir: &Path) -> Sources {
        Sources {
            dir: dir.to_path_buf(),
            env: "test".into(),
            extra_file: None,
            use_env_vars: false,
        }
    }

    #[test]
    fn defaults_load_without_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Settings::load(&sources(dir.path())).expect("defaults are valid");
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn unknown_key_names_key_and_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("default.toml"),
            "[mail]\nsmtp_ulr = \"x\"\n",
        )
        .expect("write");
        let err = Settings::load(&sources(dir.path())).expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("mail.smtp_ulr"), "{msg}");
        assert!(msg.contains("default.toml"), "{msg}");
    }

    #[test]
    fn wrong_type_names_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("test.toml"),
            "[database]\npool_size = \"many\"\n",
        )
        .expect("write");
        let msg = Settings::load(&sources(dir.path()))
            .expect_err("wrong type")
            .to_string();
        assert!(msg.contains("database.pool_size"), "{msg}");
        assert!(msg.contains("test.toml"), "{msg}");
    }

    #[test]
    fn time_zone_must_be_an_iana_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("default.toml"),
            "[site]\ntimezone = \"Mars/Olympus\"\n",
        )
        .expect("write");
        let err = format!(
            "{:#}",
            Settings::load(&sources(dir.path())).expect_err("invalid")
        );
        assert!(err.contains("site.timezone"), "{err}");
        std::fs::write(
            dir.path().join("default.toml"),
            "[site]\ntimezone = \"America/Bogota\"\n",
        )
        .expect("write");
        let s = Settings::load(&sources(dir.path())).expect("valid");
        assert_eq!(s.site.tz(), chrono_tz::America::Bogota);
    }

    #[test]
    fn later_files_win() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("default.toml"), "[site]\nname = \"A\"\n").expect("write");
        std::fs::write(dir.path().join("test.toml"), "[site]\nname = \"B\"\n").expect("write");
        let s = Settings::load(&sources(dir.path())).expect("valid");
        assert_eq!(s.site.name, "B");
    }

    #[test]
    fn secrets_are_masked() {
        let s = Secret::new("smtps://user:hunter2@mail.example.org:465");
        assert_eq!(s.masked(), "smtps://user:********@mail.example.org:465");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(Secret::new("sk_live_abc").masked(), "********");
        let mut settings = Settings::default();
        settings.payments.stripe.secret_key = Some(Secret::new("sk_live_abc"));
        assert!(!settings.to_masked_toml().contains("sk_live_abc"));
    }

    #[test]
    fn presets_must_fit_the_currency_bounds() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("default.toml"),
            "[donations.presets.USD]\none_time = [50, 2500]\nmonthly = []\n\
             [donations.presets.EUR]\none_time = [1000]\nmonthly = [500]\n",
        )
        .expect("write");
        let msg = Settings::load(&sources(dir.path()))
            .expect_err("invalid")
            .to_string();
        assert!(
            msg.contains("donations.presets.USD.one_time: 50 is outside"),
            "{msg}"
        );
        assert!(msg.contains("donations.presets.EUR: not one of"), "{msg}");
    }

    #[test]
    fn retention_periods_must_be_positive() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("default.toml"),
            "[retention]\nspam_comment_days = 0\n",
        )
        .expect("write");
        let msg = Settings::load(&sources(dir.path()))
            .expect_err("invalid")
            .to_string();
        assert!(msg.contains("retention.spam_comment_days"), "{msg}");
    }

    #[test]
    fn blank_or_short_secrets_are_refused_by_name() {
        let mut s = Settings::default();
        s.security.secret_key = Some(Secret::new(""));
        s.payments.stripe.secret_key = Some(Secret::new("sk_test_4eC39H"));
        s.payments.stripe.webhook_secret = Some(Secret::new(""));
        s.newsletter.webhook_secret = Some(Secret::new("   "));
        s.newsletter.mailgun_signing_key = Some(Secret::new("key-123"));

        let problems = s.validate().expect_err("invalid");

        for key in [
            "security.secret_key",
            "payments.stripe.secret_key",
            "payments.stripe.webhook_secret",
            "newsletter.webhook_secret",
            "newsletter.mailgun_signing_key",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(&format!("{key}: "))),
                "{key}: {problems:?}"
            );
        }
        assert!(
            problems
                .iter()
                .all(|p| !p.contains("sk_test_4eC39H") && !p.contains("key-123")),
            "values are never shown: {problems:?}"
        );
    }

    #[test]
    fn the_service_key_needs_32_bytes_and_provider_secrets_16() {
        let mut s = Settings::default();
        s.security.secret_key = Some(Secret::new("k".repeat(31)));
        s.payments.stripe.webhook_secret = Some(Secret::new("w".repeat(15)));
        let problems = s.validate().expect_err("short");
        assert_eq!(
            problems,
            [
                "security.secret_key: too short; use at least 32 bytes",
                "payments.stripe.webhook_secret: too short; use at least 16 bytes",
            ]
        );

        s.security.secret_key = Some(Secret::new("k".repeat(32)));
        s.payments.stripe.webhook_secret = Some(Secret::new("whsec_0123456789"));
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn an_empty_secret_key_in_a_file_stops_loading() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("default.toml"),
            "[security]\nsecret_key = \"\"\n",
        )
        .expect("write");
        let msg = Settings::load(&sources(dir.path()))
            .expect_err("invalid")
            .to_string();
        assert!(
            msg.contains("security.secret_key: must not be empty"),
            "{msg}"
        );
    }

    #[test]
    fn smtp_transport_needs_url() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("default.toml"),
            "[mail]\ntransport = \"smtp\"\n",
        )
        .expect("write");
        let msg = Settings::load(&sources(dir.path()))
            .expect_err("invalid")
            .to_string();
        assert!(msg.contains("mail.smtp_url"), "{msg}");
    }
}
