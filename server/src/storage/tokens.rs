//! API tokens in the database: only a hash of each secret is kept, and every change is
//! written with its audit event.

use async_trait::async_trait;
use sqlx::FromRow;
use varai_core::accounts::{ApiToken, NewToken, Principal, TokenStore};
use varai_core::error::Result as AppResult;
use varai_domain::AuditAction;

use super::accounts::stored_role;
use super::audit::{NewEvent, commit_with_event, state_json};
use super::{SqlxStore, backend_error, unique_or_backend};
use crate::error::{Error, Result};

macro_rules! token_columns {
    () => {
        "id, name, role, prefix, created_by, created_at, last_used_at, revoked_at"
    };
}

#[derive(FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    role: String,
    prefix: String,
    created_by: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = Error;
    fn try_from(r: TokenRow) -> Result<Self> {
        Ok(ApiToken {
            id: r.id,
            name: r.name,
            role: stored_role(&r.role)?,
            prefix: r.prefix,
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
    }
}

impl SqlxStore {
    async fn token_by_id(&self, id: i64) -> Result<ApiToken> {
        sqlx::query_as::<_, TokenRow>(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_error("read a token"))?
        .ok_or(Error::NotFound("token"))?
        .try_into()
    }
}

#[async_trait]
impl TokenStore for SqlxStore {
    async fn create_token(&self, who: &Principal, new: NewToken, now: i64) -> AppResult<ApiToken> {
        let actor = &who.actor;
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, role, prefix, secret_hash, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&new.name)
        .bind(new.role.as_str())
        .bind(&new.prefix)
        .bind(&new.secret_hash)
        .bind(&actor.name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_or_backend(
            "create a token",
            "secret",
            "generated twice; try again",
        ))?;
        let token = ApiToken {
            id,
            name: new.name,
            role: new.role,
            prefix: new.prefix,
            created_by: actor.name.clone(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        let target = format!("token:{}", token.name);
        let after = state_json(&token);
        commit_with_event(
            tx,
            NewEvent {
                actor,
                action: AuditAction::TokenCreate,
                target,
                before: None,
                after,
                at: now,
            },
        )
        .await?;
        Ok(token)
    }

    async fn list_tokens(&self) -> AppResult<Vec<ApiToken>> {
        let rows = sqlx::query_as::<_, TokenRow>(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens ORDER BY revoked_at IS NOT NULL, name, id"
        ))
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list tokens"))?;
        Ok(rows
            .into_iter()
            .map(ApiToken::try_from)
            .collect::<Result<_>>()?)
    }

    async fn revoke_token(&self, who: &Principal, id: i64, now: i64) -> AppResult<ApiToken> {
        let actor = &who.actor;
        let before = self.token_by_id(id).await?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("revoke a token"))?;
        let after = ApiToken {
            revoked_at: Some(now),
            ..before.clone()
        };
        let event = NewEvent {
            actor,
            action: AuditAction::TokenRevoke,
            target: format!("token:{}", after.name),
            before: state_json(&before),
            after: state_json(&after),
            at: now,
        };
        commit_with_event(tx, event).await?;
        Ok(after)
    }

    async fn use_token(&self, secret_hash: &str, now: i64) -> AppResult<Option<ApiToken>> {
        let row = sqlx::query_as::<_, TokenRow>(concat!(
            "UPDATE api_tokens SET last_used_at = $2 WHERE secret_hash = $1 AND revoked_at IS NULL RETURNING ",
            token_columns!()
        ))
            .bind(secret_hash)
            .bind(now)
            .fetch_optional(self.pool())
            .await
            .map_err(backend_error("check a token"))?;
        Ok(row.map(ApiToken::try_from).transpose()?)
    }
}
