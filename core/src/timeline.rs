//! The lines of a deployment's or a rollout's timeline, as the UI and the REST API see them.

use serde::{Deserialize, Serialize};
use varai_domain::timeline::EventLevel;

/// One line of a deployment's or a rollout's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TimelineEvent {
    pub id: i64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// `info`, `warning` or `error`.
    #[cfg_attr(feature = "server", schema(value_type = String, example = "info"))]
    pub level: EventLevel,
    /// Who or what wrote it: a person, `controller`, `rollout #3`.
    pub actor: String,
    pub message: String,
}
