//! Sanitised Markdown: staff-written Markdown turned into HTML that cannot run anything.
//! One parser configuration and one link rule (http, https, mailto and same-site links)
//! for every feature, rendered in two flavours because the places differ:
//!
//! - [`page_html`] for our own pages (job postings): raw HTML staff paste is sanitised by
//!   ammonia (kept when harmless, so a pasted `<p>` stays a paragraph), links get
//!   `rel="noopener noreferrer nofollow"`, and images are left out because the page's CSP
//!   allows images from our own origin only.
//! - [`email_html`] for emails (newsletter issues): raw HTML is shown as text, never
//!   passed through (a mail client is no place to trust a sanitiser's idea of safe markup),
//!   refused links point to `#`, and every tag carries its style inline because mail
//!   clients drop `<style>` blocks.

use std::collections::HashSet;

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

/// The Markdown extensions staff may use everywhere.
fn parser(markdown: &str) -> Parser<'_> {
    Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
}

/// Link schemes a rendered link may use; relative links (same site) are allowed too.
const LINK_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Renders Markdown to HTML that is safe to embed in one of our pages.
pub fn page_html(markdown: &str) -> String {
    let mut rendered = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut rendered, parser(markdown));
    ammonia::Builder::default()
        .url_schemes(HashSet::from(LINK_SCHEMES))
        .link_rel(Some("noopener noreferrer nofollow"))
        // The page's CSP allows images from our own origin only; leave them out.
        .rm_tags(["img"])
        .clean(&rendered)
        .to_string()
}

/// Styles for the tags Markdown produces, written into each tag.
const INLINE_STYLES: &[(&str, &str)] = &[
    ("<p>", "<p style=\"margin:0 0 16px 0;\">"),
    (
        "<h1>",
        "<h1 style=\"margin:24px 0 12px 0;font-size:26px;line-height:1.25;\">",
    ),
    (
        "<h2>",
        "<h2 style=\"margin:24px 0 12px 0;font-size:22px;line-height:1.25;\">",
    ),
    (
        "<h3>",
        "<h3 style=\"margin:20px 0 10px 0;font-size:18px;line-height:1.3;\">",
    ),
    ("<h4>", "<h4 style=\"margin:16px 0 8px 0;font-size:16px;\">"),
    ("<a href=", "<a style=\"color:#b3001b;\" href="),
    (
        "<blockquote>",
        "<blockquote style=\"margin:0 0 16px 0;padding:4px 16px;border-left:4px solid #dddddd;color:#444444;\">",
    ),
    ("<ul>", "<ul style=\"margin:0 0 16px 0;padding-left:24px;\">"),
    ("<ol>", "<ol style=\"margin:0 0 16px 0;padding-left:24px;\">"),
    ("<li>", "<li style=\"margin:0 0 6px 0;\">"),
    (
        "<pre>",
        "<pre style=\"margin:0 0 16px 0;padding:12px;background:#f4f4f2;overflow:auto;font-size:14px;\">",
    ),
    (
        "<code>",
        "<code style=\"font-family:Menlo,Consolas,monospace;font-size:90%;\">",
    ),
    ("<img ", "<img style=\"max-width:100%;height:auto;\" "),
    (
        "<hr />",
        "<hr style=\"border:0;border-top:1px solid #e5e5e5;margin:24px 0;\" />",
    ),
    (
        "<table>",
        "<table style=\"border-collapse:collapse;margin:0 0 16px 0;\">",
    ),
    ("<th>", "<th style=\"border:1px solid #dddddd;padding:6px 8px;\">"),
    ("<td>", "<td style=\"border:1px solid #dddddd;padding:6px 8px;\">"),
];

/// Renders Markdown to email-ready HTML: raw HTML shown as text, links and images only
/// to [`LINK_SCHEMES`] or same-site addresses (others become `#`), styles inline.
pub fn email_html(markdown: &str) -> String {
    let events = parser(markdown).map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: allowed_or_hash(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: allowed_or_hash(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut html, events);
    // Every `<` left is a tag the renderer wrote (text is escaped), so this is exact.
    for (tag, styled) in INLINE_STYLES {
        if html.contains(tag) {
            html = html.replace(tag, styled);
        }
    }
    html
}

/// How a link to one of [`LINK_SCHEMES`] or within the site (`/…`, `#…`) begins.
const EMAIL_LINK_PREFIXES: [&str; 5] = ["http://", "https://", "mailto:", "/", "#"];

/// `url` when it begins with one of [`EMAIL_LINK_PREFIXES`] (any case), otherwise `#`.
fn allowed_or_hash(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    if EMAIL_LINK_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let html = page_html("## Role\n\n- *write*\n- **edit**\n\n[Us](https://example.org)");
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
        let html = page_html(
            "<script>alert(1)</script>\n\n<p onclick=\"x()\">hi</p>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("hi"), "{html}");
    }

    #[test]
    fn email_links_keep_the_old_rule() {
        for (url, kept) in [
            ("https://example.org/a", true),
            ("HTTP://example.org", true),
            ("mailto:desk@example.org", true),
            ("/about", true),
            ("#top", true),
            ("javascript:alert(1)", false),
            ("data:text/html,x", false),
            ("about/relative", false),
            ("httpx://example.org", false),
        ] {
            let html = email_html(&format!("[x]({url})"));
            assert_eq!(html.contains("href=\"#\""), !kept, "{url}: {html}");
        }
    }
}
