//! Apps and the cluster each environment is bound to, in the database.

use sqlx::FromRow;
use varai_core::accounts::Actor;
use varai_core::deploy::AppRecord;
use varai_domain::AuditAction;

use super::audit::{NewEvent, commit_with_event, state_json};
use super::{SqlxStore, backend_error, unique_or_backend};
use crate::error::{Error, Result};

#[derive(FromRow)]
struct AppRow {
    id: i64,
    environment: String,
    name: String,
    deployment: String,
    service: String,
    container: String,
    image: String,
    created_at: i64,
    created_by: String,
}

impl From<AppRow> for AppRecord {
    fn from(r: AppRow) -> Self {
        AppRecord {
            id: r.id,
            environment: r.environment,
            name: r.name,
            deployment: r.deployment,
            service: r.service,
            container: r.container,
            image: r.image,
            created_at: r.created_at,
            created_by: r.created_by,
        }
    }
}

const APP_SELECT: &str = "SELECT a.id, e.key AS environment, a.name, a.deployment, a.service, \
     a.container, a.image, a.created_at, a.created_by FROM apps a JOIN environments e ON e.id = a.environment_id";

impl SqlxStore {
    pub(crate) async fn apps_in(&self, environment: &str) -> Result<Vec<AppRecord>> {
        let rows: Vec<AppRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{APP_SELECT} WHERE e.key = $1 ORDER BY a.name"
        )))
        .bind(environment)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list apps"))?;
        Ok(rows.into_iter().map(AppRecord::from).collect())
    }

    pub(crate) async fn app_named(&self, environment: &str, name: &str) -> Result<AppRecord> {
        let row: Option<AppRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{APP_SELECT} WHERE e.key = $1 AND a.name = $2"
        )))
        .bind(environment)
        .bind(name)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_error("read an app"))?;
        row.map(AppRecord::from).ok_or(Error::NotFound("app"))
    }

    /// The cluster an environment is bound to: (kubeconfig context or `None` for the sandbox,
    /// namespace).
    pub(crate) async fn cluster_binding(
        &self,
        environment: &str,
    ) -> Result<(Option<String>, String)> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT cluster_context, cluster_namespace FROM environments WHERE key = $1",
        )
        .bind(environment)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_error("read an environment's cluster"))?;
        let (context, namespace) = row.ok_or(Error::NotFound("environment"))?;
        Ok((context, namespace.unwrap_or_else(|| environment.to_owned())))
    }

    /// Sets an environment's cluster, with its audit record.
    pub(crate) async fn set_cluster_binding(
        &self,
        actor: &Actor,
        environment: &str,
        binding: &varai_core::deploy::ClusterBinding,
        now: i64,
    ) -> Result<()> {
        let (context, namespace) = self.cluster_binding(environment).await?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE environments SET cluster_context = $1, cluster_namespace = $2 WHERE key = $3",
        )
        .bind(&binding.context)
        .bind(&binding.namespace)
        .bind(environment)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("bind a cluster"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::EnvironmentBindCluster,
            target: format!("environment:{environment}"),
            before: state_json(&serde_json::json!({"context": context, "namespace": namespace})),
            after: state_json(binding),
            at: now,
        };
        commit_with_event(tx, event).await
    }

    pub(crate) async fn insert_app(
        &self,
        actor: &Actor,
        environment: &str,
        app: &AppRecord,
        now: i64,
    ) -> Result<AppRecord> {
        let env = self.environment(environment).await?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO apps (environment_id, name, deployment, service, container, image, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(env.id)
        .bind(&app.name)
        .bind(&app.deployment)
        .bind(&app.service)
        .bind(&app.container)
        .bind(&app.image)
        .bind(now)
        .bind(&actor.name)
        .execute(&mut *tx)
        .await
        .map_err(unique_or_backend(
            "register an app",
            "name",
            format!("{environment} already has an app called '{}'", app.name),
        ))?;
        let event = NewEvent {
            actor,
            action: AuditAction::AppRegister,
            target: format!("app:{environment}/{}", app.name),
            before: None,
            after: state_json(app),
            at: now,
        };
        commit_with_event(tx, event).await?;
        self.app_named(environment, &app.name).await
    }
}
