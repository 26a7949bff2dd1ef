//! A gate's evidence as people read it: the health check's answers, the smoke test's
//! requests, the integration test's logs, the load test's figures and charts, the analysis'
//! measurements against their thresholds, the approver's comment.

use leptos::prelude::*;
use serde_json::Value;
use varai_domain::analysis::Condition;

use crate::charts::ChartCard;
use crate::components::Timestamp;
use varai_core::monitor::{Chart, Series};
use varai_core::rollouts::GateResult;

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        Value::Number(n) => n
            .as_f64()
            .map(varai_domain::analysis::run::short)
            .unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

/// The evidence of one gate result, by its kind.
#[component]
pub fn Evidence(g: GateResult) -> impl IntoView {
    let e = g.evidence.clone();
    if e.is_null() || e.as_object().is_some_and(|o| o.is_empty()) {
        return ().into_any();
    }
    let body = match g.kind.as_str() {
        "healthCheck" => health(&e).into_any(),
        "smokeTest" => smoke(&e).into_any(),
        "integrationTest" => view! {
            <p class="small">{format!("Job {} · image {}", text(&e["job"]), text(&e["image"]))}</p>
            <pre class="logs" aria-label="Job logs">{text(&e["logs"])}</pre>
        }
        .into_any(),
        "loadTest" => load(&e, g.started_at).into_any(),
        "analysis" => analysis(&e).into_any(),
        "approval" => view! {
            <p>{format!("{} ({}): “{}”", text(&e["approver"]), text(&e["role"]), text(&e["comment"]))}</p>
        }
        .into_any(),
        _ => view! { <pre class="logs">{e.to_string()}</pre> }.into_any(),
    };
    view! {
        <details class="evidence">
            <summary>"Evidence"</summary>
            {body}
        </details>
    }
    .into_any()
}

fn health(e: &Value) -> impl IntoView {
    let rounds = e["rounds"].as_array().cloned().unwrap_or_default();
    let rows = rounds
        .iter()
        .rev()
        .take(8)
        .map(|r| {
            let answers = r["answers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| match x.get("error") {
                            Some(err) => format!("{}: {}", text(&x["pod"]), text(err)),
                            None => format!(
                                "{}: {} in {} ms",
                                text(&x["pod"]),
                                text(&x["status"]),
                                text(&x["ms"])
                            ),
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            let ok = r["ok"].as_bool().unwrap_or(false);
            view! { <li>{if ok { "✓ " } else { "✗ " }}{answers}</li> }
        })
        .collect_view();
    view! {
        <p class="small">{format!("GET {} · {} of {} answers in a row (latest rounds first)", text(&e["path"]), text(&e["inARow"]), text(&e["times"]))}</p>
        <ul class="events small">{rows}</ul>
    }
}

fn smoke(e: &Value) -> impl IntoView {
    let rows = e["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let ok = r["ok"].as_bool().unwrap_or(false);
            view! {
                <tr>
                    <td><code>{format!("GET {}", text(&r["path"]))}</code></td>
                    <td>{text(&r["pod"])}</td>
                    <td>{format!("{} (expected {})", text(&r["status"]), text(&r["expected"]))}</td>
                    <td>{if ok { "✓ as expected".to_owned() } else { format!("✗ {}", text(&r["problem"])) }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table compact" aria-label="Smoke test requests">
            <thead><tr><th scope="col">"Request"</th><th scope="col">"Pod"</th><th scope="col">"Status"</th><th scope="col">"Result"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn load(e: &Value, started_ms: i64) -> impl IntoView {
    let start = started_ms as f64 / 1000.0;
    let series = e["series"].as_array().cloned().unwrap_or_default();
    let points = |key: &str| -> Vec<(f64, f64)> {
        series
            .iter()
            .map(|p| {
                (
                    start + p["second"].as_f64().unwrap_or(0.0),
                    p[key].as_f64().unwrap_or(0.0),
                )
            })
            .collect()
    };
    let end = start + e["durationSeconds"].as_f64().unwrap_or(1.0);
    let latency = Chart {
        key: "load-p95".into(),
        title: "Load test: p95 latency each second".into(),
        unit: "ms".into(),
        series: vec![Series {
            label: "p95".into(),
            version: None,
            points: points("p95"),
        }],
        error: None,
        threshold: e["maxP95Ms"].as_f64(),
    };
    let volume = Chart {
        key: "load-requests".into(),
        title: "Load test: requests and errors each second".into(),
        unit: "req".into(),
        series: vec![
            Series {
                label: "requests".into(),
                version: None,
                points: points("requests"),
            },
            Series {
                label: "errors".into(),
                version: None,
                points: points("errors"),
            },
        ],
        error: None,
        threshold: None,
    };
    view! {
        <dl class="result figures">
            <dt>"Sent"</dt><dd>{format!("{} requests ({} skipped at the concurrency limit)", text(&e["sent"]), text(&e["skipped"]))}</dd>
            <dt>"Rate achieved"</dt><dd>{format!("{} req/s of {}", text(&e["achievedRate"]), text(&e["targetRate"]))}</dd>
            <dt>"Errors"</dt><dd>{format!("{} ({}%, at most {}%)", text(&e["errors"]), text(&e["errorPercent"]), text(&e["maxErrorPercent"]))}</dd>
            <dt>"Latency"</dt><dd>{format!("p50 {} ms · p95 {} ms (at most {}) · p99 {} ms", text(&e["p50Ms"]), text(&e["p95Ms"]), text(&e["maxP95Ms"]), text(&e["p99Ms"]))}</dd>
        </dl>
        <div class="grid two">
            <ChartCard chart=Signal::stored(latency) window=Signal::stored((start, end))/>
            <ChartCard chart=Signal::stored(volume) window=Signal::stored((start, end))/>
        </div>
    }
}

fn analysis(e: &Value) -> impl IntoView {
    let measurements = e["measurements"].as_array().cloned().unwrap_or_default();
    let metrics = e["metrics"].as_array().cloned().unwrap_or_default();
    let charts = metrics
        .iter()
        .map(|m| {
            let key = text(&m["metric"]);
            let points: Vec<(f64, f64)> = measurements
                .iter()
                .filter(|x| x["metric"] == m["metric"])
                .filter_map(|x| Some((x["at"].as_f64()? / 1000.0, x["value"].as_f64()?)))
                .collect();
            let threshold = m["successCondition"]
                .as_str()
                .or(m["failureCondition"].as_str())
                .and_then(|c| Condition::parse("condition", c).ok())
                .map(|c| c.threshold);
            let start = points.first().map(|p| p.0 - 1.0).unwrap_or(0.0);
            let end = points.last().map(|p| p.0 + 1.0).unwrap_or(1.0);
            let chart = Chart {
                key: key.clone(),
                title: format!("{key} ({})", text(&m["successCondition"])),
                unit: text(&m["unit"]),
                series: vec![Series {
                    label: key.clone(),
                    version: None,
                    points,
                }],
                error: None,
                threshold,
            };
            view! { <ChartCard chart=Signal::stored(chart) window=Signal::stored((start, end))/> }
        })
        .collect_view();
    let rows = measurements
        .iter()
        .map(|x| {
            view! {
                <tr>
                    <td><Timestamp ms=x["at"].as_i64().unwrap_or(0)/></td>
                    <td>{text(&x["metric"])}</td>
                    <td>{text(&x["value"])}</td>
                    <td>{text(&x["phase"])}</td>
                    <td>{text(&x["message"])}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="grid two">{charts}</div>
        <table class="table compact" aria-label="Measurements">
            <thead><tr><th scope="col">"At"</th><th scope="col">"Metric"</th><th scope="col">"Value"</th><th scope="col">"Verdict"</th><th scope="col">"Why"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
