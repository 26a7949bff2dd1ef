//! The DeploymentManager's decisions: given a deployment's plan, where it has got to, and what
//! the cluster looks like now, what to make true next and whether the stage is over. Every
//! action is a target state ("the canary has 2 replicas"), never a delta, so taking the same
//! decision twice — after a crash, say — does no harm.
//!
//! The app runs as its *primary* Deployment behind its *active* Service. Canary and Blue-Green
//! add a *secondary* Deployment (the canary, or the preview) running the new version; Blue-Green
//! also a *preview* Service. At the end the primary runs the new version and the extras are gone.

use super::canary::canary_step;
use super::countdown;
pub use super::stage::{Outcome, Stage};
use super::strategy::{IntOrPercent, Strategy};
use crate::Recheck;
use crate::analysis::AnalysisPhase;

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
    pub(super) fn act(actions: Vec<Action>) -> DeployDecision {
        DeployDecision {
            actions,
            ..DeployDecision::default()
        }
    }

    pub(super) fn then(mut self, next: Stage) -> DeployDecision {
        self.next = Some(next);
        self
    }

    pub(super) fn wait(mut self, why: impl Into<String>) -> DeployDecision {
        self.waiting = Some(why.into());
        self
    }

    /// Nothing changes before `at` (ms since the epoch) but a person's command.
    pub(super) fn until(mut self, at: i64) -> DeployDecision {
        self.recheck = Recheck::At(at);
        self
    }

    /// Only a person's command or a verdict moves it on.
    pub(super) fn on_event(mut self) -> DeployDecision {
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

pub(super) fn elapsed_s(p: &Progress, now_ms: i64) -> i64 {
    (now_ms - p.since_ms).max(0) / 1000
}

/// When `seconds` whole seconds will have passed in the current stage.
pub(super) fn after(p: &Progress, seconds: u32) -> i64 {
    p.since_ms + i64::from(seconds) * 1000
}

pub(super) fn pods(w: Option<&Workload>) -> (u32, u32) {
    w.map_or((0, 0), |w| (w.ready, w.replicas))
}

/// The next decision for a deployment that is not done.
pub fn decide(plan: &DeploySpec, p: &Progress, seen: &Observed, now_ms: i64) -> DeployDecision {
    let new = plan.version.clone();
    let desired = plan.desired;
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
        ) => await_promotion(plan, p, seen, *auto_promotion_seconds, now_ms),
        (
            Stage::ScaleDownDelay,
            Strategy::BlueGreen {
                scale_down_delay_seconds,
                ..
            },
        ) => scale_down_delay(plan, p, *scale_down_delay_seconds, now_ms),
        (Stage::Promote, strategy) => promote(plan, seen, strategy),
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

/// Blue-Green, preview ready: switch the active Service on a promotion or at the
/// auto-promotion time.
fn await_promotion(
    plan: &DeploySpec,
    p: &Progress,
    seen: &Observed,
    auto_promotion_seconds: Option<u32>,
    now_ms: i64,
) -> DeployDecision {
    let new = plan.version.clone();
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
            Some(s) => {
                let left = i64::from(s) - elapsed_s(p, now_ms);
                let why =
                    countdown::describe(&plan.strategy, p.stage, &plan.previous_version, left);
                DeployDecision::default()
                    .wait(why.unwrap_or_default())
                    .until(after(p, s))
            }
            None => DeployDecision::default()
                .wait("preview ready; waiting for someone to promote")
                .on_event(),
        }
    }
}

/// Blue-Green, promoted: keep the old version for the delay, then move the primary.
fn scale_down_delay(
    plan: &DeploySpec,
    p: &Progress,
    scale_down_delay_seconds: u32,
    now_ms: i64,
) -> DeployDecision {
    let left = i64::from(scale_down_delay_seconds) - elapsed_s(p, now_ms);
    let d = DeployDecision::act(vec![Action::Active(Some(plan.version.clone()))]);
    if left <= 0 {
        d.then(Stage::Promote)
    } else {
        let why = countdown::describe(&plan.strategy, p.stage, &plan.previous_version, left);
        d.wait(why.unwrap_or_default())
            .until(after(p, scale_down_delay_seconds))
    }
}

/// The primary takes the new version, the way the strategy moves it.
fn promote(plan: &DeploySpec, seen: &Observed, strategy: &Strategy) -> DeployDecision {
    let new = plan.version.clone();
    let desired = plan.desired;
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
    actions.push(Action::Primary {
        version: new.clone(),
        replicas: desired,
        rollout,
    });
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

#[cfg(test)]
#[path = "progress_tests.rs"]
mod tests;
