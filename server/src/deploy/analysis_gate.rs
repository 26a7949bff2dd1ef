//! The deployment controller's side of analysis: it starts the runs a deployment needs (a
//! canary `analysis` step, a background analysis for the whole deployment) and acts on their
//! verdicts. Failed aborts and rolls back to the snapshot; Inconclusive and Error pause the
//! deployment for a person, and resuming it starts a fresh run.

use varai_app::models::{DeploymentRecord, RollbackRequest};
use varai_app::ssr::Actor;
use varai_domain::analysis::{AnalysisPhase, AnalysisTemplate, Args, Measurement};
use varai_domain::deploy::{CanaryStep, Stage, Strategy};

use super::DeployService;
use crate::storage::{NewRun, RunState, metric_key};

/// What analysis lets the controller do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// Go on; the current step's analysis is in this phase (if the step is one).
    Go(Option<AnalysisPhase>),
    /// Abort and roll back, for this reason.
    RollBack(String),
    /// Pause for a person, for this reason.
    Pause(String),
}

/// The actor automated decisions are recorded under.
pub fn analysis_actor() -> Actor {
    Actor {
        user_id: None,
        name: "analysis".into(),
    }
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
    ) -> Result<Result<(), String>, String> {
        let mut templates: Vec<AnalysisTemplate> = Vec::new();
        for name in names {
            match self.store.template_named(name).await {
                Ok(Some(t)) => templates.push(t.template),
                Ok(None) => {
                    return Ok(Err(format!(
                        "analysis template '{name}' does not exist (any more); create it, or promote or abort"
                    )));
                }
                Err(e) => return Err(format!("reading analysis template {name}: {e}")),
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
            .map_err(|e| format!("starting an analysis run: {e}"))?;
        Ok(Ok(()))
    }

    /// Acts on a finished run once: Failed rolls back, Inconclusive or Error pauses.
    async fn verdict(&self, run: &RunState) -> Result<Option<Gate>, String> {
        let gate = match run.phase {
            AnalysisPhase::Failed => Gate::RollBack(self.explain(run).await),
            AnalysisPhase::Error | AnalysisPhase::Inconclusive => Gate::Pause(format!(
                "{} — resume to measure again, or abort (promote, then resume, to go on without it)",
                self.explain(run).await
            )),
            _ => return Ok(None),
        };
        self.store
            .mark_run_acted(run.id)
            .await
            .map_err(|e| format!("noting an analysis verdict: {e}"))?;
        Ok(Some(gate))
    }

    /// Starts the runs `d` needs and reads their verdicts.
    pub(super) async fn analysis_gate(
        &self,
        d: &DeploymentRecord,
        namespace: &str,
        now: i64,
    ) -> Result<Gate, String> {
        if d.stage.is_done() || d.stage == Stage::Aborting {
            return Ok(Gate::Go(None));
        }
        let runs = self
            .store
            .runs_of(d.id)
            .await
            .map_err(|e| format!("reading analysis runs: {e}"))?;
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
                if let Err(why) = started {
                    return Ok(Gate::Pause(why));
                }
            } else if let Some(r) = latest.filter(|r| !r.acted)
                && let Some(gate) = self.verdict(r).await?
            {
                return Ok(gate);
            }
        }
        let Some((step, names)) = step_templates(d) else {
            return Ok(Gate::Go(None));
        };
        let latest = runs
            .iter()
            .find(|r| !r.background() && r.step == Some(step));
        match latest {
            Some(r) if !r.acted && r.phase.is_done() => match self.verdict(r).await? {
                Some(gate) => Ok(gate),
                None => Ok(Gate::Go(Some(r.phase))),
            },
            Some(r) if !r.acted || r.phase == AnalysisPhase::Successful => {
                Ok(Gate::Go(Some(r.phase)))
            }
            // None yet, or resumed after an Inconclusive or Error verdict: measure again.
            _ => match self
                .start_run(d, names, "step", Some(step), namespace, now)
                .await?
            {
                Ok(()) => Ok(Gate::Go(Some(AnalysisPhase::Pending))),
                Err(why) => Ok(Gate::Pause(why)),
            },
        }
    }

    /// Carries out a gate that stops the deployment; the caller holds the app's lock.
    pub(super) async fn stop_for_analysis(
        &self,
        d: &DeploymentRecord,
        gate: Gate,
    ) -> Result<(), String> {
        let actor = analysis_actor();
        match gate {
            Gate::RollBack(reason) => {
                tracing::warn!(deployment = d.id, %reason, "analysis failed: rolling back");
                self.rollback_held(
                    &actor,
                    &d.environment,
                    &d.app,
                    RollbackRequest {
                        snapshot_id: d.snapshot_id,
                        reason: format!("automated rollback: {reason}"),
                    },
                )
                .await
                .map(|_| ())
                .map_err(|e| format!("rolling back after a failed analysis: {e}"))
            }
            Gate::Pause(reason) => {
                tracing::warn!(deployment = d.id, %reason, "analysis needs a person: pausing");
                self.store
                    .control_deployment(
                        &actor,
                        d.id,
                        varai_app::models::Control::Pause,
                        Some(&reason),
                        varai_app::ssr::now_ms(),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("pausing after an analysis verdict: {e}"))
            }
            Gate::Go(_) => Ok(()),
        }
    }
}
