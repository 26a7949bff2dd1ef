//! Preparation and its undoing. Preparing checks that the flags, the cluster and (when the
//! plan analyses) Prometheus answer, records the released flags' targeting, and starts the
//! app's deployment — a canary whose steps carry the plan's traffic weights — which takes the
//! snapshot of the app. Taking a rollout back restores both.

use std::sync::Arc;
use varai_core::clock::now_ms;
use varai_core::deploy::Deployer;
use varai_core::deploy::{Control, DeployRequest, RollbackRequest};
use varai_core::error::AppError;
use varai_core::rollouts::RolloutStatus;
use varai_domain::deploy::{Outcome, Stage, Strategy};
use varai_domain::plan::{Gate, Stop, canary_steps};

use super::{RolloutService, audience, flags_before, rollout_actor};
use crate::error::{Context, Error, Result};
use crate::storage::{RolloutState, RolloutUpdate};

fn uses_analysis(all: &[Stop<'_>]) -> bool {
    all.iter()
        .any(|s| s.gates.iter().any(|g| matches!(g, Gate::Analysis { .. })))
}

impl RolloutService {
    /// Makes sure the rollout is prepared. The outer error is worth retrying (something did
    /// not answer); the inner one is not (the release cannot go out here).
    pub(super) async fn prepare(
        self: &Arc<Self>,
        s: &RolloutState,
        u: &mut RolloutUpdate,
        all: &[Stop<'_>],
    ) -> Result<Result<(), String>> {
        let r = &s.record;
        if u.flags_before.is_none() {
            let before = audience::snapshot(self.flags.as_ref(), &r.environment, &r.release.flags)
                .await
                .doing("Preparation")?;
            u.flags_before = Some(serde_json::to_string(&before).unwrap_or_else(|_| "{}".into()));
        }
        let (Some(app), Some(version)) = (&r.release.app, &r.release.version) else {
            return Ok(Ok(()));
        };
        if u.deployment_id.is_some() {
            return Ok(Ok(()));
        }
        if uses_analysis(all) {
            let (prom, _) = self
                .monitor
                .prometheus_for(&r.environment)
                .await
                .map_err(|e| {
                    Error::Metrics(format!("Preparation: the plan analyses metrics, but {e}"))
                })?;
            prom.check().await.map_err(|e| {
                Error::Metrics(format!(
                    "Preparation: Prometheus at {} does not answer: {e}",
                    prom.url()
                ))
            })?;
        }
        let request = DeployRequest {
            version: version.clone(),
            strategy: Strategy::Canary {
                steps: canary_steps(all),
            },
            schema_version: None,
            analysis: Vec::new(),
        };
        let actor = rollout_actor(r.id);
        match self
            .deploy
            .start(&actor, &r.environment, app, request, None)
            .await
        {
            Ok(d) => {
                u.deployment_id = Some(d.id);
                Ok(Ok(()))
            }
            Err(e @ AppError::Unavailable(_)) => Err(Error::Refused(e)).doing("Preparation"),
            Err(e) => Ok(Err(format!("Preparation: deploying {app} {version}: {e}"))),
        }
    }

    /// Takes the release back: the deployment aborted (an abort while its canary runs) or
    /// rolled back to its snapshot, and the flags' targeting from before put back.
    pub(super) async fn take_back(
        &self,
        s: &RolloutState,
        status: RolloutStatus,
        why: &str,
    ) -> Result<()> {
        let r = &s.record;
        let actor = rollout_actor(r.id);
        if let (Some(id), Some(app)) = (r.deployment_id, &r.release.app) {
            let _exclusive = self.deploy.lock_app(&r.environment, app).await;
            let d = self
                .store
                .deployment_by_id(id)
                .await
                .doing("reading the rollout's deployment")?;
            let aborting_canary = status == RolloutStatus::Aborted
                && d.in_progress()
                && matches!(d.strategy, Strategy::Canary { .. });
            if aborting_canary {
                if d.stage != Stage::Aborting {
                    self.store
                        .control_deployment(&actor.actor, id, Control::Abort, Some(why), now_ms())
                        .await
                        .doing(format!("aborting deployment #{id}"))?;
                }
            } else if d.in_progress() || d.stage == Stage::Done(Outcome::Succeeded) {
                let request = RollbackRequest {
                    snapshot_id: d.snapshot_id,
                    reason: format!("rollout #{}: {why}", r.id),
                };
                self.deploy
                    .rollback_held(&actor, &r.environment, app, request)
                    .await
                    .doing(format!("rolling back {app}"))?;
            }
        }
        let before = flags_before(&s.unchanged())?;
        let mut problems = Vec::new();
        for (key, outcome) in
            audience::restore(self.flags.as_ref(), &actor, &r.environment, &before).await
        {
            if let Err(e) = outcome {
                problems.push(format!("{key}: {}", e.public()));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Unfinished(format!(
                "restoring flags: {}",
                problems.join("; ")
            )))
        }
    }
}
