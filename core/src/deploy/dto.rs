//! Apps, deployments, their timelines, snapshots and rollbacks, and the sandbox's behaviour
//! profiles, as the UI and the REST API see them.

use serde::{Deserialize, Serialize};
pub use varai_domain::deploy::Control;
use varai_domain::deploy::{Stage, Strategy};
use varai_domain::sandbox::Behaviour;

/// An app registered in an environment: the Kubernetes objects it is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AppRecord {
    pub id: i64,
    pub environment: String,
    pub name: String,
    /// The primary Deployment.
    pub deployment: String,
    /// The Service users reach it through.
    pub service: String,
    /// The container whose image a deployment changes.
    pub container: String,
    /// The image repository; a version is a tag of it.
    pub image: String,
    pub created_at: i64,
    pub created_by: String,
}

/// Registering an app, or creating one from a form (then the objects are generated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewApp {
    /// A DNS label: 1–63 lowercase letters, digits and `-`.
    #[cfg_attr(
        feature = "server",
        schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    )]
    pub name: String,
    /// Existing Deployment to manage; with `create`, the one to generate. Defaults to the name.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = String, required = false, pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub deployment: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = String, required = false, pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub service: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = String, required = false, pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub container: Option<String>,
    /// Image repository, e.g. `registry.example.com/shop` (for `create`, with the first
    /// version's tag: `registry.example.com/shop:1.0`).
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 255,
            pattern = "^[a-z0-9._-]{1,60}(/[a-z0-9._-]{1,60}){0,3}$"
        )
    )]
    pub image: String,
    /// Generate the Deployment and Service instead of naming existing ones.
    #[serde(default)]
    pub create: Option<NewWorkload>,
}

/// What a generated app runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewWorkload {
    /// The first version's image tag.
    #[cfg_attr(
        feature = "server",
        schema(pattern = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    )]
    pub version: String,
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 65535))]
    pub port: u16,
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 100))]
    pub replicas: u32,
    /// CPU per pod, e.g. `100m`
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = String, required = false, pattern = "^(0|[1-9][0-9]{0,8})(\\.[0-9]{1,3})?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"))]
    pub cpu: Option<String>,
    /// Memory per pod, e.g. `128Mi`
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(value_type = String, required = false, pattern = "^(0|[1-9][0-9]{0,8})(\\.[0-9]{1,3})?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"))]
    pub memory: Option<String>,
}

/// What to deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeployRequest {
    /// The image tag to deploy.
    #[cfg_attr(
        feature = "server",
        schema(pattern = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    )]
    pub version: String,
    #[cfg_attr(feature = "server", schema(example = json!({"type": "canary", "steps": [{"setWeight": 25}, {"pause": {"duration": 30}}, {"setWeight": 50}, {"pause": {}}]})))]
    pub strategy: Strategy,
    /// A label for the database schema this version expects, kept with the snapshot.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 100))]
    pub schema_version: Option<String>,
    /// Analysis templates measured for the whole deployment: a Failed verdict aborts and
    /// rolls back, Inconclusive or Error pauses it for a person.
    #[serde(default)]
    pub analysis: Vec<String>,
}

/// A deployment and where it has got to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRecord {
    pub id: i64,
    pub app: String,
    pub environment: String,
    pub version: String,
    pub previous_version: String,
    pub strategy: Strategy,
    pub desired: u32,
    pub schema_version: Option<String>,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub stage: Stage,
    /// The stage in words.
    pub stage_label: String,
    pub stage_since: i64,
    /// Someone asked to promote.
    pub promote: bool,
    /// An operator paused it.
    pub paused: bool,
    /// Why it is not moving on.
    pub waiting: Option<String>,
    /// The last error talking to the cluster, retried with back-off.
    pub last_error: Option<String>,
    pub attempts: u32,
    /// When the controller tries again after an error (ms since the epoch; 0 when not waiting).
    pub next_attempt_at: i64,
    pub snapshot_id: Option<i64>,
    pub started_by: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub revision: i64,
    /// Analysis templates measured for the whole deployment.
    pub background_analysis: Vec<String>,
}

impl DeploymentRecord {
    pub fn in_progress(&self) -> bool {
        self.finished_at.is_none()
    }

    /// The deployment with what it waits for as of `now`: a countdown the controller wrote
    /// when it decided is worked out again.
    pub fn as_of(mut self, now: i64) -> DeploymentRecord {
        if self.in_progress() && !self.paused {
            self.waiting = varai_domain::deploy::countdown::waiting_now(
                &self.strategy,
                self.stage,
                self.stage_since,
                &self.previous_version,
                self.waiting.as_deref(),
                now,
            );
        }
        self
    }
}

impl AppLive {
    /// The app with its deployment in progress as of `now` (see [`DeploymentRecord::as_of`]).
    pub fn as_of(mut self, now: i64) -> AppLive {
        self.deployment = self.deployment.map(|d| d.as_of(now));
        self
    }
}

/// An object a snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SnapshotObject {
    pub kind: String,
    pub name: String,
    /// e.g. the image or the selector, for people.
    pub summary: String,
}

/// A snapshot: what an app's objects (and its environment's flags) were before a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SnapshotRecord {
    pub id: i64,
    pub app: String,
    pub environment: String,
    pub deployment_id: Option<i64>,
    /// The version the app ran.
    pub version: String,
    pub schema_version: Option<String>,
    pub objects: Vec<SnapshotObject>,
    /// Flags of the environment, as `key: on|off`.
    pub flags: Vec<String>,
    pub created_at: i64,
    pub created_by: String,
}

/// One object's result in a rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ObjectResult {
    pub kind: String,
    pub name: String,
    pub ok: bool,
    pub message: String,
}

/// A rollback that was carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RollbackRecord {
    pub id: i64,
    pub snapshot_id: i64,
    pub deployment_id: Option<i64>,
    pub at: i64,
    pub actor: String,
    pub reason: String,
    pub results: Vec<ObjectResult>,
    pub duration_ms: i64,
}

/// Rolling back: to which snapshot (the latest when absent) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RollbackRequest {
    #[serde(default)]
    #[cfg_attr(
        feature = "server",
        schema(value_type = i64, required = false, minimum = 0, maximum = 999_999_999_999_999_i64)
    )]
    pub snapshot_id: Option<i64>,
    /// Why, in 1 to 500 characters.
    #[cfg_attr(feature = "server", schema(max_length = 500, pattern = "[^\\s\\x85]"))]
    pub reason: String,
}

/// One version of an app as the cluster runs it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VersionLive {
    pub version: String,
    /// `primary`, `canary` or `preview`.
    pub workload: String,
    pub deployment: String,
    pub desired: u32,
    pub ready: u32,
    /// Whether the Service users reach selects it.
    pub serving: bool,
}

/// An app with what runs now and its deployment in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AppLive {
    pub app: AppRecord,
    pub versions: Vec<VersionLive>,
    pub deployment: Option<DeploymentRecord>,
    /// Why the cluster could not be read, if it could not.
    pub cluster_error: Option<String>,
    /// Versions known to the sandbox for this app (offered by the deploy form).
    pub known_versions: Vec<String>,
}

/// A sandbox version's behaviour and its app's traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SandboxProfile {
    #[cfg_attr(
        feature = "server",
        schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    )]
    pub namespace: String,
    #[cfg_attr(
        feature = "server",
        schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
    )]
    pub app: String,
    #[cfg_attr(
        feature = "server",
        schema(pattern = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    )]
    pub version: String,
    pub behaviour: Behaviour,
}

/// Everything the Sandbox page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SandboxView {
    pub profiles: Vec<SandboxProfile>,
    /// (namespace, app, requests per second)
    pub rates: Vec<(String, String, f64)>,
    /// The loopback port kubectl can reach the sandbox on, if it listens.
    pub api_port: Option<u16>,
    /// The kubeconfig (address and token) the server wrote for that port, if it wrote one.
    pub kubeconfig: Option<String>,
}

/// The cluster an environment deploys to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClusterBinding {
    /// A kubeconfig context, or `in-cluster`; absent (or empty) for the built-in sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = String, required = false, max_length = 253, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$"))]
    pub context: Option<String>,
    /// The namespace, a DNS label; absent (or empty) for the environment's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = String, required = false, pattern = "^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$"))]
    pub namespace: Option<String>,
}
