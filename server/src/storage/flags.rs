//! Flags in the database: a JSON definition per flag and a JSON targeting per flag and
//! environment, versioned together.

use async_trait::async_trait;
use sqlx::{Any, FromRow, Transaction};
use std::collections::{BTreeMap, HashMap};
use varai_core::accounts::{Actor, Principal};
use varai_core::changes::Approval;
use varai_core::error::Result as AppResult;
use varai_core::flags::{FlagChange, FlagConfig, FlagRecord, FlagStore};
use varai_domain::AuditAction;
use varai_domain::flags::{FlagSpec, Targeting};

use super::audit::{NewEvent, commit_with_event, state_json};
use super::changes::claim_change_request;
use super::segments::{parse_json, stale, to_json};
use super::{Backend, SqlxStore, backend_error, unique_or_backend};
use crate::error::{Error, Result};

#[derive(FromRow)]
struct FlagRow {
    id: i64,
    spec: String,
    archived_at: Option<i64>,
    version: i64,
    created_at: i64,
    updated_at: i64,
    updated_by: String,
}

#[derive(FromRow)]
struct TargetingRow {
    flag_id: i64,
    environment: String,
    targeting: String,
}

/// The channel PostgreSQL replicas hear configuration changes on.
pub const CHANGE_CHANNEL: &str = "varai_flag_config";

/// What the audit log keeps of a flag: its definition and targeting, without bookkeeping.
pub(super) fn audit_state(f: &FlagRecord) -> Option<String> {
    state_json(&serde_json::json!({
        "spec": f.spec,
        "environments": f.environments,
        "archived": f.archived_at.is_some(),
    }))
}

impl SqlxStore {
    /// Commits a change to the evaluation configuration with its audit event, and announces
    /// it: to this process at once, and to other replicas through PostgreSQL's NOTIFY.
    pub(crate) async fn commit_flag_change(
        &self,
        mut tx: Transaction<'_, Any>,
        event: NewEvent<'_>,
    ) -> Result<()> {
        if self.backend() == Backend::Postgres {
            sqlx::query(sqlx::AssertSqlSafe(format!("NOTIFY {CHANGE_CHANNEL}")))
                .execute(&mut *tx)
                .await
                .map_err(backend_error("announce a change"))?;
        }
        commit_with_event(tx, event).await?;
        self.config_changed().notify_one();
        Ok(())
    }

    pub(super) async fn flags_where(&self, key: Option<&str>) -> Result<Vec<FlagRecord>> {
        let rows: Vec<FlagRow> = sqlx::query_as(
            "SELECT id, spec, archived_at, version, created_at, updated_at, updated_by FROM flags \
             WHERE ($1 IS NULL OR key = $1) ORDER BY key",
        )
        .bind(key)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("read flags"))?;
        let targeting: Vec<TargetingRow> = sqlx::query_as(
            "SELECT t.flag_id, e.key AS environment, t.targeting FROM flag_targeting t \
             JOIN environments e ON e.id = t.environment_id \
             JOIN flags f ON f.id = t.flag_id WHERE ($1 IS NULL OR f.key = $1)",
        )
        .bind(key)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("read flag targeting"))?;
        let mut by_flag: HashMap<i64, BTreeMap<String, Targeting>> = HashMap::new();
        for t in targeting {
            by_flag.entry(t.flag_id).or_default().insert(
                t.environment,
                parse_json("read flag targeting", &t.targeting)?,
            );
        }
        rows.into_iter()
            .map(|r| {
                Ok(FlagRecord {
                    id: r.id,
                    spec: parse_json("read a flag", &r.spec)?,
                    environments: by_flag.remove(&r.id).unwrap_or_default(),
                    archived_at: r.archived_at,
                    version: r.version,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                    updated_by: r.updated_by,
                })
            })
            .collect()
    }

    pub(super) async fn flag(&self, key: &str) -> Result<Option<FlagRecord>> {
        Ok(self.flags_where(Some(key)).await?.into_iter().next())
    }

    pub(super) async fn write_targeting(
        &self,
        tx: &mut Transaction<'_, Any>,
        flag_id: i64,
        environments: &BTreeMap<String, Targeting>,
        ids: &HashMap<String, i64>,
    ) -> Result<()> {
        for (env, t) in environments {
            let env_id = *ids.get(env).ok_or(Error::NotFound("environment"))?;
            sqlx::query("DELETE FROM flag_targeting WHERE flag_id = $1 AND environment_id = $2")
                .bind(flag_id)
                .bind(env_id)
                .execute(&mut **tx)
                .await
                .map_err(backend_error("write flag targeting"))?;
            sqlx::query(
                "INSERT INTO flag_targeting (flag_id, environment_id, targeting) VALUES ($1, $2, $3)",
            )
            .bind(flag_id)
            .bind(env_id)
            .bind(to_json(t)?)
            .execute(&mut **tx)
            .await
            .map_err(backend_error("write flag targeting"))?;
        }
        Ok(())
    }

    pub(super) async fn environment_ids(&self) -> Result<HashMap<String, i64>> {
        Ok(self
            .environments()
            .await?
            .into_iter()
            .map(|e| (e.key, e.id))
            .collect())
    }

    pub(super) async fn insert_flag(
        &self,
        tx: &mut Transaction<'_, Any>,
        actor: &Actor,
        spec: &FlagSpec,
        now: i64,
    ) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO flags (key, spec, version, created_at, updated_at, updated_by) \
             VALUES ($1, $2, 1, $3, $3, $4) RETURNING id",
        )
        .bind(&spec.key)
        .bind(to_json(spec)?)
        .bind(now)
        .bind(&actor.name)
        .fetch_one(&mut **tx)
        .await
        .map_err(unique_or_backend(
            "create a flag",
            "key",
            format!("a flag '{}' already exists", spec.key),
        ))
    }

    /// Writes the flag row of `after` if its version is still `expected`.
    pub(super) async fn replace_flag_row(
        &self,
        tx: &mut Transaction<'_, Any>,
        after: &FlagRecord,
        expected: i64,
    ) -> Result<bool> {
        let changed = sqlx::query(
            "UPDATE flags SET spec = $1, archived_at = $2, version = $3, updated_at = $4, updated_by = $5 \
             WHERE id = $6 AND version = $7",
        )
        .bind(to_json(&after.spec)?)
        .bind(after.archived_at)
        .bind(after.version)
        .bind(after.updated_at)
        .bind(&after.updated_by)
        .bind(after.id)
        .bind(expected)
        .execute(&mut **tx)
        .await
        .map_err(backend_error("update a flag"))?
        .rows_affected();
        Ok(changed == 1)
    }
}

#[async_trait]
impl FlagStore for SqlxStore {
    async fn list_flags(&self) -> AppResult<Vec<FlagRecord>> {
        Ok(self.flags_where(None).await?)
    }

    async fn get_flag(&self, key: &str) -> AppResult<Option<FlagRecord>> {
        Ok(self.flag(key).await?)
    }

    async fn create_flag(
        &self,
        who: &Principal,
        spec: &FlagSpec,
        environments: &BTreeMap<String, Targeting>,
        now: i64,
    ) -> AppResult<FlagRecord> {
        let actor = &who.actor;
        let ids = self.environment_ids().await?;
        let mut tx = self.begin().await?;
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
        who: &Principal,
        key: &str,
        change: FlagChange,
        version: Option<i64>,
        now: i64,
    ) -> AppResult<FlagRecord> {
        Ok(self
            .change_flag(who, key, (change, version), None, now)
            .await?)
    }

    async fn load_flag_config(&self) -> AppResult<FlagConfig> {
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

impl SqlxStore {
    /// Applies `change` (at `version`, when given) with its audit event; under `approval`, the
    /// change request is marked applied in the same transaction.
    pub(crate) async fn change_flag(
        &self,
        who: &Principal,
        key: &str,
        (change, version): (FlagChange, Option<i64>),
        approval: Option<&Approval>,
        now: i64,
    ) -> Result<FlagRecord> {
        let actor = &who.actor;
        let before = self.flag(key).await?.ok_or(Error::NotFound("flag"))?;
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
        let mut tx = self.begin().await?;
        if !self
            .replace_flag_row(&mut tx, &after, before.version)
            .await?
        {
            let now_at = self.flag(key).await?.ok_or(Error::NotFound("flag"))?;
            return Err(stale("flag", now_at.version, &now_at.updated_by));
        }
        self.write_targeting(&mut tx, after.id, &written, &ids)
            .await?;
        if let Some(approval) = approval {
            let outcome = format!("flag {key} saved as version {}", after.version);
            claim_change_request(&mut tx, approval, actor, &outcome, now).await?;
        }
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
}
