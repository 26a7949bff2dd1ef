//! Verification gates: what must hold before a rollout leaves a phase (or a Gradual step). Each
//! gate is data the server carries out; its checks here are the ones the planning form and the
//! REST API apply.

use serde::{Deserialize, Serialize};

use crate::InvalidInput;
use crate::role::Role;

/// The longest any single gate may be given to finish.
pub const MAX_GATE_SECONDS: u32 = 3600;

/// One HTTP request of a smoke test and what its answer must be.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmokeRequest {
    /// Path on the app's Service, such as `/api/cart`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^/[!-~]{0,499}$"))]
    pub path: String,
    /// The status the answer must have.
    #[serde(default = "ok_status")]
    #[cfg_attr(feature = "openapi", schema(minimum = 100, maximum = 599))]
    pub status: u16,
    /// Text the body must contain, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    /// A JSON pointer into the body and the value it must hold, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<JsonExpectation>,
}

fn ok_status() -> u16 {
    200
}

/// `pointer` (RFC 6901, like `/status`) must hold `equals`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonExpectation {
    #[cfg_attr(feature = "openapi", schema(pattern = "^(/.*)?$"))]
    pub pointer: String,
    pub equals: serde_json::Value,
}

/// A check that must pass before the rollout moves on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Gate {
    /// GET the app's health endpoint until it answers 2xx `times` times in a row, within
    /// `timeoutSeconds`.
    #[serde(rename_all = "camelCase")]
    HealthCheck {
        #[cfg_attr(feature = "openapi", schema(pattern = "^/[!-~]{0,499}$"))]
        path: String,
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
        times: u32,
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3600))]
        timeout_seconds: u32,
    },
    /// Requests whose answers must match.
    #[serde(rename_all = "camelCase")]
    SmokeTest {
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
        requests: Vec<SmokeRequest>,
    },
    /// A Kubernetes Job from `image` running `command`; passes when the Job succeeds.
    #[serde(rename_all = "camelCase")]
    IntegrationTest {
        #[cfg_attr(feature = "openapi", schema(pattern = "^[!-~]{1,255}$"))]
        image: String,
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::command))]
        command: Vec<String>,
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3600))]
        timeout_seconds: u32,
    },
    /// The built-in load generator against the app's Service.
    #[serde(rename_all = "camelCase")]
    LoadTest {
        /// Requests per second to send.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
        rate: u32,
        /// Requests in flight at most.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 200))]
        concurrency: u32,
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 600))]
        duration_seconds: u32,
        /// Fails when more than this share of requests (percent) fail.
        #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
        max_error_percent: f64,
        /// Fails when the 95th percentile latency exceeds this.
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 60_000))]
        max_p95_ms: u32,
    },
    /// A person with at least `role` approves, with a comment; with `fourEyes` not the person
    /// who started the rollout.
    #[serde(rename_all = "camelCase")]
    Approval {
        #[cfg_attr(feature = "openapi", schema(value_type = crate::schema::ApproverRole))]
        role: Role,
        #[serde(default)]
        four_eyes: bool,
    },
    /// Analysis templates run against the versions involved; passes when they are Successful.
    #[serde(rename_all = "camelCase")]
    Analysis {
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::template_names))]
        templates: Vec<String>,
    },
}

fn within(field: String, value: u32, low: u32, high: u32, unit: &str) -> Result<(), InvalidInput> {
    if (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!("between {low} and {high} {unit}, not {value}"),
        ))
    }
}

/// A smoke test's requests: 1 to 50, each with a path, an HTTP status and a JSON pointer.
fn check_smoke(field: &str, requests: &[SmokeRequest]) -> Result<(), InvalidInput> {
    if requests.is_empty() || requests.len() > 50 {
        return Err(InvalidInput::new(
            format!("{field}.requests"),
            "list 1 to 50 requests",
        ));
    }
    for (i, r) in requests.iter().enumerate() {
        let at = format!("{field}.requests[{i}]");
        check_path(format!("{at}.path"), &r.path)?;
        within(
            format!("{at}.status"),
            u32::from(r.status),
            100,
            599,
            "(an HTTP status)",
        )?;
        if let Some(j) = &r.json
            && !(j.pointer.is_empty() || j.pointer.starts_with('/'))
        {
            return Err(InvalidInput::new(
                format!("{at}.json.pointer"),
                "a JSON pointer such as /status (empty for the whole body)",
            ));
        }
    }
    Ok(())
}

/// A load test's rate, concurrency and duration, and the limits it is judged by.
fn check_load(
    field: &str,
    (rate, concurrency, duration_seconds): (u32, u32, u32),
    max_error_percent: f64,
    max_p95_ms: u32,
) -> Result<(), InvalidInput> {
    within(
        format!("{field}.rate"),
        rate,
        1,
        1000,
        "requests per second",
    )?;
    within(
        format!("{field}.concurrency"),
        concurrency,
        1,
        200,
        "requests in flight",
    )?;
    within(
        format!("{field}.durationSeconds"),
        duration_seconds,
        1,
        600,
        "seconds",
    )?;
    if !max_error_percent.is_finite() || !(0.0..=100.0).contains(&max_error_percent) {
        return Err(InvalidInput::new(
            format!("{field}.maxErrorPercent"),
            "a share of failed requests between 0 and 100 percent",
        ));
    }
    within(
        format!("{field}.maxP95Ms"),
        max_p95_ms,
        1,
        60_000,
        "milliseconds",
    )
}

fn check_path(field: String, path: &str) -> Result<(), InvalidInput> {
    if !path.starts_with('/') || path.len() > 500 || path.chars().any(char::is_whitespace) {
        return Err(InvalidInput::new(
            field,
            "a path on the app starting with /, without spaces (like /healthz)",
        ));
    }
    Ok(())
}

/// "an operator", "a developer": the label lower-cased, with its article.
pub fn with_article(label: &str) -> String {
    let lower = label.to_lowercase();
    let article = if lower.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {lower}")
}

impl Gate {
    /// The gate's type as the API names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Gate::HealthCheck { .. } => "healthCheck",
            Gate::SmokeTest { .. } => "smokeTest",
            Gate::IntegrationTest { .. } => "integrationTest",
            Gate::LoadTest { .. } => "loadTest",
            Gate::Approval { .. } => "approval",
            Gate::Analysis { .. } => "analysis",
        }
    }

    /// Whether the gate checks the app's version (and so needs an app in the release).
    pub fn needs_app(&self) -> bool {
        !matches!(self, Gate::Approval { .. } | Gate::Analysis { .. })
    }

    /// Checks the gate's values; `field` is where it sits, like `phases[2].gates[0]`.
    pub fn check(&self, field: &str) -> Result<(), InvalidInput> {
        match self {
            Gate::HealthCheck {
                path,
                times,
                timeout_seconds,
            } => {
                check_path(format!("{field}.path"), path)?;
                within(format!("{field}.times"), *times, 1, 100, "answers in a row")?;
                within(
                    format!("{field}.timeoutSeconds"),
                    *timeout_seconds,
                    1,
                    MAX_GATE_SECONDS,
                    "seconds",
                )
            }
            Gate::SmokeTest { requests } => check_smoke(field, requests),
            Gate::IntegrationTest {
                image,
                command,
                timeout_seconds,
            } => {
                let image_ok = !image.is_empty()
                    && image.len() <= 255
                    && !image.chars().any(|c| c.is_whitespace() || c.is_control());
                if !image_ok {
                    return Err(InvalidInput::new(
                        format!("{field}.image"),
                        "a container image such as registry.example.com/tests:1.4",
                    ));
                }
                if command.is_empty() || command.iter().any(|c| c.chars().count() > 2000) {
                    return Err(InvalidInput::new(
                        format!("{field}.command"),
                        "the command to run, as one or more words",
                    ));
                }
                within(
                    format!("{field}.timeoutSeconds"),
                    *timeout_seconds,
                    1,
                    MAX_GATE_SECONDS,
                    "seconds",
                )
            }
            Gate::LoadTest {
                rate,
                concurrency,
                duration_seconds,
                max_error_percent,
                max_p95_ms,
            } => {
                let limits = (*rate, *concurrency, *duration_seconds);
                check_load(field, limits, *max_error_percent, *max_p95_ms)
            }
            Gate::Approval { role, .. } => {
                if *role == Role::Viewer {
                    return Err(InvalidInput::new(
                        format!("{field}.role"),
                        "viewers cannot approve; choose developer or above",
                    ));
                }
                Ok(())
            }
            Gate::Analysis { templates } => {
                if templates.is_empty() || templates.iter().any(|t| t.trim().is_empty()) {
                    return Err(InvalidInput::new(
                        format!("{field}.templates"),
                        "name at least one analysis template",
                    ));
                }
                Ok(())
            }
        }
    }

    /// The gate in words, for the timeline.
    pub fn describe(&self) -> String {
        match self {
            Gate::HealthCheck { path, times, .. } => {
                format!("Health check: GET {path} answers 2xx {times}× in a row")
            }
            Gate::SmokeTest { requests } => format!(
                "Smoke test: {} request{}",
                requests.len(),
                if requests.len() == 1 { "" } else { "s" }
            ),
            Gate::IntegrationTest { image, .. } => format!("Integration test: Job from {image}"),
            Gate::LoadTest {
                rate,
                duration_seconds,
                max_error_percent,
                max_p95_ms,
                ..
            } => format!(
                "Load test: {rate} req/s for {duration_seconds} s, errors ≤ {max_error_percent}%, p95 ≤ {max_p95_ms} ms"
            ),
            Gate::Approval { role, four_eyes } => format!(
                "Approval by {}{}",
                with_article(role.label()),
                if *four_eyes {
                    " (not the person who started it)"
                } else {
                    ""
                }
            ),
            Gate::Analysis { templates } => format!("Analysis: {}", templates.join(", ")),
        }
    }

    /// How long the gate usually takes, in seconds, for the estimated timeline; `None` when
    /// it waits for a person.
    pub fn estimate_seconds(&self, analysis_seconds: &dyn Fn(&str) -> u32) -> Option<u32> {
        match self {
            Gate::HealthCheck { times, .. } => Some(*times),
            Gate::SmokeTest { requests } => Some(u32::try_from(requests.len()).unwrap_or(50)),
            Gate::IntegrationTest { .. } => Some(10),
            Gate::LoadTest {
                duration_seconds, ..
            } => Some(*duration_seconds),
            Gate::Approval { .. } => None,
            Gate::Analysis { templates } => templates
                .iter()
                .map(|t| analysis_seconds(t))
                .max()
                .or(Some(0)),
        }
    }
}
