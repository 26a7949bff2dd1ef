//! Saved PromQL queries (the Monitoring page's business panels), in the database.

use sqlx::FromRow;
use varai_core::accounts::Actor;
use varai_core::monitor::{NewSavedQuery, SavedQuery};
use varai_domain::AuditAction;

use super::audit::{NewEvent, commit_with_event, state_json};
use super::{SqlxStore, backend_error, unique_or_backend};
use crate::error::{Error, Result};

#[derive(FromRow)]
struct QueryRow {
    id: i64,
    environment: String,
    name: String,
    query: String,
    unit: String,
}

impl From<QueryRow> for SavedQuery {
    fn from(r: QueryRow) -> Self {
        SavedQuery {
            id: r.id,
            environment: r.environment,
            name: r.name,
            query: r.query,
            unit: r.unit,
        }
    }
}

impl SqlxStore {
    pub(crate) async fn queries(&self, environment: &str) -> Result<Vec<SavedQuery>> {
        let rows: Vec<QueryRow> = sqlx::query_as(
            "SELECT q.id, e.key AS environment, q.name, q.query, q.unit FROM saved_queries q \
             JOIN environments e ON e.id = q.environment_id WHERE e.key = $1 ORDER BY q.name",
        )
        .bind(environment)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list saved queries"))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn insert_query(
        &self,
        actor: &Actor,
        environment: &str,
        q: &NewSavedQuery,
        now: i64,
    ) -> Result<SavedQuery> {
        let env = self.environment(environment).await?;
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO saved_queries (environment_id, name, query, unit, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(env.id)
        .bind(&q.name)
        .bind(&q.query)
        .bind(&q.unit)
        .bind(now)
        .bind(&actor.name)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_or_backend(
            "save a query",
            "name",
            format!("{environment} already has a query called '{}'", q.name),
        ))?;
        let event = NewEvent {
            actor,
            action: AuditAction::SavedQuerySave,
            target: format!("saved_query:{environment}/{}", q.name),
            before: None,
            after: state_json(q),
            at: now,
        };
        commit_with_event(tx, event).await?;
        Ok(SavedQuery {
            id,
            environment: environment.to_owned(),
            name: q.name.clone(),
            query: q.query.clone(),
            unit: q.unit.clone(),
        })
    }

    pub(crate) async fn delete_query(
        &self,
        actor: &Actor,
        environment: &str,
        id: i64,
        now: i64,
    ) -> Result<()> {
        let before = self
            .queries(environment)
            .await?
            .into_iter()
            .find(|q| q.id == id)
            .ok_or(Error::NotFound("saved query"))?;
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM saved_queries WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("delete a saved query"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::SavedQueryDelete,
            target: format!("saved_query:{environment}/{}", before.name),
            before: state_json(&before),
            after: None,
            at: now,
        };
        commit_with_event(tx, event).await
    }
}
