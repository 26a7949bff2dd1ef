//! The analysis runner: every tick it takes each run that is not finished, measures each
//! metric that is due through the environment's Prometheus, and stores the measurement with
//! the run's new phase. A run whose deployment ended stops. The deployment controller reads
//! the phases and acts on them.

use std::sync::Arc;
use std::time::Duration;
use varai_core::clock::now_ms;
use varai_domain::analysis::{
    AnalysisPhase, Measurement, measure, metric_phase, next_measurement_at, run_phase,
};

use super::MonitorService;
use crate::error::{Context, Result};
use crate::storage::{Changed, RunState, metric_key};

/// Measures due runs and evaluates alert rules every `tick`, forever.
pub async fn run(monitor: Arc<MonitorService>, tick: Duration) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        interval.tick().await;
        monitor.measure_due().await;
        monitor.evaluate_rules().await;
    }
}

impl MonitorService {
    /// One pass over the runs not finished.
    pub async fn measure_due(&self) {
        let runs = match self.store.active_runs().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "the analysis runner could not read its runs");
                return;
            }
        };
        for run in runs {
            if let Err(e) = self.measure_run(&run).await {
                tracing::warn!(run = run.id, error = %e.chain(), "analysis run not measured");
            }
        }
    }

    async fn measure_run(&self, run: &RunState) -> Result<()> {
        let now = now_ms();
        let d = self
            .store
            .deployment_by_id(run.deployment_id)
            .await
            .doing("reading the run's deployment")?;
        if !d.in_progress() {
            let (phase, why) = if run.background() {
                (
                    AnalysisPhase::Successful,
                    "measured until the deployment ended",
                )
            } else {
                (
                    AnalysisPhase::Inconclusive,
                    "stopped before a verdict: the deployment ended",
                )
            };
            return self.store.finish_run(run.id, phase, why, now).await;
        }
        let mut taken = self
            .store
            .measurements_of(run.id)
            .await
            .doing("reading the run's measurements")?;
        let prom = self.prometheus_for(&d.environment).await;
        for t in &run.templates {
            for m in &t.metrics {
                let key = metric_key(&t.name, &m.name);
                let mine = of(&taken, &key);
                let due = next_measurement_at(m, &mine, run.started_at, run.background());
                if due.is_none_or(|at| at > now) {
                    continue;
                }
                let seen = super::observe_with(&prom, &m.query, &run.args).await;
                let measured = measure(m, seen, now_ms());
                taken.push((key.clone(), measured.clone()));
                let (phase, message) = verdict(run, &taken);
                self.store
                    .record_measurement(run.id, &key, &measured, phase, message.as_deref())
                    .await
                    .doing("recording a measurement")?;
                if phase.is_done() {
                    // The deployment acts on the verdict at once.
                    self.store.announce(Changed::Deployment(run.deployment_id));
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

fn of(taken: &[(String, Measurement)], key: &str) -> Vec<Measurement> {
    taken
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, m)| m.clone())
        .collect()
}

/// The run's phase from all its measurements, and the message of the metric deciding it.
fn verdict(run: &RunState, taken: &[(String, Measurement)]) -> (AnalysisPhase, Option<String>) {
    let mut phases = Vec::new();
    let mut message = None;
    for t in &run.templates {
        for m in &t.metrics {
            let key = metric_key(&t.name, &m.name);
            let mine = of(taken, &key);
            let phase = metric_phase(m, &mine, run.background());
            if phase.is_done() && phase != AnalysisPhase::Successful && message.is_none() {
                let last = mine.iter().rev().find(|x| x.phase == phase).or(mine.last());
                message = Some(format!(
                    "{key}: {}",
                    last.and_then(|x| x.message.clone())
                        .unwrap_or_else(|| phase.label().into())
                ));
            }
            phases.push(phase);
        }
    }
    let phase = match run_phase(&phases) {
        AnalysisPhase::Pending if !taken.is_empty() => AnalysisPhase::Running,
        p => p,
    };
    (phase, message)
}
