//! The [`Deployer`] port: apps, deployments, snapshots, rollbacks and the sandbox, which the
//! server implements over the database and the clusters.

use async_trait::async_trait;

use super::{
    AppLive, AppRecord, ClusterBinding, Control, DeployRequest, DeploymentRecord, NewApp,
    RollbackRecord, RollbackRequest, SandboxProfile, SandboxView, SnapshotRecord,
};
use crate::accounts::Principal;
use crate::changes::Approval;
use crate::error::Result;
use crate::timeline::TimelineEvent;

/// Apps, deployments, snapshots and the sandbox: what the server does with the database and
/// the clusters.
#[async_trait]
pub trait Deployer: Send + Sync + 'static {
    async fn apps(&self, environment: &str) -> Result<Vec<AppLive>>;
    async fn app(&self, environment: &str, app: &str) -> Result<AppLive>;
    async fn register_app(
        &self,
        who: &Principal,
        environment: &str,
        app: NewApp,
    ) -> Result<AppRecord>;
    /// Takes the snapshot and starts the deployment; refused while one is in progress. With
    /// `approval`, the deployment applies that change request, marked applied in the same
    /// transaction.
    async fn start(
        &self,
        who: &Principal,
        environment: &str,
        app: &str,
        request: DeployRequest,
        approval: Option<Approval>,
    ) -> Result<DeploymentRecord>;
    async fn control(
        &self,
        who: &Principal,
        deployment: i64,
        control: Control,
    ) -> Result<DeploymentRecord>;
    async fn deployment(&self, id: i64) -> Result<(DeploymentRecord, Vec<TimelineEvent>)>;
    async fn history(&self, environment: &str, app: &str) -> Result<Vec<DeploymentRecord>>;
    async fn snapshots(&self, environment: &str, app: &str) -> Result<Vec<SnapshotRecord>>;
    async fn rollback(
        &self,
        who: &Principal,
        environment: &str,
        app: &str,
        request: RollbackRequest,
    ) -> Result<RollbackRecord>;
    async fn cluster(&self, environment: &str) -> Result<ClusterBinding>;
    /// Binds the environment to a cluster after checking it answers.
    async fn bind_cluster(
        &self,
        who: &Principal,
        environment: &str,
        binding: ClusterBinding,
    ) -> Result<ClusterBinding>;
    async fn sandbox(&self) -> Result<SandboxView>;
    async fn set_behaviour(&self, who: &Principal, profile: SandboxProfile) -> Result<()>;
    async fn set_rate(
        &self,
        who: &Principal,
        namespace: &str,
        app: &str,
        per_second: f64,
    ) -> Result<()>;
}
