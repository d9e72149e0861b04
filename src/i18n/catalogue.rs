//! The message catalogues embedded at build time (`locales/<lang>/*.ftl`, see build.rs), one
//! Fluent bundle per language. Plural and number selection come from Fluent's CLDR rules.

use std::collections::{BTreeMap, BTreeSet};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_syntax::ast::Entry;
use unic_langid::LanguageIdentifier;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// Whether `lang` has an embedded catalogue (for the settings check).
pub fn has_catalogue(lang: &str) -> bool {
    EMBEDDED.iter().any(|(l, _, _)| *l == lang)
}

/// Every embedded language, sorted.
pub fn embedded_languages() -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = EMBEDDED.iter().map(|(l, _, _)| *l).collect();
    set.into_iter().collect()
}

/// Every language's text of one catalogue file (e.g. `"widgets.ftl"`), sorted by language;
/// a language without that file is left out.
pub fn embedded_in_every_language(file: &str) -> Vec<(&'static str, &'static str)> {
    EMBEDDED
        .iter()
        .filter(|(_, f, _)| *f == file)
        .map(|(lang, _, text)| (*lang, *text))
        .collect()
}

/// The text of one embedded catalogue file (`embedded_file("en", "problems.ftl")`).
pub fn embedded_file(lang: &str, file: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|(l, f, _)| *l == lang && *f == file)
        .map(|(_, _, text)| *text)
}

/// The site's own words (`[site.wording.<lang>]`): per language, message id → Fluent text.
pub type Wording = BTreeMap<String, BTreeMap<String, String>>;

/// `id = text` as a Fluent entry: a text of several lines continues indented.
pub fn wording_entry(id: &str, text: &str) -> String {
    let mut entry = format!("{id} =");
    for (i, line) in text.trim().lines().enumerate() {
        if i == 0 {
            entry.push(' ');
        } else {
            entry.push_str("\n    ");
        }
        entry.push_str(line);
    }
    entry.push('\n');
    entry
}

/// The one Fluent message `id = text` parses to, or why not.
fn parse_wording(id: &str, text: &str) -> Result<FluentResource, String> {
    if text.trim().is_empty() {
        return Err("empty text".into());
    }
    let resource = FluentResource::try_new(wording_entry(id, text))
        .map_err(|(_, errors)| format!("not valid Fluent text: {errors:?}"))?;
    let ids: Vec<String> = fluent_syntax::parser::parse(resource.source())
        .map_err(|_| "not valid Fluent text".to_string())?
        .body
        .into_iter()
        .filter_map(|e| match e {
            Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect();
    if ids != [id] {
        return Err("not one Fluent message (a line starting with `id =` inside?)".into());
    }
    Ok(resource)
}

/// Checks one `[site.wording.<lang>]` entry: `lang` has a catalogue holding message `id`,
/// and `text` is valid Fluent.
pub fn check_wording(lang: &str, id: &str, text: &str) -> Result<(), String> {
    let embedded = message_ids();
    let ids = embedded
        .get(lang)
        .ok_or_else(|| format!("no catalogue for {lang:?}"))?;
    if !ids.contains(id) {
        return Err(format!("no message {id:?} in locales/{lang}"));
    }
    parse_wording(id, text).map(|_| ())
}

/// One Fluent bundle per embedded language.
pub struct Catalogues {
    bundles: BTreeMap<&'static str, FluentBundle<FluentResource>>,
    problems: Vec<CatalogueError>,
}

impl std::fmt::Debug for Catalogues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogues")
            .field("languages", &self.bundles.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A catalogue that does not parse, or a message id defined twice: a build mistake the
/// catalogue test reports with the file.
#[derive(Debug, thiserror::Error)]
#[error("locales/{lang}/{file}: {message}")]
pub struct CatalogueError {
    pub lang: String,
    pub file: String,
    pub message: String,
}

impl Catalogues {
    /// Parses every embedded catalogue. What does not parse is left out and kept as a
    /// problem for [`check`](Self::check), which start-up and the tests call.
    pub fn embedded() -> Catalogues {
        let mut bundles = BTreeMap::new();
        let mut problems = Vec::new();
        for (lang, file, text) in EMBEDDED {
            let error = |message: String| CatalogueError {
                lang: (*lang).to_string(),
                file: (*file).to_string(),
                message,
            };
            let resource = match FluentResource::try_new((*text).to_string()) {
                Ok(r) => r,
                Err((r, errors)) => {
                    problems.push(error(format!("{errors:?}")));
                    r
                }
            };
            let bundle = match bundles.entry(*lang) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    let id: LanguageIdentifier = match lang.parse() {
                        Ok(id) => id,
                        Err(e) => {
                            problems.push(error(format!("not a language tag: {e}")));
                            continue;
                        }
                    };
                    let mut bundle = FluentBundle::new_concurrent(vec![id]);
                    // Emails and pages are one direction each; no bidi isolation marks.
                    bundle.set_use_isolating(false);
                    v.insert(bundle)
                }
            };
            if let Err(errors) = bundle.add_resource(resource) {
                problems.push(error(format!("{errors:?}")));
            }
        }
        Catalogues { bundles, problems }
    }

    /// The embedded catalogues with the site's own words replacing their messages (checked
    /// at start-up by [`check_wording`]; what fails here anyway is kept as a problem).
    pub fn with_wording(wording: &Wording) -> Catalogues {
        let mut catalogues = Catalogues::embedded();
        for (lang, messages) in wording {
            for (id, text) in messages {
                let problem = |message: String| CatalogueError {
                    lang: lang.clone(),
                    file: "(site.wording)".into(),
                    message: format!("{id}: {message}"),
                };
                let Some(bundle) = catalogues.bundles.get_mut(lang.as_str()) else {
                    catalogues.problems.push(problem("no catalogue".into()));
                    continue;
                };
                match parse_wording(id, text) {
                    Ok(resource) => bundle.add_resource_overriding(resource),
                    Err(e) => catalogues.problems.push(problem(e)),
                }
            }
        }
        catalogues
    }

    /// The first catalogue that did not parse, if any.
    pub fn check(&self) -> Result<(), &CatalogueError> {
        self.problems.first().map_or(Ok(()), Err)
    }

    /// Formats message `key` in `lang` with `args`. A language without a catalogue, a key
    /// missing from it, or a missing argument is an error: the catalogue test keeps them from
    /// reaching a reader.
    pub fn message(
        &self,
        lang: &str,
        key: &str,
        args: Option<&FluentArgs>,
    ) -> Result<String, String> {
        let bundle = self
            .bundles
            .get(lang)
            .ok_or_else(|| format!("no catalogue for language {lang:?}"))?;
        let pattern = bundle
            .get_message(key)
            .and_then(|m| m.value())
            .ok_or_else(|| format!("no message {key:?} in the {lang:?} catalogue"))?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if let Some(e) = errors.first() {
            return Err(format!("message {key:?} in {lang:?}: {e}"));
        }
        Ok(text.into_owned())
    }

    /// Whether `lang`'s catalogue has `key`.
    pub fn has(&self, lang: &str, key: &str) -> bool {
        self.bundles.get(lang).is_some_and(|b| b.has_message(key))
    }
}

/// The message ids of each embedded language, from the catalogue files themselves (for the
/// parity test).
pub fn message_ids() -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut ids: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for (lang, _, text) in EMBEDDED {
        let set = ids.entry(*lang).or_default();
        let resource = match fluent_syntax::parser::parse(*text) {
            Ok(r) => r,
            Err((r, _)) => r,
        };
        for entry in resource.body {
            if let Entry::Message(m) = entry {
                set.insert(m.id.name.to_string());
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_parses() {
        let c = Catalogues::embedded();
        c.check().expect("catalogues parse");
        assert!(c.has("en", "site-language-name"));
    }

    #[test]
    fn every_language_has_the_same_keys() {
        let ids = message_ids();
        let langs: Vec<_> = ids.keys().copied().collect();
        assert!(langs.contains(&"en") && langs.contains(&"es"), "{langs:?}");
        let all: BTreeSet<&String> = ids.values().flatten().collect();
        for (lang, keys) in &ids {
            let missing: Vec<_> = all.iter().filter(|k| !keys.contains(**k)).collect();
            assert!(missing.is_empty(), "locales/{lang} lacks {missing:?}");
        }
    }

    #[test]
    fn site_wording_overrides_one_language() {
        let wording: Wording = BTreeMap::from([(
            "es".to_string(),
            BTreeMap::from([(
                "receipt-keep".to_string(),
                "Guarde este recibo.\nLo necesitará para { $site }.".to_string(),
            )]),
        )]);
        let c = Catalogues::with_wording(&wording);
        c.check().expect("wording parses");
        let mut args = FluentArgs::new();
        args.set("site", "El Diario");
        assert_eq!(
            c.message("es", "receipt-keep", Some(&args)).expect("es"),
            "Guarde este recibo.\nLo necesitará para El Diario."
        );
        assert_eq!(
            c.message("en", "receipt-keep", None).expect("en"),
            "Keep this email for your records."
        );
    }

    #[test]
    fn wording_is_checked() {
        assert!(check_wording("es", "receipt-keep", "Guarde { $site }").is_ok());
        assert!(check_wording("es", "no-such-message", "x").is_err());
        assert!(check_wording("pt", "receipt-keep", "x").is_err());
        assert!(check_wording("es", "receipt-keep", "Guarde { $site").is_err());
        assert!(check_wording("es", "receipt-keep", "  ").is_err());
        // A later line is the same message's text, indented, never a message of its own.
        assert!(check_wording("es", "receipt-keep", "a\nhello = b").is_ok());
    }

    #[test]
    fn plurals_follow_the_language() {
        let c = Catalogues::embedded();
        let mut one = FluentArgs::new();
        one.set("count", 1);
        let mut many = FluentArgs::new();
        many.set("count", 3);
        let en1 = c.message("en", "valid-days", Some(&one)).expect("en");
        let en3 = c.message("en", "valid-days", Some(&many)).expect("en");
        let es3 = c.message("es", "valid-days", Some(&many)).expect("es");
        assert_eq!(en1, "1 day");
        assert_eq!(en3, "3 days");
        assert_eq!(es3, "3 días");
        assert!(c.message("fr", "valid-days", Some(&one)).is_err());
        assert!(c.message("en", "no-such-key", None).is_err());
    }
}
