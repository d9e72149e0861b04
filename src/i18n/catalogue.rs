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
