//! The words for a deployment waiting for a time: a timed pause, Blue-Green's automatic
//! promotion, the scale-down delay. The controller writes them when it decides; pages and the
//! API work them out again as of now, so a countdown never shows a stale figure.

use super::canary::{CanaryStep, Pause};
use super::stage::Stage;
use super::strategy::Strategy;

/// The timed wait at `stage` in words, `left` seconds before it ends.
pub fn describe(strategy: &Strategy, stage: Stage, previous: &str, left: i64) -> Option<String> {
    let left = left.max(0);
    match (stage, strategy) {
        (Stage::Step(i), Strategy::Canary { steps }) => match steps.get(i) {
            Some(CanaryStep::Pause(Pause { duration: Some(_) })) => {
                Some(format!("paused, {left} s left"))
            }
            _ => None,
        },
        (
            Stage::AwaitPromotion,
            Strategy::BlueGreen {
                auto_promotion_seconds: Some(_),
                ..
            },
        ) => Some(format!(
            "preview ready; promotes by itself in {left} s, or promote now"
        )),
        (Stage::ScaleDownDelay, Strategy::BlueGreen { .. }) => Some(format!(
            "old version {previous} kept {left} s more for instant rollback"
        )),
        _ => None,
    }
}

/// How long the timed wait at `stage` lasts, in seconds, if it is one.
fn length(strategy: &Strategy, stage: Stage) -> Option<u32> {
    match (stage, strategy) {
        (Stage::Step(i), Strategy::Canary { steps }) => match steps.get(i) {
            Some(CanaryStep::Pause(Pause { duration })) => *duration,
            _ => None,
        },
        (
            Stage::AwaitPromotion,
            Strategy::BlueGreen {
                auto_promotion_seconds,
                ..
            },
        ) => *auto_promotion_seconds,
        (
            Stage::ScaleDownDelay,
            Strategy::BlueGreen {
                scale_down_delay_seconds,
                ..
            },
        ) => Some(*scale_down_delay_seconds),
        _ => None,
    }
}

/// What a deployment that was waiting with `waiting` waits for as of `now_ms`: a countdown
/// written earlier is worked out again; anything else is kept as it was.
pub fn waiting_now(
    strategy: &Strategy,
    stage: Stage,
    since_ms: i64,
    previous: &str,
    waiting: Option<&str>,
    now_ms: i64,
) -> Option<String> {
    let stored = waiting?;
    let fresh = length(strategy, stage).and_then(|seconds| {
        let elapsed = (now_ms - since_ms).max(0) / 1000;
        describe(strategy, stage, previous, i64::from(seconds) - elapsed)
    });
    match fresh {
        Some(fresh) if same_words(&fresh, stored) => Some(fresh),
        _ => Some(stored.to_owned()),
    }
}

/// Whether two texts say the same thing but for their figures.
fn same_words(a: &str, b: &str) -> bool {
    let words = |s: &str| {
        s.split(|c: char| c.is_ascii_digit())
            .next()
            .map(str::to_owned)
    };
    words(a) == words(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_pause_counts_down_from_what_the_controller_wrote() {
        let canary = Strategy::Canary {
            steps: vec![CanaryStep::Pause(Pause { duration: Some(30) })],
        };
        let at = |now| {
            waiting_now(
                &canary,
                Stage::Step(0),
                1_000,
                "v1",
                Some("paused, 30 s left"),
                now,
            )
        };
        assert_eq!(at(11_000).as_deref(), Some("paused, 20 s left"));
        assert_eq!(at(60_000).as_deref(), Some("paused, 0 s left"));
        // Paused by a person: their words stay.
        let paused = waiting_now(
            &canary,
            Stage::Step(0),
            1_000,
            "v1",
            Some("paused by an operator; resume to go on"),
            11_000,
        );
        assert_eq!(
            paused.as_deref(),
            Some("paused by an operator; resume to go on")
        );
    }

    #[test]
    fn blue_green_counts_down_its_promotion_and_its_delay() {
        let bg = Strategy::BlueGreen {
            auto_promotion_seconds: Some(10),
            scale_down_delay_seconds: 30,
        };
        let promotion = waiting_now(
            &bg,
            Stage::AwaitPromotion,
            0,
            "v1",
            Some("preview ready; promotes by itself in 10 s, or promote now"),
            4_000,
        );
        assert_eq!(
            promotion.as_deref(),
            Some("preview ready; promotes by itself in 6 s, or promote now")
        );
        let delay = waiting_now(
            &bg,
            Stage::ScaleDownDelay,
            0,
            "v1",
            Some("old version v1 kept 30 s more for instant rollback"),
            25_000,
        );
        assert_eq!(
            delay.as_deref(),
            Some("old version v1 kept 5 s more for instant rollback")
        );
        assert_eq!(waiting_now(&bg, Stage::Promote, 0, "v1", None, 1), None);
    }
}
