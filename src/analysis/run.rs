//! Analysis runs: what one measurement means, when the next is due, and the verdict of a
//! metric and of a whole run. Missing data or a failed query never counts as a pass.

use serde::{Deserialize, Serialize};

use super::template::Metric;

/// The phase of a measurement, a metric or a run (Argo Rollouts' AnalysisPhase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AnalysisPhase {
    Pending,
    Running,
    Successful,
    Failed,
    Error,
    Inconclusive,
}

impl AnalysisPhase {
    pub const ALL: [AnalysisPhase; 6] = [
        AnalysisPhase::Pending,
        AnalysisPhase::Running,
        AnalysisPhase::Successful,
        AnalysisPhase::Failed,
        AnalysisPhase::Error,
        AnalysisPhase::Inconclusive,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AnalysisPhase::Pending => "pending",
            AnalysisPhase::Running => "running",
            AnalysisPhase::Successful => "successful",
            AnalysisPhase::Failed => "failed",
            AnalysisPhase::Error => "error",
            AnalysisPhase::Inconclusive => "inconclusive",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AnalysisPhase::Pending => "Pending",
            AnalysisPhase::Running => "Running",
            AnalysisPhase::Successful => "Successful",
            AnalysisPhase::Failed => "Failed",
            AnalysisPhase::Error => "Error",
            AnalysisPhase::Inconclusive => "Inconclusive",
        }
    }

    pub fn from_key(key: &str) -> Option<AnalysisPhase> {
        AnalysisPhase::ALL.into_iter().find(|p| p.key() == key)
    }

    pub fn is_done(self) -> bool {
        !matches!(self, AnalysisPhase::Pending | AnalysisPhase::Running)
    }
}

/// What a query returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// One number.
    Value(f64),
    /// The query ran but returned nothing to compare (no series, or NaN).
    NoData(String),
    /// The query failed: Prometheus down, a timeout, bad PromQL.
    Failed(String),
}

/// One measurement, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Measurement {
    pub phase: AnalysisPhase,
    pub value: Option<f64>,
    /// Why it is not Successful, in words.
    pub message: Option<String>,
    /// When it was taken (ms since the epoch).
    pub at: i64,
}

/// A measured value for people: at most three decimals.
pub fn short(v: f64) -> String {
    let text = format!("{v:.3}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    trimmed.to_owned()
}

/// Judges one observation of `metric`.
pub fn measure(metric: &Metric, seen: Reading, at: i64) -> Measurement {
    let (phase, value, message) = match seen {
        Reading::Failed(why) => (AnalysisPhase::Error, None, Some(why)),
        Reading::NoData(why) => (AnalysisPhase::Inconclusive, None, Some(why)),
        Reading::Value(v) if v.is_nan() => (
            AnalysisPhase::Inconclusive,
            None,
            Some("the query returned NaN (no traffic to divide by?)".to_owned()),
        ),
        Reading::Value(v) => {
            let failed = metric.failure_condition.is_some_and(|c| c.holds(v));
            let phase = match (failed, metric.success_condition) {
                (true, _) => AnalysisPhase::Failed,
                (false, Some(s)) if s.holds(v) => AnalysisPhase::Successful,
                // Both conditions given and neither met: nobody can say.
                (false, Some(_)) if metric.failure_condition.is_some() => {
                    AnalysisPhase::Inconclusive
                }
                (false, Some(_)) => AnalysisPhase::Failed,
                (false, None) => AnalysisPhase::Successful,
            };
            let message = match phase {
                AnalysisPhase::Failed => Some(match (failed, metric.failure_condition) {
                    (true, Some(c)) => format!("{} meets the failure condition {c}", short(v)),
                    _ => format!(
                        "{} misses the success condition {}",
                        short(v),
                        metric
                            .success_condition
                            .map(|c| c.to_string())
                            .unwrap_or_default()
                    ),
                }),
                AnalysisPhase::Inconclusive => Some(format!(
                    "{v} meets neither the success nor the failure condition"
                )),
                _ => None,
            };
            (phase, Some(v), message)
        }
    };
    Measurement {
        phase,
        value,
        message,
        at,
    }
}

/// The verdict on a metric from its measurements so far. A step's metric is Successful after
/// `count` measurements with a value judged by its conditions (missing data and errors are
/// tolerated up to their limits but never count); a background metric (`background`) never is.
pub fn metric_phase(metric: &Metric, taken: &[Measurement], background: bool) -> AnalysisPhase {
    let count = |p: AnalysisPhase| taken.iter().filter(|m| m.phase == p).count();
    let errors_in_a_row = taken
        .iter()
        .rev()
        .take_while(|m| m.phase == AnalysisPhase::Error)
        .count();
    let limit = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
    if count(AnalysisPhase::Failed) > limit(metric.failure_limit) {
        AnalysisPhase::Failed
    } else if count(AnalysisPhase::Inconclusive) > limit(metric.inconclusive_limit) {
        AnalysisPhase::Inconclusive
    } else if errors_in_a_row > limit(metric.consecutive_error_limit) {
        AnalysisPhase::Error
    } else if !background
        && taken
            .iter()
            .filter(|m| matches!(m.phase, AnalysisPhase::Successful | AnalysisPhase::Failed))
            .count()
            >= limit(metric.count)
    {
        AnalysisPhase::Successful
    } else if taken.is_empty() {
        AnalysisPhase::Pending
    } else {
        AnalysisPhase::Running
    }
}

/// When `metric` should next be measured, or `None` when it is finished.
pub fn next_measurement_at(
    metric: &Metric,
    taken: &[Measurement],
    started_at: i64,
    background: bool,
) -> Option<i64> {
    if metric_phase(metric, taken, background).is_done() {
        return None;
    }
    Some(match taken.last() {
        Some(last) => last.at + i64::from(metric.interval) * 1000,
        None => started_at + i64::from(metric.initial_delay) * 1000,
    })
}

/// A run's phase from its metrics' phases: any Failed fails it; then Error; then
/// Inconclusive; it is Successful when every metric is.
pub fn run_phase(metrics: &[AnalysisPhase]) -> AnalysisPhase {
    use AnalysisPhase::*;
    for p in [Failed, Error, Inconclusive] {
        if metrics.contains(&p) {
            return p;
        }
    }
    if !metrics.is_empty() && metrics.iter().all(|p| *p == Successful) {
        Successful
    } else if metrics.iter().all(|p| *p == Pending) {
        Pending
    } else {
        Running
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
