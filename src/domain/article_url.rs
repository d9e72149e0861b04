//! `ArticleUrl`: an absolute http(s) URL on one of `site.article_hosts`, normalised so every
//! form of one article's address is the same string.

use std::fmt;

/// Longest article address accepted, in bytes.
pub const MAX_LEN: usize = 2048;

/// A normalised article address: scheme and host lower-cased, default port dropped, query
/// and fragment dropped, trailing slashes trimmed (`https://news.example/a/b`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArticleUrl(String);

impl ArticleUrl {
    /// Parses `input` and checks its host against `hosts` (compared case-insensitively).
    pub fn parse(input: &str, hosts: &[String]) -> Result<ArticleUrl, String> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err("Give the article's address.".into());
        }
        if trimmed.len() > MAX_LEN {
            return Err(format!(
                "An article address has at most {MAX_LEN} characters."
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err("An article address cannot hold control characters.".into());
        }
        let url = url::Url::parse(trimmed)
            .map_err(|_| "This is not an absolute http(s) address.".to_string())?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err("This is not an absolute http(s) address.".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("An article address cannot carry a user name or password.".into());
        }
        let host = url
            .host_str()
            .ok_or_else(|| "This is not an absolute http(s) address.".to_string())?
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if !hosts
            .iter()
            .any(|allowed| allowed.trim_end_matches('.').eq_ignore_ascii_case(&host))
        {
            return Err("This address is not on one of the newsroom's sites.".into());
        }
        // `url` already lower-cased the scheme and host and dropped a default port.
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let path = url.path().trim_end_matches('/');
        Ok(ArticleUrl(format!("{}://{host}{port}{path}", url.scheme())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The OpenAPI schema of a field [`parse`](Self::parse) reads; an `optional` one may also
    /// be blank (no address). The hosts are a setting (`site.article_hosts`), so the document
    /// names the rule without them.
    pub fn schema(optional: bool) -> utoipa::openapi::Object {
        let pattern = if optional {
            r"^\s*$|^\s*[Hh][Tt][Tt][Pp][Ss]?://"
        } else {
            r"^\s*[Hh][Tt][Tt][Pp][Ss]?://"
        };
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format((!optional).then(|| utoipa::openapi::SchemaFormat::Custom("uri".into())))
            .max_length(Some(MAX_LEN))
            .pattern(Some(pattern))
            .description(Some(
                "An absolute http(s) address on one of the newsroom's hosts (`site.article_hosts`).",
            ))
            .build()
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for ArticleUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec!["news.example.org".into(), "localhost".into()]
    }

    fn parse(s: &str) -> Result<String, String> {
        ArticleUrl::parse(s, &hosts()).map(ArticleUrl::into_inner)
    }

    #[test]
    fn every_form_of_one_article_is_the_same() {
        let expected = "https://news.example.org/2024/story";
        for form in [
            "https://news.example.org/2024/story",
            "HTTPS://News.Example.ORG/2024/story/",
            "https://news.example.org:443/2024/story",
            "https://news.example.org/2024/story?utm_source=x#comments",
            "  https://news.example.org/2024/story//  ",
            "https://news.example.org./2024/story",
        ] {
            assert_eq!(parse(form).as_deref(), Ok(expected), "{form}");
        }
    }

    #[test]
    fn keeps_what_tells_articles_apart() {
        assert_eq!(
            parse("http://localhost:8080/a").as_deref(),
            Ok("http://localhost:8080/a")
        );
        assert_eq!(
            parse("https://news.example.org/").as_deref(),
            Ok("https://news.example.org")
        );
        assert_ne!(
            parse("https://news.example.org/A"),
            parse("https://news.example.org/a"),
            "paths are case-sensitive"
        );
        assert_ne!(
            parse("http://news.example.org/a"),
            parse("https://news.example.org/a")
        );
    }

    #[test]
    fn refuses_other_hosts_and_schemes() {
        for bad in [
            "",
            "news.example.org/a",
            "/relative",
            "ftp://news.example.org/a",
            "javascript:alert(1)",
            "https://evil.example/a",
            "https://news.example.org.evil.example/a",
            "https://sub.news.example.org/a",
            "https://user:pw@news.example.org/a",
            "https://news.example.org/a\nb",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("https://news.example.org/{}", "a".repeat(3000));
        assert!(parse(&long).is_err());
    }
}
