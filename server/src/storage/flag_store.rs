//! The [`FlagStore`] port over the database: environments, segments, flags and SDK keys.
//! Each write goes through [`SqlxStore::commit_flag_change`], so it lands with its audit
//! event and is announced to the evaluation cache.

use async_trait::async_trait;
use std::collections::BTreeMap;
use varai_core::accounts::Actor;
use varai_core::accounts::{StoreError, StoreResult};
use varai_core::flags::{Environment, FlagRecord, ImportReport, SdkKey, SegmentRecord};
use varai_core::flags::{FlagChange, FlagConfig, FlagStore};
use varai_domain::AuditAction;
use varai_domain::flags::{FlagSpec, Segment, Targeting};

use super::audit::NewEvent;
use super::flags::audit_state;
use super::segments::stale;
use super::{SqlxStore, backend_error};

#[async_trait]
impl FlagStore for SqlxStore {
    async fn list_environments(&self) -> StoreResult<Vec<Environment>> {
        self.environments().await
    }

    async fn create_environment(
        &self,
        actor: &Actor,
        key: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<Environment> {
        self.insert_environment(actor, key, name, now).await
    }

    async fn rename_environment(
        &self,
        actor: &Actor,
        key: &str,
        name: &str,
        version: i64,
        now: i64,
    ) -> StoreResult<Environment> {
        self.rename_environment_row(actor, key, name, version, now)
            .await
    }

    async fn delete_environment(&self, actor: &Actor, key: &str, now: i64) -> StoreResult<()> {
        self.delete_environment_row(actor, key, now).await
    }

    async fn list_segments(&self) -> StoreResult<Vec<SegmentRecord>> {
        self.segments().await
    }

    async fn create_segment(
        &self,
        actor: &Actor,
        segment: &Segment,
        now: i64,
    ) -> StoreResult<SegmentRecord> {
        self.insert_segment(actor, segment, now).await
    }

    async fn update_segment(
        &self,
        actor: &Actor,
        key: &str,
        segment: &Segment,
        version: i64,
        now: i64,
    ) -> StoreResult<SegmentRecord> {
        self.replace_segment(actor, key, segment, version, now)
            .await
    }

    async fn delete_segment(&self, actor: &Actor, key: &str, now: i64) -> StoreResult<()> {
        self.delete_segment_row(actor, key, now).await
    }

    async fn list_flags(&self) -> StoreResult<Vec<FlagRecord>> {
        self.flags_where(None).await
    }

    async fn get_flag(&self, key: &str) -> StoreResult<Option<FlagRecord>> {
        self.flag(key).await
    }

    async fn create_flag(
        &self,
        actor: &Actor,
        spec: &FlagSpec,
        environments: &BTreeMap<String, Targeting>,
        now: i64,
    ) -> StoreResult<FlagRecord> {
        let ids = self.environment_ids().await?;
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        let id = self.insert_flag(&mut tx, actor, spec, now).await?;
        self.write_targeting(&mut tx, id, environments, &ids)
            .await?;
        let record = FlagRecord {
            id,
            spec: spec.clone(),
            environments: environments.clone(),
            archived_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
            updated_by: actor.name.clone(),
        };
        let event = NewEvent {
            actor,
            action: AuditAction::FlagCreate,
            target: format!("flag:{}", spec.key),
            before: None,
            after: audit_state(&record),
            at: now,
        };
        self.commit_flag_change(tx, event).await?;
        Ok(record)
    }

    async fn update_flag(
        &self,
        actor: &Actor,
        key: &str,
        change: FlagChange,
        version: Option<i64>,
        now: i64,
    ) -> StoreResult<FlagRecord> {
        let before = self.flag(key).await?.ok_or(StoreError::NotFound("flag"))?;
        if let Some(v) = version
            && v != before.version
        {
            return Err(stale("flag", before.version, &before.updated_by));
        }
        let mut after = FlagRecord {
            version: before.version + 1,
            updated_at: now,
            updated_by: actor.name.clone(),
            ..before.clone()
        };
        let (action, written) = match change {
            FlagChange::Edit { spec, environments } => {
                after.spec = spec;
                after.environments.extend(environments.clone());
                (AuditAction::FlagUpdate, environments)
            }
            FlagChange::Toggle {
                environment,
                enabled,
            } => {
                let mut t = before.targeting(&environment);
                t.enabled = enabled;
                after.environments.insert(environment.clone(), t.clone());
                (AuditAction::FlagToggle, BTreeMap::from([(environment, t)]))
            }
            FlagChange::Archive(archived) => {
                after.archived_at = archived.then_some(now);
                let action = if archived {
                    AuditAction::FlagArchive
                } else {
                    AuditAction::FlagRestore
                };
                (action, BTreeMap::new())
            }
        };
        let ids = self.environment_ids().await?;
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        if !self
            .replace_flag_row(&mut tx, &after, before.version)
            .await?
        {
            let now_at = self.flag(key).await?.ok_or(StoreError::NotFound("flag"))?;
            return Err(stale("flag", now_at.version, &now_at.updated_by));
        }
        self.write_targeting(&mut tx, after.id, &written, &ids)
            .await?;
        let event = NewEvent {
            actor,
            action,
            target: format!("flag:{key}"),
            before: audit_state(&before),
            after: audit_state(&after),
            at: now,
        };
        self.commit_flag_change(tx, event).await?;
        Ok(after)
    }

    async fn import_flags(
        &self,
        actor: &Actor,
        environment: &str,
        flags: Vec<(FlagSpec, Targeting)>,
        segments: Vec<Segment>,
        now: i64,
    ) -> StoreResult<ImportReport> {
        self.import_rows(actor, environment, flags, segments, now)
            .await
    }

    async fn list_sdk_keys(&self) -> StoreResult<Vec<SdkKey>> {
        self.sdk_keys().await
    }

    async fn create_sdk_key(
        &self,
        actor: &Actor,
        environment: &str,
        name: &str,
        prefix: &str,
        secret_hash: &str,
        now: i64,
    ) -> StoreResult<SdkKey> {
        self.insert_sdk_key(actor, environment, name, prefix, secret_hash, now)
            .await
    }

    async fn revoke_sdk_key(&self, actor: &Actor, id: i64, now: i64) -> StoreResult<SdkKey> {
        self.revoke_sdk_key_row(actor, id, now).await
    }

    async fn load_flag_config(&self) -> StoreResult<FlagConfig> {
        Ok(FlagConfig {
            environments: self.environments().await?,
            flags: self.flags_where(None).await?,
            segments: self
                .segments()
                .await?
                .into_iter()
                .map(|s| s.segment)
                .collect(),
            sdk_keys: self.live_sdk_key_hashes().await?,
        })
    }
}
