//! Monitoring as the UI and the REST API see it: charts per version, analysis templates and
//! runs, alert rules, alerts received and saved queries.

use serde::{Deserialize, Serialize};
use varai_domain::analysis::{AlertState, AnalysisPhase, AnalysisTemplate, Measurement};

/// Where an environment's metrics come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricsSource {
    pub environment: String,
    /// The Prometheus queried, if there is one.
    pub url: Option<String>,
    /// "environment" (its own URL), "server" (the server's Prometheus) or "none".
    pub origin: String,
    /// The answer to a test query, or why there is none.
    pub healthy: bool,
    pub message: String,
    /// Seconds between scrapes, for live updates.
    pub scrape_seconds: u32,
}

/// The time ranges a chart offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum TimeRange {
    #[default]
    #[serde(rename = "5m")]
    M5,
    #[serde(rename = "15m")]
    M15,
    #[serde(rename = "1h")]
    H1,
    #[serde(rename = "6h")]
    H6,
}

impl TimeRange {
    pub const ALL: [TimeRange; 4] = [TimeRange::M5, TimeRange::M15, TimeRange::H1, TimeRange::H6];

    pub fn key(self) -> &'static str {
        match self {
            TimeRange::M5 => "5m",
            TimeRange::M15 => "15m",
            TimeRange::H1 => "1h",
            TimeRange::H6 => "6h",
        }
    }

    pub fn from_key(key: &str) -> Option<TimeRange> {
        TimeRange::ALL.into_iter().find(|r| r.key() == key)
    }

    pub fn seconds(self) -> i64 {
        match self {
            TimeRange::M5 => 300,
            TimeRange::M15 => 900,
            TimeRange::H1 => 3600,
            TimeRange::H6 => 21_600,
        }
    }

    /// Seconds between points: about 300 points per chart, never under a second.
    pub fn step(self) -> i64 {
        (self.seconds() / 300).max(1)
    }
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Series {
    /// What the legend says (`v2 p95`).
    pub label: String,
    /// The version it measures, when it measures one.
    pub version: Option<String>,
    /// (seconds since the epoch, value) in time order.
    #[cfg_attr(feature = "server", schema(value_type = Vec<Vec<f64>>))]
    pub points: Vec<(f64, f64)>,
}

/// One chart's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Chart {
    /// `requests`, `errors`, `latency`, `cpu`, `memory`, `conversion` or `query-<id>`.
    pub key: String,
    pub title: String,
    pub unit: String,
    pub series: Vec<Series>,
    /// Why there is no data, when the query failed.
    pub error: Option<String>,
    /// A line to draw across, e.g. an analysis threshold.
    pub threshold: Option<f64>,
}

/// Charts for an app, covering `start`..=`end` (seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChartSet {
    pub start: f64,
    pub end: f64,
    pub step: f64,
    pub charts: Vec<Chart>,
}

/// An analysis template as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TemplateRecord {
    pub id: i64,
    pub template: AnalysisTemplate,
    pub updated_at: i64,
    pub updated_by: String,
}

/// An analysis run with its measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRunRecord {
    pub id: i64,
    pub deployment_id: i64,
    /// `step` or `background`.
    pub kind: String,
    pub step: Option<u32>,
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub phase: AnalysisPhase,
    pub message: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub metrics: Vec<MetricResult>,
}

/// One metric of a run: its definition, verdict so far and measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MetricResult {
    /// `template/metric`.
    pub name: String,
    /// The query as sent, arguments filled in.
    pub query: String,
    pub success_condition: Option<String>,
    pub failure_condition: Option<String>,
    pub unit: String,
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub phase: AnalysisPhase,
    #[cfg_attr(feature = "server", schema(value_type = Vec<Object>))]
    pub measurements: Vec<Measurement>,
}

/// An alert rule with where it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlertRuleRecord {
    pub id: i64,
    pub environment: String,
    pub name: String,
    pub app: String,
    pub query: String,
    pub condition: String,
    pub for_seconds: u32,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub state: AlertState,
    pub last_value: Option<f64>,
    pub last_error: Option<String>,
    pub evaluated_at: Option<i64>,
}

/// A new or changed alert rule, as a form or the API sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewAlertRule {
    /// A DNS label: 1–63 lowercase letters, digits and `-`.
    #[cfg_attr(
        feature = "server",
        schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    )]
    pub name: String,
    /// The app whose deployment in progress is rolled back when the rule fires.
    #[cfg_attr(
        feature = "server",
        schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    )]
    pub app: String,
    /// PromQL, with `{{app}}`, `{{version}}`, `{{stable}}`, `{{namespace}}` or
    /// `{{environment}}` where the rule's values go.
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1000,
            pattern = "^(?:[^{\\s]|\\{\\{ ?(?:app|version|stable|namespace|environment) ?\\}\\})(?:[^{]|\\{[^{]|\\{\\{ ?(?:app|version|stable|namespace|environment) ?\\}\\})*$"
        )
    )]
    pub query: String,
    /// `result > 5`: a comparison (<, <=, >, >=, ==, !=) with a number.
    #[cfg_attr(
        feature = "server",
        schema(pattern = "^ *(result)? *(<=|>=|==|!=|<|>) *-?[0-9]{1,15}(\\.[0-9]{1,6})? *$")
    )]
    pub condition: String,
    /// How long the condition must hold before the rule fires, at most a day.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(maximum = 86400))]
    pub for_seconds: u32,
}

/// An alert received from Alertmanager or raised by a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlertRecord {
    pub id: i64,
    /// `alertmanager` or `rule`.
    pub source: String,
    pub name: String,
    /// `firing` or `resolved`.
    pub status: String,
    pub environment: Option<String>,
    pub app: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub labels: std::collections::BTreeMap<String, String>,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub annotations: std::collections::BTreeMap<String, String>,
    pub starts_at: Option<i64>,
    pub received_at: i64,
    /// What the product did about it.
    pub action: String,
}

/// A named PromQL query for the business panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SavedQuery {
    pub id: i64,
    pub environment: String,
    pub name: String,
    pub query: String,
    pub unit: String,
}

/// A new saved query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewSavedQuery {
    /// 1 to 60 characters.
    #[cfg_attr(feature = "server", schema(max_length = 60, pattern = "[^\\s\\x85]"))]
    pub name: String,
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 1000,
            pattern = "^(?:[^{\\s]|\\{\\{ ?(?:app|version|stable|namespace|environment) ?\\}\\})(?:[^{]|\\{[^{]|\\{\\{ ?(?:app|version|stable|namespace|environment) ?\\}\\})*$"
        )
    )]
    pub query: String,
    /// At most 12 characters, e.g. `orders/s`.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 12))]
    pub unit: String,
}

/// What the webhook did with a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WebhookReceipt {
    pub received: usize,
    /// One line per alert: what was done.
    pub actions: Vec<String>,
}
