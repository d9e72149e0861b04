//! Posting descriptions are rendered by the one Markdown sanitiser, page flavour
//! ([`crate::domain::markdown::page_html`]); this name stays for the jobs code that calls it.

pub use crate::domain::markdown::page_html as to_safe_html;
