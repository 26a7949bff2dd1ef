//! The deployment controller: every tick it takes each deployment in progress whose next
//! attempt is due, observes its app in the cluster, asks the domain what to make true, does
//! it, and saves where the deployment got to. All state is in the database, so a restarted
//! server carries on where the last one stopped. Cluster errors are retried with a growing
//! back-off and shown on the deployment, never swallowed.

use std::sync::Arc;
use std::time::Duration;
use varai_core::clock::now_ms;
use varai_core::deploy::DeploymentRecord;
use varai_domain::deploy::{Plan, Progress, Stage, Strategy, decide};

use super::DeployService;
use super::analysis_gate::Gate;
use super::workloads::AppObjects;
use crate::storage::ProgressUpdate;

/// The longest wait between attempts after errors.
const MAX_BACKOFF_MS: i64 = 30_000;

/// Runs the controller every `tick`, forever.
pub async fn run(service: Arc<DeployService>, tick: Duration) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        interval.tick().await;
        service.reconcile_all().await;
    }
}

fn backoff_ms(attempts: u32) -> i64 {
    (500_i64 << attempts.min(10)).min(MAX_BACKOFF_MS)
}

impl DeployService {
    /// One pass over every due deployment.
    pub async fn reconcile_all(&self) {
        let now = now_ms();
        match self.store.due_deployments(now).await {
            Ok(due) => {
                for d in due {
                    self.reconcile(d).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the deployment controller could not read its work")
            }
        }
    }

    /// Takes one deployment one decision further.
    pub async fn reconcile(&self, d: DeploymentRecord) {
        let _exclusive = self.lock_app(&d.environment, &d.app).await;
        // Read again under the lock: a rollback or a person may have changed it meanwhile.
        let d = match self.store.deployment_by_id(d.id).await {
            Ok(fresh) if fresh.in_progress() => fresh,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(deployment = d.id, error = %e, "could not read a deployment");
                return;
            }
        };
        let now = now_ms();
        let outcome = self.attempt(&d, now).await;
        let (update, events) = match outcome {
            Ok(Some((update, events))) => (update, events),
            Ok(None) => return,
            Err(message) => {
                let attempts = d.attempts + 1;
                let retry = backoff_ms(attempts);
                let mut events = Vec::new();
                if d.last_error.as_deref() != Some(message.as_str()) {
                    events.push((
                        "error",
                        format!("{message} (retrying with back-off, next in {} ms)", retry),
                    ));
                }
                tracing::warn!(deployment = d.id, error = %message, attempts, "deployment step failed");
                let update = ProgressUpdate {
                    stage: d.stage,
                    stage_since: d.stage_since,
                    waiting: d.waiting.clone(),
                    last_error: Some(message),
                    attempts,
                    next_attempt_at: now + retry,
                };
                (update, events)
            }
        };
        if update == self.unchanged(&d) && events.is_empty() {
            return;
        }
        match self.store.save_progress(&d, &update, &events, now).await {
            Ok(true) => {}
            Ok(false) => tracing::debug!(
                deployment = d.id,
                "changed meanwhile; decided again next tick"
            ),
            Err(e) => {
                tracing::warn!(deployment = d.id, error = %e, "could not save a deployment's progress")
            }
        }
    }

    fn unchanged(&self, d: &DeploymentRecord) -> ProgressUpdate {
        ProgressUpdate {
            stage: d.stage,
            stage_since: d.stage_since,
            waiting: d.waiting.clone(),
            last_error: d.last_error.clone(),
            attempts: d.attempts,
            next_attempt_at: 0,
        }
    }

    /// Observes, decides and acts; `Ok(None)` when there is nothing to save.
    async fn attempt(
        &self,
        d: &DeploymentRecord,
        now: i64,
    ) -> Result<Option<(ProgressUpdate, Vec<(&'static str, String)>)>, String> {
        let app = self
            .store
            .app_named(&d.environment, &d.app)
            .await
            .map_err(|e| format!("reading the app: {e}"))?;
        let target = self
            .clusters
            .target(&self.store, &d.environment)
            .await
            .map_err(|e| e.to_string())?;
        let objects = AppObjects::new(&app, &target);
        let mut events: Vec<(&'static str, String)> = Vec::new();
        if d.last_error.is_some() {
            events.push(("info", "the cluster answers again".to_owned()));
        }
        if d.paused {
            if matches!(d.strategy, Strategy::Rolling { .. } | Strategy::Recreate) {
                objects
                    .deployments
                    .patch(
                        &app.deployment,
                        &kube::api::PatchParams::default(),
                        &kube::api::Patch::Merge(&serde_json::json!({"spec": {"paused": true}})),
                    )
                    .await
                    .map_err(|e| format!("pausing {}: {e}", app.deployment))?;
            }
            let update = ProgressUpdate {
                waiting: Some("paused by an operator; resume to go on".into()),
                last_error: None,
                attempts: 0,
                ..self.unchanged(d)
            };
            return Ok(Some((update, events)));
        }
        let analysis = match self.analysis_gate(d, &target.namespace, now).await? {
            Gate::Go(phase) => phase,
            stop => {
                self.stop_for_analysis(d, stop).await?;
                return Ok(None);
            }
        };
        let observed = objects
            .observe(&d.strategy)
            .await
            .map_err(|e| format!("reading {} from the cluster: {e}", app.name))?;
        let plan = Plan {
            strategy: d.strategy.clone(),
            version: d.version.clone(),
            previous_version: d.previous_version.clone(),
            desired: d.desired,
        };
        let progress = Progress {
            stage: d.stage,
            since_ms: d.stage_since,
            promote: d.promote,
            analysis,
        };
        let decision = decide(&plan, &progress, &observed, now);
        for action in &decision.actions {
            objects
                .apply(action, &d.strategy, false)
                .await
                .map_err(|e| format!("{action:?}: {e}"))?;
        }
        let (stage, since) = match decision.next {
            Some(next) => {
                let level = match next {
                    Stage::Done(varai_domain::deploy::Outcome::Failed) => "error",
                    Stage::Done(varai_domain::deploy::Outcome::Aborted) => "warning",
                    _ => "info",
                };
                let mut message = next.describe(&d.strategy);
                if let (Stage::Done(_), Some(why)) = (next, &decision.waiting) {
                    message = format!("{message}: {why}");
                }
                events.push((level, message));
                (next, now)
            }
            None => (d.stage, d.stage_since),
        };
        let update = ProgressUpdate {
            stage,
            stage_since: since,
            waiting: if stage.is_done() {
                None
            } else {
                decision.waiting.clone()
            },
            last_error: None,
            attempts: 0,
            next_attempt_at: 0,
        };
        Ok(Some((update, events)))
    }
}
