//! Running a plan: the plan flattened into *stops* (a phase, or one step of a Gradual phase),
//! what each stop exposes, the canary steps that carry the traffic weights, the estimated
//! timeline, and [`decide`] — given where a rollout is and what its gates say, what to do next.

use serde::{Deserialize, Serialize};

use super::{Gate, GradualStep, Phase, PhaseKind, Plan};
use crate::Recheck;
use crate::deploy::CanaryStep;
use crate::deploy::canary::Pause;

/// Where a rollout is: a phase, and a step of it when it is a Gradual phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub phase: usize,
    pub step: usize,
}

/// Who has the release at a stop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exposure {
    /// Segments whose users get the release's flags (every earlier phase's, and this one's).
    pub segments: Vec<String>,
    /// The share of all users who get the release's flags.
    pub users_percent: u32,
    /// The share of traffic the app's canary gets.
    pub traffic_percent: u32,
    /// Everyone has the release: the app's primary runs the new version.
    pub full: bool,
}

/// A phase, or one step of a Gradual phase: the unit a rollout advances by.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop<'a> {
    pub position: Position,
    pub phase: &'a Phase,
    pub step: Option<&'a GradualStep>,
    pub exposure: Exposure,
    pub gates: Vec<&'a Gate>,
    pub bake_seconds: u32,
    pub auto_advance: bool,
}

impl Stop<'_> {
    /// The stop's name, like "Beta" or "Gradual Rollout 25%".
    pub fn label(&self) -> String {
        match self.step {
            Some(s) => format!("{} {}%", self.phase.name, s.percent),
            None => self.phase.name.clone(),
        }
    }

    /// Whether the stop exposes the release (so the app's canary holds a weight there).
    pub fn exposes(&self) -> bool {
        self.phase.kind.has_audience()
    }
}

/// The plan as the list of stops a rollout goes through, in order.
pub fn stops(plan: &Plan) -> Vec<Stop<'_>> {
    let mut out = Vec::new();
    let mut now = Exposure::default();
    for (i, phase) in plan.phases.iter().enumerate() {
        let a = &phase.audience;
        for s in &a.segments {
            if !now.segments.contains(s) {
                now.segments.push(s.clone());
            }
        }
        match phase.kind {
            PhaseKind::Planning | PhaseKind::Preparation => {}
            PhaseKind::Exposure => {
                now.users_percent = a.users_percent.unwrap_or(now.users_percent);
                now.traffic_percent = a.traffic_percent.unwrap_or(now.traffic_percent);
            }
            PhaseKind::Gradual => {
                let last = phase.steps.len().saturating_sub(1);
                for (j, step) in phase.steps.iter().enumerate() {
                    now.users_percent = step.percent;
                    now.traffic_percent = step.percent;
                    let mut gates: Vec<&Gate> = step.gates.iter().collect();
                    let mut bake_seconds = step.bake_seconds;
                    // The phase's own gates and bake time hold after its last step.
                    if j == last {
                        gates.extend(phase.gates.iter());
                        bake_seconds = bake_seconds.max(phase.bake_seconds);
                    }
                    out.push(Stop {
                        position: Position { phase: i, step: j },
                        phase,
                        step: Some(step),
                        exposure: now.clone(),
                        gates,
                        bake_seconds,
                        auto_advance: phase.auto_advance,
                    });
                }
                continue;
            }
            PhaseKind::Full | PhaseKind::Monitoring => {
                now.users_percent = 100;
                now.traffic_percent = 100;
                now.full = true;
            }
        }
        out.push(Stop {
            position: Position { phase: i, step: 0 },
            phase,
            step: None,
            exposure: now.clone(),
            gates: phase.gates.iter().collect(),
            bake_seconds: phase.bake_seconds,
            auto_advance: phase.auto_advance,
        });
    }
    out
}

/// The index of `position` among `stops`.
pub fn stop_index(stops: &[Stop<'_>], position: Position) -> Option<usize> {
    stops.iter().position(|s| s.position == position)
}

/// The canary steps that carry a plan's traffic weights: for each stop that exposes the
/// release, set its weight and hold until the rollout moves on. After the last hold the
/// deployment promotes: the primary takes the new version (the Full rollout phase).
pub fn canary_steps(stops: &[Stop<'_>]) -> Vec<CanaryStep> {
    stops
        .iter()
        .filter(|s| s.exposes())
        .flat_map(|s| {
            [
                CanaryStep::SetWeight(s.exposure.traffic_percent),
                CanaryStep::Pause(Pause::default()),
            ]
        })
        .collect()
}

/// The canary step at which the deployment holds for stop `index`: its `pause`, or `None`
/// when the stop does not expose the release.
pub fn hold_step(stops: &[Stop<'_>], index: usize) -> Option<usize> {
    let stop = stops.get(index)?;
    if !stop.exposes() {
        return None;
    }
    let before = stops[..index].iter().filter(|s| s.exposes()).count();
    Some(2 * before + 1)
}

/// What a gate says now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state", content = "message")]
pub enum GateState {
    /// Not started at this stop.
    Waiting,
    Running,
    Passed,
    /// The release is not good: the rollout rolls back.
    Failed(String),
    /// No verdict (missing data, an unreachable component): the rollout pauses for a person.
    Inconclusive(String),
}

/// A gate's result as stored: running until its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateStatus {
    Running,
    Passed,
    Failed,
    Inconclusive,
}

impl GateStatus {
    /// The key it is stored and sent as.
    pub fn key(self) -> &'static str {
        match self {
            GateStatus::Running => "running",
            GateStatus::Passed => "passed",
            GateStatus::Failed => "failed",
            GateStatus::Inconclusive => "inconclusive",
        }
    }

    /// Reads a stored key; anything unknown has no verdict.
    pub fn from_key(key: &str) -> GateStatus {
        match key {
            "running" => GateStatus::Running,
            "passed" => GateStatus::Passed,
            "failed" => GateStatus::Failed,
            _ => GateStatus::Inconclusive,
        }
    }

    /// What the gate says to the controller, with its summary as the reason.
    pub fn state(self, summary: &str) -> GateState {
        match self {
            GateStatus::Running => GateState::Running,
            GateStatus::Passed => GateState::Passed,
            GateStatus::Failed => GateState::Failed(summary.to_owned()),
            GateStatus::Inconclusive => GateState::Inconclusive(summary.to_owned()),
        }
    }
}

/// What the controller saw before deciding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopObservation {
    /// The stop's audience and traffic are in place (and for Preparation, its checks passed).
    pub exposure_applied: bool,
    /// The state of each of the stop's gates, in order.
    pub gates: Vec<GateState>,
    /// Someone asked the rollout to move on from a stop that does not advance by itself.
    pub advance_requested: bool,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopDecision {
    /// Nothing yet; why, in words, and when to look again.
    Wait(String, Recheck),
    /// Start these gates (indexes into the stop's gates).
    StartGates(Vec<usize>),
    /// Move on to stop `to`.
    Advance { to: usize },
    /// The last stop is over: the rollout succeeded.
    Complete,
    /// A gate failed: abort and put the snapshot back.
    RollBack(String),
    /// A gate has no verdict: stop and ask a person.
    Pause(String),
}

/// The words for a stop whose gates passed and that bakes `left_ms` more.
pub fn baking(left_ms: i64) -> String {
    format!(
        "gates passed; baking for {} more",
        plural((left_ms.max(0) + 999) / 1000, "second")
    )
}

fn plural(n: i64, unit: &str) -> String {
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The next thing to do at stop `at`, entered at `since_ms`.
pub fn decide(
    stops: &[Stop<'_>],
    at: usize,
    since_ms: i64,
    seen: &StopObservation,
    now_ms: i64,
) -> StopDecision {
    let Some(stop) = stops.get(at) else {
        return StopDecision::Complete;
    };
    if !seen.exposure_applied {
        return StopDecision::Wait(
            format!("{}: putting the audience in place", stop.label()),
            Recheck::Soon,
        );
    }
    for (gate, state) in stop.gates.iter().zip(&seen.gates) {
        match state {
            GateState::Failed(why) => {
                return StopDecision::RollBack(format!("{} failed: {why}", gate.describe()));
            }
            GateState::Inconclusive(why) => {
                return StopDecision::Pause(format!("{} has no verdict: {why}", gate.describe()));
            }
            _ => {}
        }
    }
    let waiting: Vec<usize> = (0..stop.gates.len())
        .filter(|i| matches!(seen.gates.get(*i), None | Some(GateState::Waiting)))
        .collect();
    if !waiting.is_empty() {
        return StopDecision::StartGates(waiting);
    }
    let running: Vec<String> = stop
        .gates
        .iter()
        .zip(&seen.gates)
        .filter(|(_, s)| **s == GateState::Running)
        .map(|(g, _)| g.describe())
        .collect();
    if !running.is_empty() {
        return StopDecision::Wait(
            format!("waiting for {}", running.join("; ")),
            Recheck::OnEvent,
        );
    }
    let baked_at = since_ms + i64::from(stop.bake_seconds) * 1000;
    let left_ms = baked_at - now_ms;
    if left_ms > 0 {
        return StopDecision::Wait(baking(left_ms), Recheck::At(baked_at));
    }
    if at + 1 >= stops.len() {
        return StopDecision::Complete;
    }
    if stop.auto_advance || seen.advance_requested {
        StopDecision::Advance { to: at + 1 }
    } else {
        StopDecision::Wait(
            "gates passed; waiting for someone to advance".into(),
            Recheck::OnEvent,
        )
    }
}

/// One stop on the estimated timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EstimatedStop {
    pub label: String,
    /// Seconds from the start of the rollout, leaving out time spent waiting for people.
    pub starts_at: u64,
    pub seconds: u64,
    /// The people the stop waits for, if any, in words.
    pub waits_for: Vec<String>,
}

/// How long each stop takes at least: its bake time or its slowest gate, whichever is longer.
/// `analysis_seconds` gives how long a named analysis template runs.
pub fn estimate(plan: &Plan, analysis_seconds: &dyn Fn(&str) -> u32) -> Vec<EstimatedStop> {
    let mut at = 0u64;
    stops(plan)
        .iter()
        .map(|s| {
            let gates = s
                .gates
                .iter()
                .filter_map(|g| g.estimate_seconds(analysis_seconds))
                .max()
                .unwrap_or(0);
            let seconds = u64::from(s.bake_seconds.max(gates));
            let waits_for = s
                .gates
                .iter()
                .filter(|g| matches!(g, Gate::Approval { .. }))
                .map(|g| g.describe())
                .chain((!s.auto_advance).then(|| "someone to advance it".to_owned()))
                .collect();
            let e = EstimatedStop {
                label: s.label(),
                starts_at: at,
                seconds,
                waits_for,
            };
            at += seconds;
            e
        })
        .collect()
}
