//! Domain types shared by several features. Constructors are the only way in, so a value of
//! one of these types is valid by construction.

mod article_url;
mod email;
pub mod markdown;
pub mod privacy;
pub mod text;

pub use article_url::ArticleUrl;
pub use email::{addresses_in, EmailAddress};
pub use privacy::Erasure;
