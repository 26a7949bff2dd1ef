//! Snapshots (the manifests and flag states an app had before a deployment) and the rollbacks
//! that restored them, plus audit records for changes kept outside the database (the
//! sandbox's profiles).

use serde_json::Value;
use sqlx::FromRow;
use varai_core::accounts::Actor;
use varai_core::deploy::{ObjectResult, RollbackRecord, SnapshotObject, SnapshotRecord};
use varai_domain::AuditAction;
use varai_domain::timeline::EventLevel;

use super::audit::{NewEvent, commit_with_event};
use super::timeline::{Timeline, add_event};
use super::{Changed, SqlxStore, backend_error};
use crate::error::{Error, Result};

#[derive(FromRow)]
struct SnapshotRow {
    id: i64,
    app: String,
    environment: String,
    deployment_id: Option<i64>,
    version: String,
    schema_version: Option<String>,
    objects: String,
    flags: String,
    created_at: i64,
    created_by: String,
}

const SNAPSHOT_SELECT: &str = "SELECT s.id, a.name AS app, e.key AS environment, s.deployment_id, \
     s.version, s.schema_version, s.objects, s.flags, s.created_at, s.created_by \
     FROM snapshots s JOIN apps a ON a.id = s.app_id JOIN environments e ON e.id = a.environment_id";

/// A snapshot with the manifests themselves.
pub struct StoredSnapshot {
    pub record: SnapshotRecord,
    pub objects: Vec<Value>,
}

/// A line about an object, for people: its image or selector.
pub fn summarise(obj: &Value) -> SnapshotObject {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("?");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let summary = match kind {
        "Deployment" => {
            let image = obj
                .pointer("/spec/template/spec/containers/0/image")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let replicas = obj
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            format!("{replicas} × {image}")
        }
        "Service" => {
            let selector = obj
                .pointer("/spec/selector")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            format!("selects {selector}")
        }
        _ => String::new(),
    };
    SnapshotObject {
        kind: kind.to_owned(),
        name: name.to_owned(),
        summary,
    }
}

fn flag_lines(flags: &str) -> Vec<String> {
    serde_json::from_str::<Vec<(String, bool)>>(flags)
        .unwrap_or_default()
        .into_iter()
        .map(|(key, on)| format!("{key}: {}", if on { "on" } else { "off" }))
        .collect()
}

impl TryFrom<SnapshotRow> for StoredSnapshot {
    type Error = Error;

    fn try_from(r: SnapshotRow) -> Result<Self> {
        let objects: Vec<Value> = serde_json::from_str(&r.objects).map_err(|e| Error::Storage {
            op: "read a snapshot",
            source: Box::new(e),
        })?;
        Ok(StoredSnapshot {
            record: SnapshotRecord {
                id: r.id,
                app: r.app,
                environment: r.environment,
                deployment_id: r.deployment_id,
                version: r.version,
                schema_version: r.schema_version,
                objects: objects.iter().map(summarise).collect(),
                flags: flag_lines(&r.flags),
                created_at: r.created_at,
                created_by: r.created_by,
            },
            objects,
        })
    }
}

/// A rollback about to be recorded.
pub struct NewRollback<'a> {
    pub app_id: i64,
    pub target: String,
    pub snapshot_id: i64,
    pub deployment_id: Option<i64>,
    pub reason: &'a str,
    pub results: &'a [ObjectResult],
    pub duration_ms: i64,
}

impl SqlxStore {
    /// An app's snapshots, newest first (at most 50).
    pub(crate) async fn snapshots_of(&self, app_id: i64) -> Result<Vec<StoredSnapshot>> {
        let rows: Vec<SnapshotRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SNAPSHOT_SELECT} WHERE s.app_id = $1 ORDER BY s.id DESC LIMIT 50"
        )))
        .bind(app_id)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list snapshots"))?;
        rows.into_iter().map(StoredSnapshot::try_from).collect()
    }

    /// Records a rollback, ending the deployment it undid, with its timeline event and audit
    /// record.
    pub(crate) async fn insert_rollback(
        &self,
        actor: &Actor,
        r: NewRollback<'_>,
        now: i64,
    ) -> Result<RollbackRecord> {
        let results = serde_json::to_string(r.results).unwrap_or_else(|_| "[]".into());
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rollbacks (snapshot_id, app_id, deployment_id, at, actor, reason, results, duration_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(r.snapshot_id)
        .bind(r.app_id)
        .bind(r.deployment_id)
        .bind(now)
        .bind(&actor.name)
        .bind(r.reason)
        .bind(&results)
        .bind(r.duration_ms)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_error("record a rollback"))?;
        if let Some(deployment) = r.deployment_id {
            SqlxStore::finish_rolled_back(&mut tx, deployment, now).await?;
            let failed = r.results.iter().filter(|o| !o.ok).count();
            let message = format!(
                "Rolled back to snapshot #{} by {} in {} ms ({}): {}",
                r.snapshot_id,
                actor.name,
                r.duration_ms,
                if failed == 0 {
                    "every object restored".to_owned()
                } else {
                    format!("{failed} object(s) failed")
                },
                r.reason
            );
            let level = if failed == 0 {
                EventLevel::Warning
            } else {
                EventLevel::Error
            };
            add_event(
                &mut tx,
                Timeline::Deployment(deployment),
                level,
                &actor.name,
                &message,
                now,
            )
            .await?;
        }
        let event = NewEvent {
            actor,
            action: AuditAction::DeploymentRollback,
            target: r.target,
            before: None,
            after: Some(
                serde_json::json!({"snapshot": r.snapshot_id, "reason": r.reason, "results": r.results})
                    .to_string(),
            ),
            at: now,
        };
        commit_with_event(tx, event).await?;
        if let Some(deployment) = r.deployment_id {
            self.announce(Changed::Deployment(deployment));
        }
        Ok(RollbackRecord {
            id,
            snapshot_id: r.snapshot_id,
            deployment_id: r.deployment_id,
            at: now,
            actor: actor.name.clone(),
            reason: r.reason.to_owned(),
            results: r.results.to_vec(),
            duration_ms: r.duration_ms,
        })
    }

    /// An audit record for a change kept outside the database.
    pub(crate) async fn audit_only(
        &self,
        actor: &Actor,
        action: AuditAction,
        target: String,
        before: Option<String>,
        after: Option<String>,
        now: i64,
    ) -> Result<()> {
        let tx = self.begin().await?;
        let event = NewEvent {
            actor,
            action,
            target,
            before,
            after,
            at: now,
        };
        commit_with_event(tx, event).await
    }
}

impl SqlxStore {
    /// The flag states a snapshot holds, as (key, on).
    pub(crate) async fn snapshot_flags(&self, id: i64) -> Result<Vec<(String, bool)>> {
        let flags: Option<String> = sqlx::query_scalar("SELECT flags FROM snapshots WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(backend_error("read a snapshot's flags"))?;
        Ok(flags
            .and_then(|f| serde_json::from_str(&f).ok())
            .unwrap_or_default())
    }
}
