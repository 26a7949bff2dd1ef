//! Environments in the database, each change written with its audit event and announced to
//! the evaluation cache.

use async_trait::async_trait;
use sqlx::FromRow;
use varai_core::accounts::Principal;
use varai_core::changes::Protection;
use varai_core::error::{AppError, Result as AppResult};
use varai_core::flags::{Environment, EnvironmentStore};
use varai_domain::{AuditAction, Role};

use super::audit::{NewEvent, state_json};
use super::{SqlxStore, backend_error, unique_or_backend};
use crate::error::{Error, Result};

#[derive(FromRow)]
pub(crate) struct EnvironmentRow {
    id: i64,
    key: String,
    name: String,
    position: i64,
    version: i64,
    created_at: i64,
    protected: i64,
    direct_role: String,
    approver_role: String,
}

impl From<EnvironmentRow> for Environment {
    fn from(r: EnvironmentRow) -> Self {
        // A role name the database should never hold reads as the stricter default.
        let role = |name: &str| name.parse().unwrap_or(Role::Operator);
        Environment {
            id: r.id,
            key: r.key,
            name: r.name,
            position: r.position,
            version: r.version,
            created_at: r.created_at,
            protection: Protection {
                protected: r.protected != 0,
                direct_role: role(&r.direct_role),
                approver_role: role(&r.approver_role),
            },
        }
    }
}

/// The refusal of a write made against an older version of the environment.
fn stale(current: &Environment) -> AppError {
    AppError::Conflict {
        field: "version".into(),
        message: format!(
            "the environment changed since you loaded it (now version {}); reload and try again",
            current.version
        ),
    }
}

impl SqlxStore {
    pub(crate) async fn environments(&self) -> Result<Vec<Environment>> {
        let rows: Vec<EnvironmentRow> = sqlx::query_as(
            "SELECT id, key, name, position, version, created_at, protected, direct_role, approver_role \
             FROM environments ORDER BY position, id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list environments"))?;
        Ok(rows.into_iter().map(Environment::from).collect())
    }

    pub(crate) async fn environment(&self, key: &str) -> Result<Environment> {
        self.environments()
            .await?
            .into_iter()
            .find(|e| e.key == key)
            .ok_or(Error::NotFound("environment"))
    }
}

impl SqlxStore {
    /// Writes `after`'s name and protection over `before` when `version` is still current,
    /// with its audit event.
    async fn replace_environment(
        &self,
        who: &Principal,
        (before, after, action): (Environment, Environment, AuditAction),
        version: i64,
        now: i64,
    ) -> Result<Environment> {
        let mut tx = self.begin().await?;
        let p = after.protection;
        let changed = sqlx::query(
            "UPDATE environments SET name = $1, protected = $2, direct_role = $3, approver_role = $4, \
             version = version + 1 WHERE key = $5 AND version = $6",
        )
        .bind(&after.name)
        .bind(i64::from(p.protected))
        .bind(p.direct_role.as_str())
        .bind(p.approver_role.as_str())
        .bind(&after.key)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("change an environment"))?
        .rows_affected();
        if changed == 0 {
            return Err(stale(&before).into());
        }
        let after = Environment {
            version: version + 1,
            ..after
        };
        let event = NewEvent {
            actor: &who.actor,
            action,
            target: format!("environment:{}", after.key),
            before: state_json(&before),
            after: state_json(&after),
            at: now,
        };
        self.commit_flag_change(tx, event).await?;
        Ok(after)
    }
}

#[async_trait]
impl EnvironmentStore for SqlxStore {
    async fn list_environments(&self) -> AppResult<Vec<Environment>> {
        Ok(self.environments().await?)
    }

    async fn create_environment(
        &self,
        who: &Principal,
        key: &str,
        name: &str,
        now: i64,
    ) -> AppResult<Environment> {
        let actor = &who.actor;
        let protection = Protection::default_for(key);
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO environments (key, name, position, version, created_at, protected, direct_role, approver_role) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM environments), 1, $3, $4, $5, $6) RETURNING id",
        )
        .bind(key)
        .bind(name)
        .bind(now)
        .bind(i64::from(protection.protected))
        .bind(protection.direct_role.as_str())
        .bind(protection.approver_role.as_str())
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
            protection,
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
        Ok(self.environment(key).await?)
    }

    async fn rename_environment(
        &self,
        who: &Principal,
        key: &str,
        (name, version): (&str, i64),
        now: i64,
    ) -> AppResult<Environment> {
        let before = self.environment(key).await?;
        let after = Environment {
            name: name.to_owned(),
            ..before.clone()
        };
        let change = (before, after, AuditAction::EnvironmentRename);
        Ok(self.replace_environment(who, change, version, now).await?)
    }

    async fn set_protection(
        &self,
        who: &Principal,
        key: &str,
        (protection, version): (Protection, i64),
        now: i64,
    ) -> AppResult<Environment> {
        let before = self.environment(key).await?;
        let after = Environment {
            protection,
            ..before.clone()
        };
        let change = (before, after, AuditAction::EnvironmentProtect);
        Ok(self.replace_environment(who, change, version, now).await?)
    }

    async fn delete_environment(&self, who: &Principal, key: &str, now: i64) -> AppResult<()> {
        let actor = &who.actor;
        let before = self.environment(key).await?;
        let mut tx = self.begin().await?;
        for sql in [
            "DELETE FROM flag_targeting WHERE environment_id = $1",
            "DELETE FROM change_requests WHERE environment_id = $1",
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
        Ok(self.commit_flag_change(tx, event).await?)
    }
}
