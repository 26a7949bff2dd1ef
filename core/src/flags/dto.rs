//! Flags, segments, environments and SDK keys as the UI and the REST API exchange them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use varai_domain::flags::{FlagSpec, Segment, Targeting};

use crate::changes::Protection;

/// A place flags are configured and applications evaluate them: development, staging, production…
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Environment {
    pub id: i64,
    /// Stable identifier used in URLs and by SDK keys; never changes.
    pub key: String,
    /// What people call it; an admin can rename it.
    pub name: String,
    pub position: i64,
    pub version: i64,
    pub created_at: i64,
    /// Who may change it directly, and who approves everyone else's change requests.
    pub protection: Protection,
}

/// The environment a page shows: the one asked for if it exists, else production, else the
/// first; `None` when there is no environment at all.
pub fn pick_environment(environments: &[Environment], asked: Option<&str>) -> Option<String> {
    asked
        .filter(|a| environments.iter().any(|e| e.key == *a))
        .map(str::to_owned)
        .or_else(|| {
            environments
                .iter()
                .find(|e| e.key == "production")
                .or(environments.first())
                .map(|e| e.key.clone())
        })
}

/// A segment with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SegmentRecord {
    pub id: i64,
    #[serde(flatten)]
    pub segment: Segment,
    /// Increases with every change; send it back when saving to detect concurrent edits.
    pub version: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

/// A flag: its definition, and its targeting in every environment (keyed by environment key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FlagRecord {
    pub id: i64,
    #[serde(flatten)]
    pub spec: FlagSpec,
    pub environments: BTreeMap<String, Targeting>,
    pub archived_at: Option<i64>,
    /// Increases with every change; send it back when saving to detect concurrent edits.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

impl FlagRecord {
    /// The targeting in `env`, or the initial (off) one when never configured there.
    pub fn targeting(&self, env: &str) -> Targeting {
        self.environments
            .get(env)
            .cloned()
            .unwrap_or_else(|| Targeting::initial(&self.spec))
    }
}

/// What uses an environment, segment or flag, so a removal can say what stands in the way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Usage {
    /// `flag key` or `flag key (environment)` entries.
    pub flags: Vec<String>,
    pub sdk_keys: Vec<String>,
}

impl Usage {
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty() && self.sdk_keys.is_empty()
    }
}

/// An SDK key's description; the secret is shown once, when created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SdkKey {
    pub id: i64,
    /// The environment key whose flags this key evaluates.
    pub environment: String,
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// An SDK key just created: the only time its secret is available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreatedSdkKey {
    pub key: SdkKey,
    pub secret: String,
}

/// What an Unleash import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub environment: String,
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub segments: Vec<String>,
    /// Flags not imported, with the reason.
    pub skipped: Vec<String>,
    /// What could not be represented exactly, and how it evaluates instead.
    pub notes: Vec<String>,
    /// What evaluates exactly as in Unleash but probably not as the document's authors meant
    /// (a toggle Unleash's engine keeps off for everyone, a feature named twice).
    #[serde(default)]
    pub warnings: Vec<String>,
}
