//! The storage port for environments, segments, flags and SDK keys. Every change is written
//! with its audit event in one transaction, and announces that the evaluation configuration
//! changed so the OFREP cache reloads.

use async_trait::async_trait;
use std::collections::BTreeMap;
use varai_domain::flags::{FlagSpec, Segment, Targeting};

use super::{Environment, FlagRecord, ImportReport, SdkKey, SegmentRecord};
use crate::accounts::{Actor, StoreResult};

/// One change to an existing flag.
#[derive(Debug, Clone)]
pub enum FlagChange {
    /// New definition and targeting (environments not listed keep theirs).
    Edit {
        spec: FlagSpec,
        environments: BTreeMap<String, Targeting>,
    },
    /// Switch the flag on or off in one environment.
    Toggle {
        environment: String,
        enabled: bool,
    },
    Archive(bool),
}

/// Everything the evaluation cache needs, read in one go.
#[derive(Debug, Clone, Default)]
pub struct FlagConfig {
    pub environments: Vec<Environment>,
    pub flags: Vec<FlagRecord>,
    pub segments: Vec<Segment>,
    /// (secret hash, environment key) of every SDK key not revoked.
    pub sdk_keys: Vec<(String, String)>,
}

#[async_trait]
pub trait FlagStore: Send + Sync + 'static {
    async fn list_environments(&self) -> StoreResult<Vec<Environment>>;
    async fn create_environment(
        &self,
        actor: &Actor,
        key: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<Environment>;
    /// Renames; `version` must be the current one.
    async fn rename_environment(
        &self,
        actor: &Actor,
        key: &str,
        name: &str,
        version: i64,
        now: i64,
    ) -> StoreResult<Environment>;
    /// Deletes the environment with its (unused) targeting rows and revoked keys.
    async fn delete_environment(&self, actor: &Actor, key: &str, now: i64) -> StoreResult<()>;

    async fn list_segments(&self) -> StoreResult<Vec<SegmentRecord>>;
    async fn create_segment(
        &self,
        actor: &Actor,
        segment: &Segment,
        now: i64,
    ) -> StoreResult<SegmentRecord>;
    /// Replaces the segment `key` (its key may not change); `version` must be the current one.
    async fn update_segment(
        &self,
        actor: &Actor,
        key: &str,
        segment: &Segment,
        version: i64,
        now: i64,
    ) -> StoreResult<SegmentRecord>;
    async fn delete_segment(&self, actor: &Actor, key: &str, now: i64) -> StoreResult<()>;

    /// Every flag, archived ones included, ordered by key.
    async fn list_flags(&self) -> StoreResult<Vec<FlagRecord>>;
    async fn get_flag(&self, key: &str) -> StoreResult<Option<FlagRecord>>;
    async fn create_flag(
        &self,
        actor: &Actor,
        spec: &FlagSpec,
        environments: &BTreeMap<String, Targeting>,
        now: i64,
    ) -> StoreResult<FlagRecord>;
    /// Applies `change`; when `version` is given it must be the current one.
    async fn update_flag(
        &self,
        actor: &Actor,
        key: &str,
        change: FlagChange,
        version: Option<i64>,
        now: i64,
    ) -> StoreResult<FlagRecord>;
    /// Writes imported flags' definitions and their targeting in `environment`, and the
    /// segments they use, in one transaction.
    async fn import_flags(
        &self,
        actor: &Actor,
        environment: &str,
        flags: Vec<(FlagSpec, Targeting)>,
        segments: Vec<Segment>,
        now: i64,
    ) -> StoreResult<ImportReport>;

    async fn list_sdk_keys(&self) -> StoreResult<Vec<SdkKey>>;
    async fn create_sdk_key(
        &self,
        actor: &Actor,
        environment: &str,
        name: &str,
        prefix: &str,
        secret_hash: &str,
        now: i64,
    ) -> StoreResult<SdkKey>;
    async fn revoke_sdk_key(&self, actor: &Actor, id: i64, now: i64) -> StoreResult<SdkKey>;

    /// The whole evaluation configuration, for the in-memory cache.
    async fn load_flag_config(&self) -> StoreResult<FlagConfig>;
}
