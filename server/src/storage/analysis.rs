//! Analysis templates, runs and their measurements, in the database.

use sqlx::FromRow;
use varai_app::models::{AnalysisRunRecord, MetricResult, TemplateRecord};
use varai_app::ssr::Actor;
use varai_app::ssr::ports::{StoreError, StoreResult};
use varai_domain::AuditAction;
use varai_domain::analysis::{
    AnalysisPhase, AnalysisTemplate, Args, Measurement, metric_phase, render, seeded_templates,
};

use super::audit::{NewEvent, commit_with_event, state_json};
use super::{SqlxStore, backend_error};

#[derive(FromRow)]
struct TemplateRow {
    id: i64,
    body: String,
    updated_at: i64,
    updated_by: String,
}

fn corrupt(op: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |e| StoreError::Backend {
        op,
        source: Box::new(e),
    }
}

impl TryFrom<TemplateRow> for TemplateRecord {
    type Error = StoreError;
    fn try_from(r: TemplateRow) -> StoreResult<Self> {
        Ok(TemplateRecord {
            id: r.id,
            template: serde_json::from_str(&r.body).map_err(corrupt("read a template"))?,
            updated_at: r.updated_at,
            updated_by: r.updated_by,
        })
    }
}

/// A run as the analysis runner needs it.
#[derive(Debug, Clone)]
pub struct RunState {
    pub id: i64,
    pub deployment_id: i64,
    pub kind: String,
    pub step: Option<u32>,
    pub templates: Vec<AnalysisTemplate>,
    pub args: Args,
    pub phase: AnalysisPhase,
    pub message: Option<String>,
    pub acted: bool,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

impl RunState {
    pub fn background(&self) -> bool {
        self.kind == "background"
    }
}

#[derive(FromRow)]
struct RunRow {
    id: i64,
    deployment_id: i64,
    kind: String,
    step: Option<i64>,
    templates: String,
    args: String,
    phase: String,
    message: Option<String>,
    acted: i64,
    started_at: i64,
    finished_at: Option<i64>,
}

impl TryFrom<RunRow> for RunState {
    type Error = StoreError;
    fn try_from(r: RunRow) -> StoreResult<Self> {
        let bad = corrupt("read an analysis run");
        Ok(RunState {
            id: r.id,
            deployment_id: r.deployment_id,
            kind: r.kind,
            step: r.step.and_then(|s| u32::try_from(s).ok()),
            templates: serde_json::from_str(&r.templates).map_err(&bad)?,
            args: serde_json::from_str(&r.args).map_err(&bad)?,
            phase: AnalysisPhase::from_key(&r.phase).unwrap_or(AnalysisPhase::Error),
            message: r.message,
            acted: r.acted != 0,
            started_at: r.started_at,
            finished_at: r.finished_at,
        })
    }
}

const RUN_SELECT: &str = "SELECT id, deployment_id, kind, step, templates, args, phase, message, \
     acted, started_at, finished_at FROM analysis_runs";

#[derive(FromRow)]
struct MeasurementRow {
    metric: String,
    phase: String,
    value: Option<f64>,
    message: Option<String>,
    at: i64,
}

/// A run about to start.
pub struct NewRun<'a> {
    pub deployment_id: i64,
    pub kind: &'static str,
    pub step: Option<u32>,
    pub templates: &'a [AnalysisTemplate],
    pub args: &'a Args,
}

impl SqlxStore {
    /// Writes the seeded templates once per database.
    pub(crate) async fn seed_templates(&self, now: i64) -> StoreResult<()> {
        let seeded: Option<String> =
            sqlx::query_scalar("SELECT name FROM seeds WHERE name = 'analysis-templates'")
                .fetch_optional(self.pool())
                .await
                .map_err(backend_error("read seeds"))?;
        if seeded.is_some() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        for t in seeded_templates() {
            sqlx::query(
                "INSERT INTO analysis_templates (name, body, updated_at, updated_by) VALUES ($1, $2, $3, 'system')",
            )
            .bind(&t.name)
            .bind(state_json(&t))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("seed analysis templates"))?;
        }
        sqlx::query("INSERT INTO seeds (name, at) VALUES ('analysis-templates', $1)")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("record seeds"))?;
        tx.commit().await.map_err(backend_error("commit"))
    }

    pub(crate) async fn templates(&self) -> StoreResult<Vec<TemplateRecord>> {
        let rows: Vec<TemplateRow> = sqlx::query_as(
            "SELECT id, body, updated_at, updated_by FROM analysis_templates ORDER BY name",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list analysis templates"))?;
        rows.into_iter().map(TryFrom::try_from).collect()
    }

    pub(crate) async fn template_named(&self, name: &str) -> StoreResult<Option<TemplateRecord>> {
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
    ) -> StoreResult<TemplateRecord> {
        let before = self.template_named(&t.name).await?;
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
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
            .ok_or(StoreError::NotFound("analysis template"))
    }

    pub(crate) async fn delete_template(
        &self,
        actor: &Actor,
        name: &str,
        now: i64,
    ) -> StoreResult<()> {
        let before = self
            .template_named(name)
            .await?
            .ok_or(StoreError::NotFound("analysis template"))?;
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
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

    /// Starts a run, noting it on the deployment's timeline.
    pub(crate) async fn insert_run(&self, r: NewRun<'_>, now: i64) -> StoreResult<i64> {
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO analysis_runs (deployment_id, kind, step, templates, args, phase, started_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id",
        )
        .bind(r.deployment_id)
        .bind(r.kind)
        .bind(r.step.map(i64::from))
        .bind(state_json(&r.templates))
        .bind(state_json(r.args))
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_error("start an analysis run"))?;
        let names: Vec<&str> = r.templates.iter().map(|t| t.name.as_str()).collect();
        let what = match r.kind {
            "background" => "Background analysis".to_owned(),
            _ => format!("Analysis of step {}", r.step.map_or(0, |s| s + 1)),
        };
        let message = format!("{what} #{id} started: {}", names.join(", "));
        super::deploy::add_event(&mut tx, r.deployment_id, "info", "analysis", &message, now)
            .await?;
        tx.commit().await.map_err(backend_error("commit"))?;
        Ok(id)
    }

    /// Runs not finished yet, oldest first.
    pub(crate) async fn active_runs(&self) -> StoreResult<Vec<RunState>> {
        let rows: Vec<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{RUN_SELECT} WHERE phase IN ('pending', 'running') ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list analysis runs"))?;
        rows.into_iter().map(TryFrom::try_from).collect()
    }

    /// A deployment's runs, newest first.
    pub(crate) async fn runs_of(&self, deployment: i64) -> StoreResult<Vec<RunState>> {
        let rows: Vec<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{RUN_SELECT} WHERE deployment_id = $1 ORDER BY id DESC"
        )))
        .bind(deployment)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list analysis runs"))?;
        rows.into_iter().map(TryFrom::try_from).collect()
    }

    /// Each metric's measurements (`template/metric` → in time order).
    pub(crate) async fn measurements_of(
        &self,
        run: i64,
    ) -> StoreResult<Vec<(String, Measurement)>> {
        let rows: Vec<MeasurementRow> = sqlx::query_as(
            "SELECT metric, phase, value, message, at FROM analysis_measurements WHERE run_id = $1 ORDER BY id",
        )
        .bind(run)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("read measurements"))?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let m = Measurement {
                    phase: AnalysisPhase::from_key(&r.phase).unwrap_or(AnalysisPhase::Error),
                    value: r.value,
                    message: r.message,
                    at: r.at,
                };
                (r.metric, m)
            })
            .collect())
    }

    /// Records a measurement and the run's phase after it, in one transaction.
    pub(crate) async fn record_measurement(
        &self,
        run: i64,
        metric: &str,
        m: &Measurement,
        phase: AnalysisPhase,
        message: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        sqlx::query(
            "INSERT INTO analysis_measurements (run_id, metric, phase, value, message, at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(run)
        .bind(metric)
        .bind(m.phase.key())
        .bind(m.value)
        .bind(&m.message)
        .bind(m.at)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("record a measurement"))?;
        sqlx::query(
            "UPDATE analysis_runs SET phase = $2, message = $3, finished_at = $4 WHERE id = $1",
        )
        .bind(run)
        .bind(phase.key())
        .bind(message)
        .bind(phase.is_done().then_some(m.at))
        .execute(&mut *tx)
        .await
        .map_err(backend_error("update an analysis run"))?;
        tx.commit().await.map_err(backend_error("commit"))
    }

    /// Ends a run without a measurement (its deployment finished).
    pub(crate) async fn finish_run(
        &self,
        run: i64,
        phase: AnalysisPhase,
        message: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE analysis_runs SET phase = $2, message = $3, finished_at = $4 WHERE id = $1 AND finished_at IS NULL",
        )
        .bind(run)
        .bind(phase.key())
        .bind(message)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(backend_error("finish an analysis run"))?;
        Ok(())
    }

    /// Notes that the controller acted on the run's verdict.
    pub(crate) async fn mark_run_acted(&self, run: i64) -> StoreResult<()> {
        sqlx::query("UPDATE analysis_runs SET acted = 1 WHERE id = $1")
            .bind(run)
            .execute(self.pool())
            .await
            .map_err(backend_error("update an analysis run"))?;
        Ok(())
    }

    /// A deployment's runs with every metric's measurements, for people.
    pub(crate) async fn run_records(&self, deployment: i64) -> StoreResult<Vec<AnalysisRunRecord>> {
        let mut out = Vec::new();
        for run in self.runs_of(deployment).await? {
            let taken = self.measurements_of(run.id).await?;
            out.push(run_record(&run, &taken));
        }
        Ok(out)
    }
}

/// The metric's key in measurements: `template/metric`.
pub fn metric_key(template: &str, metric: &str) -> String {
    format!("{template}/{metric}")
}

fn run_record(run: &RunState, taken: &[(String, Measurement)]) -> AnalysisRunRecord {
    let metrics = run
        .templates
        .iter()
        .flat_map(|t| t.metrics.iter().map(move |m| (t, m)))
        .map(|(t, m)| {
            let key = metric_key(&t.name, &m.name);
            let measurements: Vec<Measurement> = taken
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, m)| m.clone())
                .collect();
            MetricResult {
                phase: metric_phase(m, &measurements, run.background()),
                query: render(&m.query, &run.args).unwrap_or_else(|_| m.query.clone()),
                success_condition: m.success_condition.map(|c| c.to_string()),
                failure_condition: m.failure_condition.map(|c| c.to_string()),
                unit: m.unit.clone(),
                name: key,
                measurements,
            }
        })
        .collect();
    AnalysisRunRecord {
        id: run.id,
        deployment_id: run.deployment_id,
        kind: run.kind.clone(),
        step: run.step,
        phase: run.phase,
        message: run.message.clone(),
        started_at: run.started_at,
        finished_at: run.finished_at,
        metrics,
    }
}
