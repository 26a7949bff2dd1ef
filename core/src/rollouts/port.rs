//! The [`Rollouts`] port: plan templates, rollouts and the commands people give them, which
//! the server implements.

use async_trait::async_trait;

use super::{
    NewPlanTemplate, NewRollout, PlanTemplate, RolloutCommand, RolloutRecord, RolloutView,
};
use crate::accounts::Principal;
use crate::error::Result;

/// Which rollouts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolloutFilter {
    pub environment: Option<String>,
    /// Only drafts, scheduled and running rollouts.
    pub active: bool,
}

#[async_trait]
pub trait Rollouts: Send + Sync + 'static {
    async fn plan_templates(&self) -> Result<Vec<PlanTemplate>>;
    /// Creates the template, or replaces the one called `name`.
    async fn save_plan_template(
        &self,
        who: &Principal,
        name: &str,
        t: NewPlanTemplate,
    ) -> Result<PlanTemplate>;
    async fn delete_plan_template(&self, who: &Principal, name: &str) -> Result<()>;
    async fn create_rollout(
        &self,
        who: &Principal,
        environment: &str,
        new: NewRollout,
    ) -> Result<RolloutRecord>;
    /// Saves a draft (or a scheduled rollout not yet started) again.
    async fn update_rollout(
        &self,
        who: &Principal,
        id: i64,
        new: NewRollout,
    ) -> Result<RolloutRecord>;
    async fn rollouts(&self, filter: RolloutFilter) -> Result<Vec<RolloutRecord>>;
    async fn rollout(&self, id: i64) -> Result<RolloutView>;
    /// Carries out `command` (any but an approval) if the rollout's state allows it now.
    async fn command(
        &self,
        who: &Principal,
        id: i64,
        command: RolloutCommand,
    ) -> Result<RolloutRecord>;
    /// Completes the approval gate `row`, if it still waits (the use case checked who may).
    async fn approve(
        &self,
        who: &Principal,
        id: i64,
        row: i64,
        comment: &str,
    ) -> Result<RolloutRecord>;
}
