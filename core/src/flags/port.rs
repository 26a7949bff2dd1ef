//! The storage ports for flags, environments, segments and SDK keys. Every change is written
//! with its audit event in one transaction, and announces that the evaluation configuration
//! changed so the OFREP cache reloads.

use async_trait::async_trait;
use std::collections::BTreeMap;
use varai_domain::flags::{FlagSpec, Segment, Targeting};

use super::{Environment, FlagRecord, ImportReport, SdkKey, SegmentRecord};
use crate::accounts::Principal;
use crate::changes::Protection;
use crate::error::Result;

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

/// A new SDK key: only the hash of its secret is kept.
#[derive(Debug, Clone)]
pub struct NewSdkKey {
    pub environment: String,
    pub name: String,
    /// The first characters of the secret, to tell keys apart.
    pub prefix: String,
    pub secret_hash: String,
}

/// Flags and their targeting, with the ports for what flags refer to (environments,
/// segments) and what reads them (SDK keys), which the same store serves.
#[async_trait]
pub trait FlagStore: EnvironmentStore + SegmentStore + SdkKeyStore + FlagImporter {
    /// Every flag, archived ones included, ordered by key.
    async fn list_flags(&self) -> Result<Vec<FlagRecord>>;
    async fn get_flag(&self, key: &str) -> Result<Option<FlagRecord>>;
    async fn create_flag(
        &self,
        who: &Principal,
        spec: &FlagSpec,
        environments: &BTreeMap<String, Targeting>,
        now: i64,
    ) -> Result<FlagRecord>;
    /// Applies `change`; when `version` is given it must be the current one.
    async fn update_flag(
        &self,
        who: &Principal,
        key: &str,
        change: FlagChange,
        version: Option<i64>,
        now: i64,
    ) -> Result<FlagRecord>;
    /// The whole evaluation configuration, for the in-memory cache.
    async fn load_flag_config(&self) -> Result<FlagConfig>;
}

#[async_trait]
pub trait EnvironmentStore: Send + Sync + 'static {
    async fn list_environments(&self) -> Result<Vec<Environment>>;
    async fn create_environment(
        &self,
        who: &Principal,
        key: &str,
        name: &str,
        now: i64,
    ) -> Result<Environment>;
    /// Renames; `version` must be the current one.
    async fn rename_environment(
        &self,
        who: &Principal,
        key: &str,
        to: (&str, i64),
        now: i64,
    ) -> Result<Environment>;
    /// Sets the protection policy; `version` must be the current one.
    async fn set_protection(
        &self,
        who: &Principal,
        key: &str,
        to: (Protection, i64),
        now: i64,
    ) -> Result<Environment>;
    /// Deletes the environment with its (unused) targeting rows and revoked keys.
    async fn delete_environment(&self, who: &Principal, key: &str, now: i64) -> Result<()>;
}

#[async_trait]
pub trait SegmentStore: Send + Sync + 'static {
    async fn list_segments(&self) -> Result<Vec<SegmentRecord>>;
    async fn create_segment(
        &self,
        who: &Principal,
        segment: &Segment,
        now: i64,
    ) -> Result<SegmentRecord>;
    /// Replaces the segment (its key may not change); `version` must be the current one.
    async fn update_segment(
        &self,
        who: &Principal,
        segment: &Segment,
        version: i64,
        now: i64,
    ) -> Result<SegmentRecord>;
    async fn delete_segment(&self, who: &Principal, key: &str, now: i64) -> Result<()>;
}

#[async_trait]
pub trait SdkKeyStore: Send + Sync + 'static {
    async fn list_sdk_keys(&self) -> Result<Vec<SdkKey>>;
    async fn create_sdk_key(&self, who: &Principal, new: NewSdkKey, now: i64) -> Result<SdkKey>;
    async fn revoke_sdk_key(&self, who: &Principal, id: i64, now: i64) -> Result<SdkKey>;
}

#[async_trait]
pub trait FlagImporter: Send + Sync + 'static {
    /// Writes imported flags' definitions and their targeting in `environment`, and the
    /// segments they use, in one transaction.
    async fn import_flags(
        &self,
        who: &Principal,
        into: &str,
        flags: Vec<(FlagSpec, Targeting)>,
        segments: Vec<Segment>,
        now: i64,
    ) -> Result<ImportReport>;
}
