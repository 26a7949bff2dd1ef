//! The analysis gate: the named templates measured through the environment's Prometheus
//! exactly as a canary analysis step is, until every metric has a verdict. Failed fails the
//! gate; Error and Inconclusive leave it without a verdict, which pauses the rollout.

use serde_json::json;
use std::time::Duration;
use varai_core::clock::now_ms;
use varai_domain::analysis::{
    AnalysisPhase, AnalysisTemplate, Args, Measurement, measure, metric_phase, next_measurement_at,
    run_phase,
};

use super::Verdict;
use crate::monitor::{MonitorService, observe_with};
use crate::storage::metric_key;

fn taken_for(taken: &[(String, Measurement)], key: &str) -> Vec<Measurement> {
    taken
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, m)| m.clone())
        .collect()
}

pub async fn analysis(
    monitor: &MonitorService,
    templates: &[AnalysisTemplate],
    args: &Args,
    environment: &str,
) -> Verdict {
    let started = now_ms();
    let mut taken: Vec<(String, Measurement)> = Vec::new();
    let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    loop {
        let prom = monitor.prometheus_for(environment).await;
        let mut phases = Vec::new();
        let mut next_due = i64::MAX;
        let mut deciding = None;
        for t in templates {
            for m in &t.metrics {
                let key = metric_key(&t.name, &m.name);
                let mut mine = taken_for(&taken, &key);
                if next_measurement_at(m, &mine, started, false).is_some_and(|at| at <= now_ms()) {
                    let seen = observe_with(&prom, &m.query, args).await;
                    let measured = measure(m, seen, now_ms());
                    taken.push((key.clone(), measured.clone()));
                    mine.push(measured);
                }
                let phase = metric_phase(m, &mine, false);
                if phase.is_done() && phase != AnalysisPhase::Successful && deciding.is_none() {
                    let last = mine.iter().rev().find_map(|x| x.message.clone());
                    deciding = Some(format!("{key}: {}", last.unwrap_or_default()));
                }
                if let Some(at) = next_measurement_at(m, &mine, started, false) {
                    next_due = next_due.min(at);
                }
                phases.push(phase);
            }
        }
        let run = run_phase(&phases);
        if run.is_done() {
            let measurements: Vec<_> = taken
                .iter()
                .map(|(k, m)| json!({"metric": k, "phase": m.phase, "value": m.value, "message": m.message, "at": m.at}))
                .collect();
            let thresholds: Vec<_> = templates
                .iter()
                .flat_map(|t| t.metrics.iter().map(move |m| (t, m)))
                .map(|(t, m)| json!({"metric": metric_key(&t.name, &m.name), "unit": m.unit,
                    "successCondition": m.success_condition, "failureCondition": m.failure_condition}))
                .collect();
            let evidence = json!({"templates": names, "args": args, "phase": run.key(),
                "measurements": measurements, "metrics": thresholds});
            let list = names.join(", ");
            return match run {
                AnalysisPhase::Successful => Verdict::passed(
                    format!("Analysis passed: {list} ({} measurements)", taken.len()),
                    evidence,
                ),
                AnalysisPhase::Failed => Verdict::failed(
                    format!("Analysis failed: {}", deciding.unwrap_or(list)),
                    evidence,
                ),
                other => Verdict::inconclusive(
                    format!("Analysis {}: {}", other.label(), deciding.unwrap_or(list)),
                    evidence,
                ),
            };
        }
        let wait = (next_due - now_ms()).clamp(50, 1000);
        tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(1000))).await;
    }
}
