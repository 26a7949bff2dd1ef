//! SDK keys in the database: only a hash of each secret is kept; every change is written with
//! its audit event and announced to the evaluation cache.

use async_trait::async_trait;
use sqlx::FromRow;
use varai_core::accounts::Principal;
use varai_core::error::Result as AppResult;
use varai_core::flags::{NewSdkKey, SdkKey, SdkKeyStore};
use varai_domain::AuditAction;

use super::audit::{NewEvent, state_json};
use super::{SqlxStore, backend_error};
use crate::error::{Error, Result};

#[derive(FromRow)]
struct SdkKeyRow {
    id: i64,
    environment: String,
    name: String,
    prefix: String,
    created_by: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<SdkKeyRow> for SdkKey {
    fn from(r: SdkKeyRow) -> Self {
        SdkKey {
            id: r.id,
            environment: r.environment,
            name: r.name,
            prefix: r.prefix,
            created_by: r.created_by,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

const SDK_KEY_SELECT: &str = "SELECT k.id, e.key AS environment, k.name, k.prefix, k.created_by, \
     k.created_at, k.revoked_at FROM sdk_keys k JOIN environments e ON e.id = k.environment_id";

impl SqlxStore {
    async fn sdk_keys(&self) -> Result<Vec<SdkKey>> {
        let sql = format!("{SDK_KEY_SELECT} ORDER BY k.id DESC");
        let rows: Vec<SdkKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(backend_error("list SDK keys"))?;
        Ok(rows.into_iter().map(SdkKey::from).collect())
    }

    /// (secret hash, environment key) of every SDK key not revoked.
    pub(super) async fn live_sdk_key_hashes(&self) -> Result<Vec<(String, String)>> {
        sqlx::query_as(
            "SELECT k.secret_hash, e.key FROM sdk_keys k JOIN environments e ON e.id = k.environment_id \
             WHERE k.revoked_at IS NULL",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("read SDK keys"))
    }
}

#[async_trait]
impl SdkKeyStore for SqlxStore {
    async fn list_sdk_keys(&self) -> AppResult<Vec<SdkKey>> {
        Ok(self.sdk_keys().await?)
    }

    async fn create_sdk_key(&self, who: &Principal, new: NewSdkKey, now: i64) -> AppResult<SdkKey> {
        let actor = &who.actor;
        let NewSdkKey {
            environment,
            name,
            prefix,
            secret_hash,
        } = new;
        let env = self.environment(&environment).await?;
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sdk_keys (environment_id, name, prefix, secret_hash, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(env.id)
        .bind(&name)
        .bind(&prefix)
        .bind(&secret_hash)
        .bind(&actor.name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_error("create an SDK key"))?;
        let key = SdkKey {
            id,
            environment: env.key,
            name: name.clone(),
            prefix,
            created_by: actor.name.clone(),
            created_at: now,
            revoked_at: None,
        };
        let event = NewEvent {
            actor,
            action: AuditAction::SdkKeyCreate,
            target: format!("sdk_key:{name}"),
            before: None,
            after: state_json(&key),
            at: now,
        };
        self.commit_flag_change(tx, event).await?;
        Ok(key)
    }

    async fn revoke_sdk_key(&self, who: &Principal, id: i64, now: i64) -> AppResult<SdkKey> {
        let actor = &who.actor;
        let before = self
            .sdk_keys()
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or(Error::NotFound("SDK key"))?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sdk_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("revoke an SDK key"))?;
        let after = SdkKey {
            revoked_at: Some(now),
            ..before.clone()
        };
        let event = NewEvent {
            actor,
            action: AuditAction::SdkKeyRevoke,
            target: format!("sdk_key:{}", before.name),
            before: state_json(&before),
            after: state_json(&after),
            at: now,
        };
        self.commit_flag_change(tx, event).await?;
        Ok(after)
    }
}
