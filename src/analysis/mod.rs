//! Analysis: templates of PromQL metrics with success and failure conditions, the verdicts of
//! runs built from them, and the product's own alert rules.

pub mod alert;
pub mod condition;
pub mod run;
pub mod template;

pub use alert::{AlertRule, AlertState, next_alert_state};
pub use condition::{Comparison, Condition};
pub use run::{
    AnalysisPhase, Measurement, Reading, measure, metric_phase, next_measurement_at, run_phase,
};
pub use template::{AnalysisTemplate, Args, Metric, render, seeded_templates, uses_versions};
