//! Putting a stop's audience in place: the flags' rules for its segments and share of users,
//! and the canary's traffic weight, moving the app's deployment past the pause that held the
//! previous stop; and noticing when that deployment ended badly by itself.

use std::sync::Arc;
use varai_core::clock::now_ms;
use varai_core::rollouts::RolloutRecord;
use varai_domain::deploy::{CanaryStep, Outcome, Stage, Strategy};
use varai_domain::plan::{PhaseKind, Stop, hold_step};
use varai_domain::timeline::EventLevel;

use super::RolloutService;
use crate::error::{Context, Result};
use crate::storage::{RolloutState, RolloutUpdate, Timeline};

impl RolloutService {
    /// Puts the stop's audience and traffic in place.
    pub(super) async fn apply(
        self: &Arc<Self>,
        s: &RolloutState,
        u: &mut RolloutUpdate,
        all: &[Stop<'_>],
        at: usize,
    ) -> Result<Applied> {
        let stop = &all[at];
        let preparing = stop.phase.kind == PhaseKind::Preparation;
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
            .doing("reading the rollout's deployment")?;
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
                    .doing(format!("moving deployment #{id} on"))?;
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

    /// Why the rollout's deployment ended badly by itself (an alert rolled it back, an
    /// analysis step failed it), if it did.
    pub(super) async fn deployment_ended(&self, r: &RolloutRecord) -> Result<Option<String>> {
        let Some(id) = r.deployment_id else {
            return Ok(None);
        };
        let d = self
            .store
            .deployment_by_id(id)
            .await
            .doing("reading the rollout's deployment")?;
        if !matches!(
            d.stage,
            Stage::Done(Outcome::RolledBack | Outcome::Aborted | Outcome::Failed)
        ) {
            return Ok(None);
        }
        let events = self
            .store
            .timeline(Timeline::Deployment(id))
            .await
            .doing("reading the deployment's timeline")?;
        let last = events
            .iter()
            .rev()
            .find(|e| e.level != EventLevel::Info || e.message.contains("olled back"))
            .or(events.last())
            .map(|e| e.message.clone())
            .unwrap_or_default();
        Ok(Some(format!(
            "deployment #{id} ended {}: {last}",
            d.stage_label.to_lowercase()
        )))
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
pub(super) fn describe(stop: &Stop<'_>) -> String {
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
