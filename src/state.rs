//! The state every handler can reach, below the features: the database, the mailer, the
//! settings, the service's keys, templates, and the limits shared by sign-in. Features import
//! it from here; only the wiring (`app`) builds it.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::keys::Keys;
use crate::mail::Mailer;
use crate::staff::password::PasswordPool;
use crate::templates::Templates;
use crate::web::{LimitStore, RateLimiter};

/// What every handler can reach (as `web::Data<AppState>`).
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub mailer: Mailer,
    pub templates: Templates,
    pub keys: Keys,
    /// The key of confidential tips; `None` when the service takes none.
    pub tips: Option<crate::sealed::TipsKey>,
    /// Password hashing with a bounded number in flight.
    pub passwords: PasswordPool,
    /// Where rate limits keep their counts (memory on SQLite, the database on PostgreSQL).
    pub limits: LimitStore,
    /// Per-IP budget for `/staff/login`.
    pub login_limiter: RateLimiter,
    /// Now, for second-factor codes and pending sign-ins (tests move it forward).
    pub clock: Clock,
    /// The languages readers may choose (`site.languages`).
    pub languages: crate::i18n::Languages,
}
