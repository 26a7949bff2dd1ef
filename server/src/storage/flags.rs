//! Flags in the database: a JSON definition per flag and a JSON targeting per flag and
//! environment, versioned together; and the [`FlagStore`] port over all flag state.

use async_trait::async_trait;
use sqlx::{Any, FromRow, Transaction};
use std::collections::{BTreeMap, HashMap};
use varai_app::models::{Environment, FlagRecord, ImportReport, SdkKey, SegmentRecord};
use varai_app::ssr::Actor;
use varai_app::ssr::flag_ports::{FlagChange, FlagConfig, FlagStore};
use varai_app::ssr::ports::{StoreError, StoreResult};
use varai_domain::AuditAction;
use varai_domain::flags::{FlagSpec, Segment, Targeting};

use super::audit::{NewEvent, commit_with_event, state_json};
use super::segments::{parse_json, stale, to_json};
use super::{Backend, SqlxStore, backend_error, unique_or_backend};

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
fn audit_state(f: &FlagRecord) -> Option<String> {
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
    ) -> StoreResult<()> {
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

    async fn flags_where(&self, key: Option<&str>) -> StoreResult<Vec<FlagRecord>> {
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

    async fn flag(&self, key: &str) -> StoreResult<Option<FlagRecord>> {
        Ok(self.flags_where(Some(key)).await?.into_iter().next())
    }

    async fn write_targeting(
        &self,
        tx: &mut Transaction<'_, Any>,
        flag_id: i64,
        environments: &BTreeMap<String, Targeting>,
        ids: &HashMap<String, i64>,
    ) -> StoreResult<()> {
        for (env, t) in environments {
            let env_id = *ids.get(env).ok_or(StoreError::NotFound("environment"))?;
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

    async fn environment_ids(&self) -> StoreResult<HashMap<String, i64>> {
        Ok(self
            .environments()
            .await?
            .into_iter()
            .map(|e| (e.key, e.id))
            .collect())
    }

    async fn insert_flag(
        &self,
        tx: &mut Transaction<'_, Any>,
        actor: &Actor,
        spec: &FlagSpec,
        now: i64,
    ) -> StoreResult<i64> {
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
    async fn replace_flag_row(
        &self,
        tx: &mut Transaction<'_, Any>,
        after: &FlagRecord,
        expected: i64,
    ) -> StoreResult<bool> {
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
        let ids = self.environment_ids().await?;
        let existing: HashMap<String, FlagRecord> = self
            .flags_where(None)
            .await?
            .into_iter()
            .map(|f| (f.spec.key.clone(), f))
            .collect();
        let existing_segments = self.segments().await?;
        let mut report = ImportReport {
            environment: environment.to_owned(),
            ..ImportReport::default()
        };
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        for s in &segments {
            let json = to_json(s)?;
            if existing_segments.iter().any(|e| e.segment.key == s.key) {
                sqlx::query(
                    "UPDATE segments SET definition = $1, version = version + 1, updated_at = $2, \
                     updated_by = $3 WHERE key = $4",
                )
                .bind(&json)
                .bind(now)
                .bind(&actor.name)
                .bind(&s.key)
                .execute(&mut *tx)
                .await
                .map_err(backend_error("import a segment"))?;
            } else {
                sqlx::query(
                    "INSERT INTO segments (key, definition, version, created_at, updated_at, updated_by) \
                     VALUES ($1, $2, 1, $3, $3, $4)",
                )
                .bind(&s.key)
                .bind(&json)
                .bind(now)
                .bind(&actor.name)
                .execute(&mut *tx)
                .await
                .map_err(backend_error("import a segment"))?;
            }
            report.segments.push(s.key.clone());
        }
        for (spec, targeting) in flags {
            let written = BTreeMap::from([(environment.to_owned(), targeting)]);
            let (id, before, version) = match existing.get(&spec.key) {
                Some(f) => {
                    let mut after = f.clone();
                    after.spec = spec.clone();
                    after.version += 1;
                    after.updated_at = now;
                    after.updated_by = actor.name.clone();
                    if !self.replace_flag_row(&mut tx, &after, f.version).await? {
                        return Err(stale("flag", f.version, &f.updated_by));
                    }
                    report.updated.push(spec.key.clone());
                    (f.id, Some(f), after.version)
                }
                None => {
                    let id = self.insert_flag(&mut tx, actor, &spec, now).await?;
                    report.created.push(spec.key.clone());
                    (id, None, 1)
                }
            };
            self.write_targeting(&mut tx, id, &written, &ids).await?;
            let mut environments = before.map(|b| b.environments.clone()).unwrap_or_default();
            environments.extend(written);
            let after = FlagRecord {
                id,
                spec,
                environments,
                archived_at: before.and_then(|b| b.archived_at),
                version,
                created_at: before.map_or(now, |b| b.created_at),
                updated_at: now,
                updated_by: actor.name.clone(),
            };
            super::audit::write_event(
                &mut tx,
                NewEvent {
                    actor,
                    action: AuditAction::FlagImport,
                    target: format!("flag:{}", after.spec.key),
                    before: before.and_then(audit_state),
                    after: audit_state(&after),
                    at: now,
                },
            )
            .await?;
        }
        let summary = NewEvent {
            actor,
            action: AuditAction::FlagImport,
            target: format!("environment:{environment}"),
            before: None,
            after: state_json(&report),
            at: now,
        };
        self.commit_flag_change(tx, summary).await?;
        Ok(report)
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
