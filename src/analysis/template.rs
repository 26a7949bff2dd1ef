//! Analysis templates: named sets of metrics, each a PromQL query with arguments, how often to
//! measure it and what counts as success or failure (Argo Rollouts' AnalysisTemplate).

use serde::{Deserialize, Serialize};

use super::condition::Condition;
use crate::InvalidInput;
use crate::deploy::names::check_object_name;

/// One metric of a template.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    )]
    pub name: String,
    /// PromQL with `{{app}}`, `{{version}}`, `{{stable}}`, `{{namespace}}`, `{{environment}}`.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 4000, pattern = "[^\\s\\x85]")
    )]
    pub query: String,
    /// Seconds between measurements.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3600))]
    pub interval: u32,
    /// Seconds to wait before the first measurement.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 3600))]
    pub initial_delay: u32,
    /// Measurements an analysis step takes; a background analysis measures until its
    /// deployment ends.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_condition: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_condition: Option<Condition>,
    /// Failed measurements tolerated; one more fails the metric.
    #[serde(default)]
    pub failure_limit: u32,
    /// Inconclusive measurements tolerated; one more makes the metric Inconclusive.
    #[serde(default)]
    pub inconclusive_limit: u32,
    /// Errors in a row tolerated; one more makes the metric Error.
    #[serde(default = "default_error_limit")]
    pub consecutive_error_limit: u32,
    /// Unit of the value, for charts (`%`, `ms`, ...).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 12))]
    pub unit: String,
}

fn default_error_limit() -> u32 {
    4
}

/// A named, reusable analysis.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisTemplate {
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$")
    )]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 20))]
    pub metrics: Vec<Metric>,
}

/// What a query's placeholders stand for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Args {
    pub app: String,
    /// The version being deployed (the canary, the preview).
    pub version: String,
    /// The version serving before the deployment.
    pub stable: String,
    pub namespace: String,
    pub environment: String,
}

/// The most metrics a template has.
pub const MAX_METRICS: usize = 20;
/// The longest query a metric has, in characters.
pub const MAX_QUERY_CHARS: usize = 4_000;

/// The placeholders a query may use.
pub const PLACEHOLDERS: [&str; 5] = ["app", "version", "stable", "namespace", "environment"];

impl Args {
    fn value(&self, name: &str) -> Option<&str> {
        match name {
            "app" => Some(&self.app),
            "version" => Some(&self.version),
            "stable" => Some(&self.stable),
            "namespace" => Some(&self.namespace),
            "environment" => Some(&self.environment),
            _ => None,
        }
    }
}

/// The placeholders in `query`, or an error naming one that does not exist.
fn placeholders<'q>(field: &str, query: &'q str) -> Result<Vec<&'q str>, InvalidInput> {
    let mut found = Vec::new();
    let mut rest = query;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| InvalidInput::new(field, "a '{{' is not closed by '}}'".to_owned()))?;
        let name = after[..end].trim();
        if !PLACEHOLDERS.contains(&name) {
            return Err(InvalidInput::new(
                field,
                format!(
                    "unknown argument {{{{{name}}}}}: use {}",
                    PLACEHOLDERS.map(|p| format!("{{{{{p}}}}}")).join(", ")
                ),
            ));
        }
        found.push(name);
        rest = &after[end + 2..];
    }
    Ok(found)
}

/// `query` with its placeholders replaced by `args`.
pub fn render(query: &str, args: &Args) -> Result<String, InvalidInput> {
    placeholders("query", query)?;
    let mut out = query.to_owned();
    for name in PLACEHOLDERS {
        let value = args.value(name).unwrap_or_default();
        out = out.replace(&format!("{{{{{name}}}}}"), value);
        out = out.replace(&format!("{{{{ {name} }}}}"), value);
    }
    Ok(out)
}

/// Whether `query` measures the deployment's versions (and so needs one in progress).
pub fn uses_versions(query: &str) -> bool {
    placeholders("query", query)
        .map(|p| p.iter().any(|n| *n == "version" || *n == "stable"))
        .unwrap_or(false)
}

impl Metric {
    fn check(&self, field: &str) -> Result<(), InvalidInput> {
        check_object_name(&format!("{field}.name"), &self.name)?;
        if self.query.trim().is_empty() {
            return Err(InvalidInput::new(
                format!("{field}.query"),
                "write a PromQL query",
            ));
        }
        if self.query.chars().count() > MAX_QUERY_CHARS {
            return Err(InvalidInput::new(
                format!("{field}.query"),
                format!("keep the query to {MAX_QUERY_CHARS} characters"),
            ));
        }
        placeholders(&format!("{field}.query"), &self.query)
            .map_err(InvalidInput::unprocessable_here)?;
        if self.interval == 0 || self.interval > 3600 {
            return Err(InvalidInput::new(
                format!("{field}.interval"),
                "measure every 1 to 3600 seconds",
            ));
        }
        if self.initial_delay > 3600 {
            return Err(InvalidInput::new(
                format!("{field}.initialDelay"),
                "wait at most 3600 seconds before the first measurement",
            ));
        }
        if self.count == 0 || self.count > 1000 {
            return Err(InvalidInput::new(
                format!("{field}.count"),
                "take 1 to 1000 measurements",
            ));
        }
        if self.success_condition.is_none() && self.failure_condition.is_none() {
            return Err(InvalidInput::unprocessable(
                format!("{field}.successCondition"),
                "give a success condition, a failure condition or both",
            ));
        }
        if self.unit.chars().count() > 12 {
            return Err(InvalidInput::new(
                format!("{field}.unit"),
                "keep the unit to 12 characters",
            ));
        }
        Ok(())
    }
}

impl AnalysisTemplate {
    /// Checks every field, naming the first bad one (`metrics[1].interval`).
    /// How long a run of the template takes when every measurement has data: the slowest
    /// metric's initial delay plus its measurements.
    pub fn expected_seconds(&self) -> u32 {
        self.metrics
            .iter()
            .map(|m| {
                m.initial_delay
                    .saturating_add(m.interval.saturating_mul(m.count.saturating_sub(1)))
            })
            .max()
            .unwrap_or(0)
    }

    pub fn check(&self) -> Result<(), InvalidInput> {
        check_object_name("name", &self.name)?;
        if self.description.chars().count() > 500 {
            return Err(InvalidInput::new(
                "description",
                "keep it under 500 characters",
            ));
        }
        if self.metrics.is_empty() {
            return Err(InvalidInput::new("metrics", "add at least one metric"));
        }
        if self.metrics.len() > MAX_METRICS {
            return Err(InvalidInput::new(
                "metrics",
                format!("at most {MAX_METRICS} metrics"),
            ));
        }
        for (i, m) in self.metrics.iter().enumerate() {
            m.check(&format!("metrics[{i}]"))?;
            if self.metrics[..i].iter().any(|o| o.name == m.name) {
                return Err(InvalidInput::unprocessable(
                    format!("metrics[{i}].name"),
                    format!("two metrics are called '{}'", m.name),
                ));
            }
        }
        Ok(())
    }
}

const REQUESTS: &str =
    r#"http_requests_total{namespace="{{namespace}}",app="{{app}}",version="VERSION"}"#;
const ERRORS: &str =
    r#"http_requests_total{namespace="{{namespace}}",app="{{app}}",version="VERSION",code=~"5.."}"#;

/// Error rate of a version in percent over the last minute; 0 when it has traffic but no
/// errors, no data when it has no traffic.
fn error_percent(version: &str) -> String {
    format!(
        "100 * (sum(rate({errors}[1m])) or vector(0)) / sum(rate({requests}[1m]))",
        errors = ERRORS.replace("VERSION", version),
        requests = REQUESTS.replace("VERSION", version)
    )
}

fn conversion(version: &str) -> String {
    let sel = format!(r#"{{namespace="{{{{namespace}}}}",app="{{{{app}}}}",version="{version}"}}"#);
    // No value (so no verdict) until the version has had 200 visits: a share of a handful
    // of visits is noise, not a regression.
    format!(
        "(sum(increase(checkout_conversions_total{sel}[5m])) / sum(increase(checkout_visits_total{sel}[5m]))) \
         and on() (sum(increase(checkout_visits_total{sel}[5m])) >= 200)"
    )
}

fn metric(name: &str, query: String, condition: &str, unit: &str) -> Metric {
    Metric {
        name: name.into(),
        query,
        interval: 2,
        initial_delay: 0,
        count: 5,
        success_condition: Condition::parse("successCondition", condition).ok(),
        failure_condition: None,
        failure_limit: 0,
        // A new version has no data until its first pods have served a few scrapes.
        inconclusive_limit: 5,
        consecutive_error_limit: default_error_limit(),
        unit: unit.into(),
    }
}

/// The templates every installation starts with.
pub fn seeded_templates() -> Vec<AnalysisTemplate> {
    let latency = r#"1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="{{namespace}}",app="{{app}}",version="{{version}}"}[1m])))"#;
    vec![
        AnalysisTemplate {
            name: "error-rate".into(),
            description: "The new version answers fewer than 1% of requests with a 5xx.".into(),
            metrics: vec![metric("error-rate", error_percent("{{version}}"), "result < 1", "%")],
        },
        AnalysisTemplate {
            name: "latency-p95".into(),
            description: "The new version's 95th-percentile latency stays below 300 ms.".into(),
            metrics: vec![metric("latency-p95", latency.into(), "result < 300", "ms")],
        },
        AnalysisTemplate {
            name: "error-rate-vs-stable".into(),
            description: "The new version's error rate is not worse than the stable version's by more than 0.5 points.".into(),
            metrics: vec![metric(
                "error-rate-difference",
                format!(
                    "({}) - ({})",
                    error_percent("{{version}}"),
                    error_percent("{{stable}}")
                ),
                "result <= 0.5",
                "points",
            )],
        },
        AnalysisTemplate {
            name: "conversion-vs-stable".into(),
            description: "The new version's checkout conversion is not lower than the stable version's by more than 10%.".into(),
            metrics: vec![metric(
                "conversion-change",
                format!(
                    "100 * (({}) / ({}) - 1)",
                    conversion("{{version}}"),
                    conversion("{{stable}}")
                ),
                "result >= -10",
                "%",
            )],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> Args {
        Args {
            app: "storefront".into(),
            version: "v2".into(),
            stable: "v1".into(),
            namespace: "staging".into(),
            environment: "staging".into(),
        }
    }

    #[test]
    fn the_seeded_templates_are_valid_and_render_without_placeholders_left() {
        for t in seeded_templates() {
            t.check().unwrap();
            for m in &t.metrics {
                let q = render(&m.query, &args()).unwrap();
                assert!(!q.contains("{{"), "{q}");
                assert!(q.contains(r#"app="storefront""#), "{q}");
            }
        }
    }

    #[test]
    fn comparisons_with_stable_measure_both_versions() {
        let t = &seeded_templates()[2];
        let q = render(&t.metrics[0].query, &args()).unwrap();
        assert!(
            q.contains(r#"version="v2""#) && q.contains(r#"version="v1""#),
            "{q}"
        );
        assert!(uses_versions(&t.metrics[0].query));
    }

    #[test]
    fn an_unknown_argument_is_refused_by_name() {
        let mut t = seeded_templates().remove(0);
        t.metrics[0].query = "up{job=\"{{job}}\"}".into();
        let e = t.check().unwrap_err();
        assert_eq!(e.field, "metrics[0].query");
        assert!(e.message.contains("{{job}}"), "{}", e.message);
    }

    #[test]
    fn a_metric_without_conditions_or_with_a_zero_interval_is_refused() {
        let mut t = seeded_templates().remove(0);
        t.metrics[0].success_condition = None;
        assert_eq!(t.check().unwrap_err().field, "metrics[0].successCondition");
        let mut t = seeded_templates().remove(0);
        t.metrics[0].interval = 0;
        assert_eq!(t.check().unwrap_err().field, "metrics[0].interval");
        let mut t = seeded_templates().remove(0);
        t.metrics.push(t.metrics[0].clone());
        assert_eq!(t.check().unwrap_err().field, "metrics[1].name");
    }

    #[test]
    fn templates_read_argo_style_json() {
        let t: AnalysisTemplate = serde_json::from_str(
            r#"{"name":"x","metrics":[{"name":"m","query":"up","interval":5,"count":3,"successCondition":"result == 1"}]}"#,
        )
        .unwrap();
        assert_eq!(t.metrics[0].consecutive_error_limit, 4);
        assert_eq!(t.metrics[0].success_condition.unwrap().threshold, 1.0);
        t.check().unwrap();
    }
}
