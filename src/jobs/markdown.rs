//! Posting descriptions: Markdown rendered to HTML (pulldown-cmark), then sanitised (ammonia)
//! so that whatever staff paste (raw HTML, scripts, event handlers, `javascript:` links)
//! cannot run on the page.

use std::collections::HashSet;

use pulldown_cmark::{html, Options, Parser};

/// Renders Markdown to HTML that is safe to embed in a page.
pub fn to_safe_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut rendered = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut rendered, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        // The page's CSP allows images from our own origin only; leave them out.
        .rm_tags(["img"])
        .clean(&rendered)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let html = to_safe_html("## Role\n\n- *write*\n- **edit**\n\n[Us](https://example.org)");
        assert!(html.contains("<h2>Role</h2>"), "{html}");
        assert!(html.contains("<em>write</em>"), "{html}");
        assert!(html.contains("<strong>edit</strong>"), "{html}");
        assert!(
            html.contains(
                r#"<a href="https://example.org" rel="noopener noreferrer nofollow">Us</a>"#
            ),
            "{html}"
        );
    }

    #[test]
    fn strips_anything_that_runs() {
        let html = to_safe_html(
            "<script>alert(1)</script>\n\n<p onclick=\"x()\">hi</p>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("hi"), "{html}");
    }
}
