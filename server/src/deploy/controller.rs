//! The deployment controller, on the shared reconcile loop: it looks at a deployment in
//! progress when something can have changed (a command, an analysis verdict, a timer, the
//! cluster still converging), observes its app in the cluster, asks the domain what to make
//! true, does it, and saves where the deployment got to. All state is in the database, so a
//! restarted server carries on where the last one stopped. Cluster errors are retried with
//! the loop's back-off and shown on the deployment, never swallowed.

use varai_core::clock::now_ms;
use varai_core::deploy::DeploymentRecord;
use varai_domain::deploy::{DeploySpec, Outcome, Progress, Stage, Strategy, decide};
use varai_domain::timeline::EventLevel;

use super::DeployService;
use super::analysis_check::AnalysisCheck;
use super::workloads::AppObjects;
use crate::error::{Context, Result};
use crate::reconcile::{self, Next, Queue, Reconciler};
use crate::storage::{Changed, ProgressUpdate};

/// One step of a deployment: what to save, and when to look again.
struct Step {
    update: Option<(ProgressUpdate, Vec<(EventLevel, String)>)>,
    next: Next,
}

impl Reconciler for DeployService {
    type Key = i64;

    fn queue(&self) -> &Queue<i64> {
        &self.queue
    }

    async fn active(&self) -> Result<Vec<i64>> {
        self.store.active_deployments().await
    }

    async fn heard(&self, change: Changed) {
        if let Changed::Deployment(id) = change {
            self.queue.wake(id);
        }
    }

    async fn reconcile(&self, id: i64) -> Result<Next> {
        self.reconcile_deployment(id).await
    }
}

impl DeployService {
    /// Takes one deployment one decision further, under its app's lock.
    async fn reconcile_deployment(&self, id: i64) -> Result<Next> {
        let d = self.store.deployment_by_id(id).await?;
        let _exclusive = self.lock_app(&d.environment, &d.app).await;
        // Read again under the lock: a rollback or a person may have changed it meanwhile.
        let d = self.store.deployment_by_id(id).await?;
        if !d.in_progress() {
            self.unwatch(id);
            return Ok(Next::Done);
        }
        let now = now_ms();
        if d.next_attempt_at > now {
            return Ok(Next::At(d.next_attempt_at));
        }
        let step = match self.attempt(&d, now).await {
            Ok(step) => step,
            Err(e) => {
                let message = e.public();
                tracing::warn!(deployment = d.id, error = %e.chain(), "deployment step failed");
                let retry = reconcile::retry(d.last_error.as_deref(), d.attempts, &message, now);
                let update = ProgressUpdate {
                    last_error: Some(message),
                    attempts: retry.attempts,
                    next_attempt_at: retry.next_attempt_at,
                    ..unchanged(&d)
                };
                Step {
                    update: Some((update, retry.event.into_iter().collect())),
                    next: Next::At(retry.next_attempt_at),
                }
            }
        };
        let Some((update, events)) = step.update else {
            return Ok(step.next);
        };
        if update == unchanged(&d) && events.is_empty() {
            return Ok(step.next);
        }
        if self.store.save_progress(&d, &update, &events, now).await? {
            Ok(step.next)
        } else {
            tracing::debug!(deployment = d.id, "changed meanwhile; deciding again");
            Ok(Next::Now)
        }
    }

    /// Observes, decides and acts.
    async fn attempt(&self, d: &DeploymentRecord, now: i64) -> Result<Step> {
        let app = self
            .store
            .app_named(&d.environment, &d.app)
            .await
            .doing("reading the app")?;
        let target = self.target(&d.environment).await?;
        self.watch(&d.environment, &target, &app.deployment, d.id);
        let objects = AppObjects::new(&app, &target);
        let mut events = Vec::new();
        if d.last_error.is_some() {
            events.push((EventLevel::Info, "the cluster answers again".to_owned()));
        }
        if d.paused {
            if matches!(d.strategy, Strategy::Rolling { .. } | Strategy::Recreate) {
                objects
                    .pause_primary()
                    .await
                    .doing(format!("pausing {}", app.deployment))?;
            }
            let update = ProgressUpdate {
                waiting: Some("paused by an operator; resume to go on".into()),
                last_error: None,
                attempts: 0,
                ..unchanged(d)
            };
            return Ok(Step {
                update: Some((update, events)),
                next: Next::OnEvent,
            });
        }
        let analysis = match self.analysis_check(d, &target.namespace, now).await? {
            AnalysisCheck::Go(phase) => phase,
            stop => {
                self.stop_for_analysis(d, stop).await?;
                return Ok(Step {
                    update: None,
                    next: Next::Now,
                });
            }
        };
        let observed = objects
            .observe(&d.strategy)
            .await
            .doing(format!("reading {} from the cluster", app.name))?;
        let spec = DeploySpec {
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
        let decision = decide(&spec, &progress, &observed, now);
        for action in &decision.actions {
            objects
                .apply(action, &d.strategy, false)
                .await
                .doing(format!("{action:?}"))?;
        }
        let (stage, since, next) = match decision.next {
            Some(stage) => {
                events.push((
                    level_of(stage),
                    describe(stage, d, decision.waiting.as_deref()),
                ));
                (stage, now, Next::Now)
            }
            None => (d.stage, d.stage_since, decision.recheck.into()),
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
        Ok(Step {
            update: Some((update, events)),
            next,
        })
    }
}

/// The update that changes nothing.
fn unchanged(d: &DeploymentRecord) -> ProgressUpdate {
    ProgressUpdate {
        stage: d.stage,
        stage_since: d.stage_since,
        waiting: d.waiting.clone(),
        last_error: d.last_error.clone(),
        attempts: d.attempts,
        next_attempt_at: 0,
    }
}

fn level_of(stage: Stage) -> EventLevel {
    match stage {
        Stage::Done(Outcome::Failed) => EventLevel::Error,
        Stage::Done(Outcome::Aborted) => EventLevel::Warning,
        _ => EventLevel::Info,
    }
}

/// The timeline's line for entering `stage`, with why when it is the end.
fn describe(stage: Stage, d: &DeploymentRecord, why: Option<&str>) -> String {
    let message = stage.describe(&d.strategy);
    match (stage, why) {
        (Stage::Done(_), Some(why)) => format!("{message}: {why}"),
        _ => message,
    }
}
