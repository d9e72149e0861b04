//! Problem documents of the public endpoints in the reader's language.
//!
//! The code writes its problem titles, details and field messages in English, as before.
//! `locales/en/problems.ftl` holds each of those sentences as a message whose variables stand
//! for the parts that vary (`Use at most { $max } characters.`); [`ProblemText::translate`]
//! finds the message an English sentence is, takes the variables' text from it, and formats
//! the same message in the reader's language. A sentence no message describes stays English.
//!
//! [`localize`] is the middleware for the public scopes: it rewrites every
//! `application/problem+json` response into the request's language: the body's `lang` when
//! the handler parsed one ([`ChosenLang`], set by [`crate::web::ReaderLang::pick`]), else
//! `Accept-Language`, else the site default. The staff API is not wrapped and stays English.

use std::sync::OnceLock;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{ACCEPT_LANGUAGE, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use fluent_bundle::{FluentArgs, FluentValue};
use fluent_syntax::ast::{Entry, Expression, InlineExpression, PatternElement};

use crate::error::FieldError;
use crate::i18n::{Catalogues, Lang, Languages};
use crate::state::AppState;

/// The language the source sentences are written in.
const SOURCE_LANG: &str = "en";
/// The catalogue file of the problem messages.
const FILE: &str = "problems.ftl";

/// The language a handler chose for this request from its body (kept in the request's
/// extensions so the problem document of a later failure follows it).
#[derive(Debug, Clone)]
pub struct ChosenLang(pub Lang);

/// One piece of an English message: text to match, or a variable that takes any text.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Var(String),
}

/// The English problem messages as patterns to recognise sentences by.
#[derive(Debug, Default)]
pub struct ProblemText {
    patterns: Vec<(String, Vec<Piece>)>,
}

impl ProblemText {
    /// From the embedded English catalogue, parsed once.
    pub fn embedded() -> &'static ProblemText {
        static TEXT: OnceLock<ProblemText> = OnceLock::new();
        TEXT.get_or_init(|| {
            ProblemText::parse(crate::i18n::embedded_file(SOURCE_LANG, FILE).unwrap_or_default())
        })
    }

    /// Messages made of text and variables only; anything else (selectors) is not matched.
    fn parse(source: &str) -> ProblemText {
        let resource = match fluent_syntax::parser::parse(source) {
            Ok(r) => r,
            Err((r, _)) => r,
        };
        let mut patterns = Vec::new();
        'messages: for entry in resource.body {
            let Entry::Message(m) = entry else { continue };
            let Some(value) = m.value else { continue };
            let mut pieces: Vec<Piece> = Vec::new();
            for element in value.elements {
                let piece = match element {
                    PatternElement::TextElement { value } => Piece::Text(value.to_string()),
                    PatternElement::Placeable {
                        expression: Expression::Inline(InlineExpression::VariableReference { id }),
                    } => Piece::Var(id.name.to_string()),
                    PatternElement::Placeable { .. } => continue 'messages,
                };
                match (pieces.last_mut(), piece) {
                    (Some(Piece::Text(t)), Piece::Text(more)) => t.push_str(&more),
                    (_, piece) => pieces.push(piece),
                }
            }
            patterns.push((m.id.name.to_string(), pieces));
        }
        ProblemText { patterns }
    }

    /// The message id and variables an English sentence is, if any message describes it.
    fn recognise(&self, sentence: &str) -> Option<(&str, Vec<(String, String)>)> {
        self.patterns
            .iter()
            .find_map(|(id, pieces)| matches(pieces, sentence).map(|vars| (id.as_str(), vars)))
    }

    /// `sentence` in `lang`; unchanged when `lang` is the source language, when no message
    /// describes it, or when the catalogue cannot format it. A variable's text that is itself
    /// a known sentence is translated too ("This is not an email address: { $reason }").
    pub fn translate(&self, catalogues: &Catalogues, lang: &str, sentence: &str) -> String {
        self.translate_depth(catalogues, lang, sentence, 2)
    }

    fn translate_depth(
        &self,
        catalogues: &Catalogues,
        lang: &str,
        sentence: &str,
        depth: u8,
    ) -> String {
        if lang == SOURCE_LANG || depth == 0 {
            return sentence.to_string();
        }
        let Some((id, vars)) = self.recognise(sentence) else {
            return sentence.to_string();
        };
        let mut args = FluentArgs::new();
        for (name, value) in vars {
            let value = self.translate_depth(catalogues, lang, &value, depth - 1);
            args.set(name, FluentValue::from(value));
        }
        catalogues
            .message(lang, id, Some(&args))
            .unwrap_or_else(|_| sentence.to_string())
    }

    /// Every field error's message in `lang`.
    pub fn field_errors(&self, catalogues: &Catalogues, lang: &str, errors: &mut [FieldError]) {
        for e in errors {
            e.message = self.translate(catalogues, lang, &e.message);
        }
    }
}

/// The variables' text when `sentence` is `pieces`, each variable taking the shortest text
/// up to the next piece of text (the last one taking the rest).
fn matches(pieces: &[Piece], sentence: &str) -> Option<Vec<(String, String)>> {
    let mut rest = sentence;
    let mut vars = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        match &pieces[i] {
            Piece::Text(t) => rest = rest.strip_prefix(t.as_str())?,
            Piece::Var(name) => {
                let value = match pieces.get(i + 1) {
                    None => std::mem::take(&mut rest),
                    Some(Piece::Text(next)) => {
                        // The last text must end the sentence; others are found at their
                        // first occurrence.
                        let at = if i + 2 == pieces.len() {
                            rest.strip_suffix(next.as_str()).map(str::len)?
                        } else {
                            rest.find(next.as_str())?
                        };
                        let (value, after) = rest.split_at(at);
                        rest = after;
                        value
                    }
                    // Two variables in a row cannot be told apart.
                    Some(Piece::Var(_)) => return None,
                };
                if value.is_empty() {
                    return None;
                }
                vars.push((name.clone(), value.to_string()));
            }
        }
        i += 1;
    }
    rest.is_empty().then_some(vars)
}

/// Rewrites a problem document's `title`, `detail` and `errors[].message` into `lang`.
pub fn localize_document(
    catalogues: &Catalogues,
    lang: &str,
    body: &[u8],
) -> Option<serde_json::Value> {
    let mut doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = ProblemText::embedded();
    let object = doc.as_object_mut()?;
    for key in ["title", "detail"] {
        if let Some(serde_json::Value::String(s)) = object.get_mut(key) {
            *s = text.translate(catalogues, lang, s);
        }
    }
    if let Some(serde_json::Value::Array(errors)) = object.get_mut("errors") {
        for e in errors {
            if let Some(serde_json::Value::String(m)) = e.get_mut("message") {
                *m = text.translate(catalogues, lang, m);
            }
        }
    }
    Some(doc)
}

/// The middleware (see the module documentation).
pub async fn localize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // No clone of the request is held across the call: the services inside need it unshared.
    // An error a middleware inside returns (not a handler's) passes unchanged.
    let response = next.call(req).await?.map_into_boxed_body();
    let is_problem = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return Ok(response);
    }
    let http = response.request();
    let Some(state) = http.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(response);
    };
    let chosen = http.extensions().get::<ChosenLang>().map(|c| c.0.clone());
    let lang = chosen.unwrap_or_else(|| {
        let languages: &Languages = &state.languages;
        languages.negotiate(
            http.headers()
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )
    });
    if lang.as_str() == SOURCE_LANG {
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let (mut response, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    let localized = localize_document(state.templates.catalogues(), lang.as_str(), &bytes)
        .and_then(|doc| serde_json::to_vec(&doc).ok())
        .unwrap_or_else(|| bytes.to_vec());
    // The length follows from the new body.
    response.headers_mut().remove(CONTENT_LENGTH);
    let response = response.set_body(BoxBody::new(localized));
    Ok(ServiceResponse::new(request, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> &'static ProblemText {
        ProblemText::embedded()
    }

    #[test]
    fn recognises_sentences_with_variables() {
        let (id, vars) = text()
            .recognise("Use at most 200 characters.")
            .expect("known");
        assert_eq!(id, "problem-donation-at-most");
        assert_eq!(vars, vec![("max".to_string(), "200".to_string())]);
        assert!(text().recognise("Use at most  characters.").is_none());
        assert!(text().recognise("Something nobody wrote.").is_none());
    }

    #[test]
    fn translates_into_spanish_and_keeps_english() {
        let c = Catalogues::embedded();
        assert_eq!(
            text().translate(&c, "es", "Please correct: email, lang."),
            "Corrija: email, lang."
        );
        assert_eq!(
            text().translate(&c, "es", "This is not an email address: The address needs a full domain, like example.org."),
            "Esta no es una dirección de correo: La dirección necesita un dominio completo, como example.org."
        );
        assert_eq!(
            text().translate(&c, "en", "Please correct: email."),
            "Please correct: email."
        );
        assert_eq!(
            text().translate(&c, "es", "Unknown words."),
            "Unknown words."
        );
    }

    #[test]
    fn every_problem_message_is_recognised_as_itself() {
        let c = Catalogues::embedded();
        for (id, pieces) in &text().patterns {
            let mut args = FluentArgs::new();
            for p in pieces {
                if let Piece::Var(name) = p {
                    args.set(name.clone(), FluentValue::from("x1"));
                }
            }
            let english = c.message("en", id, Some(&args)).expect("formats");
            let (found, _) = text().recognise(&english).expect("recognised");
            // Two messages may share wording; the first one describing it is as good.
            let again = c.message("en", found, Some(&args)).expect("formats");
            assert_eq!(again, english, "{id}");
        }
    }
}
