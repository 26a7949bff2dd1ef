//! Canary steps and the replica ratio that stands in for traffic weight when there is no
//! traffic router (as Argo Rollouts' basic canary does): the canary gets `ceil(desired × w%)`
//! replicas, the stable version keeps `ceil(desired × (100 − w)%)` and gives up only as many
//! as the canary has ready, so the app never has fewer ready replicas than it needs.

use serde::{Deserialize, Serialize};

use super::countdown;
use super::progress::{
    Action, DeployDecision, DeploySpec, Observed, Progress, after, elapsed_s, pods,
};
use super::stage::Stage;
use super::strategy::MAX_WAIT_SECONDS;
use crate::InvalidInput;
use crate::analysis::AnalysisPhase;

/// How long a pause holds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// Seconds; absent means until someone promotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 604_800))]
    pub duration: Option<u32>,
}

/// One step of a canary deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CanaryStep {
    /// Send this share of traffic (0–100 %) to the canary.
    SetWeight(u32),
    /// Wait, for a time or until promoted.
    Pause(Pause),
    /// Run these analysis templates and wait for their verdict.
    Analysis { templates: Vec<String> },
}

impl CanaryStep {
    pub fn check(&self, field: &str) -> Result<(), InvalidInput> {
        match self {
            CanaryStep::SetWeight(w) if *w > 100 => Err(InvalidInput::new(
                format!("{field}.setWeight"),
                format!("must be between 0 and 100 percent, not {w}"),
            )),
            CanaryStep::Pause(Pause { duration: Some(d) }) if *d > MAX_WAIT_SECONDS => {
                Err(InvalidInput::new(
                    format!("{field}.pause.duration"),
                    "must be at most a week (604800 s)",
                ))
            }
            CanaryStep::Analysis { templates } if templates.is_empty() => Err(InvalidInput::new(
                format!("{field}.analysis.templates"),
                "name at least one analysis template",
            )),
            _ => Ok(()),
        }
    }

    /// The step in words, for the progress view.
    pub fn describe(&self) -> String {
        match self {
            CanaryStep::SetWeight(w) => format!("Set weight {w}%"),
            CanaryStep::Pause(Pause { duration: Some(d) }) => format!("Pause {d} s"),
            CanaryStep::Pause(Pause { duration: None }) => "Pause until promoted".into(),
            CanaryStep::Analysis { templates } => format!("Analysis: {}", templates.join(", ")),
        }
    }
}

/// The weight in force after the steps before `index` (0 before any `setWeight`).
pub fn weight_before(steps: &[CanaryStep], index: usize) -> u32 {
    steps[..index.min(steps.len())]
        .iter()
        .rev()
        .find_map(|s| match s {
            CanaryStep::SetWeight(w) => Some((*w).min(100)),
            _ => None,
        })
        .unwrap_or(0)
}

/// Replica targets for one moment of a canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanaryScale {
    pub stable: u32,
    pub canary: u32,
}

/// The replicas each side should have for `weight` % of an app that needs `desired`, given how
/// many canary replicas are ready now. The stable side shrinks only by ready canary replicas,
/// so ready(stable) + ready(canary) never drops below `desired` because of the canary.
pub fn canary_scale(desired: u32, weight: u32, canary_ready: u32) -> CanaryScale {
    let weight = weight.min(100);
    let canary =
        u32::try_from((u64::from(desired) * u64::from(weight)).div_ceil(100)).unwrap_or(desired);
    // The stable side's own share, rounded up as Argo Rollouts does (so 67% of 3 leaves one
    // stable replica beside three canaries rather than none).
    let stable_floor = u32::try_from((u64::from(desired) * u64::from(100 - weight)).div_ceil(100))
        .unwrap_or(desired);
    let stable = desired
        .saturating_sub(canary_ready.min(canary))
        .max(stable_floor);
    CanaryScale { stable, canary }
}

/// A canary deployment at step `i`: the replicas for its weight, then the step's own wait.
pub(super) fn canary_step(
    plan: &DeploySpec,
    p: &Progress,
    seen: &Observed,
    steps: &[CanaryStep],
    i: usize,
    now_ms: i64,
) -> DeployDecision {
    if p.promote || i >= steps.len() {
        return DeployDecision::default().then(Stage::Promote);
    }
    let weight = match &steps[i] {
        CanaryStep::SetWeight(w) => *w,
        _ => weight_before(steps, i),
    };
    let (ready, _) = pods(seen.secondary.as_ref());
    let scale = canary_scale(plan.desired, weight, ready);
    let d = DeployDecision::act(vec![
        Action::Secondary {
            version: plan.version.clone(),
            replicas: scale.canary,
        },
        Action::ScalePrimary(scale.stable),
    ]);
    match &steps[i] {
        CanaryStep::SetWeight(w) => {
            let stable = seen.primary.as_ref().map_or(0, |w| w.replicas);
            if ready >= scale.canary && stable == scale.stable {
                d.then(Stage::Step(i + 1))
            } else {
                d.wait(format!(
                    "weight {w}%: canary pods ready {ready}/{}",
                    scale.canary
                ))
            }
        }
        CanaryStep::Pause(Pause {
            duration: Some(secs),
        }) => {
            let left = i64::from(*secs) - elapsed_s(p, now_ms);
            if left <= 0 {
                d.then(Stage::Step(i + 1))
            } else {
                let why =
                    countdown::describe(&plan.strategy, p.stage, &plan.previous_version, left);
                d.wait(why.unwrap_or_default()).until(after(p, *secs))
            }
        }
        CanaryStep::Pause(Pause { duration: None }) => {
            d.wait("paused until someone promotes").on_event()
        }
        CanaryStep::Analysis { templates } => match p.analysis {
            Some(AnalysisPhase::Successful) => d.then(Stage::Step(i + 1)),
            Some(phase) if phase.is_done() => d
                .wait(format!(
                    "analysis {} is {}: waiting for a person",
                    templates.join(", "),
                    phase.label().to_lowercase()
                ))
                .on_event(),
            _ => d
                .wait(format!("analysis {} is measuring", templates.join(", ")))
                .on_event(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn twenty_percent_of_ten_is_two_canaries_and_stable_waits_for_them() {
        assert_eq!(
            canary_scale(10, 20, 0),
            CanaryScale {
                stable: 10,
                canary: 2
            }
        );
        assert_eq!(
            canary_scale(10, 20, 1),
            CanaryScale {
                stable: 9,
                canary: 2
            }
        );
        assert_eq!(
            canary_scale(10, 20, 2),
            CanaryScale {
                stable: 8,
                canary: 2
            }
        );
        // A small app still gets one canary for any weight above zero, and keeps its
        // stable share (95% of 3, rounded up) beside it.
        assert_eq!(
            canary_scale(3, 5, 1),
            CanaryScale {
                stable: 3,
                canary: 1
            }
        );
        assert_eq!(
            canary_scale(3, 67, 3),
            CanaryScale {
                stable: 1,
                canary: 3
            }
        );
        assert_eq!(
            canary_scale(3, 0, 0),
            CanaryScale {
                stable: 3,
                canary: 0
            }
        );
        assert_eq!(
            canary_scale(4, 100, 4),
            CanaryScale {
                stable: 0,
                canary: 4
            }
        );
    }

    #[test]
    fn the_weight_in_force_is_the_last_one_set() {
        let steps: Vec<CanaryStep> = serde_json::from_str(
            r#"[{"setWeight": 20}, {"pause": {"duration": 30}}, {"setWeight": 50}, {"analysis": {"templates": ["error-rate"]}}]"#,
        )
        .unwrap();
        assert_eq!(weight_before(&steps, 0), 0);
        assert_eq!(weight_before(&steps, 2), 20);
        assert_eq!(weight_before(&steps, 4), 50);
        assert_eq!(steps[1].describe(), "Pause 30 s");
        let err = CanaryStep::SetWeight(120).check("steps[0]").unwrap_err();
        assert_eq!(err.field, "steps[0].setWeight");
    }

    proptest! {
        #[test]
        fn the_canary_never_costs_capacity_nor_exceeds_its_share(desired in 0u32..500, weight in 0u32..=100, ready in 0u32..600) {
            let s = canary_scale(desired, weight, ready);
            let ready_canary = ready.min(s.canary);
            // Everything the stable side gives up is covered by ready canaries.
            prop_assert!(s.stable + ready_canary >= desired);
            prop_assert!(s.canary <= desired);
            prop_assert!(s.stable <= desired);
            // Once the canary is fully ready, the two shares (each rounded up) add up to the
            // desired count, or one more.
            let full = canary_scale(desired, weight, s.canary);
            prop_assert!(full.stable + full.canary >= desired);
            prop_assert!(full.stable + full.canary <= desired + 1);
        }
    }
}
