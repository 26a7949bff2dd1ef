//! The DeploymentManager's decisions: given a deployment's plan, where it has got to, and what
//! the cluster looks like now, what to make true next and whether the stage is over. Every
//! action is a target state ("the canary has 2 replicas"), never a delta, so taking the same
//! decision twice — after a crash, say — does no harm.
//!
//! The app runs as its *primary* Deployment behind its *active* Service. Canary and Blue-Green
//! add a *secondary* Deployment (the canary, or the preview) running the new version; Blue-Green
//! also a *preview* Service. At the end the primary runs the new version and the extras are gone.

use serde::{Deserialize, Serialize};

use super::canary::{CanaryStep, Pause, canary_scale, weight_before};
use super::strategy::{IntOrPercent, Strategy};
use crate::Recheck;
use crate::analysis::AnalysisPhase;

/// Where a deployment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "stage", content = "step")]
pub enum Stage {
    /// Canary and Blue-Green: create the secondary (and the preview Service).
    Prepare,
    /// Canary: carrying out step N.
    Step(usize),
    /// Blue-Green: waiting for the preview to be ready.
    AwaitPreview,
    /// Blue-Green: ready, waiting for a promotion (or the auto-promotion time).
    AwaitPromotion,
    /// Blue-Green: the active Service now selects the new version; the old one stays for the
    /// scale-down delay.
    ScaleDownDelay,
    /// The primary Deployment takes the new version (Rolling and Recreate start here).
    Promote,
    /// Remove the secondary and the preview Service.
    Cleanup,
    /// Undo: the secondary goes, the primary takes back all traffic.
    Aborting,
    Done(Outcome),
}

impl Stage {
    pub fn is_done(self) -> bool {
        matches!(self, Stage::Done(_))
    }

    /// The stage a deployment with `strategy` starts in.
    pub fn first(strategy: &Strategy) -> Stage {
        match strategy {
            Strategy::Canary { .. } | Strategy::BlueGreen { .. } => Stage::Prepare,
            Strategy::Rolling { .. } | Strategy::Recreate => Stage::Promote,
        }
    }

    /// In words, for the progress view.
    pub fn describe(self, strategy: &Strategy) -> String {
        match self {
            Stage::Prepare => "Preparing".into(),
            Stage::Step(i) => match strategy {
                Strategy::Canary { steps } => match steps.get(i) {
                    Some(s) => format!("Step {} of {}: {}", i + 1, steps.len(), s.describe()),
                    None => "Steps done".into(),
                },
                _ => format!("Step {}", i + 1),
            },
            Stage::AwaitPreview => "Starting the preview".into(),
            Stage::AwaitPromotion => "Preview ready: waiting for promotion".into(),
            Stage::ScaleDownDelay => "Promoted: old version kept for instant rollback".into(),
            Stage::Promote => match strategy {
                Strategy::Rolling { .. } => "Rolling update".into(),
                Strategy::Recreate => "Recreating".into(),
                _ => "Promoting: primary takes the new version".into(),
            },
            Stage::Cleanup => "Cleaning up".into(),
            Stage::Aborting => "Aborting".into(),
            Stage::Done(o) => o.label().into(),
        }
    }
}

/// How a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Succeeded,
    Aborted,
    Failed,
    RolledBack,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Succeeded => "Succeeded",
            Outcome::Aborted => "Aborted",
            Outcome::Failed => "Failed",
            Outcome::RolledBack => "Rolled back",
        }
    }
}

/// What is being deployed.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploySpec {
    pub strategy: Strategy,
    /// The version being deployed.
    pub version: String,
    /// The version the primary ran when the deployment started.
    pub previous_version: String,
    /// Replicas the app needs.
    pub desired: u32,
}

/// A Deployment as observed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Workload {
    pub version: String,
    /// `spec.replicas`.
    pub replicas: u32,
    pub ready: u32,
    /// The controller has seen the latest spec and every replica runs it and is ready, with
    /// no old replica left.
    pub rolled_out: bool,
    /// Its progress deadline passed without progress.
    pub stalled: bool,
}

/// The cluster as the controller sees it before deciding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Observed {
    pub primary: Option<Workload>,
    pub secondary: Option<Workload>,
    /// The version the active Service is pinned to; `None` when it selects the whole app.
    pub active_version: Option<String>,
    pub preview_service: bool,
}

/// How the primary Deployment moves to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollout {
    Rolling {
        max_surge: IntOrPercent,
        max_unavailable: IntOrPercent,
    },
    Recreate,
}

/// A state to make true in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The primary runs `version` with `replicas`, moving there as `rollout` says.
    Primary {
        version: String,
        replicas: u32,
        rollout: Rollout,
    },
    /// The primary keeps its version with this many replicas.
    ScalePrimary(u32),
    /// The secondary exists and runs `version` with `replicas`.
    Secondary { version: String, replicas: u32 },
    /// The secondary is gone.
    RemoveSecondary,
    /// The active Service selects this version only, or the whole app (`None`).
    Active(Option<String>),
    /// The preview Service exists and selects `version`.
    Preview(String),
    /// The preview Service is gone.
    RemovePreview,
}

/// What to do now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeployDecision {
    pub actions: Vec<Action>,
    /// The stage to move to (after the actions are taken).
    pub next: Option<Stage>,
    /// Why it is not moving on yet, in words.
    pub waiting: Option<String>,
    /// When to look again while it waits: soon while the cluster converges, at a time for a
    /// pause or a delay, on an event for a person or an analysis.
    pub recheck: Recheck,
}

impl DeployDecision {
    fn act(actions: Vec<Action>) -> DeployDecision {
        DeployDecision {
            actions,
            ..DeployDecision::default()
        }
    }

    fn then(mut self, next: Stage) -> DeployDecision {
        self.next = Some(next);
        self
    }

    fn wait(mut self, why: impl Into<String>) -> DeployDecision {
        self.waiting = Some(why.into());
        self
    }

    /// Nothing changes before `at` (ms since the epoch) but a person's command.
    fn until(mut self, at: i64) -> DeployDecision {
        self.recheck = Recheck::At(at);
        self
    }

    /// Only a person's command or a verdict moves it on.
    fn on_event(mut self) -> DeployDecision {
        self.recheck = Recheck::OnEvent;
        self
    }
}

/// Where the deployment has got to, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    /// When the current stage began (ms since the epoch).
    pub since_ms: i64,
    /// Someone asked to promote.
    pub promote: bool,
    /// The phase of the current analysis step's run, when the stage is one.
    pub analysis: Option<AnalysisPhase>,
}

const SAFE_ROLLOUT: Rollout = Rollout::Rolling {
    max_surge: IntOrPercent::Percent(25),
    max_unavailable: IntOrPercent::Count(0),
};

fn elapsed_s(p: &Progress, now_ms: i64) -> i64 {
    (now_ms - p.since_ms).max(0) / 1000
}

/// When `seconds` whole seconds will have passed in the current stage.
fn after(p: &Progress, seconds: u32) -> i64 {
    p.since_ms + i64::from(seconds) * 1000
}

fn pods(w: Option<&Workload>) -> (u32, u32) {
    w.map_or((0, 0), |w| (w.ready, w.replicas))
}

/// The next decision for a deployment that is not done.
pub fn decide(plan: &DeploySpec, p: &Progress, seen: &Observed, now_ms: i64) -> DeployDecision {
    let new = plan.version.clone();
    let desired = plan.desired;
    let primary_to_new = |rollout| Action::Primary {
        version: new.clone(),
        replicas: desired,
        rollout,
    };
    if let Some(stalled) = [&seen.primary, &seen.secondary]
        .into_iter()
        .flatten()
        .find(|w| w.stalled && w.version == new)
    {
        return DeployDecision::default()
            .then(Stage::Done(Outcome::Failed))
            .wait(format!(
                "version {} made no progress before its deadline ({}/{} ready)",
                stalled.version, stalled.ready, stalled.replicas
            ));
    }
    match (p.stage, &plan.strategy) {
        (Stage::Prepare, Strategy::Canary { .. }) => {
            let d = DeployDecision::act(vec![
                Action::Active(None),
                Action::Secondary {
                    version: new.clone(),
                    replicas: 0,
                },
            ]);
            if seen.secondary.as_ref().is_some_and(|w| w.version == new) {
                d.then(Stage::Step(0))
            } else {
                d.wait("creating the canary")
            }
        }
        (Stage::Prepare, Strategy::BlueGreen { .. }) => {
            let d = DeployDecision::act(vec![
                Action::Active(Some(plan.previous_version.clone())),
                Action::Preview(new.clone()),
                Action::Secondary {
                    version: new.clone(),
                    replicas: desired,
                },
            ]);
            let ready = seen.secondary.as_ref().is_some_and(|w| w.version == new)
                && seen.preview_service
                && seen.active_version.as_deref() == Some(plan.previous_version.as_str());
            if ready {
                d.then(Stage::AwaitPreview)
            } else {
                d.wait("creating the preview")
            }
        }
        (Stage::Step(i), Strategy::Canary { steps }) => {
            canary_step(plan, p, seen, steps, i, now_ms)
        }
        (Stage::AwaitPreview, Strategy::BlueGreen { .. }) => {
            let (ready, _) = pods(seen.secondary.as_ref());
            if ready >= desired {
                DeployDecision::default().then(Stage::AwaitPromotion)
            } else {
                DeployDecision::default().wait(format!("preview pods ready: {ready}/{desired}"))
            }
        }
        (
            Stage::AwaitPromotion,
            Strategy::BlueGreen {
                auto_promotion_seconds,
                ..
            },
        ) => {
            let auto = auto_promotion_seconds.is_some_and(|s| elapsed_s(p, now_ms) >= i64::from(s));
            if p.promote || auto {
                let d = DeployDecision::act(vec![Action::Active(Some(new.clone()))]);
                if seen.active_version.as_deref() == Some(new.as_str()) {
                    d.then(Stage::ScaleDownDelay)
                } else {
                    d.wait("switching the active Service")
                }
            } else {
                match auto_promotion_seconds {
                    Some(s) => DeployDecision::default()
                        .wait(format!(
                            "preview ready; promotes by itself in {} s, or promote now",
                            (i64::from(*s) - elapsed_s(p, now_ms)).max(0)
                        ))
                        .until(after(p, *s)),
                    None => DeployDecision::default()
                        .wait("preview ready; waiting for someone to promote")
                        .on_event(),
                }
            }
        }
        (
            Stage::ScaleDownDelay,
            Strategy::BlueGreen {
                scale_down_delay_seconds,
                ..
            },
        ) => {
            let left = i64::from(*scale_down_delay_seconds) - elapsed_s(p, now_ms);
            let d = DeployDecision::act(vec![Action::Active(Some(new.clone()))]);
            if left <= 0 {
                d.then(Stage::Promote)
            } else {
                d.wait(format!(
                    "old version {} kept {left} s more for instant rollback",
                    plan.previous_version
                ))
                .until(after(p, *scale_down_delay_seconds))
            }
        }
        (Stage::Promote, strategy) => {
            let rollout = match strategy {
                Strategy::Rolling {
                    max_surge,
                    max_unavailable,
                } => Rollout::Rolling {
                    max_surge: *max_surge,
                    max_unavailable: *max_unavailable,
                },
                Strategy::Recreate => Rollout::Recreate,
                _ => SAFE_ROLLOUT,
            };
            // Rolling and Recreate move the primary under the Service, so it must select the
            // whole app (a rollback may have pinned it to one version).
            let mut actions = match strategy {
                Strategy::Rolling { .. } | Strategy::Recreate => vec![Action::Active(None)],
                _ => Vec::new(),
            };
            actions.push(primary_to_new(rollout));
            let d = DeployDecision::act(actions);
            match &seen.primary {
                Some(w) if w.version == new && w.rolled_out => match strategy {
                    Strategy::Canary { .. } | Strategy::BlueGreen { .. } => d.then(Stage::Cleanup),
                    _ => d.then(Stage::Done(Outcome::Succeeded)),
                },
                Some(w) => d.wait(format!("primary pods ready: {}/{}", w.ready, desired)),
                None => d.wait("the primary Deployment is missing"),
            }
        }
        (Stage::Cleanup, _) => {
            let d = DeployDecision::act(vec![
                Action::Active(None),
                Action::RemoveSecondary,
                Action::RemovePreview,
            ]);
            if seen.secondary.is_none() && !seen.preview_service && seen.active_version.is_none() {
                d.then(Stage::Done(Outcome::Succeeded))
            } else {
                d.wait("removing the old workloads")
            }
        }
        (Stage::Aborting, _) => {
            let d = DeployDecision::act(vec![
                Action::ScalePrimary(desired),
                Action::Active(None),
                Action::RemoveSecondary,
                Action::RemovePreview,
            ]);
            if seen.secondary.is_none() && !seen.preview_service && seen.active_version.is_none() {
                d.then(Stage::Done(Outcome::Aborted))
            } else {
                d.wait("removing the new version")
            }
        }
        (Stage::Done(_), _) => DeployDecision::default(),
        // A stage that does not belong to the strategy (a plan edited under a running
        // deployment): finish by promoting, the one stage every strategy has.
        _ => DeployDecision::default().then(Stage::Promote),
    }
}

fn canary_step(
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
                d.wait(format!("paused, {left} s left"))
                    .until(after(p, *secs))
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
#[path = "progress_tests.rs"]
mod tests;
