//! The charts of the Monitoring page and a deployment's progress view: request rate, error
//! rate, latency percentiles, CPU, memory and conversion, each split by version, plus the
//! environment's saved queries. A live update asks only for the points after the last one.

use futures_util::future::join_all;
use std::collections::HashMap;
use varai_core::monitor::{Chart, ChartSet, SavedQuery, Series, TimeRange};

use super::prom::{PromMetrics, RangeSeries};

/// One chart to draw: PromQL per line group, each line group with a suffix for its legend.
struct Panel {
    key: String,
    title: String,
    unit: String,
    /// (legend suffix, query); lines are split by their `version` label.
    queries: Vec<(String, String)>,
}

fn panel(key: &str, title: &str, unit: &str, queries: Vec<(String, String)>) -> Panel {
    Panel {
        key: key.into(),
        title: title.into(),
        unit: unit.into(),
        queries,
    }
}

fn panels(namespace: &str, app: &str, step: i64, saved: &[SavedQuery]) -> Vec<Panel> {
    let sel = format!(r#"namespace="{namespace}",app="{app}""#);
    let w = format!("{}s", (step * 4).max(10));
    let slow = format!("{}s", (step * 4).max(60));
    let requests = format!("sum by (version) (rate(http_requests_total{{{sel}}}[{w}]))");
    let errors = format!(
        "100 * (sum by (version) (rate(http_requests_total{{{sel},code=~\"5..\"}}[{w}])) \
         or 0 * {requests}) / {requests}"
    );
    let quantile = |q: f64| {
        format!(
            "1000 * histogram_quantile({q}, sum by (version, le) (rate(http_request_duration_seconds_bucket{{{sel}}}[{w}])))"
        )
    };
    let mut out = vec![
        panel(
            "requests",
            "Request rate",
            "req/s",
            vec![(String::new(), requests.clone())],
        ),
        panel("errors", "Error rate", "%", vec![(String::new(), errors)]),
        panel(
            "latency",
            "Latency",
            "ms",
            vec![
                ("p50".into(), quantile(0.5)),
                ("p95".into(), quantile(0.95)),
                ("p99".into(), quantile(0.99)),
            ],
        ),
        panel(
            "cpu",
            "CPU",
            "millicores",
            vec![(
                String::new(),
                format!(
                    "1000 * sum by (version) (rate(container_cpu_usage_seconds_total{{{sel}}}[{w}]))"
                ),
            )],
        ),
        panel(
            "memory",
            "Memory",
            "MiB",
            vec![(
                String::new(),
                format!("sum by (version) (container_memory_working_set_bytes{{{sel}}}) / 1048576"),
            )],
        ),
        panel(
            "conversion",
            "Checkout conversion",
            "%",
            vec![(
                String::new(),
                format!(
                    "100 * sum by (version) (increase(checkout_conversions_total{{{sel}}}[{slow}])) \
                     / sum by (version) (increase(checkout_visits_total{{{sel}}}[{slow}]))"
                ),
            )],
        ),
    ];
    for q in saved {
        let args = varai_domain::analysis::Args {
            app: app.into(),
            namespace: namespace.into(),
            environment: q.environment.clone(),
            ..Default::default()
        };
        let query =
            varai_domain::analysis::render(&q.query, &args).unwrap_or_else(|_| q.query.clone());
        out.push(panel(
            &format!("query-{}", q.id),
            &q.name,
            &q.unit,
            vec![(String::new(), query)],
        ));
    }
    out
}

/// A legend label from a series' labels: its version, else every label but the name.
fn label_of(labels: &HashMap<String, String>, suffix: &str) -> (String, Option<String>) {
    let version = labels.get("version").cloned();
    let base = match &version {
        Some(v) => v.clone(),
        None => {
            let mut pairs: Vec<String> = labels
                .iter()
                .filter(|(k, _)| k.as_str() != "__name__")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            pairs.sort();
            if pairs.is_empty() {
                "value".into()
            } else {
                pairs.join(", ")
            }
        }
    };
    let label = if suffix.is_empty() {
        base
    } else {
        format!("{base} {suffix}")
    };
    (label, version)
}

fn series_of(found: Vec<RangeSeries>, suffix: &str) -> Vec<Series> {
    found
        .into_iter()
        .map(|(labels, points)| {
            let (label, version) = label_of(&labels, suffix);
            Series {
                label,
                version,
                points,
            }
        })
        .collect()
}

/// Where a chart's points start: after `since` (seconds, from the caller) when it falls in the
/// window, else the window's start. Any number is safe: it is clamped, never added past i64.
fn window_start(since: Option<f64>, step: i64, full_start: i64, end: i64) -> i64 {
    match since {
        // `as` saturates (NaN is ruled out above it), so the sum cannot overflow either.
        Some(s) if s.is_finite() => (s as i64).saturating_add(step).clamp(full_start, end),
        _ => full_start,
    }
}

/// Draws every panel for `start..=end`.
pub async fn build(
    prom: Result<PromMetrics, String>,
    namespace: &str,
    app: &str,
    saved: &[SavedQuery],
    range: TimeRange,
    since: Option<f64>,
    now_ms: i64,
) -> ChartSet {
    let step = range.step();
    let end = (now_ms / 1000) / step * step;
    let full_start = end - range.seconds();
    let start = window_start(since, step, full_start, end);
    let panels = panels(namespace, app, step, saved);
    let charts = join_all(panels.into_iter().map(|p| {
        let prom = prom.clone();
        async move {
            let mut chart = Chart {
                key: p.key,
                title: p.title,
                unit: p.unit,
                series: Vec::new(),
                error: None,
                threshold: None,
            };
            let prom = match prom {
                Ok(p) => p,
                Err(why) => {
                    chart.error = Some(why);
                    return chart;
                }
            };
            if start > end {
                return chart;
            }
            for (suffix, query) in &p.queries {
                match prom.range(query, start, end, step as f64).await {
                    Ok(found) => chart.series.extend(series_of(found, suffix)),
                    Err(why) => chart.error = Some(why),
                }
            }
            chart.series.sort_by(|a, b| a.label.cmp(&b.label));
            chart
        }
    }))
    .await;
    ChartSet {
        start: start as f64,
        end: end as f64,
        step: step as f64,
        charts,
    }
}

#[cfg(test)]
mod tests {
    use super::window_start;

    #[test]
    fn a_since_outside_the_window_is_clamped_to_it() {
        assert_eq!(window_start(None, 15, 1_000, 2_000), 1_000);
        assert_eq!(window_start(Some(1_500.0), 15, 1_000, 2_000), 1_515);
        assert_eq!(window_start(Some(3.36e287), 15, 1_000, 2_000), 2_000);
        assert_eq!(window_start(Some(-1e300), 15, 1_000, 2_000), 1_000);
        assert_eq!(window_start(Some(f64::NAN), 15, 1_000, 2_000), 1_000);
    }
}
