//! Rollout plans: an ordered list of phases, each with an audience (segments and a share of
//! users for the release's flags, a traffic weight for the app's canary), the gates that must
//! pass to leave it, a bake time, and whether it advances by itself. The server runs a plan
//! with [`run::decide`]; the planning form validates and estimates it with the same code.

pub mod audience;
pub mod claim;
pub mod gate;
pub mod run;
pub mod template;
pub mod validate;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use gate::{Gate, JsonExpectation, SmokeRequest};
pub use run::{
    EstimatedStop, Exposure, GateState, GateStatus, Position, Stop, StopDecision, StopObservation,
    baking, canary_steps, decide, estimate, hold_step, stop_index, stops,
};
pub use template::{DEFAULT_TEMPLATE, default_plan, integration_tests};

/// What a phase is for; it decides where the phase may sit in a plan and what running it does.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PhaseKind {
    /// The plan is drafted, reviewed and approved to start. Exposes nothing.
    Planning,
    /// The snapshot is taken and the cluster, Prometheus and flags are checked. Exposes nothing.
    Preparation,
    /// The release reaches an audience: segments, a share of users, a canary weight.
    Exposure,
    /// A list of steps, each a larger share of users and traffic with its own gates.
    Gradual,
    /// Everyone gets the release; the app's primary runs the new version.
    Full,
    /// The release stays under watch for the bake time before the rollout ends.
    Monitoring,
}

impl PhaseKind {
    pub const ALL: [PhaseKind; 6] = [
        PhaseKind::Planning,
        PhaseKind::Preparation,
        PhaseKind::Exposure,
        PhaseKind::Gradual,
        PhaseKind::Full,
        PhaseKind::Monitoring,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PhaseKind::Planning => "Planning",
            PhaseKind::Preparation => "Preparation",
            PhaseKind::Exposure => "Audience",
            PhaseKind::Gradual => "Gradual steps",
            PhaseKind::Full => "Full rollout",
            PhaseKind::Monitoring => "Monitoring",
        }
    }

    /// Where phases of this kind sit: a plan's ranks never decrease.
    pub fn rank(self) -> u8 {
        match self {
            PhaseKind::Planning => 0,
            PhaseKind::Preparation => 1,
            PhaseKind::Exposure | PhaseKind::Gradual => 2,
            PhaseKind::Full => 3,
            PhaseKind::Monitoring => 4,
        }
    }

    /// Whether a plan may hold more than one phase of this kind.
    pub fn repeatable(self) -> bool {
        matches!(self, PhaseKind::Exposure | PhaseKind::Gradual)
    }

    /// Whether the phase has an audience of its own.
    pub fn has_audience(self) -> bool {
        matches!(self, PhaseKind::Exposure | PhaseKind::Gradual)
    }
}

/// Who a phase exposes the release to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Audience {
    /// Segment keys whose users get the release's flags.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::names))]
    pub segments: Vec<String>,
    /// The share of all users (0–100) who get the release's flags; the previous phase's
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub users_percent: Option<u32>,
    /// The share of traffic (0–100) the app's canary gets; the previous phase's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub traffic_percent: Option<u32>,
}

/// One step of a Gradual phase: this share of users and of traffic, these gates, this bake.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GradualStep {
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub percent: u32,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 604_800))]
    pub bake_seconds: u32,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub gates: Vec<Gate>,
}

fn advance_by_itself() -> bool {
    true
}

/// One phase of a plan.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phase {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 60, pattern = "[^\\s\\x85]")
    )]
    pub name: String,
    pub kind: PhaseKind,
    #[serde(default)]
    pub audience: Audience,
    /// Gates that must pass to leave the phase (for a Gradual phase: after its last step).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub gates: Vec<Gate>,
    /// The least time (seconds) the phase lasts, even when its gates have passed.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 604_800))]
    pub bake_seconds: u32,
    /// Moves on by itself once its gates pass and its bake time is over; otherwise waits
    /// for someone to advance it.
    #[serde(default = "advance_by_itself")]
    pub auto_advance: bool,
    /// A Gradual phase's steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub steps: Vec<GradualStep>,
}

/// An ordered list of phases.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 20))]
    pub phases: Vec<Phase>,
}

/// What a rollout releases: an app's new version, flags, or both.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    /// The app that moves to `version`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    )]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    )]
    pub version: Option<String>,
    /// The release's flags, switched on for each phase's audience.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::names))]
    pub flags: Vec<String>,
}

impl Release {
    pub fn has_app(&self) -> bool {
        self.app.is_some()
    }
}
