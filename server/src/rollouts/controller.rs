//! The rollout controller: every tick it takes each running rollout whose next attempt is due
//! (and each scheduled one whose time has come), puts the current stop's audience in place,
//! reads its gates, asks the domain what to do ([`varai_domain::plan::decide`]) and does it.
//! Everything it knows is in the database, so a restarted server resumes every rollout where it
//! was; a gate whose task died with the old server is started again.

use std::sync::Arc;
use std::time::Duration;
use varai_core::clock::now_ms;
use varai_core::rollouts::{RolloutRecord, RolloutStatus};
use varai_domain::deploy::{CanaryStep, Outcome, Stage, Strategy};
use varai_domain::plan::{
    Decision, GateState, Observation, Stop, decide, hold_step, stop_index, stops,
};

use super::RolloutService;
use super::gates::running_summary;
use crate::storage::{NewGate, RolloutState, RolloutUpdate};

/// The longest wait between attempts after errors.
const MAX_BACKOFF_MS: i64 = 30_000;

pub type Events = Vec<(&'static str, String)>;

/// Runs the controller every `tick`, forever.
pub async fn run(service: Arc<RolloutService>, tick: Duration) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        interval.tick().await;
        service.reconcile_all().await;
    }
}

fn gate_state(status: &str, summary: &str) -> GateState {
    match status {
        "running" => GateState::Running,
        "passed" => GateState::Passed,
        "failed" => GateState::Failed(summary.to_owned()),
        _ => GateState::Inconclusive(summary.to_owned()),
    }
}

impl RolloutService {
    /// One pass over every due rollout.
    pub async fn reconcile_all(self: &Arc<Self>) {
        match self.store.due_rollouts(now_ms()).await {
            Ok(due) => {
                for r in due {
                    self.reconcile(r.id).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "the rollout controller could not read its work"),
        }
    }

    /// Takes one rollout one decision further.
    pub async fn reconcile(self: &Arc<Self>, id: i64) {
        let _exclusive = self.lock_rollout(id).await;
        let state = match self.store.rollout_state(id).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(rollout = id, error = %e, "could not read a rollout");
                return;
            }
        };
        let r = &state.record;
        let now = now_ms();
        let (update, events) = match r.status {
            RolloutStatus::Scheduled if r.start_at.is_none_or(|at| at <= now) => {
                let update = RolloutUpdate {
                    status: RolloutStatus::Running,
                    stop_since: Some(now),
                    ..state.unchanged()
                };
                (
                    update,
                    vec![("info", "Started at its scheduled time".to_owned())],
                )
            }
            RolloutStatus::Running => match self.step(&state, now).await {
                Ok(done) => done,
                Err(message) => self.failed_attempt(&state, message, now),
            },
            _ => return,
        };
        if update == state.unchanged() && events.is_empty() {
            return;
        }
        match self.store.save_rollout(r, &update, &events, now).await {
            Ok(true) if update.status.is_over() => {
                let why = format!("the rollout {}", update.status.label().to_lowercase());
                self.stop_gates_of(id, &why).await;
            }
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!(rollout = id, "changed meanwhile; decided again next tick")
            }
            Err(e) => tracing::warn!(rollout = id, error = %e, "could not save a rollout"),
        }
    }

    fn failed_attempt(
        &self,
        s: &RolloutState,
        message: String,
        now: i64,
    ) -> (RolloutUpdate, Events) {
        let attempts = s.attempts + 1;
        let retry = (500_i64 << attempts.min(10)).min(MAX_BACKOFF_MS);
        let mut events = Vec::new();
        if s.record.last_error.as_deref() != Some(message.as_str()) {
            events.push(("error", format!("{message} (retrying, next in {retry} ms)")));
        }
        tracing::warn!(rollout = s.record.id, error = %message, attempts, "rollout step failed");
        let update = RolloutUpdate {
            last_error: Some(message),
            attempts,
            next_attempt_at: now + retry,
            ..s.unchanged()
        };
        (update, events)
    }

    async fn step(
        self: &Arc<Self>,
        s: &RolloutState,
        now: i64,
    ) -> Result<(RolloutUpdate, Events), String> {
        let r = &s.record;
        let mut u = RolloutUpdate {
            last_error: None,
            attempts: 0,
            ..s.unchanged()
        };
        let mut events: Events = Vec::new();
        if r.last_error.is_some() {
            events.push(("info", "Working again".to_owned()));
        }
        if r.paused {
            return Ok((u, events));
        }
        if let Some(why) = self.deployment_ended(r).await? {
            self.take_back(s, RolloutStatus::RolledBack, &why).await?;
            return Ok(self.ended(s, RolloutStatus::RolledBack, why));
        }
        let all = stops(&r.plan);
        let at = stop_index(&all, r.position).ok_or_else(|| {
            format!(
                "the plan has no phase {} step {}",
                r.position.phase, r.position.step
            )
        })?;
        let stop = &all[at];
        if !s.applied {
            match self.apply(s, &mut u, &all, at).await? {
                Applied::Done => {
                    u.applied = true;
                    u.stop_since = Some(now);
                    u.waiting = None;
                    events.push(("info", describe_audience(stop)));
                }
                Applied::Waiting(waiting) => {
                    u.waiting = Some(waiting);
                    return Ok((u, events));
                }
                Applied::Refused(why) => {
                    let s = RolloutState {
                        flags_before: u.flags_before.clone(),
                        ..s.clone()
                    };
                    self.take_back(&s, RolloutStatus::Failed, &why).await?;
                    return Ok(self.ended(&s, RolloutStatus::Failed, why));
                }
            }
        }
        let results = self
            .store
            .gate_results(r.id)
            .await
            .map_err(|e| e.to_string())?;
        let mut gates = Vec::new();
        for (i, gate) in stop.gates.iter().enumerate() {
            let row = results.iter().find(|g| {
                g.phase == r.position.phase
                    && g.step == r.position.step
                    && g.gate == i
                    && g.visit == u.visit
            });
            gates.push(match row {
                None => GateState::Waiting,
                Some(g) => {
                    if g.status == "running" && !self.gate_alive(g.id) {
                        self.spawn_gate(r, g.id, gate);
                    }
                    gate_state(&g.status, &g.summary)
                }
            });
        }
        let seen = Observation {
            exposure_applied: true,
            gates,
            advance_requested: u.advance,
        };
        let since = u.stop_since.unwrap_or(now);
        match decide(&all, at, since, &seen, now) {
            Decision::Wait(why) => u.waiting = Some(why),
            Decision::StartGates(which) => {
                for i in which {
                    let gate = stop.gates[i];
                    let summary = running_summary(gate);
                    let new = NewGate {
                        rollout: r.id,
                        phase: r.position.phase,
                        step: r.position.step,
                        gate: i,
                        visit: u.visit,
                        kind: gate.kind(),
                        summary: &summary,
                    };
                    if self
                        .store
                        .start_gate(new, now)
                        .await
                        .map_err(|e| e.to_string())?
                    {
                        events.push(("info", summary));
                    }
                }
                u.waiting = Some("gates started".into());
            }
            Decision::Advance { to } => {
                let next = &all[to];
                u.position = next.position;
                u.visit += 1;
                u.applied = false;
                u.advance = false;
                u.stop_since = Some(now);
                u.waiting = None;
                events.push((
                    "info",
                    format!("{} passed; entering {}", stop.label(), next.label()),
                ));
            }
            Decision::Complete => {
                u.status = RolloutStatus::Succeeded;
                u.waiting = None;
                events.push((
                    "info",
                    format!("{} passed; the rollout is complete", stop.label()),
                ));
            }
            Decision::RollBack(why) => {
                self.take_back(s, RolloutStatus::RolledBack, &why).await?;
                return Ok(self.ended(s, RolloutStatus::RolledBack, why));
            }
            Decision::Pause(why) => {
                u.paused = true;
                u.waiting = Some(format!("paused: {why}; resume to run the gates again"));
                events.push(("warning", format!("Paused: {why}")));
            }
        }
        Ok((u, events))
    }

    /// Why the rollout's deployment ended badly by itself (an alert rolled it back, an
    /// analysis step failed it), if it did.
    async fn deployment_ended(&self, r: &RolloutRecord) -> Result<Option<String>, String> {
        let Some(id) = r.deployment_id else {
            return Ok(None);
        };
        let d = self
            .store
            .deployment_by_id(id)
            .await
            .map_err(|e| e.to_string())?;
        if !matches!(
            d.stage,
            Stage::Done(Outcome::RolledBack | Outcome::Aborted | Outcome::Failed)
        ) {
            return Ok(None);
        }
        let events = self.store.events_of(id).await.map_err(|e| e.to_string())?;
        let last = events
            .iter()
            .rev()
            .find(|e| e.level != "info" || e.message.contains("olled back"))
            .or(events.last())
            .map(|e| e.message.clone())
            .unwrap_or_default();
        Ok(Some(format!(
            "deployment #{id} ended {}: {last}",
            d.stage_label.to_lowercase()
        )))
    }

    /// The update that ends the rollout with `status` for `why`.
    pub(super) fn ended(
        &self,
        s: &RolloutState,
        status: RolloutStatus,
        why: String,
    ) -> (RolloutUpdate, Events) {
        let update = RolloutUpdate {
            status,
            paused: false,
            waiting: None,
            last_error: None,
            attempts: 0,
            reason: Some(why.clone()),
            ..s.unchanged()
        };
        let level = if status == RolloutStatus::Succeeded {
            "info"
        } else {
            "error"
        };
        (update, vec![(level, format!("{}: {why}", status.label()))])
    }

    /// Puts the stop's audience and traffic in place.
    async fn apply(
        self: &Arc<Self>,
        s: &RolloutState,
        u: &mut RolloutUpdate,
        all: &[Stop<'_>],
        at: usize,
    ) -> Result<Applied, String> {
        let stop = &all[at];
        let preparing = stop.phase.kind == varai_domain::plan::PhaseKind::Preparation;
        if (preparing || stop.exposes() || stop.exposure.full)
            && let Err(why) = self.prepare(s, u, all).await?
        {
            return Ok(Applied::Refused(why));
        }
        if !(stop.exposes() || stop.exposure.full) {
            return Ok(Applied::Done);
        }
        let before = super::flags_before(u)?;
        let actor = super::rollout_actor(s.record.id);
        super::audience::apply(
            self.flags.as_ref(),
            &actor,
            &s.record.environment,
            s.record.id,
            &before,
            &stop.exposure,
        )
        .await?;
        let Some(id) = u.deployment_id else {
            return Ok(Applied::Done);
        };
        let d = self
            .store
            .deployment_by_id(id)
            .await
            .map_err(|e| e.to_string())?;
        let steps = match &d.strategy {
            Strategy::Canary { steps } => steps.clone(),
            _ => Vec::new(),
        };
        let held_before =
            |i: usize| matches!(steps.get(i), Some(CanaryStep::Pause(p)) if p.duration.is_none());
        let target = hold_step(all, at);
        match (d.stage, target) {
            (Stage::Done(Outcome::Succeeded), None) => Ok(Applied::Done),
            (Stage::Step(i), Some(h)) if i == h => Ok(Applied::Done),
            (Stage::Step(i), wanted) if held_before(i) && wanted.is_none_or(|h| i < h) => {
                let why = format!("rollout #{} entering {}", s.record.id, stop.label());
                self.store
                    .continue_deployment(id, i, &why, now_ms())
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Applied::Waiting(format!(
                    "deployment #{id} moving on to {}",
                    stop.label()
                )))
            }
            _ => Ok(Applied::Waiting(format!(
                "deployment #{id}: {}",
                d.waiting.clone().unwrap_or(d.stage_label)
            ))),
        }
    }
}

/// How putting a stop's audience in place went.
pub enum Applied {
    Done,
    /// Not yet; what it waits for.
    Waiting(String),
    /// It cannot be done (the release is not valid here): the rollout fails.
    Refused(String),
}

/// The audience of a stop in words, for the timeline.
fn describe_audience(stop: &Stop<'_>) -> String {
    let e = &stop.exposure;
    if e.full {
        return format!("{}: everyone has the release", stop.label());
    }
    if !stop.exposes() {
        return format!("{}: started", stop.label());
    }
    let mut parts = Vec::new();
    if !e.segments.is_empty() {
        parts.push(format!("segments {}", e.segments.join(", ")));
    }
    if e.users_percent > 0 {
        parts.push(format!("{}% of users", e.users_percent));
    }
    parts.push(format!("{}% of traffic", e.traffic_percent));
    format!("{}: audience in place — {}", stop.label(), parts.join("; "))
}
