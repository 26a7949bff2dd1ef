//! Apps, deployments with the controller's state, and their timelines in the database. A
//! deployment row is the controller's memory: its stage, when it began, what it waits for, and
//! a revision that makes the controller's and people's writes exclude each other.

use sqlx::FromRow;
use varai_core::changes::Approval;
use varai_core::deploy::{AppRecord, DeploymentRecord};
use varai_domain::deploy::{Stage, Strategy};

use super::{SqlxStore, backend_error};
use crate::error::{Error, Result};

#[derive(FromRow)]
struct DeploymentRow {
    id: i64,
    app: String,
    environment: String,
    version: String,
    previous_version: String,
    strategy: String,
    desired: i64,
    schema_version: Option<String>,
    stage: String,
    stage_since: i64,
    promote: i64,
    paused: i64,
    waiting: Option<String>,
    last_error: Option<String>,
    attempts: i64,
    next_attempt_at: i64,
    snapshot_id: Option<i64>,
    started_by: String,
    started_at: i64,
    finished_at: Option<i64>,
    revision: i64,
    background_analysis: String,
}

impl TryFrom<DeploymentRow> for DeploymentRecord {
    type Error = Error;

    fn try_from(r: DeploymentRow) -> Result<Self> {
        let corrupt = |e: serde_json::Error| Error::Storage {
            op: "read a deployment",
            source: Box::new(e),
        };
        let strategy: Strategy = serde_json::from_str(&r.strategy).map_err(corrupt)?;
        let stage: Stage = serde_json::from_str(&r.stage).map_err(corrupt)?;
        Ok(DeploymentRecord {
            id: r.id,
            app: r.app,
            environment: r.environment,
            version: r.version,
            previous_version: r.previous_version,
            stage_label: stage.describe(&strategy),
            strategy,
            desired: u32::try_from(r.desired).unwrap_or(0),
            schema_version: r.schema_version,
            stage,
            stage_since: r.stage_since,
            promote: r.promote != 0,
            paused: r.paused != 0,
            waiting: r.waiting,
            last_error: r.last_error,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            next_attempt_at: r.next_attempt_at,
            snapshot_id: r.snapshot_id,
            started_by: r.started_by,
            started_at: r.started_at,
            finished_at: r.finished_at,
            revision: r.revision,
            background_analysis: serde_json::from_str(&r.background_analysis).map_err(corrupt)?,
        })
    }
}

const DEPLOYMENT_SELECT: &str = "SELECT d.id, a.name AS app, e.key AS environment, d.version, \
     d.previous_version, d.strategy, d.desired, d.schema_version, d.stage, d.stage_since, d.promote, \
     d.paused, d.waiting, d.last_error, d.attempts, d.next_attempt_at, \
     (SELECT MAX(s.id) FROM snapshots s WHERE s.deployment_id = d.id) AS snapshot_id, \
     d.started_by, d.started_at, d.finished_at, d.revision, d.background_analysis \
     FROM deployments d JOIN apps a ON a.id = d.app_id JOIN environments e ON e.id = a.environment_id";

/// A new deployment and the snapshot taken before it.
pub struct NewDeployment<'a> {
    pub app: &'a AppRecord,
    pub version: &'a str,
    pub previous_version: &'a str,
    pub strategy: &'a Strategy,
    pub desired: u32,
    pub schema_version: Option<&'a str>,
    /// Analysis templates measured for the whole deployment.
    pub background_analysis: &'a [String],
    /// JSON array of the managed objects' manifests.
    pub objects: String,
    /// JSON of the environment's flag states.
    pub flags: String,
    /// The change request this deployment applies, marked applied in the same transaction.
    pub approval: Option<&'a Approval>,
}

/// What the controller writes after a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressUpdate {
    pub stage: Stage,
    pub stage_since: i64,
    pub waiting: Option<String>,
    pub last_error: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: i64,
}

pub(super) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

impl SqlxStore {
    async fn deployment_where(&self, condition: &str, id: i64) -> Result<Vec<DeploymentRecord>> {
        let rows: Vec<DeploymentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{DEPLOYMENT_SELECT} WHERE {condition} ORDER BY d.id DESC LIMIT 50"
        )))
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("read deployments"))?;
        rows.into_iter().map(DeploymentRecord::try_from).collect()
    }

    pub(crate) async fn deployment_by_id(&self, id: i64) -> Result<DeploymentRecord> {
        self.deployment_where("d.id = $1", id)
            .await?
            .pop()
            .ok_or(Error::NotFound("deployment"))
    }

    /// The latest 50 deployments of an app, newest first.
    pub(crate) async fn deployments_of(&self, app_id: i64) -> Result<Vec<DeploymentRecord>> {
        self.deployment_where("d.app_id = $1", app_id).await
    }

    pub(crate) async fn in_progress_of(&self, app_id: i64) -> Result<Option<DeploymentRecord>> {
        Ok(self
            .deployment_where("d.app_id = $1 AND d.in_progress = 1", app_id)
            .await?
            .pop())
    }

    /// Every deployment in progress whose next attempt is due.
    /// The ids of every deployment in progress, for the controller.
    pub(crate) async fn active_deployments(&self) -> Result<Vec<i64>> {
        sqlx::query_scalar("SELECT id FROM deployments WHERE in_progress = 1 ORDER BY id")
            .fetch_all(self.pool())
            .await
            .map_err(backend_error("list deployments in progress"))
    }
}
