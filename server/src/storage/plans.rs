//! Plan templates (the default one seeded once), and each rollout's gate results and
//! timeline.

use sqlx::FromRow;
use varai_core::accounts::Actor;
use varai_core::rollouts::{GateResult, PlanTemplate};
use varai_domain::plan::{GateStatus, Plan, default_plan};
use varai_domain::{AuditAction, Role};

use super::analysis::corrupt;
use super::audit::{NewEvent, commit_with_event, state_json};
use super::timeline::{Timeline, add_event};
use super::{Changed, SqlxStore, backend_error};
use crate::error::{Error, Result};
use varai_domain::timeline::EventLevel;

pub use varai_domain::plan::DEFAULT_TEMPLATE;

#[derive(FromRow)]
struct TemplateRow {
    name: String,
    description: String,
    plan: String,
    updated_at: i64,
    updated_by: String,
    owner: String,
    min_role: String,
    authors: String,
}

const TEMPLATE_COLUMNS: &str = "SELECT name, description, plan, updated_at, updated_by, owner, min_role, authors FROM plan_templates";

/// A JSON list of names, as `rollouts.involved` and `plan_templates.authors` hold them.
pub(super) fn names(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// `names` with everyone in `more` added once, as JSON.
pub(super) fn with_names<'a>(
    mut names: Vec<String>,
    more: impl IntoIterator<Item = &'a str>,
) -> String {
    for n in more {
        if !names.iter().any(|x| x == n) {
            names.push(n.to_owned());
        }
    }
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

impl TryFrom<TemplateRow> for PlanTemplate {
    type Error = Error;
    fn try_from(r: TemplateRow) -> Result<Self> {
        Ok(PlanTemplate {
            name: r.name,
            description: r.description,
            plan: serde_json::from_str(&r.plan).map_err(corrupt("read a plan template"))?,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
            owner: r.owner,
            min_role: r.min_role.parse().unwrap_or(Role::Operator),
            authors: names(&r.authors),
        })
    }
}

#[derive(FromRow)]
struct GateRow {
    id: i64,
    phase: i64,
    step: i64,
    gate: i64,
    visit: i64,
    kind: String,
    status: String,
    summary: String,
    evidence: String,
    started_at: i64,
    finished_at: Option<i64>,
}

fn index(v: i64) -> usize {
    usize::try_from(v).unwrap_or(0)
}

impl From<GateRow> for GateResult {
    fn from(r: GateRow) -> Self {
        GateResult {
            id: r.id,
            phase: index(r.phase),
            step: index(r.step),
            gate: index(r.gate),
            visit: r.visit,
            kind: r.kind,
            status: GateStatus::from_key(&r.status),
            summary: r.summary,
            evidence: serde_json::from_str(&r.evidence).unwrap_or(serde_json::Value::Null),
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

/// A gate starting at the rollout's current stop and visit.
pub struct NewGate<'a> {
    pub rollout: i64,
    pub phase: usize,
    pub step: usize,
    pub gate: usize,
    pub visit: i64,
    pub kind: &'a str,
    pub summary: &'a str,
}

fn int(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SqlxStore {
    /// Writes the default plan template once per database (a deleted one stays deleted).
    pub(crate) async fn seed_plan_templates(&self, now: i64) -> Result<()> {
        let row = vec![
            DEFAULT_TEMPLATE.to_owned(),
            "The eight phases: Planning, Preparation, Internal Testing, Alpha, Beta, Gradual Rollout (5, 25, 50 %), Full Rollout, Monitoring".to_owned(),
            state_json(&default_plan()).unwrap_or_default(),
        ];
        self.seed_once(
            "plan-templates",
            "INSERT INTO plan_templates (name, description, plan, updated_at, updated_by, owner, min_role, authors) \
             VALUES ($1, $2, $3, $4, 'system', 'system', 'operator', '[\"system\"]')",
            vec![row],
            now,
        )
        .await
    }

    pub(crate) async fn plan_templates(&self) -> Result<Vec<PlanTemplate>> {
        let rows: Vec<TemplateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TEMPLATE_COLUMNS} ORDER BY name"
        )))
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list plan templates"))?;
        rows.into_iter().map(TryFrom::try_from).collect()
    }

    pub(crate) async fn plan_template(&self, name: &str) -> Result<PlanTemplate> {
        let row: Option<TemplateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TEMPLATE_COLUMNS} WHERE name = $1"
        )))
        .bind(name)
        .fetch_optional(self.pool())
        .await
        .map_err(backend_error("read a plan template"))?;
        row.ok_or(Error::NotFound("plan template"))?.try_into()
    }

    pub(crate) async fn save_plan_template(
        &self,
        actor: &Actor,
        name: &str,
        description: &str,
        plan: &Plan,
        min_role: Option<Role>,
        now: i64,
    ) -> Result<PlanTemplate> {
        let before = self.plan_template(name).await.ok();
        let mut tx = self.begin().await?;
        let sql = if before.is_some() {
            "UPDATE plan_templates SET description = $2, plan = $3, updated_at = $4, updated_by = $5, \
             min_role = $6, authors = $7 WHERE name = $1"
        } else {
            "INSERT INTO plan_templates (name, description, plan, updated_at, updated_by, min_role, authors, owner) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        };
        let min_role = min_role
            .or(before.as_ref().map(|b| b.min_role))
            .unwrap_or(Role::ProductManager);
        let authors = before
            .as_ref()
            .map(|b| b.authors.clone())
            .unwrap_or_default();
        sqlx::query(sql)
            .bind(name)
            .bind(description)
            .bind(state_json(plan))
            .bind(now)
            .bind(&actor.name)
            .bind(min_role.as_str())
            .bind(with_names(authors, actor.people()))
            // The person, also when they save through a token.
            .bind(actor.behind.as_deref().unwrap_or(&actor.name))
            .execute(&mut *tx)
            .await
            .map_err(backend_error("save a plan template"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::PlanTemplateSave,
            target: format!("plan_template:{name}"),
            before: before.as_ref().and_then(|b| state_json(&b.plan)),
            after: state_json(plan),
            at: now,
        };
        commit_with_event(tx, event).await?;
        self.plan_template(name).await
    }

    pub(crate) async fn delete_plan_template(
        &self,
        actor: &Actor,
        name: &str,
        now: i64,
    ) -> Result<()> {
        let before = self.plan_template(name).await?;
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM plan_templates WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("delete a plan template"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::PlanTemplateDelete,
            target: format!("plan_template:{name}"),
            before: state_json(&before.plan),
            after: None,
            at: now,
        };
        commit_with_event(tx, event).await
    }

    /// Every gate result of a rollout, oldest first.
    pub(crate) async fn gate_results(&self, rollout: i64) -> Result<Vec<GateResult>> {
        let rows: Vec<GateRow> = sqlx::query_as(
            "SELECT id, phase, step, gate, visit, kind, status, summary, evidence, started_at, finished_at \
             FROM gate_results WHERE rollout_id = $1 ORDER BY id",
        )
        .bind(rollout)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("read gate results"))?;
        Ok(rows.into_iter().map(GateResult::from).collect())
    }

    /// Records a gate as running; `false` when it already has a result for this visit.
    pub(crate) async fn start_gate(&self, g: NewGate<'_>, now: i64) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO gate_results (rollout_id, phase, step, gate, visit, kind, status, summary, evidence, started_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, '{}', $8)",
        )
        .bind(g.rollout)
        .bind(int(g.phase))
        .bind(int(g.step))
        .bind(int(g.gate))
        .bind(g.visit)
        .bind(g.kind)
        .bind(g.summary)
        .bind(now)
        .execute(self.pool())
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_database_error().map(|d| d.kind())
                    == Some(sqlx::error::ErrorKind::UniqueViolation) =>
            {
                Ok(false)
            }
            Err(e) => Err(backend_error("start a gate")(e)),
        }
    }

    /// Writes a running gate's verdict, with a line on the rollout's timeline.
    pub(crate) async fn finish_gate(
        &self,
        rollout: i64,
        gate: i64,
        status: GateStatus,
        summary: &str,
        evidence: &serde_json::Value,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE gate_results SET status = $1, summary = $2, evidence = $3, finished_at = $4 \
             WHERE id = $5 AND status = 'running'",
        )
        .bind(status.key())
        .bind(summary)
        .bind(evidence.to_string())
        .bind(now)
        .bind(gate)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("record a gate's result"))?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        let level = match status {
            GateStatus::Passed => EventLevel::Info,
            GateStatus::Failed => EventLevel::Error,
            GateStatus::Running | GateStatus::Inconclusive => EventLevel::Warning,
        };
        add_event(
            &mut tx,
            Timeline::Rollout(rollout),
            level,
            "controller",
            summary,
            now,
        )
        .await?;
        tx.commit().await.map_err(backend_error("commit"))?;
        self.announce(Changed::Rollout(rollout));
        Ok(true)
    }

    /// Ends every gate of `rollout` still running (its rollout ended first), with why.
    pub(crate) async fn cancel_gates(&self, rollout: i64, why: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE gate_results SET status = 'inconclusive', summary = summary || ' — stopped: ' || $1, \
             finished_at = $2 WHERE rollout_id = $3 AND status = 'running'",
        )
        .bind(why)
        .bind(now)
        .bind(rollout)
        .execute(self.pool())
        .await
        .map_err(backend_error("stop a rollout's gates"))?;
        Ok(())
    }
}
