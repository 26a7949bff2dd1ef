//! The default plan: the eight phases of the origin document, from Planning to Monitoring,
//! with audiences that grow from staff to everyone and the gates each phase must pass.

use super::{Audience, Gate, GradualStep, Phase, PhaseKind, Plan, SmokeRequest};
use crate::role::Role;

fn phase(name: &str, kind: PhaseKind) -> Phase {
    Phase {
        name: name.to_owned(),
        kind,
        audience: Audience::default(),
        gates: Vec::new(),
        bake_seconds: 0,
        auto_advance: true,
        steps: Vec::new(),
    }
}

fn audience(segments: &[&str], traffic: u32) -> Audience {
    Audience {
        segments: segments.iter().map(|s| (*s).to_owned()).collect(),
        users_percent: None,
        traffic_percent: Some(traffic),
    }
}

fn health() -> Gate {
    Gate::HealthCheck {
        path: "/healthz".into(),
        times: 3,
        timeout_seconds: 60,
    }
}

fn analysis(templates: &[&str]) -> Gate {
    Gate::Analysis {
        templates: templates.iter().map(|t| (*t).to_owned()).collect(),
    }
}

/// The template every rollout without one uses, CI's included: it cannot be deleted, and only
/// an operator (or above) changes it.
pub const DEFAULT_TEMPLATE: &str = "default";

/// The integration tests a plan runs, as (image, command) pairs: each runs whatever its image
/// and command say inside the cluster, so who may write one is decided on them.
pub fn integration_tests(plan: &Plan) -> Vec<(&str, &[String])> {
    super::run::stops(plan)
        .into_iter()
        .flat_map(|stop| stop.gates)
        .filter_map(|gate| match gate {
            Gate::IntegrationTest { image, command, .. } => {
                Some((image.as_str(), command.as_slice()))
            }
            _ => None,
        })
        .collect()
}

/// Planning, Preparation, Internal Testing, Alpha, Beta, Gradual Rollout (5, 25, 50 %),
/// Full Rollout and Monitoring. Bake times are an hour or more where real users are exposed;
/// a team copies this and shortens or lengthens them.
pub fn default_plan() -> Plan {
    let mut planning = phase("Planning", PhaseKind::Planning);
    planning.gates = vec![Gate::Approval {
        role: Role::ProductManager,
        four_eyes: true,
    }];
    let mut internal = phase("Internal Testing", PhaseKind::Exposure);
    internal.audience = audience(&["internal"], 5);
    internal.gates = vec![
        health(),
        Gate::SmokeTest {
            requests: vec![SmokeRequest {
                path: "/".into(),
                status: 200,
                body_contains: Some("ok".into()),
                json: None,
            }],
        },
    ];
    internal.bake_seconds = 3600;
    let mut alpha = phase("Alpha", PhaseKind::Exposure);
    alpha.audience = audience(&["alpha-testers"], 5);
    alpha.gates = vec![analysis(&["error-rate", "latency-p95"])];
    alpha.bake_seconds = 4 * 3600;
    let mut beta = phase("Beta", PhaseKind::Exposure);
    beta.audience = audience(&["beta-testers"], 5);
    beta.gates = vec![
        Gate::LoadTest {
            rate: 50,
            concurrency: 10,
            duration_seconds: 60,
            max_error_percent: 1.0,
            max_p95_ms: 300,
        },
        analysis(&["error-rate-vs-stable"]),
        Gate::Approval {
            role: Role::ProductManager,
            four_eyes: false,
        },
    ];
    beta.bake_seconds = 24 * 3600;
    let mut gradual = phase("Gradual Rollout", PhaseKind::Gradual);
    gradual.steps = [5, 25, 50]
        .into_iter()
        .map(|percent| GradualStep {
            percent,
            bake_seconds: 3600,
            gates: vec![analysis(&["error-rate-vs-stable"])],
        })
        .collect();
    let mut full = phase("Full Rollout", PhaseKind::Full);
    full.gates = vec![health()];
    let mut monitoring = phase("Monitoring", PhaseKind::Monitoring);
    monitoring.gates = vec![analysis(&["error-rate", "latency-p95"])];
    monitoring.bake_seconds = 24 * 3600;
    Plan {
        phases: vec![
            planning,
            phase("Preparation", PhaseKind::Preparation),
            internal,
            alpha,
            beta,
            gradual,
            full,
            monitoring,
        ],
    }
}
