//! The checks types alone cannot express, run once when settings are loaded: each problem is
//! one line naming the key (and never a secret's value).

use super::{
    MailTransportKind, PaymentProviderKind, Secret, Settings, OWN_KEY_MIN_BYTES,
    PROVIDER_SECRET_MIN_BYTES,
};

impl Settings {
    /// Checks what types alone cannot express.
    pub(super) fn validate(&self) -> Result<(), Vec<String>> {
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
        if self.site.languages.is_empty() {
            problems.push("site.languages: offer at least one language".into());
        }
        for lang in &self.site.languages {
            if !crate::i18n::has_catalogue(lang) {
                problems.push(format!(
                    "site.languages: no catalogue for {lang:?} (add locales/{lang}/, see docs/translating.md)"
                ));
            }
        }
        for (lang, messages) in &self.site.wording {
            if !self.site.languages.contains(lang) {
                problems.push(format!(
                    "site.wording.{lang}: {lang:?} is not among site.languages"
                ));
                continue;
            }
            for (id, text) in messages {
                let checked = crate::i18n::check_wording(lang, id, text)
                    .and_then(|()| crate::embed::messages::check_wording(lang, id, text));
                if let Err(e) = checked {
                    problems.push(format!("site.wording.{lang}.{id}: {e}"));
                }
            }
        }
        if !self.site.languages.contains(&self.site.default_language) {
            problems.push(format!(
                "site.default_language: {:?} is not among site.languages",
                self.site.default_language
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
        if self.mail.heartbeat_seconds == 0 {
            problems.push("mail.heartbeat_seconds: must be at least 1".into());
        }
        if self.mail.heartbeat_timeout_seconds < 2 * self.mail.heartbeat_seconds {
            problems.push(
                "mail.heartbeat_timeout_seconds: must be at least twice mail.heartbeat_seconds"
                    .into(),
            );
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
        let days = &self.donations.followup_days;
        if days.len() > 10
            || days.iter().any(|d| !(1..=90).contains(d))
            || days.windows(2).any(|w| w[0] >= w[1])
        {
            problems.push(
                "donations.followup_days: at most 10 days, each 1 to 90, increasing (e.g. [1, 3, 7])"
                    .into(),
            );
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
        problems.extend(self.backup.problems());
        problems.extend(self.secret_problems());
        if let Err(problem) = self.security.load_tips_key() {
            problems.push(problem);
        }
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
}
