//! Settings: built-in defaults → `config/default.toml` → `config/$FRONTDESK_ENV.toml` →
//! `--config FILE` → `FRONTDESK_<SECTION>__<KEY>` environment variables (later wins).
//!
//! Every struct denies unknown fields, so a mistyped key stops start-up with a message
//! naming the key and the file or variable it came from. Secrets are [`Secret`]s: they
//! print as `********` wherever configuration is shown or logged.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
mod backup;
mod donations;
mod features;
mod mail;
mod secret;
mod server;
mod validate;

pub use backup::*;
pub use donations::*;
pub use features::*;
pub use mail::*;
pub use secret::*;
pub use server::*;

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
    pub backup: BackupSettings,
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
                heartbeat_seconds: 5,
                heartbeat_timeout_seconds: 20,
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
                followup_days: vec![1, 3, 7],
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
                languages: vec!["en".into(), "es".into()],
                default_language: "en".into(),
                wording: BTreeMap::new(),
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
            security: SecuritySettings {
                secret_key: None,
                tips_key_file: None,
                tips_key: None,
            },
            staff: StaffSettings {
                session_idle_minutes: 8 * 60,
                session_absolute_hours: 7 * 24,
                max_failed_logins_per_hour: 100,
                failed_login_delay_seconds: 30,
                max_concurrent_hashes: 1,
                setup_link_minutes: 60,
                require_two_factor: false,
                new_browser_emails: true,
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
            backup: BackupSettings::default(),
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

#[cfg(test)]
mod tests;
