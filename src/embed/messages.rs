//! `GET /embed/i18n/{lang}.json`: the widgets' messages in one language, so the script loads
//! only the catalogue its reader needs (see the size budget in docs/embedding.md).
//!
//! Built once at start-up from `locales/<lang>/widgets.ftl`. The script carries no Fluent
//! runtime; each message is sent in a shape a few lines of JavaScript can format:
//!
//! - plain text with arguments: `"Donate {amount}"` (the script substitutes `{name}`,
//!   formatting numbers for the language);
//! - one selection on a number: `{"$": "total", "one": "…", "other": "…", "*": "…"}`, the
//!   variants keyed as in the catalogue (an exact number as `"=0"`, the default also as
//!   `"*"`); the script picks with `Intl.PluralRules(lang)`, the browser's CLDR rules, the
//!   same rules Fluent applies on the server.
//!
//! Anything else (terms, functions, nested selections) is refused at start-up, so a widget
//! message can never show a raw Fluent expression.

use std::collections::BTreeMap;

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use fluent_syntax::ast::{
    Entry, Expression, InlineExpression, Pattern, PatternElement, VariantKey,
};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::i18n::{wording_entry, Languages, Wording};

/// The catalogue file the widgets read.
pub const FILE: &str = "widgets.ftl";

/// Each offered language's widget messages as served, with its `ETag`.
#[derive(Debug)]
pub struct WidgetMessages {
    by_lang: BTreeMap<String, Served>,
    default_lang: String,
}

#[derive(Debug)]
struct Served {
    body: Bytes,
    etag: String,
    /// Holds the site's own words, which change with the configuration rather than with the
    /// release: never cached as immutable, even under the release's `?v=`.
    site_worded: bool,
}

impl WidgetMessages {
    /// Converts `widgets.ftl` of every offered language, with the site's own words
    /// (`[site.wording.<lang>]`) replacing its messages; an offered language without one, or a
    /// message the script could not format, is an error (start-up stops).
    pub fn build(languages: &Languages, wording: &Wording) -> anyhow::Result<WidgetMessages> {
        let texts: BTreeMap<&str, &str> = crate::i18n::embedded_in_every_language(FILE)
            .into_iter()
            .collect();
        let mut by_lang = BTreeMap::new();
        for lang in languages.all() {
            let text = texts
                .get(lang.as_str())
                .ok_or_else(|| anyhow::anyhow!("no locales/{lang}/{FILE}"))?;
            let mut messages =
                to_json(text).map_err(|e| anyhow::anyhow!("locales/{lang}/{FILE}: {e}"))?;
            let mut site_worded = false;
            for (id, text) in wording.get(lang.as_str()).into_iter().flatten() {
                if !messages.contains_key(id) {
                    continue;
                }
                let own = to_json(&wording_entry(id, text))
                    .map_err(|e| anyhow::anyhow!("site.wording.{lang}.{e}"))?;
                messages.extend(own);
                site_worded = true;
            }
            let body = serde_json::to_vec(&json!({"lang": lang.as_str(), "messages": messages}))?;
            let etag = format!("W/\"{}\"", &hex::encode(Sha256::digest(&body))[..16]);
            by_lang.insert(
                lang.to_string(),
                Served {
                    body: Bytes::from(body),
                    etag,
                    site_worded,
                },
            );
        }
        Ok(WidgetMessages {
            by_lang,
            default_lang: languages.default_lang().to_string(),
        })
    }
}

/// `GET /embed/i18n/{lang}.json`; `default.json` is the site's default language.
#[tracing::instrument(skip_all, fields(lang = %lang))]
pub async fn messages(
    req: HttpRequest,
    lang: web::Path<String>,
    messages: web::Data<WidgetMessages>,
) -> Result<HttpResponse, AppError> {
    let lang = match lang.as_str() {
        "default" => messages.default_lang.as_str(),
        other => other,
    };
    let served = messages.by_lang.get(lang).ok_or(AppError::NotFound)?;
    Ok(super::assets::serve(
        &req,
        &served.etag,
        served.body.clone(),
        "application/json",
        !served.site_worded,
    ))
}

/// For the settings check: a widget message the site words itself (`[site.wording.<lang>]`)
/// must keep to what the script can format. Other messages are not the widgets' concern.
pub fn check_wording(lang: &str, id: &str, text: &str) -> Result<(), String> {
    let is_widget_message = crate::i18n::embedded_file(lang, FILE)
        .and_then(|ftl| to_json(ftl).ok())
        .is_some_and(|messages| messages.contains_key(id));
    if !is_widget_message {
        return Ok(());
    }
    to_json(&wording_entry(id, text))
        .map(|_| ())
        .map_err(|e| format!("the widgets cannot show it ({e})"))
}

/// Every message of one catalogue file, as the script reads them.
pub fn to_json(ftl: &str) -> Result<Map<String, Value>, String> {
    let resource =
        fluent_syntax::parser::parse(ftl).map_err(|(_, errors)| format!("{errors:?}"))?;
    let mut out = Map::new();
    for entry in resource.body {
        let Entry::Message(message) = entry else {
            continue;
        };
        let id = message.id.name;
        let pattern = message
            .value
            .ok_or_else(|| format!("{id}: a widget message needs a value"))?;
        let value = message_value(&pattern).map_err(|e| format!("{id}: {e}"))?;
        out.insert(id.to_string(), value);
    }
    Ok(out)
}

fn message_value(pattern: &Pattern<&str>) -> Result<Value, String> {
    if let [PatternElement::Placeable {
        expression: Expression::Select { selector, variants },
    }] = pattern.elements.as_slice()
    {
        let InlineExpression::VariableReference { id } = selector else {
            return Err("select on a variable only".into());
        };
        let mut object = Map::new();
        object.insert("$".into(), Value::from(id.name));
        for variant in variants {
            let key = match &variant.key {
                VariantKey::Identifier { name } => (*name).to_string(),
                VariantKey::NumberLiteral { value } => format!("={value}"),
            };
            let text = Value::from(pattern_text(&variant.value)?);
            if variant.default {
                object.insert("*".into(), text.clone());
            }
            object.insert(key, text);
        }
        return Ok(Value::Object(object));
    }
    Ok(Value::from(pattern_text(pattern)?))
}

/// Text and `{name}` arguments only.
fn pattern_text(pattern: &Pattern<&str>) -> Result<String, String> {
    let mut text = String::new();
    for element in &pattern.elements {
        match element {
            PatternElement::TextElement { value } => text.push_str(value),
            PatternElement::Placeable {
                expression: Expression::Inline(InlineExpression::VariableReference { id }),
            } => {
                text.push('{');
                text.push_str(id.name);
                text.push('}');
            }
            PatternElement::Placeable { .. } => {
                return Err("only text and { $argument } placeables reach the widgets".into())
            }
        }
    }
    Ok(text.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use fluent_bundle::{FluentArgs, FluentValue};

    use super::*;
    use crate::i18n::Catalogues;

    #[test]
    fn the_site_words_widget_messages_the_script_can_show() {
        assert!(check_wording("es", "widget-donate-intro", "Su aporte cuenta.").is_ok());
        assert!(check_wording("es", "widget-donate-intro", "Aporte { -brand }").is_err());
        // Not a widget message: the catalogue check decides, not this one.
        assert!(check_wording("es", "receipt-keep", "Guarde { -brand }").is_ok());
    }

    /// Formats a served message the way the script does, the plural category given.
    fn format(value: &Value, category: &str, args: &[(&str, &str)]) -> String {
        let pattern = match value {
            Value::Object(o) => o
                .get(category)
                .or_else(|| o.get("*"))
                .and_then(Value::as_str)
                .unwrap_or_default(),
            other => other.as_str().unwrap_or_default(),
        };
        args.iter().fold(pattern.to_string(), |text, (k, v)| {
            text.replace(&format!("{{{k}}}"), v)
        })
    }

    #[test]
    fn every_widget_message_says_what_fluent_says() {
        let catalogues = Catalogues::embedded();
        let texts = crate::i18n::embedded_in_every_language(FILE);
        assert!(texts.iter().any(|(l, _)| *l == "en") && texts.iter().any(|(l, _)| *l == "es"));
        for (lang, text) in texts {
            let messages = to_json(text).expect("convertible");
            assert!(messages.len() > 50, "{lang}: {}", messages.len());
            for (key, value) in &messages {
                // Every argument the message names, as text; plural selectors as numbers.
                let names: Vec<String> = serde_json::to_string(value)
                    .expect("json")
                    .split('{')
                    .skip(1)
                    .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string()))
                    .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    .collect();
                for (count, category) in [(1, "one"), (7, "other")] {
                    let mut args = FluentArgs::new();
                    let mut plain = Vec::new();
                    for name in &names {
                        args.set(name.clone(), FluentValue::from(count));
                        plain.push((name.as_str(), count.to_string()));
                    }
                    if let Value::Object(o) = value {
                        let selector = o["$"].as_str().expect("selector");
                        args.set(selector.to_string(), FluentValue::from(count));
                    }
                    let fluent = catalogues.message(lang, key, Some(&args)).expect(key);
                    let plain: Vec<(&str, &str)> =
                        plain.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    assert_eq!(format(value, category, &plain), fluent, "{lang} {key}");
                }
            }
        }
    }

    #[test]
    fn plurals_are_sent_as_variants() {
        let messages = to_json(
            "a = { $n ->\n    [0] none\n    [one] { $n } thing\n   *[other] { $n } things\n}\nb = Hi { $who }\n",
        )
        .expect("ok");
        assert_eq!(
            messages["a"],
            json!({"$": "n", "=0": "none", "one": "{n} thing", "other": "{n} things", "*": "{n} things"})
        );
        assert_eq!(messages["b"], "Hi {who}");
        assert!(to_json("c = { -term }\n-term = x\n").is_err());
        assert!(to_json("d = { NUMBER($n) }\n").is_err());
    }

    #[test]
    fn unknown_languages_are_not_built() {
        let offered = Languages::new(&["en".into(), "es".into()], "es");
        let built = WidgetMessages::build(&offered, &Wording::new()).expect("built");
        assert_eq!(built.default_lang, "es");
        assert_eq!(built.by_lang.keys().collect::<Vec<_>>(), ["en", "es"]);
        let missing = Languages::new(&["en".into(), "xx".into()], "en");
        assert!(WidgetMessages::build(&missing, &Wording::new()).is_err());
    }
}
