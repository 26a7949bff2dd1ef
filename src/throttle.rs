//! Slowing down password guessing: after a few failed sign-ins an account must wait, and
//! the wait doubles with each further failure.

/// Failures allowed before any wait is imposed.
pub const FREE_ATTEMPTS: u32 = 3;
/// The longest wait, in milliseconds (15 minutes).
pub const MAX_WAIT_MS: i64 = 15 * 60 * 1000;

/// How long after the last failure the next attempt must wait, given `failures` in a row.
pub fn wait_after_failures(failures: u32) -> i64 {
    if failures < FREE_ATTEMPTS {
        return 0;
    }
    let doublings = (failures - FREE_ATTEMPTS).min(20);
    (1000_i64 << doublings).min(MAX_WAIT_MS)
}

/// Milliseconds left before an account with `failures` in a row, the last at
/// `last_failure_ms`, may try again at `now_ms`; `None` when it may try now.
pub fn retry_after(failures: u32, last_failure_ms: Option<i64>, now_ms: i64) -> Option<i64> {
    let last = last_failure_ms?;
    let ready_at = last.saturating_add(wait_after_failures(failures));
    (ready_at > now_ms).then(|| ready_at - now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_first_failures_cost_nothing() {
        assert_eq!(retry_after(2, Some(1_000), 1_000), None);
    }

    #[test]
    fn the_wait_doubles_after_the_free_attempts() {
        assert_eq!(wait_after_failures(3), 1_000);
        assert_eq!(wait_after_failures(4), 2_000);
        assert_eq!(wait_after_failures(5), 4_000);
        assert_eq!(retry_after(4, Some(10_000), 10_500), Some(1_500));
        assert_eq!(retry_after(4, Some(10_000), 12_000), None);
    }

    #[test]
    fn the_wait_is_capped() {
        assert_eq!(wait_after_failures(1_000), MAX_WAIT_MS);
    }

    proptest! {
        #[test]
        fn more_failures_never_wait_less(n in 0u32..10_000) {
            prop_assert!(wait_after_failures(n + 1) >= wait_after_failures(n));
            prop_assert!(wait_after_failures(n) <= MAX_WAIT_MS);
        }
    }
}
