//! The reader's language for this request: [`ReaderLang`] carries the offered languages and
//! the request's `Accept-Language`, and decides with what the body or query sent.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::error::AppError;
use crate::i18n::{Lang, Languages};

/// Extracts the offered languages (app data registered by the wiring) and `Accept-Language`.
pub struct ReaderLang {
    languages: Languages,
    accept_language: Option<String>,
    /// Where the choice is kept for the problem document of a later failure.
    req: HttpRequest,
}

impl ReaderLang {
    /// For a public POST: the body's `lang` when sent (unknown → 422 naming `lang`), else
    /// `Accept-Language`, else the site default.
    pub fn pick(&self, sent: Option<&str>) -> Result<Lang, AppError> {
        let lang = self
            .languages
            .choose(sent, self.accept_language.as_deref())
            .map_err(|m| AppError::field("lang", m))?;
        self.req
            .extensions_mut()
            .insert(crate::web::problem_lang::ChosenLang(lang.clone()));
        Ok(lang)
    }

    /// For a page: `?lang=` when it names an offered language, else `Accept-Language`, else
    /// the default. A page never refuses a language.
    pub fn page(&self, query: Option<&str>) -> Lang {
        query
            .and_then(|q| self.languages.parse(q).ok())
            .unwrap_or_else(|| self.languages.negotiate(self.accept_language.as_deref()))
    }

    pub fn languages(&self) -> &Languages {
        &self.languages
    }
}

impl FromRequest for ReaderLang {
    type Error = AppError;
    type Future = Ready<Result<ReaderLang, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.app_data::<web::Data<Languages>>() {
            Some(languages) => Ok(ReaderLang {
                languages: languages.get_ref().clone(),
                accept_language: req
                    .headers()
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .map(String::from),
                req: req.clone(),
            }),
            None => Err(AppError::unexpected(anyhow::anyhow!(
                "the offered languages are not registered as app data"
            ))),
        })
    }
}
