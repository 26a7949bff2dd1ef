//! Analysis templates, in the database; seeded once.

use sqlx::FromRow;
use varai_core::accounts::Actor;
use varai_core::monitor::TemplateRecord;
use varai_domain::AuditAction;
use varai_domain::analysis::{AnalysisTemplate, seeded_templates};

use super::audit::{NewEvent, commit_with_event, state_json};
use super::{SqlxStore, backend_error};
use crate::error::{Error, Result};

#[derive(FromRow)]
struct TemplateRow {
    id: i64,
    body: String,
    updated_at: i64,
    updated_by: String,
}

pub(super) fn corrupt(op: &'static str) -> impl Fn(serde_json::Error) -> Error {
    move |e| Error::Storage {
        op,
        source: Box::new(e),
    }
}

impl TryFrom<TemplateRow> for TemplateRecord {
    type Error = Error;
    fn try_from(r: TemplateRow) -> Result<Self> {
        Ok(TemplateRecord {
            id: r.id,
            template: serde_json::from_str(&r.body).map_err(corrupt("read a template"))?,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
        })
    }
}

impl SqlxStore {
    /// Writes the seeded templates once per database.
    pub(crate) async fn seed_templates(&self, now: i64) -> Result<()> {
        let rows = seeded_templates()
            .iter()
            .map(|t| vec![t.name.clone(), state_json(t).unwrap_or_default()])
            .collect();
        self.seed_once(
            "analysis-templates",
            "INSERT INTO analysis_templates (name, body, updated_at, updated_by) VALUES ($1, $2, $3, 'system')",
            rows,
            now,
        )
        .await
    }

    pub(crate) async fn templates(&self) -> Result<Vec<TemplateRecord>> {
        let rows: Vec<TemplateRow> = sqlx::query_as(
            "SELECT id, body, updated_at, updated_by FROM analysis_templates ORDER BY name",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list analysis templates"))?;
        rows.into_iter().map(TryFrom::try_from).collect()
    }

    pub(crate) async fn template_named(&self, name: &str) -> Result<Option<TemplateRecord>> {
        let row: Option<TemplateRow> = sqlx::query_as(
            "SELECT id, body, updated_at, updated_by FROM analysis_templates WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_error("read an analysis template"))?;
        row.map(TryFrom::try_from).transpose()
    }

    /// Creates or replaces the template called `t.name`, with its audit record.
    pub(crate) async fn save_template(
        &self,
        actor: &Actor,
        t: &AnalysisTemplate,
        now: i64,
    ) -> Result<TemplateRecord> {
        let before = self.template_named(&t.name).await?;
        let mut tx = self.begin().await?;
        let body = state_json(t);
        let query = if before.is_some() {
            "UPDATE analysis_templates SET body = $2, updated_at = $3, updated_by = $4 WHERE name = $1"
        } else {
            "INSERT INTO analysis_templates (name, body, updated_at, updated_by) VALUES ($1, $2, $3, $4)"
        };
        sqlx::query(query)
            .bind(&t.name)
            .bind(&body)
            .bind(now)
            .bind(&actor.name)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("save an analysis template"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::AnalysisTemplateSave,
            target: format!("analysis_template:{}", t.name),
            before: before.as_ref().and_then(|b| state_json(&b.template)),
            after: body,
            at: now,
        };
        commit_with_event(tx, event).await?;
        self.template_named(&t.name)
            .await?
            .ok_or(Error::NotFound("analysis template"))
    }

    pub(crate) async fn delete_template(&self, actor: &Actor, name: &str, now: i64) -> Result<()> {
        let before = self
            .template_named(name)
            .await?
            .ok_or(Error::NotFound("analysis template"))?;
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM analysis_templates WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("delete an analysis template"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::AnalysisTemplateDelete,
            target: format!("analysis_template:{name}"),
            before: state_json(&before.template),
            after: None,
            at: now,
        };
        commit_with_event(tx, event).await
    }
}
