//! Email templates embedded in the binary: `templates/email/<name>/{subject.txt, body.txt, body.html}`,
//! rendered with minijinja (HTML autoescaped by file extension).
//!
//! The filters every page may use are registered here, in one place:
//! - `when`: a stored UTC time as `<time datetime="ISO">3 Dec 2026, 08:16</time>` in
//!   `site.timezone` ([`time`]);
//! - `ago`: its age by the service's clock ("3 days");
//! - `label`: a stored code as words ("One-time") ([`labels`]);
//! - `bytes`: a size as "1.5 MB".

pub mod labels;
pub mod time;

use std::sync::Arc;

use minijinja::{Environment, Value};
use serde::Serialize;

use crate::clock::Clock;

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
}

impl Templates {
    /// Loads the templates embedded at build time, showing times in UTC by the system clock.
    pub fn embedded() -> Self {
        Templates::for_site(chrono_tz::UTC, Clock::system())
    }

    /// Loads the templates embedded at build time, showing times in `tz` and measuring ages
    /// by `clock`.
    pub fn for_site(tz: chrono_tz::Tz, clock: Clock) -> Self {
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
        Templates { env: Arc::new(env) }
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
}
