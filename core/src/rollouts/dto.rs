//! Rollouts as the UI and the REST API see them: plan templates, rollouts with where they are,
//! gate results with their evidence, the timeline, and the commands people give.

use crate::timeline::TimelineEvent;
use serde::{Deserialize, Serialize};
use varai_domain::Role;
use varai_domain::plan::{Exposure, GateStatus, Plan, Position, Release, stop_index, stops};

/// A saved plan that rollouts are copied from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanTemplate {
    pub name: String,
    pub description: String,
    pub plan: Plan,
    pub updated_at: i64,
    pub updated_by: String,
    /// Who created the template; they may always change it.
    pub owner: String,
    /// The role anyone else needs to change or delete it.
    #[cfg_attr(feature = "server", schema(value_type = String, example = "operator"))]
    pub min_role: Role,
    /// Everyone who ever saved it.
    #[serde(default)]
    pub authors: Vec<String>,
}

/// A plan template as sent to be saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewPlanTemplate {
    #[serde(default)]
    pub description: String,
    pub plan: Plan,
    /// The role others need to change or delete the template (product manager when new;
    /// unchanged when left out). Only its owner or an admin may change it.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = Option<crate::accounts::RoleName>, example = "operator"))]
    pub min_role: Option<Role>,
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum RolloutStatus {
    /// Being planned; nothing has changed anywhere.
    Draft,
    /// Starts by itself at `startAt`.
    Scheduled,
    Running,
    Succeeded,
    /// A gate failed, an alert fired or someone rolled it back: the snapshot is back.
    RolledBack,
    /// Stopped by someone; the release was taken back.
    Aborted,
    /// Could not go on and could not be rolled back by itself.
    Failed,
}

impl RolloutStatus {
    pub const ALL: [RolloutStatus; 7] = [
        RolloutStatus::Draft,
        RolloutStatus::Scheduled,
        RolloutStatus::Running,
        RolloutStatus::Succeeded,
        RolloutStatus::RolledBack,
        RolloutStatus::Aborted,
        RolloutStatus::Failed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            RolloutStatus::Draft => "draft",
            RolloutStatus::Scheduled => "scheduled",
            RolloutStatus::Running => "running",
            RolloutStatus::Succeeded => "succeeded",
            RolloutStatus::RolledBack => "rolled_back",
            RolloutStatus::Aborted => "aborted",
            RolloutStatus::Failed => "failed",
        }
    }

    pub fn from_key(key: &str) -> Option<RolloutStatus> {
        RolloutStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            RolloutStatus::Draft => "Draft",
            RolloutStatus::Scheduled => "Scheduled",
            RolloutStatus::Running => "Running",
            RolloutStatus::Succeeded => "Succeeded",
            RolloutStatus::RolledBack => "Rolled back",
            RolloutStatus::Aborted => "Aborted",
            RolloutStatus::Failed => "Failed",
        }
    }

    /// Whether the rollout is over.
    pub fn is_over(self) -> bool {
        matches!(
            self,
            RolloutStatus::Succeeded
                | RolloutStatus::RolledBack
                | RolloutStatus::Aborted
                | RolloutStatus::Failed
        )
    }
}

/// A rollout as sent to be created (or a draft saved again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewRollout {
    /// 1 to 120 characters.
    #[cfg_attr(feature = "server", schema(max_length = 120, pattern = "[^\\s\\x85]"))]
    pub title: String,
    pub release: Release,
    /// The template the plan is copied from; `default` when neither it nor `plan` is given.
    #[serde(default)]
    pub template: Option<String>,
    /// The plan, when edited; otherwise the template's.
    #[serde(default)]
    pub plan: Option<Plan>,
    /// Start at once (`true`) or keep as a draft.
    #[serde(default)]
    pub start: bool,
    /// Start at this time (milliseconds since the epoch) instead of at once.
    #[serde(default)]
    pub start_at: Option<i64>,
}

/// A rollout and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RolloutRecord {
    pub id: i64,
    pub environment: String,
    pub title: String,
    pub template: Option<String>,
    pub release: Release,
    pub plan: Plan,
    pub status: RolloutStatus,
    pub paused: bool,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub position: Position,
    /// The current stop in words, like "Beta" or "Gradual Rollout 25%".
    pub stop_label: String,
    /// Which visit of the current stop this is: it grows each time the stop's gates run again,
    /// and gate results carry the visit they belong to.
    pub visit: i64,
    pub stop_since: Option<i64>,
    /// Who has the release now.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub exposure: Exposure,
    /// What the rollout waits for, in words.
    pub waiting: Option<String>,
    pub last_error: Option<String>,
    pub deployment_id: Option<i64>,
    pub start_at: Option<i64>,
    /// Why it ended the way it did (a rollback's or an abort's reason).
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub started_by: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub revision: i64,
    /// Everyone who wrote, edited or started the plan (its template's authors included), and
    /// the person behind each token that did: none of them may give a four-eyes approval.
    #[serde(default)]
    pub involved: Vec<String>,
}

impl RolloutRecord {
    /// The rollout with what it waits for as of `now`: the bake's countdown the controller
    /// wrote when it decided is worked out again.
    pub fn as_of(mut self, now: i64) -> RolloutRecord {
        let baking = self.status == RolloutStatus::Running
            && !self.paused
            && self
                .waiting
                .as_deref()
                .is_some_and(|w| w.starts_with("gates passed; baking for"));
        let all = stops(&self.plan);
        let stop = stop_index(&all, self.position).and_then(|i| all.get(i));
        if let (true, Some(stop), Some(since)) = (baking, stop, self.stop_since) {
            let left = since + i64::from(stop.bake_seconds) * 1000 - now;
            self.waiting = Some(varai_domain::plan::baking(left));
        }
        self
    }
}

/// What a gate found, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GateResult {
    pub id: i64,
    pub phase: usize,
    pub step: usize,
    pub gate: usize,
    pub visit: i64,
    /// healthCheck, smokeTest, integrationTest, loadTest, approval or analysis.
    pub kind: String,
    /// running, passed, failed or inconclusive.
    #[cfg_attr(feature = "server", schema(value_type = String, example = "passed"))]
    pub status: GateStatus,
    pub summary: String,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub evidence: serde_json::Value,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

/// A rollout with its gate results and timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RolloutView {
    pub rollout: RolloutRecord,
    pub gates: Vec<GateResult>,
    pub events: Vec<TimelineEvent>,
}

/// What a person asks a rollout to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", tag = "command")]
pub enum RolloutCommand {
    /// Start a draft now.
    Start,
    /// Approve the current stop's approval gate.
    Approve {
        comment: String,
    },
    /// Move on from a stop that does not advance by itself (its gates have passed).
    Advance,
    Pause,
    /// Go on; gates without a verdict run again.
    Resume,
    /// Leave the current stop without waiting for its gates.
    Skip {
        reason: String,
    },
    /// Stop and take the release back.
    Abort {
        reason: String,
    },
    /// Put the snapshot back: deployment and flags.
    RollBack {
        reason: String,
    },
}

impl RolloutCommand {
    pub fn label(&self) -> &'static str {
        match self {
            RolloutCommand::Start => "Start",
            RolloutCommand::Approve { .. } => "Approve",
            RolloutCommand::Advance => "Advance",
            RolloutCommand::Pause => "Pause",
            RolloutCommand::Resume => "Resume",
            RolloutCommand::Skip { .. } => "Skip",
            RolloutCommand::Abort { .. } => "Abort",
            RolloutCommand::RollBack { .. } => "Roll back",
        }
    }
}
