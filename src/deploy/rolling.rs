//! One step of a rolling update, as the Kubernetes Deployment controller takes it: bring the
//! new version up within the surge budget, clear old replicas that are not ready anyway, then
//! take old ready replicas down only as far as the unavailability budget allows.

use super::strategy::IntOrPercent;

/// What a rolling update may spend, in replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollingBudget {
    /// Replicas allowed above the desired count.
    pub max_surge: u32,
    /// Ready replicas allowed below the desired count.
    pub max_unavailable: u32,
}

impl RollingBudget {
    /// Resolves the parameters for `desired` replicas: surge rounds up, unavailability down,
    /// and when both come to zero one replica may be unavailable (as Kubernetes does).
    pub fn resolve(desired: u32, max_surge: IntOrPercent, max_unavailable: IntOrPercent) -> Self {
        let surge = max_surge.resolve(desired, true);
        let mut unavailable = max_unavailable.resolve(desired, false).min(desired);
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        RollingBudget {
            max_surge: surge,
            max_unavailable: unavailable,
        }
    }
}

/// The old and new versions' replicas (wanted) and how many of each are ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RollingState {
    pub old: u32,
    pub old_ready: u32,
    pub new: u32,
    pub new_ready: u32,
}

impl RollingState {
    /// Whether the update is over: every desired replica is new and ready, no old one is left.
    pub fn is_complete(&self, desired: u32) -> bool {
        self.old == 0 && self.new == desired && self.new_ready >= desired
    }
}

/// The replica counts to set next (`old` and `new` of the result; the ready counts are
/// carried over). Taking this step repeatedly, as pods become ready, completes the update
/// without ever exceeding `desired + max_surge` replicas or falling below
/// `desired − max_unavailable` ready ones.
pub fn next_rolling_step(desired: u32, budget: RollingBudget, s: RollingState) -> RollingState {
    let mut next = s;
    // Scale the new version up within the surge budget (or down, if desired shrank).
    let max_total = desired.saturating_add(budget.max_surge);
    if next.new > desired {
        next.new = desired;
    } else {
        let room = max_total.saturating_sub(s.old + s.new);
        next.new += room.min(desired - s.new);
    }
    let min_available = desired.saturating_sub(budget.max_unavailable);
    // Old replicas that are not ready cost no availability: clear them first, keeping room
    // for new replicas still starting.
    let old_unready = s.old - s.old_ready.min(s.old);
    let new_unavailable = next.new - s.new_ready.min(next.new);
    let cleanup_room = (s.old + next.new)
        .saturating_sub(min_available)
        .saturating_sub(new_unavailable);
    next.old -= old_unready.min(cleanup_room);
    // Then ready old replicas, as far as the unavailability budget allows.
    let available = s.old_ready.min(next.old) + s.new_ready.min(next.new);
    let scale_down = available.saturating_sub(min_available);
    next.old -= scale_down.min(next.old);
    next.old_ready = s.old_ready.min(next.old);
    next.new_ready = s.new_ready.min(next.new);
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ten_replicas_with_25_percent_budgets_surge_three_and_keep_eight_ready() {
        let b = RollingBudget::resolve(10, IntOrPercent::Percent(25), IntOrPercent::Percent(25));
        assert_eq!(
            b,
            RollingBudget {
                max_surge: 3,
                max_unavailable: 2
            }
        );
        let start = RollingState {
            old: 10,
            old_ready: 10,
            new: 0,
            new_ready: 0,
        };
        let s = next_rolling_step(10, b, start);
        // Three new replicas start; two old ones go, leaving eight ready.
        assert_eq!((s.new, s.old), (3, 8));
    }

    #[test]
    fn zero_budgets_still_allow_one_replica_at_a_time() {
        let b = RollingBudget::resolve(3, IntOrPercent::Count(0), IntOrPercent::Count(0));
        assert_eq!(
            b,
            RollingBudget {
                max_surge: 0,
                max_unavailable: 1
            }
        );
    }

    /// Runs an update to the end, letting up to `ready_per_tick` new pods become ready per step.
    fn run(desired: u32, b: RollingBudget, ready_per_tick: &[u32]) -> Result<u32, TestCaseError> {
        let mut s = RollingState {
            old: desired,
            old_ready: desired,
            new: 0,
            new_ready: 0,
        };
        for tick in 0..10_000u32 {
            if s.is_complete(desired) {
                return Ok(tick);
            }
            s = next_rolling_step(desired, b, s);
            prop_assert!(
                s.old + s.new <= desired + b.max_surge,
                "{s:?} exceeds the surge budget"
            );
            prop_assert!(
                s.old_ready + s.new_ready >= desired.saturating_sub(b.max_unavailable),
                "{s:?} is below the availability budget"
            );
            let starting = s.new - s.new_ready;
            let step = ready_per_tick[tick as usize % ready_per_tick.len()];
            // Readiness always progresses eventually; a tick may bring none.
            let newly = if tick % 7 == 6 {
                starting.min(step.max(1))
            } else {
                starting.min(step)
            };
            s.new_ready += newly;
        }
        Err(TestCaseError::fail(format!("no progress: {s:?}")))
    }

    proptest! {
        #[test]
        fn every_step_stays_within_surge_and_availability(
            desired in 0u32..60,
            surge in 0u32..=100,
            unavailable in 0u32..=100,
            ready_per_tick in proptest::collection::vec(0u32..5, 1..8),
        ) {
            let b = RollingBudget::resolve(desired, IntOrPercent::Percent(surge), IntOrPercent::Percent(unavailable));
            run(desired, b, &ready_per_tick)?;
        }

        #[test]
        fn counts_work_as_well_as_percentages(desired in 1u32..40, surge in 0u32..5, unavailable in 0u32..5) {
            let b = RollingBudget::resolve(desired, IntOrPercent::Count(surge), IntOrPercent::Count(unavailable));
            run(desired, b, &[1, 0, 2])?;
        }
    }
}
