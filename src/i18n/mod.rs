//! Reader-facing languages: the configured set (`site.languages`, `site.default_language`),
//! the [`Lang`] a reader chose, and the embedded Fluent catalogues that templates read through
//! `t("key", name=value…)` (see [`crate::templates`]). The staff area stays English.

mod catalogue;
pub mod format;

use std::sync::Arc;

use serde::Serialize;

pub use catalogue::{
    check_wording, embedded_file, embedded_in_every_language, embedded_languages, has_catalogue,
    message_ids, wording_entry, CatalogueError, Catalogues, Wording,
};

/// One of the configured reader languages. Only [`Languages`] makes one, so a `Lang` is
/// always a language the site offers and has a catalogue for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lang(Arc<str>);

impl Serialize for Lang {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl Lang {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The languages the site offers readers, the first the default.
#[derive(Debug, Clone)]
pub struct Languages {
    /// The default first.
    offered: Vec<Lang>,
}

impl Languages {
    /// From settings already checked (`default_language` is among `languages`, each has a
    /// catalogue).
    pub fn new(languages: &[String], default_language: &str) -> Languages {
        let mut offered = vec![Lang(Arc::from(default_language))];
        for l in languages {
            if l != default_language {
                offered.push(Lang(Arc::from(l.as_str())));
            }
        }
        Languages { offered }
    }

    pub fn from_settings(settings: &crate::config::Settings) -> Languages {
        Languages::new(&settings.site.languages, &settings.site.default_language)
    }

    pub fn default_lang(&self) -> &Lang {
        &self.offered[0]
    }

    /// Every offered language, the default first.
    pub fn all(&self) -> &[Lang] {
        &self.offered
    }

    /// The tags, for the API document's enum and error messages.
    pub fn tags(&self) -> Vec<String> {
        self.offered.iter().map(|l| l.to_string()).collect()
    }

    /// A language a reader sent: exactly one of the offered tags.
    pub fn parse(&self, raw: &str) -> Result<Lang, String> {
        self.offered
            .iter()
            .find(|l| l.as_str() == raw)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "Choose one of the offered languages: {}.",
                    self.tags().join(", ")
                )
            })
    }

    /// A language read back from the database: a language since removed from the settings
    /// falls back to the default.
    pub fn stored(&self, raw: &str) -> Lang {
        self.parse(raw)
            .unwrap_or_else(|_| self.default_lang().clone())
    }

    /// The reader's choice: the body's `lang` when sent (an unknown one is an error), else
    /// the best offered match of `Accept-Language`, else the default.
    pub fn choose(
        &self,
        sent: Option<&str>,
        accept_language: Option<&str>,
    ) -> Result<Lang, String> {
        match sent {
            Some(raw) => self.parse(raw),
            None => Ok(self.negotiate(accept_language)),
        }
    }

    /// The best offered language for an `Accept-Language` header (RFC 9110 §12.5.4: by
    /// weight, a region tag matching its language, `q=0` refusing), else the default.
    pub fn negotiate(&self, accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return self.default_lang().clone();
        };
        let mut ranges: Vec<(u16, usize, String)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim().to_ascii_lowercase();
                let mut weight = 1000u16;
                for p in pieces {
                    if let Some(q) = p.trim().strip_prefix("q=") {
                        weight = parse_weight(q)?;
                    }
                }
                (!tag.is_empty() && weight > 0).then_some((weight, i, tag))
            })
            .collect();
        // Highest weight first; among equals, the order the client gave.
        ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, _, tag) in ranges {
            let primary = tag.split('-').next().unwrap_or_default();
            if let Some(lang) = self
                .offered
                .iter()
                .find(|l| l.as_str() == tag || l.as_str() == primary)
            {
                return lang.clone();
            }
        }
        self.default_lang().clone()
    }
}

/// `q=0.8` as thousandths; `None` for a malformed weight (the range is ignored).
fn parse_weight(q: &str) -> Option<u16> {
    let value: f32 = q.trim().parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs() -> Languages {
        Languages::new(&["en".into(), "es".into()], "en")
    }

    #[test]
    fn parse_takes_only_offered_tags() {
        assert_eq!(langs().parse("es").expect("es").as_str(), "es");
        assert!(langs().parse("fr").is_err());
        assert!(langs().parse("ES").is_err());
        assert!(langs().parse("").is_err());
        assert_eq!(langs().stored("fr").as_str(), "en");
    }

    #[test]
    fn negotiates_accept_language() {
        let l = langs();
        assert_eq!(l.negotiate(None).as_str(), "en");
        assert_eq!(l.negotiate(Some("es-MX,es;q=0.9,en;q=0.8")).as_str(), "es");
        assert_eq!(l.negotiate(Some("fr, en;q=0.5, es;q=0.7")).as_str(), "es");
        assert_eq!(l.negotiate(Some("es;q=0, en-GB")).as_str(), "en");
        assert_eq!(l.negotiate(Some("de, fr")).as_str(), "en");
        assert_eq!(l.negotiate(Some("ES")).as_str(), "es");
    }

    #[test]
    fn body_lang_wins_over_the_header() {
        let l = langs();
        assert_eq!(l.choose(Some("en"), Some("es")).expect("en").as_str(), "en");
        assert_eq!(l.choose(None, Some("es")).expect("es").as_str(), "es");
        assert!(l.choose(Some("pt"), Some("es")).is_err());
    }

    #[test]
    fn the_default_comes_first() {
        let l = Languages::new(&["en".into(), "es".into()], "es");
        assert_eq!(l.default_lang().as_str(), "es");
        assert_eq!(l.tags(), vec!["es", "en"]);
    }
}
