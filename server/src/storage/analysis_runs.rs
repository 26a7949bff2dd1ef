//! Analysis runs and their measurements, in the database.

use sqlx::FromRow;
use varai_core::monitor::{AnalysisRunRecord, MetricResult};
use varai_domain::analysis::{
    AnalysisPhase, AnalysisTemplate, Args, Measurement, metric_phase, render,
};
use varai_domain::timeline::EventLevel;

use super::analysis::corrupt;
use super::audit::state_json;
use super::timeline::{Timeline, add_event};
use super::{SqlxStore, backend_error};
use crate::error::{Error, Result};

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
    type Error = Error;
    fn try_from(r: RunRow) -> Result<Self> {
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
    /// Starts a run, noting it on the deployment's timeline.
    pub(crate) async fn insert_run(&self, r: NewRun<'_>, now: i64) -> Result<i64> {
        let mut tx = self.begin().await?;
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
        add_event(
            &mut tx,
            Timeline::Deployment(r.deployment_id),
            EventLevel::Info,
            "analysis",
            &message,
            now,
        )
        .await?;
        tx.commit().await.map_err(backend_error("commit"))?;
        Ok(id)
    }

    /// Runs not finished yet, oldest first.
    pub(crate) async fn active_runs(&self) -> Result<Vec<RunState>> {
        let rows: Vec<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{RUN_SELECT} WHERE phase IN ('pending', 'running') ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list analysis runs"))?;
        rows.into_iter().map(TryFrom::try_from).collect()
    }

    /// A deployment's runs, newest first.
    pub(crate) async fn runs_of(&self, deployment: i64) -> Result<Vec<RunState>> {
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
    pub(crate) async fn measurements_of(&self, run: i64) -> Result<Vec<(String, Measurement)>> {
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
    ) -> Result<()> {
        let mut tx = self.begin().await?;
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
    ) -> Result<()> {
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
    pub(crate) async fn mark_run_acted(&self, run: i64) -> Result<()> {
        sqlx::query("UPDATE analysis_runs SET acted = 1 WHERE id = $1")
            .bind(run)
            .execute(self.pool())
            .await
            .map_err(backend_error("update an analysis run"))?;
        Ok(())
    }

    /// A deployment's runs with every metric's measurements, for people.
    pub(crate) async fn run_records(&self, deployment: i64) -> Result<Vec<AnalysisRunRecord>> {
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
