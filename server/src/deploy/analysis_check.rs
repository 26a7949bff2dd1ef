//! The deployment controller's side of analysis: it starts the runs a deployment needs (a
//! canary `analysis` step, a background analysis for the whole deployment) and acts on their
//! verdicts. Failed aborts and rolls back to the snapshot; Inconclusive and Error pause the
//! deployment for a person, and resuming it starts a fresh run.

use varai_core::accounts::Principal;
use varai_core::deploy::{Control, DeployRequest, DeploymentRecord, RollbackRequest};
use varai_core::error::{AppError, Result as AppResult};
use varai_domain::analysis::{AnalysisPhase, AnalysisTemplate, Args, Measurement};
use varai_domain::deploy::{CanaryStep, Stage, Strategy};

use super::DeployService;
use crate::error::{Context, Result};
use crate::storage::{NewRun, RunState, metric_key};

/// What analysis lets the controller do now.
#[derive(Debug, Clone, PartialEq)]
pub enum AnalysisCheck {
    /// Go on; the current step's analysis is in this phase (if the step is one).
    Go(Option<AnalysisPhase>),
    /// Abort and roll back, for this reason; `run` is the analysis run that decided it.
    RollBack { run: Option<i64>, reason: String },
    /// Pause for a person, for this reason.
    Pause { run: Option<i64>, reason: String },
}

/// The actor automated decisions are recorded under.
pub fn analysis_actor() -> Principal {
    Principal::automation("analysis")
}

/// The templates of the analysis step the deployment is at, if it is at one.
fn step_templates(d: &DeploymentRecord) -> Option<(u32, &[String])> {
    match (d.stage, &d.strategy) {
        (Stage::Step(i), Strategy::Canary { steps }) => match steps.get(i) {
            Some(CanaryStep::Analysis { templates }) => {
                Some((u32::try_from(i).ok()?, templates.as_slice()))
            }
            _ => None,
        },
        _ => None,
    }
}

fn describe_values(m: &[Measurement], unit: &str) -> String {
    let start = m.len().saturating_sub(5);
    m[start..]
        .iter()
        .map(|x| match x.value {
            Some(v) => format!("{}{unit}", round(v)),
            None => x.phase.label().to_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

impl DeployService {
    /// Every analysis template a deployment names must exist.
    pub(super) async fn check_templates(&self, request: &DeployRequest) -> AppResult<()> {
        let mut named: Vec<(String, &String)> = request
            .analysis
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("analysis[{i}]"), t))
            .collect();
        if let varai_domain::deploy::Strategy::Canary { steps } = &request.strategy {
            for (i, step) in steps.iter().enumerate() {
                if let varai_domain::deploy::CanaryStep::Analysis { templates } = step {
                    named.extend(
                        templates
                            .iter()
                            .map(|t| (format!("steps[{i}].analysis.templates"), t)),
                    );
                }
            }
        }
        for (field, name) in named {
            if self.store.template_named(name).await?.is_none() {
                return Err(AppError::Conflict {
                    field,
                    message: format!("there is no analysis template called '{name}'"),
                });
            }
        }
        Ok(())
    }

    /// Why a run ended as it did: each metric that decided it, its last values and its
    /// condition.
    async fn explain(&self, run: &RunState) -> String {
        let taken = self.store.measurements_of(run.id).await.unwrap_or_default();
        let what = match run.step {
            Some(s) if !run.background() => format!("analysis of step {} (run #{})", s + 1, run.id),
            _ => format!("background analysis (run #{})", run.id),
        };
        let mut reasons = Vec::new();
        for t in &run.templates {
            for m in &t.metrics {
                let key = metric_key(&t.name, &m.name);
                let mine: Vec<Measurement> = taken
                    .iter()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, x)| x.clone())
                    .collect();
                let bad = mine.iter().rev().find(|x| x.phase == run.phase);
                if let Some(bad) = bad {
                    let condition = [m.success_condition, m.failure_condition]
                        .iter()
                        .zip(["success", "failure"])
                        .filter_map(|(c, kind)| c.map(|c| format!("{kind} condition {c}")))
                        .collect::<Vec<_>>()
                        .join(", ");
                    reasons.push(format!(
                        "{key} {} — last values {}; {condition}",
                        bad.message.clone().unwrap_or_default(),
                        describe_values(&mine, &m.unit),
                    ));
                }
            }
        }
        if reasons.is_empty() {
            reasons.push(run.message.clone().unwrap_or_default());
        }
        format!(
            "{what} is {}: {}",
            run.phase.label().to_lowercase(),
            reasons.join("; ")
        )
    }

    async fn start_run(
        &self,
        d: &DeploymentRecord,
        names: &[String],
        kind: &'static str,
        step: Option<u32>,
        namespace: &str,
        now: i64,
    ) -> Result<Result<(), String>> {
        let mut templates: Vec<AnalysisTemplate> = Vec::new();
        for name in names {
            match self.store.template_named(name).await {
                Ok(Some(t)) => templates.push(t.template),
                Ok(None) => {
                    return Ok(Err(format!(
                        "analysis template '{name}' does not exist (any more); create it, or promote or abort"
                    )));
                }
                Err(e) => return Err(e).doing(format!("reading analysis template {name}")),
            }
        }
        let args = Args {
            app: d.app.clone(),
            version: d.version.clone(),
            stable: d.previous_version.clone(),
            namespace: namespace.to_owned(),
            environment: d.environment.clone(),
        };
        let run = NewRun {
            deployment_id: d.id,
            kind,
            step,
            templates: &templates,
            args: &args,
        };
        self.store
            .insert_run(run, now)
            .await
            .doing("starting an analysis run")?;
        Ok(Ok(()))
    }

    /// What a finished run calls for: Failed rolls back, Inconclusive or Error pauses. The
    /// run is marked as acted on once that is done.
    async fn verdict(&self, run: &RunState) -> Result<Option<AnalysisCheck>> {
        Ok(match run.phase {
            AnalysisPhase::Failed => Some(AnalysisCheck::RollBack {
                run: Some(run.id),
                reason: self.explain(run).await,
            }),
            AnalysisPhase::Error | AnalysisPhase::Inconclusive => Some(AnalysisCheck::Pause {
                run: Some(run.id),
                reason: format!(
                    "{} — resume to measure again, or abort (promote, then resume, to go on without it)",
                    self.explain(run).await
                ),
            }),
            _ => None,
        })
    }

    /// Starts the runs `d` needs and reads their verdicts.
    pub(super) async fn analysis_check(
        &self,
        d: &DeploymentRecord,
        namespace: &str,
        now: i64,
    ) -> Result<AnalysisCheck> {
        if d.stage.is_done() || d.stage == Stage::Aborting {
            return Ok(AnalysisCheck::Go(None));
        }
        let runs = self
            .store
            .runs_of(d.id)
            .await
            .doing("reading analysis runs")?;
        if !d.background_analysis.is_empty() {
            let latest = runs.iter().find(|r| r.background());
            let rerun = latest.is_some_and(|r| r.acted && r.phase != AnalysisPhase::Failed);
            if latest.is_none() || rerun {
                let started = self
                    .start_run(
                        d,
                        &d.background_analysis,
                        "background",
                        None,
                        namespace,
                        now,
                    )
                    .await?;
                if let Err(reason) = started {
                    return Ok(AnalysisCheck::Pause { run: None, reason });
                }
            } else if let Some(r) = latest.filter(|r| !r.acted)
                && let Some(gate) = self.verdict(r).await?
            {
                return Ok(gate);
            }
        }
        let Some((step, names)) = step_templates(d) else {
            return Ok(AnalysisCheck::Go(None));
        };
        let latest = runs
            .iter()
            .find(|r| !r.background() && r.step == Some(step));
        match latest {
            Some(r) if !r.acted && r.phase.is_done() => match self.verdict(r).await? {
                Some(gate) => Ok(gate),
                None => Ok(AnalysisCheck::Go(Some(r.phase))),
            },
            // Not finished, passed, or failed with its rollback under way: nothing to start.
            Some(r)
                if !r.acted
                    || matches!(r.phase, AnalysisPhase::Successful | AnalysisPhase::Failed) =>
            {
                Ok(AnalysisCheck::Go(Some(r.phase)))
            }
            // None yet, or resumed after an Inconclusive or Error verdict: measure again.
            _ => match self
                .start_run(d, names, "step", Some(step), namespace, now)
                .await?
            {
                Ok(()) => Ok(AnalysisCheck::Go(Some(AnalysisPhase::Pending))),
                Err(reason) => Ok(AnalysisCheck::Pause { run: None, reason }),
            },
        }
    }

    /// Carries out a gate that stops the deployment, then marks its run as acted on; the
    /// caller holds the app's lock.
    pub(super) async fn stop_for_analysis(
        &self,
        d: &DeploymentRecord,
        gate: AnalysisCheck,
    ) -> Result<()> {
        let actor = analysis_actor();
        let run = match gate {
            AnalysisCheck::RollBack { run, reason } => {
                tracing::warn!(deployment = d.id, %reason, "analysis failed: rolling back");
                let request = RollbackRequest {
                    snapshot_id: d.snapshot_id,
                    reason: format!("automated rollback: {reason}"),
                };
                self.rollback_held(&actor, &d.environment, &d.app, request)
                    .await
                    .doing("rolling back after a failed analysis")?;
                run
            }
            AnalysisCheck::Pause { run, reason } => {
                tracing::warn!(deployment = d.id, %reason, "analysis needs a person: pausing");
                let now = varai_core::clock::now_ms();
                self.store
                    .control_deployment(&actor.actor, d.id, Control::Pause, Some(&reason), now)
                    .await
                    .doing("pausing after an analysis verdict")?;
                run
            }
            AnalysisCheck::Go(_) => None,
        };
        if let Some(run) = run {
            self.store
                .mark_run_acted(run)
                .await
                .doing("noting an analysis verdict")?;
        }
        Ok(())
    }
}
