//! Email templates embedded in the binary: `templates/email/<name>/{subject.txt, body.txt, body.html}`,
//! rendered with minijinja (HTML autoescaped by file extension).
//!
//! Reader-facing text comes from the message catalogues: `{{ t("key", name=value) }}` formats
//! `key` in the render's `lang` (a context variable the mailer and the page renderer set).
//!
//! The filters every page may use are registered here, in one place:
//! - `when`: a stored UTC time as `<time datetime="ISO">3 Dec 2026, 08:16</time>` in
//!   `site.timezone` ([`time`]);
//! - `ago`: its age by the service's clock ("3 days");
//! - `label`: a stored code as words ("One-time") ([`labels`]);
//! - `bytes`: a size as "1.5 MB";
//! - `money(currency)`: an amount in minor units as the render's `lang` writes money
//!   (`$25.00`, `25,00 US$`), `number`, `date` (a date or stored time, its day in
//!   `site.timezone`: `Dec 4, 2026`, `4 dic 2026`) and `language` (a tag's name: `Spanish`,
//!   `español`), all from CLDR data ([`crate::i18n::format`]).

pub mod labels;
pub mod time;

use std::sync::Arc;

use fluent_bundle::{FluentArgs, FluentValue};
use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, ErrorKind, State, Value};
use serde::Serialize;

use crate::clock::Clock;
use crate::i18n::{format, Catalogues};

/// The language of a render whose context names none (staff and operator emails).
pub const FALLBACK_LANG: &str = "en";

/// The three rendered parts of an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Every embedded template (emails and pages), shared across threads.
#[derive(Clone)]
pub struct Templates {
    env: Arc<Environment<'static>>,
    catalogues: Arc<Catalogues>,
}

impl Templates {
    /// Loads the templates embedded at build time, showing times in UTC by the system clock.
    pub fn embedded() -> Self {
        Templates::for_site(chrono_tz::UTC, Clock::system())
    }

    /// Loads the templates embedded at build time, showing times in `tz` and measuring ages
    /// by `clock`.
    pub fn for_site(tz: chrono_tz::Tz, clock: Clock) -> Self {
        Templates::with_catalogues(tz, clock, Catalogues::embedded())
    }

    /// The templates of a configured site: times in `site.timezone`, and the catalogues with
    /// the site's own words (`site.wording`).
    pub fn for_settings(settings: &crate::config::Settings, clock: Clock) -> Self {
        Templates::with_catalogues(
            settings.site.tz(),
            clock,
            Catalogues::with_wording(&settings.site.wording),
        )
    }

    fn with_catalogues(tz: chrono_tz::Tz, clock: Clock, catalogues: Catalogues) -> Self {
        let mut env = Environment::new();
        minijinja_embed::load_templates!(&mut env);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        env.set_trim_blocks(true);
        env.add_filter("when", move |value: Value| time::when(tz, &value));
        env.add_filter("ago", move |value: Value| time::ago(&clock, &value));
        env.add_filter("label", |value: Value| match value.as_str() {
            Some(code) => labels::label(code),
            None if value.is_none() || value.is_undefined() => String::new(),
            None => value.to_string(),
        });
        env.add_filter("bytes", |n: u64| labels::bytes(n));
        env.add_filter(
            "money",
            |state: &State, amount: i64, currency: &str| -> Result<String, minijinja::Error> {
                format::money(render_lang(state).as_str(), amount, currency).map_err(invalid)
            },
        );
        env.add_filter(
            "number",
            |state: &State, n: i64| -> Result<String, minijinja::Error> {
                format::number(render_lang(state).as_str(), n).map_err(invalid)
            },
        );
        env.add_filter(
            "date",
            move |state: &State, value: Value| -> Result<String, minijinja::Error> {
                let Some(day) = value.as_str().and_then(time::Moment::parse) else {
                    return Err(minijinja::Error::new(
                        ErrorKind::InvalidOperation,
                        format!("date: not a date or time: {value}"),
                    ));
                };
                format::date(render_lang(state).as_str(), day.local_date(tz)).map_err(invalid)
            },
        );
        env.add_filter(
            "language",
            |state: &State, tag: &str| -> Result<String, minijinja::Error> {
                format::language_name(render_lang(state).as_str(), tag).map_err(invalid)
            },
        );
        let catalogues = Arc::new(catalogues);
        let messages = catalogues.clone();
        env.add_function(
            "t",
            move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, minijinja::Error> {
                translate(&messages, state, key, &kwargs)
            },
        );
        Templates {
            env: Arc::new(env),
            catalogues,
        }
    }

    /// The message catalogues the templates read.
    pub fn catalogues(&self) -> &Catalogues {
        &self.catalogues
    }

    pub fn env(&self) -> &Environment<'static> {
        &self.env
    }

    /// Renders any template by name.
    pub fn render<S: Serialize>(&self, name: &str, context: S) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(context)
    }

    /// Renders an email's subject, text and HTML parts.
    pub fn render_email<S: Serialize>(
        &self,
        name: &str,
        context: S,
    ) -> Result<Rendered, minijinja::Error> {
        let ctx = minijinja::Value::from_serialize(&context);
        let subject = self.render(&format!("email/{name}/subject.txt"), &ctx)?;
        Ok(Rendered {
            // One line, whatever the template did with whitespace.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: self.render(&format!("email/{name}/body.txt"), &ctx)?,
            html: self.render(&format!("email/{name}/body.html"), &ctx)?,
        })
    }

    /// Names of every embedded email (for the template test).
    pub fn email_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .env
            .templates()
            .filter_map(|(name, _)| {
                name.strip_prefix("email/")?
                    .strip_suffix("/subject.txt")
                    .map(String::from)
            })
            .collect();
        names.sort();
        names
    }
}

/// The render's `lang`, else the fallback.
fn render_lang(state: &State) -> String {
    state
        .lookup("lang")
        .as_ref()
        .and_then(|v| v.as_str())
        .unwrap_or(FALLBACK_LANG)
        .to_string()
}

fn invalid(e: format::FormatError) -> minijinja::Error {
    minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string())
}

/// `t("key", name=value…)`: the message in the render's `lang`; numbers stay numbers, so
/// Fluent picks the plural form by the language's rules.
fn translate(
    catalogues: &Catalogues,
    state: &State,
    key: &str,
    kwargs: &Kwargs,
) -> Result<String, minijinja::Error> {
    let lang = state.lookup("lang");
    let lang = lang
        .as_ref()
        .and_then(|v| v.as_str())
        .unwrap_or(FALLBACK_LANG);
    let mut args = FluentArgs::new();
    for name in kwargs.args() {
        let value: minijinja::Value = kwargs.get(name)?;
        let value = match value.kind() {
            ValueKind::Number => match value.as_i64() {
                Some(i) => FluentValue::from(i),
                None => FluentValue::from(f64::try_from(value).unwrap_or_default()),
            },
            ValueKind::Undefined | ValueKind::None => FluentValue::from(String::new()),
            _ => FluentValue::from(value.to_string()),
        };
        args.set(name.to_string(), value);
    }
    catalogues
        .message(lang, key, Some(&args))
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e))
}

/// Every `t("key"` a template source names.
pub fn message_keys_in(source: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("t(\"") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + 3..];
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            if let Some(end) = after.find('"') {
                keys.push(after[..end].to_string());
            }
        }
        rest = after;
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let t = Templates::embedded();
        let r = t
            .render_email(
                "smtp_check",
                serde_json::json!({"site_name": "N", "public_url": "http://x", "requested_by": "<b>Eve</b>"}),
            )
            .expect("renders");
        assert_eq!(r.subject, "N: mail delivery works");
        assert!(r.html.contains("&lt;b&gt;Eve&lt;&#x2f;b&gt;"), "{}", r.html);
        assert!(r.text.contains("<b>Eve</b>"));
    }

    #[test]
    fn every_email_has_three_parts() {
        let t = Templates::embedded();
        let names = t.email_names();
        assert!(!names.is_empty());
        for name in names {
            for part in ["subject.txt", "body.txt", "body.html"] {
                assert!(
                    t.env()
                        .get_template(&format!("email/{name}/{part}"))
                        .is_ok(),
                    "email/{name}/{part} is missing"
                );
            }
        }
    }

    #[test]
    fn every_key_a_template_uses_is_in_every_catalogue() {
        let t = Templates::embedded();
        t.catalogues().check().expect("catalogues parse");
        let mut used = 0;
        for (name, template) in t.env().templates() {
            for key in message_keys_in(template.source()) {
                used += 1;
                for lang in crate::i18n::embedded_languages() {
                    assert!(
                        t.catalogues().has(lang, &key),
                        "{name} uses {key:?}, missing from locales/{lang}"
                    );
                }
            }
        }
        assert!(used > 20, "only {used} message uses found");
    }

    #[test]
    fn finds_message_keys() {
        assert_eq!(
            message_keys_in(r#"{{ t("a-b") }} {{ fmt("x") }} {{t("c", n=1)}}"#),
            vec!["a-b", "c"]
        );
    }

    #[test]
    fn t_renders_in_the_context_language_with_plurals() {
        let t = Templates::embedded();
        let mut env = t.env().clone();
        env.add_template("x", r#"{{ t("valid-days", count=n) }}"#)
            .expect("adds");
        let tpl = env.get_template("x").expect("template");
        let es = tpl
            .render(serde_json::json!({"lang": "es", "n": 1}))
            .expect("renders");
        let en = tpl
            .render(serde_json::json!({"lang": "en", "n": 2}))
            .expect("renders");
        assert_eq!(es, "1 día");
        assert_eq!(en, "2 days");
    }
}
