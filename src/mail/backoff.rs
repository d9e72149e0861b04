//! Retry delays: exponential from `base`, capped at `max`, with jitter so retries after an
//! outage do not arrive in lockstep.

use std::time::Duration;

use rand::Rng;

/// Delay before attempt `attempt + 1`, given `attempt` attempts so far (1-based).
/// The delay is drawn uniformly from the upper half of `min(max, base * 2^(attempt-1))`.
pub fn retry_delay(attempt: u32, base: Duration, max: Duration, rng: &mut impl Rng) -> Duration {
    let ceiling = ceiling(attempt, base, max);
    let half = ceiling / 2;
    let jitter_ms = rng.random_range(0..=(ceiling - half).as_millis() as u64);
    half + Duration::from_millis(jitter_ms)
}

fn ceiling(attempt: u32, base: Duration, max: Duration) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn grows_exponentially_within_jitter() {
        let mut rng = StdRng::seed_from_u64(7);
        let base = Duration::from_secs(30);
        let max = Duration::from_secs(6 * 3600);
        for attempt in 1..=6 {
            let ceiling = base * 2u32.pow(attempt - 1);
            for _ in 0..100 {
                let d = retry_delay(attempt, base, max, &mut rng);
                assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d:?}");
            }
        }
    }

    #[test]
    fn is_capped_and_never_overflows() {
        let mut rng = StdRng::seed_from_u64(7);
        let max = Duration::from_secs(60);
        for attempt in [10, 31, 32, 64, u32::MAX] {
            let d = retry_delay(attempt, Duration::from_secs(30), max, &mut rng);
            assert!(d <= max && d >= max / 2, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn jitter_spreads_values() {
        let mut rng = StdRng::seed_from_u64(1);
        let values: std::collections::HashSet<_> = (0..50)
            .map(|_| {
                retry_delay(
                    3,
                    Duration::from_secs(1),
                    Duration::from_secs(100),
                    &mut rng,
                )
            })
            .collect();
        assert!(values.len() > 10);
    }
}
