//! The service's idea of "now" where a test must control it (second-factor codes, pending
//! sign-ins): the system clock, shifted by an offset that tests can move forward instead of
//! sleeping. Production never moves it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{NaiveDateTime, TimeDelta};

/// Wall-clock time plus an adjustable offset (zero unless a test advances it).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, as the database stores it (UTC, microseconds).
    pub fn now(&self) -> NaiveDateTime {
        crate::db::now() + TimeDelta::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Seconds since the Unix epoch (what TOTP counts).
    pub fn unix_seconds(&self) -> u64 {
        u64::try_from(self.now().and_utc().timestamp()).unwrap_or(0)
    }

    /// Moves this clock (and every copy of it) forward by `by`: for tests.
    pub fn advance(&self, by: TimeDelta) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_a_copy_moves_every_copy() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = clock.now();
        copy.advance(TimeDelta::minutes(10));
        assert!(clock.now() - before >= TimeDelta::minutes(10));
    }
}
