//! The staff area's own pages and JSON endpoints: sign-in, password recovery, first-run setup,
//! account, staff accounts, audit log, outbox.
//!
//! One module per area; everything is re-exported here so `crate::staff::handlers::X` (the
//! route table, the features' pages calling `page`, the access middleware calling
//! `error_page`, the OpenAPI document) keeps naming each handler in one place.

mod account;
mod accounts;
mod audit;
mod frame;
mod outbox;
mod passkeys;
mod recovery;
mod signin;
mod two_factor;

pub use account::*;
pub use accounts::*;
pub use audit::*;
pub use frame::*;
pub use outbox::*;
pub use passkeys::*;
pub use recovery::*;
pub use signin::*;
pub use two_factor::*;
