//! The rollout controller, on the shared reconcile loop: it looks at a rollout when something
//! can have changed (a command, a gate's verdict, its deployment moving on, a bake ending, a
//! scheduled start), puts the current stop's audience in place, reads its gates, asks the
//! domain what to do ([`varai_domain::plan::decide`]) and does it. Everything it knows is in
//! the database, so a restarted server resumes every rollout where it was; a gate whose task
//! died with the old server is started again.

use std::sync::Arc;
use varai_core::clock::now_ms;
use varai_core::rollouts::RolloutStatus;
use varai_domain::plan::{StopDecision, StopObservation, decide, stop_index, stops};
use varai_domain::timeline::EventLevel;

use super::RolloutService;
use super::exposure::Applied;
use super::gates::running_summary;
use crate::error::{Error, Result};
use crate::reconcile::{self, Next, Queue, Reconciler};
use crate::storage::{Changed, NewGate, RolloutState, RolloutUpdate};

pub type Events = Vec<(EventLevel, String)>;

/// One step of a rollout: what to write, and when to look again.
pub(super) struct Step {
    pub update: RolloutUpdate,
    pub events: Events,
    pub next: Next,
}

impl Reconciler for Arc<RolloutService> {
    type Key = i64;

    fn queue(&self) -> &Queue<i64> {
        &self.queue
    }

    async fn active(&self) -> Result<Vec<i64>> {
        self.store.active_rollouts().await
    }

    async fn heard(&self, change: Changed) {
        match change {
            Changed::Rollout(id) => self.queue.wake(id),
            Changed::Deployment(d) => {
                if let Some(id) = self.rollout_of(d) {
                    self.queue.wake(id);
                }
            }
        }
    }

    async fn reconcile(&self, id: i64) -> Result<Next> {
        self.reconcile_rollout(id).await
    }
}

impl RolloutService {
    /// Takes one rollout one decision further, under its lock.
    async fn reconcile_rollout(self: &Arc<Self>, id: i64) -> Result<Next> {
        let _exclusive = self.lock_rollout(id).await;
        let state = self.store.rollout_state(id).await?;
        let r = &state.record;
        if let Some(d) = r.deployment_id {
            self.watch_deployment(d, id);
        }
        let now = now_ms();
        let step = match r.status {
            RolloutStatus::Scheduled => match r.start_at {
                Some(at) if at > now => return Ok(Next::At(at)),
                _ => Step {
                    update: RolloutUpdate {
                        status: RolloutStatus::Running,
                        stop_since: Some(now),
                        ..state.unchanged()
                    },
                    events: vec![(EventLevel::Info, "Started at its scheduled time".into())],
                    next: Next::Now,
                },
            },
            RolloutStatus::Running if state.next_attempt_at > now => {
                return Ok(Next::At(state.next_attempt_at));
            }
            RolloutStatus::Running => match self.step(&state, now).await {
                Ok(step) => step,
                Err(e) => failed_attempt(&state, &e, now),
            },
            _ => return Ok(Next::Done),
        };
        if let Some(d) = step.update.deployment_id {
            self.watch_deployment(d, id);
        }
        if step.update == state.unchanged() && step.events.is_empty() {
            return Ok(step.next);
        }
        if !self
            .store
            .save_rollout(r, &step.update, &step.events, now)
            .await?
        {
            tracing::debug!(rollout = id, "changed meanwhile; deciding again");
            return Ok(Next::Now);
        }
        if step.update.status.is_over() {
            let why = format!("the rollout {}", step.update.status.label().to_lowercase());
            self.stop_gates_of(id, &why).await;
            return Ok(Next::Done);
        }
        Ok(step.next)
    }

    async fn step(self: &Arc<Self>, s: &RolloutState, now: i64) -> Result<Step> {
        let r = &s.record;
        let mut u = RolloutUpdate {
            last_error: None,
            attempts: 0,
            ..s.unchanged()
        };
        let mut events: Events = Vec::new();
        if r.last_error.is_some() {
            events.push((EventLevel::Info, "Working again".to_owned()));
        }
        if r.paused {
            return Ok(waiting(u, events, Next::OnEvent));
        }
        if let Some(why) = self.deployment_ended(r).await? {
            self.take_back(s, RolloutStatus::RolledBack, &why).await?;
            return Ok(self.ended(s, RolloutStatus::RolledBack, why));
        }
        let all = stops(&r.plan);
        let at = stop_index(&all, r.position).ok_or_else(|| {
            Error::Unfinished(format!(
                "the plan has no phase {} step {}",
                r.position.phase, r.position.step
            ))
        })?;
        let stop = &all[at];
        if !s.applied {
            match self.apply(s, &mut u, &all, at).await? {
                Applied::Done => {
                    u.applied = true;
                    u.stop_since = Some(now);
                    u.waiting = None;
                    events.push((EventLevel::Info, super::exposure::describe(stop)));
                }
                Applied::Waiting(why) => {
                    u.waiting = Some(why);
                    return Ok(waiting(u, events, Next::Soon));
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
        let seen = StopObservation {
            exposure_applied: true,
            gates: self.gate_states(s, u.visit, stop).await?,
            advance_requested: u.advance,
        };
        let since = u.stop_since.unwrap_or(now);
        let next = match decide(&all, at, since, &seen, now) {
            StopDecision::Wait(why, recheck) => {
                u.waiting = Some(why);
                recheck.into()
            }
            StopDecision::StartGates(which) => {
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
                    if self.store.start_gate(new, now).await? {
                        events.push((EventLevel::Info, summary));
                    }
                }
                u.waiting = Some("gates started".into());
                // The started gates are looked at now; their verdicts wake the rollout.
                Next::Now
            }
            StopDecision::Advance { to } => {
                let next = &all[to];
                u.position = next.position;
                u.visit += 1;
                u.applied = false;
                u.advance = false;
                u.stop_since = Some(now);
                u.waiting = None;
                let line = format!("{} passed; entering {}", stop.label(), next.label());
                events.push((EventLevel::Info, line));
                Next::Now
            }
            StopDecision::Complete => {
                u.status = RolloutStatus::Succeeded;
                u.waiting = None;
                let line = format!("{} passed; the rollout is complete", stop.label());
                events.push((EventLevel::Info, line));
                Next::Done
            }
            StopDecision::RollBack(why) => {
                self.take_back(s, RolloutStatus::RolledBack, &why).await?;
                return Ok(self.ended(s, RolloutStatus::RolledBack, why));
            }
            StopDecision::Pause(why) => {
                u.paused = true;
                u.waiting = Some(format!("paused: {why}; resume to run the gates again"));
                events.push((EventLevel::Warning, format!("Paused: {why}")));
                Next::OnEvent
            }
        };
        Ok(Step {
            update: u,
            events,
            next,
        })
    }

    /// The update that ends the rollout with `status` for `why`.
    pub(super) fn ended(&self, s: &RolloutState, status: RolloutStatus, why: String) -> Step {
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
            EventLevel::Info
        } else {
            EventLevel::Error
        };
        Step {
            update,
            events: vec![(level, format!("{}: {why}", status.label()))],
            next: Next::Done,
        }
    }
}

fn waiting(update: RolloutUpdate, events: Events, next: Next) -> Step {
    Step {
        update,
        events,
        next,
    }
}

/// The error policy of the shared loop: count the attempt, back off, say so once.
fn failed_attempt(s: &RolloutState, e: &Error, now: i64) -> Step {
    let message = e.public();
    tracing::warn!(rollout = s.record.id, error = %e.chain(), attempts = s.attempts + 1, "rollout step failed");
    let retry = reconcile::retry(s.record.last_error.as_deref(), s.attempts, &message, now);
    Step {
        update: RolloutUpdate {
            last_error: Some(message),
            attempts: retry.attempts,
            next_attempt_at: retry.next_attempt_at,
            ..s.unchanged()
        },
        events: retry.event.into_iter().collect(),
        next: Next::At(retry.next_attempt_at),
    }
}
