//! Environments and SDK keys in the database.

use sqlx::FromRow;
use varai_core::accounts::Actor;
use varai_core::accounts::{StoreError, StoreResult};
use varai_core::flags::{Environment, SdkKey};
use varai_domain::AuditAction;

use super::audit::{NewEvent, state_json};
use super::{SqlxStore, backend_error, unique_or_backend};

#[derive(FromRow)]
pub(crate) struct EnvironmentRow {
    id: i64,
    key: String,
    name: String,
    position: i64,
    version: i64,
    created_at: i64,
}

impl From<EnvironmentRow> for Environment {
    fn from(r: EnvironmentRow) -> Self {
        Environment {
            id: r.id,
            key: r.key,
            name: r.name,
            position: r.position,
            version: r.version,
            created_at: r.created_at,
        }
    }
}

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
    pub(crate) async fn environments(&self) -> StoreResult<Vec<Environment>> {
        let rows: Vec<EnvironmentRow> = sqlx::query_as(
            "SELECT id, key, name, position, version, created_at FROM environments ORDER BY position, id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list environments"))?;
        Ok(rows.into_iter().map(Environment::from).collect())
    }

    pub(crate) async fn environment(&self, key: &str) -> StoreResult<Environment> {
        self.environments()
            .await?
            .into_iter()
            .find(|e| e.key == key)
            .ok_or(StoreError::NotFound("environment"))
    }

    pub(crate) async fn insert_environment(
        &self,
        actor: &Actor,
        key: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<Environment> {
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO environments (key, name, position, version, created_at) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM environments), 1, $3) RETURNING id",
        )
        .bind(key)
        .bind(name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_or_backend(
            "create an environment",
            "key",
            format!("an environment '{key}' already exists"),
        ))?;
        let env = Environment {
            id,
            key: key.to_owned(),
            name: name.to_owned(),
            position: 0,
            version: 1,
            created_at: now,
        };
        let event = NewEvent {
            actor,
            action: AuditAction::EnvironmentCreate,
            target: format!("environment:{key}"),
            before: None,
            after: state_json(&env),
            at: now,
        };
        self.commit_flag_change(tx, event).await?;
        self.environment(key).await
    }

    pub(crate) async fn rename_environment_row(
        &self,
        actor: &Actor,
        key: &str,
        name: &str,
        version: i64,
        now: i64,
    ) -> StoreResult<Environment> {
        let before = self.environment(key).await?;
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        let changed = sqlx::query(
            "UPDATE environments SET name = $1, version = version + 1 WHERE key = $2 AND version = $3",
        )
        .bind(name)
        .bind(key)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("rename an environment"))?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::Conflict {
                field: "version",
                message: format!(
                    "the environment changed since you loaded it (now version {}); reload and try again",
                    before.version
                ),
            });
        }
        let after = Environment {
            name: name.to_owned(),
            version: version + 1,
            ..before.clone()
        };
        let event = NewEvent {
            actor,
            action: AuditAction::EnvironmentRename,
            target: format!("environment:{key}"),
            before: state_json(&before),
            after: state_json(&after),
            at: now,
        };
        self.commit_flag_change(tx, event).await?;
        Ok(after)
    }

    pub(crate) async fn delete_environment_row(
        &self,
        actor: &Actor,
        key: &str,
        now: i64,
    ) -> StoreResult<()> {
        let before = self.environment(key).await?;
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        for sql in [
            "DELETE FROM flag_targeting WHERE environment_id = $1",
            "DELETE FROM sdk_keys WHERE environment_id = $1",
            "DELETE FROM environments WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(before.id)
                .execute(&mut *tx)
                .await
                .map_err(backend_error("delete an environment"))?;
        }
        let event = NewEvent {
            actor,
            action: AuditAction::EnvironmentDelete,
            target: format!("environment:{key}"),
            before: state_json(&before),
            after: None,
            at: now,
        };
        self.commit_flag_change(tx, event).await
    }

    pub(crate) async fn sdk_keys(&self) -> StoreResult<Vec<SdkKey>> {
        let sql = format!("{SDK_KEY_SELECT} ORDER BY k.id DESC");
        let rows: Vec<SdkKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await
            .map_err(backend_error("list SDK keys"))?;
        Ok(rows.into_iter().map(SdkKey::from).collect())
    }

    pub(crate) async fn live_sdk_key_hashes(&self) -> StoreResult<Vec<(String, String)>> {
        sqlx::query_as(
            "SELECT k.secret_hash, e.key FROM sdk_keys k JOIN environments e ON e.id = k.environment_id \
             WHERE k.revoked_at IS NULL",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("read SDK keys"))
    }

    pub(crate) async fn insert_sdk_key(
        &self,
        actor: &Actor,
        environment: &str,
        name: &str,
        prefix: &str,
        secret_hash: &str,
        now: i64,
    ) -> StoreResult<SdkKey> {
        let env = self.environment(environment).await?;
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sdk_keys (environment_id, name, prefix, secret_hash, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(env.id)
        .bind(name)
        .bind(prefix)
        .bind(secret_hash)
        .bind(&actor.name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_error("create an SDK key"))?;
        let key = SdkKey {
            id,
            environment: env.key,
            name: name.to_owned(),
            prefix: prefix.to_owned(),
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

    pub(crate) async fn revoke_sdk_key_row(
        &self,
        actor: &Actor,
        id: i64,
        now: i64,
    ) -> StoreResult<SdkKey> {
        let before = self
            .sdk_keys()
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or(StoreError::NotFound("SDK key"))?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
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
