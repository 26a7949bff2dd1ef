//! A deployment's analysis runs: each run's phase and why, and each metric's measurements
//! drawn against its threshold.

use leptos::prelude::*;
use varai_domain::analysis::{AnalysisPhase, Condition};

use crate::charts::LineChart;
use crate::components::Timestamp;
use varai_core::monitor::{AnalysisRunRecord, Chart, MetricResult, Series};

fn phase_class(p: AnalysisPhase) -> &'static str {
    match p {
        AnalysisPhase::Successful => "status on",
        AnalysisPhase::Failed | AnalysisPhase::Error => "status alert",
        AnalysisPhase::Inconclusive => "status pending",
        _ => "status off",
    }
}

fn phase_text(p: AnalysisPhase) -> String {
    let mark = match p {
        AnalysisPhase::Successful => "✓",
        AnalysisPhase::Failed => "✗",
        AnalysisPhase::Error => "!",
        AnalysisPhase::Inconclusive => "?",
        _ => "…",
    };
    format!("{mark} {}", p.label())
}

fn metric_chart(m: &MetricResult) -> Chart {
    let threshold = m
        .success_condition
        .as_deref()
        .or(m.failure_condition.as_deref())
        .and_then(|c| Condition::parse("condition", c).ok())
        .map(|c| c.threshold);
    Chart {
        key: m.name.clone(),
        title: m.name.clone(),
        unit: m.unit.clone(),
        series: vec![Series {
            label: "measured".into(),
            version: None,
            points: m
                .measurements
                .iter()
                .filter_map(|x| x.value.map(|v| (x.at as f64 / 1000.0, v)))
                .collect(),
        }],
        error: None,
        threshold,
    }
}

#[component]
fn MetricView(metric: MetricResult, start: f64, end: f64) -> impl IntoView {
    let conditions = [
        metric
            .success_condition
            .as_ref()
            .map(|c| format!("passes when {c}")),
        metric
            .failure_condition
            .as_ref()
            .map(|c| format!("fails when {c}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let last = metric.measurements.last().and_then(|m| m.message.clone());
    let chart = metric_chart(&metric);
    view! {
        <div class="metric" data-testid=format!("metric-{}", metric.name)>
            <p><strong>{metric.name.clone()}</strong>" "<span class=phase_class(metric.phase)>{phase_text(metric.phase)}</span>
                <br/><span class="small muted">{format!("{} measurements; {conditions}", metric.measurements.len())}</span></p>
            <LineChart chart=Signal::stored(chart) window=Signal::stored((start, end))/>
            {last.map(|m| view! { <p class="small">{m}</p> })}
            <details><summary class="small">"Query"</summary><code class="small query">{metric.query.clone()}</code></details>
        </div>
    }
}

#[component]
pub fn AnalysisRuns(runs: Vec<AnalysisRunRecord>) -> impl IntoView {
    (!runs.is_empty()).then(|| {
        let items = runs
            .into_iter()
            .take(3)
            .map(|run| {
                let what = match (run.kind.as_str(), run.step) {
                    ("step", Some(s)) => format!("Analysis of step {}", s + 1),
                    _ => "Background analysis".to_owned(),
                };
                let start = run.started_at as f64 / 1000.0;
                let last = run
                    .metrics
                    .iter()
                    .flat_map(|m| m.measurements.iter().map(|x| x.at))
                    .max()
                    .unwrap_or(run.started_at);
                let end = (run.finished_at.unwrap_or(last).max(last) as f64 / 1000.0).max(start + 10.0);
                let metrics = run
                    .metrics
                    .into_iter()
                    .map(|m| view! { <MetricView metric=m start end/> })
                    .collect_view();
                view! {
                    <div class="run" data-testid=format!("run-{}", run.id)>
                        <p><strong>{format!("{what} #{}", run.id)}</strong>" "
                            <span class=phase_class(run.phase) data-testid="run-phase">{phase_text(run.phase)}</span>
                            " · started "<Timestamp ms=run.started_at/></p>
                        {run.message.map(|m| view! { <p class="small">{m}</p> })}
                        <div class="metric-grid">{metrics}</div>
                    </div>
                }
            })
            .collect_view();
        view! {
            <section class="analysis" aria-label="Analysis runs">
                <h3>"Analysis"</h3>
                {items}
            </section>
        }
    })
}
