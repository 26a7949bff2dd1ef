//! Rollouts in the database, read. A rollout row is the controller's memory: its status, the
//! stop it is at and since when, whether that stop's audience is in place, what it waits for,
//! and a revision so that the controller's and people's writes exclude each other.

use sqlx::FromRow;
use varai_core::rollouts::{RolloutRecord, RolloutStatus};
use varai_domain::plan::{Exposure, Plan, Position, Release, stop_index, stops};

use super::analysis::corrupt;
use super::{SqlxStore, backend_error};
use crate::error::{Error, Result};

#[derive(FromRow)]
struct RolloutRow {
    id: i64,
    environment: String,
    title: String,
    template: Option<String>,
    release: String,
    plan: String,
    status: String,
    paused: i64,
    phase: i64,
    step: i64,
    visit: i64,
    stop_since: Option<i64>,
    waiting: Option<String>,
    last_error: Option<String>,
    deployment_id: Option<i64>,
    start_at: Option<i64>,
    reason: Option<String>,
    created_by: String,
    created_at: i64,
    started_by: Option<String>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    revision: i64,
    involved: String,
}

/// What the controller needs beyond the record.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutState {
    pub record: RolloutRecord,
    pub visit: i64,
    pub applied: bool,
    pub advance: bool,
    pub attempts: u32,
    /// When the controller tries again after an error (0 when not waiting).
    pub next_attempt_at: i64,
    /// Each released flag's targeting before the rollout changed it (JSON).
    pub flags_before: Option<String>,
}

fn index(v: i64) -> usize {
    usize::try_from(v).unwrap_or(0)
}

/// The current stop's label and exposure, for people.
fn where_it_is(plan: &Plan, position: Position, status: RolloutStatus) -> (String, Exposure) {
    let all = stops(plan);
    match stop_index(&all, position).and_then(|i| all.get(i)) {
        Some(s) if matches!(status, RolloutStatus::Running | RolloutStatus::Succeeded) => {
            (s.label(), s.exposure.clone())
        }
        Some(s) => (s.label(), Exposure::default()),
        None => ("—".into(), Exposure::default()),
    }
}

impl TryFrom<RolloutRow> for RolloutRecord {
    type Error = Error;
    fn try_from(r: RolloutRow) -> Result<Self> {
        let plan: Plan = serde_json::from_str(&r.plan).map_err(corrupt("read a rollout"))?;
        let release: Release =
            serde_json::from_str(&r.release).map_err(corrupt("read a rollout"))?;
        let status = RolloutStatus::from_key(&r.status).ok_or(Error::Storage {
            op: "read a rollout",
            source: format!("unknown status '{}'", r.status).into(),
        })?;
        let position = Position {
            phase: index(r.phase),
            step: index(r.step),
        };
        let (stop_label, exposure) = where_it_is(&plan, position, status);
        Ok(RolloutRecord {
            id: r.id,
            environment: r.environment,
            title: r.title,
            template: r.template,
            release,
            plan,
            status,
            paused: r.paused != 0,
            position,
            stop_label,
            visit: r.visit,
            stop_since: r.stop_since,
            exposure,
            waiting: r.waiting,
            last_error: r.last_error,
            deployment_id: r.deployment_id,
            start_at: r.start_at,
            reason: r.reason,
            created_by: r.created_by,
            created_at: r.created_at,
            started_by: r.started_by,
            started_at: r.started_at,
            finished_at: r.finished_at,
            revision: r.revision,
            involved: super::plans::names(&r.involved),
        })
    }
}

const SELECT: &str = "SELECT r.id, e.key AS environment, r.title, r.template, r.release, r.plan, \
     r.status, r.paused, r.phase, r.step, r.visit, r.stop_since, r.waiting, r.last_error, r.deployment_id, \
     r.start_at, r.reason, r.created_by, r.created_at, r.started_by, r.started_at, r.finished_at, \
     r.revision, r.involved FROM rollouts r JOIN environments e ON e.id = r.environment_id";

/// The most rollouts a list shows.
const LIST_LIMIT: usize = 200;

/// A rollout as created or saved again as a draft.
pub struct DraftRollout<'a> {
    pub environment: &'a str,
    pub title: &'a str,
    pub template: Option<&'a str>,
    pub release: &'a Release,
    pub plan: &'a Plan,
    pub start_at: Option<i64>,
}

/// The controller's write after a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutUpdate {
    pub status: RolloutStatus,
    pub paused: bool,
    pub position: Position,
    pub visit: i64,
    pub stop_since: Option<i64>,
    pub applied: bool,
    pub advance: bool,
    pub waiting: Option<String>,
    pub last_error: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub deployment_id: Option<i64>,
    pub flags_before: Option<String>,
    pub reason: Option<String>,
}

impl RolloutState {
    /// The update that changes nothing.
    pub fn unchanged(&self) -> RolloutUpdate {
        let r = &self.record;
        RolloutUpdate {
            status: r.status,
            paused: r.paused,
            position: r.position,
            visit: self.visit,
            stop_since: r.stop_since,
            applied: self.applied,
            advance: self.advance,
            waiting: r.waiting.clone(),
            last_error: r.last_error.clone(),
            attempts: self.attempts,
            next_attempt_at: 0,
            deployment_id: r.deployment_id,
            flags_before: self.flags_before.clone(),
            reason: r.reason.clone(),
        }
    }
}

pub(super) fn int(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SqlxStore {
    async fn rollouts_where(&self, condition: &str, bind: i64) -> Result<Vec<RolloutRecord>> {
        let rows: Vec<RolloutRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE {condition} ORDER BY r.id DESC LIMIT {LIST_LIMIT}"
        )))
        .bind(bind)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("read rollouts"))?;
        rows.into_iter().map(TryFrom::try_from).collect()
    }

    pub(crate) async fn rollout_by_id(&self, id: i64) -> Result<RolloutRecord> {
        self.rollouts_where("r.id = $1", id)
            .await?
            .pop()
            .ok_or(Error::NotFound("rollout"))
    }

    /// A rollout with the controller's own columns.
    pub(crate) async fn rollout_state(&self, id: i64) -> Result<RolloutState> {
        let record = self.rollout_by_id(id).await?;
        let (visit, applied, advance, attempts, next_attempt_at, flags_before): (
            i64,
            i64,
            i64,
            i64,
            i64,
            Option<String>,
        ) = sqlx::query_as(
            "SELECT visit, applied, advance, attempts, next_attempt_at, flags_before FROM rollouts WHERE id = $1",
        )
        .bind(id)
        .fetch_one(self.pool())
        .await
        .map_err(backend_error("read a rollout"))?;
        Ok(RolloutState {
            record,
            visit,
            applied: applied != 0,
            advance: advance != 0,
            attempts: u32::try_from(attempts).unwrap_or(0),
            next_attempt_at,
            flags_before,
        })
    }

    /// The latest rollouts, newest first; only active ones when `active`.
    /// The newest rollouts (at most [`LIST_LIMIT`]), of one environment or all, filtered in
    /// the query so that one environment's are never cut off by another's.
    pub(crate) async fn list_rollouts(
        &self,
        environment: Option<&str>,
        active: bool,
    ) -> Result<Vec<RolloutRecord>> {
        let status = if active {
            " AND r.status IN ('draft', 'scheduled', 'running')"
        } else {
            ""
        };
        let rows: Vec<RolloutRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE ($1 = '' OR e.key = $1){status} ORDER BY r.id DESC LIMIT {LIST_LIMIT}"
        )))
        .bind(environment.unwrap_or(""))
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("read rollouts"))?;
        rows.into_iter().map(TryFrom::try_from).collect()
    }

    /// Running rollouts whose next attempt is due, and scheduled ones whose time has come.
    /// The ids of every running or scheduled rollout, for the controller.
    pub(crate) async fn active_rollouts(&self) -> Result<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT id FROM rollouts WHERE status IN ('running', 'scheduled') ORDER BY id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list active rollouts"))
    }
}
