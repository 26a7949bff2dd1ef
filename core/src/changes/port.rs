//! The storage port for change requests. Every write carries its audit event in the same
//! transaction; approving a flag request saves the flag in that transaction too (a deployment
//! request is approved inside the deployment's own insert, see [`crate::deploy::Deployer`]).

use async_trait::async_trait;

use super::{ChangeRequest, ChangeState, ProposedChange};
use crate::accounts::Principal;
use crate::error::Result;
use crate::flags::{FlagChange, FlagRecord};

/// An approval that a change is being applied under: the write that applies it also marks the
/// request applied, or fails when someone else decided it first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub request: i64,
    pub comment: Option<String>,
}

/// What a new request stores: the change and the two texts its review compares.
#[derive(Debug, Clone)]
pub struct RequestDraft<'a> {
    pub environment: &'a str,
    pub title: &'a str,
    pub change: &'a ProposedChange,
    pub before: &'a str,
    pub after: &'a str,
}

#[async_trait]
pub trait ChangeRequestStore: Send + Sync + 'static {
    /// Newest first, open ones among them when `state` is `Open`.
    async fn list_change_requests(
        &self,
        state: Option<ChangeState>,
        limit: u32,
    ) -> Result<Vec<ChangeRequest>>;
    async fn change_request(&self, id: i64) -> Result<Option<ChangeRequest>>;
    async fn create_change_request(
        &self,
        who: &Principal,
        draft: RequestDraft<'_>,
        now: i64,
    ) -> Result<ChangeRequest>;
    /// Rejects or withdraws an open request.
    async fn close_change_request(
        &self,
        who: &Principal,
        id: i64,
        state: ChangeState,
        comment: Option<&str>,
        now: i64,
    ) -> Result<ChangeRequest>;
    /// Approves an open flag request and saves the flag (at `version`) in one transaction.
    async fn approve_flag_change(
        &self,
        who: &Principal,
        approval: &Approval,
        key: &str,
        change: FlagChange,
        version: i64,
        now: i64,
    ) -> Result<FlagRecord>;
}
