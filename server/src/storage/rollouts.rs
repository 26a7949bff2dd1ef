//! Rollouts in the database. A rollout row is the controller's memory: its status, the stop
//! it is at and since when, whether that stop's audience is in place, what it waits for, and a
//! revision so that the controller's and people's writes exclude each other. While a rollout
//! is active it holds *claims* on its app and flags, so a second rollout of them is refused.

use sqlx::{Any, FromRow, Transaction};
use varai_core::accounts::Actor;
use varai_core::error::AppError;
use varai_core::rollouts::{RolloutRecord, RolloutStatus};
use varai_domain::plan::claim::{self, Claim, Holder};
use varai_domain::plan::{Exposure, Plan, Position, Release, stop_index, stops};
use varai_domain::timeline::EventLevel;
use varai_domain::{AuditAction, InvalidInput};

use super::analysis::corrupt;
use super::audit::{NewEvent, commit_with_event, state_json};
use super::timeline::{Timeline, add_event};
use super::{Changed, SqlxStore, backend_error};
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
        })
    }
}

const SELECT: &str = "SELECT r.id, e.key AS environment, r.title, r.template, r.release, r.plan, \
     r.status, r.paused, r.phase, r.step, r.stop_since, r.waiting, r.last_error, r.deployment_id, \
     r.start_at, r.reason, r.created_by, r.created_at, r.started_by, r.started_at, r.finished_at, \
     r.revision FROM rollouts r JOIN environments e ON e.id = r.environment_id";

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

fn int(v: usize) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl SqlxStore {
    async fn rollouts_where(&self, condition: &str, bind: i64) -> Result<Vec<RolloutRecord>> {
        let rows: Vec<RolloutRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE {condition} ORDER BY r.id DESC LIMIT 200"
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
    pub(crate) async fn list_rollouts(
        &self,
        environment: Option<&str>,
        active: bool,
    ) -> Result<Vec<RolloutRecord>> {
        let all = if active {
            self.rollouts_where(
                "r.status IN ('draft', 'scheduled', 'running') AND r.id > $1",
                0,
            )
            .await?
        } else {
            self.rollouts_where("r.id > $1", 0).await?
        };
        Ok(all
            .into_iter()
            .filter(|r| environment.is_none_or(|e| r.environment == e))
            .collect())
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

    pub(crate) async fn insert_rollout(
        &self,
        actor: &Actor,
        d: DraftRollout<'_>,
        now: i64,
    ) -> Result<RolloutRecord> {
        let env_id = self.environment_id(d.environment).await?;
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rollouts (environment_id, title, template, release, plan, status, start_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8) RETURNING id",
        )
        .bind(env_id)
        .bind(d.title)
        .bind(d.template)
        .bind(state_json(d.release))
        .bind(state_json(d.plan))
        .bind(d.start_at)
        .bind(&actor.name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_error("create a rollout"))?;
        let message = format!("Planned by {}: {}", actor.name, d.title);
        add_event(
            &mut tx,
            Timeline::Rollout(id),
            EventLevel::Info,
            &actor.name,
            &message,
            now,
        )
        .await?;
        let event = NewEvent {
            actor,
            action: AuditAction::RolloutCreate,
            target: format!("rollout:{id}"),
            before: None,
            after: state_json(&serde_json::json!({"release": d.release, "plan": d.plan})),
            at: now,
        };
        commit_with_event(tx, event).await?;
        self.rollout_by_id(id).await
    }

    /// Saves a draft again; refused once it has started.
    pub(crate) async fn update_draft(
        &self,
        actor: &Actor,
        id: i64,
        d: DraftRollout<'_>,
        now: i64,
    ) -> Result<RolloutRecord> {
        let before = self.rollout_by_id(id).await?;
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        let changed = sqlx::query(
            "UPDATE rollouts SET title = $1, template = $2, release = $3, plan = $4, start_at = $5, \
             revision = revision + 1 WHERE id = $6 AND status = 'draft'",
        )
        .bind(d.title)
        .bind(d.template)
        .bind(state_json(d.release))
        .bind(state_json(d.plan))
        .bind(d.start_at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("save a rollout"))?
        .rows_affected();
        if changed == 0 {
            return Err(Error::Conflict {
                field: "status",
                message: format!(
                    "rollout #{id} is {}; only a draft can be edited",
                    before.status.label().to_lowercase()
                ),
            });
        }
        add_event(
            &mut tx,
            Timeline::Rollout(id),
            EventLevel::Info,
            &actor.name,
            "Plan edited",
            now,
        )
        .await?;
        let event = NewEvent {
            actor,
            action: AuditAction::RolloutUpdate,
            target: format!("rollout:{id}"),
            before: state_json(
                &serde_json::json!({"release": before.release, "plan": before.plan}),
            ),
            after: state_json(&serde_json::json!({"release": d.release, "plan": d.plan})),
            at: now,
        };
        commit_with_event(tx, event).await?;
        self.rollout_by_id(id).await
    }

    async fn environment_id(&self, key: &str) -> Result<i64> {
        sqlx::query_scalar::<_, i64>("SELECT id FROM environments WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(backend_error("read an environment"))?
            .ok_or(Error::NotFound("environment"))
    }

    /// Claims the release's app and flags and marks the rollout started (`running`) or
    /// `scheduled`; refused when another active rollout holds one of them.
    pub(crate) async fn start_rollout(
        &self,
        actor: &Actor,
        r: &RolloutRecord,
        scheduled: bool,
        now: i64,
    ) -> Result<RolloutRecord> {
        let env_id = self.environment_id(&r.environment).await?;
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        for c in claim::claims(&r.release) {
            claim(&mut tx, env_id, c, r.id).await?;
        }
        let (status, message) = if scheduled {
            ("scheduled", format!("Scheduled by {}", actor.name))
        } else {
            ("running", format!("Started by {}", actor.name))
        };
        let changed = sqlx::query(
            "UPDATE rollouts SET status = $1, started_by = $2, started_at = $3, phase = 0, step = 0, \
             visit = 1, stop_since = $3, applied = 0, advance = 0, next_attempt_at = 0, \
             revision = revision + 1 WHERE id = $4 AND status IN ('draft', 'scheduled') AND revision = $5",
        )
        .bind(status)
        .bind(&actor.name)
        .bind(now)
        .bind(r.id)
        .bind(r.revision)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("start a rollout"))?
        .rows_affected();
        if changed == 0 {
            return Err(Error::Conflict {
                field: "status",
                message: format!("rollout #{} changed meanwhile; look again", r.id),
            });
        }
        add_event(
            &mut tx,
            Timeline::Rollout(r.id),
            EventLevel::Info,
            &actor.name,
            &message,
            now,
        )
        .await?;
        let event = NewEvent {
            actor,
            action: AuditAction::RolloutStart,
            target: format!("rollout:{}", r.id),
            before: state_json(&r.status),
            after: state_json(&status),
            at: now,
        };
        commit_with_event(tx, event).await?;
        self.announce(Changed::Rollout(r.id));
        self.rollout_by_id(r.id).await
    }

    /// The controller's write, applied only if nobody changed the rollout since it was read.
    pub(crate) async fn save_rollout(
        &self,
        r: &RolloutRecord,
        u: &RolloutUpdate,
        events: &[(EventLevel, String)],
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        let changed = write_update(&mut tx, r, u, now).await?;
        if !changed {
            return Ok(false);
        }
        for (level, message) in events {
            add_event(
                &mut tx,
                Timeline::Rollout(r.id),
                *level,
                "controller",
                message,
                now,
            )
            .await?;
        }
        tx.commit().await.map_err(backend_error("commit"))?;
        Ok(true)
    }

    /// A person's command: the update, its timeline line and its audit record together.
    pub(crate) async fn command_rollout(
        &self,
        actor: &Actor,
        r: &RolloutRecord,
        u: &RolloutUpdate,
        action: AuditAction,
        message: &str,
        now: i64,
    ) -> Result<RolloutRecord> {
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        if !write_update(&mut tx, r, u, now).await? {
            return Err(Error::Conflict {
                field: "revision",
                message: format!("rollout #{} changed meanwhile; look again", r.id),
            });
        }
        add_event(
            &mut tx,
            Timeline::Rollout(r.id),
            EventLevel::Info,
            &actor.name,
            message,
            now,
        )
        .await?;
        let event = NewEvent {
            actor,
            action,
            target: format!("rollout:{}", r.id),
            before: state_json(
                &serde_json::json!({"status": r.status, "position": r.position, "paused": r.paused}),
            ),
            after: state_json(
                &serde_json::json!({"status": u.status, "position": u.position, "paused": u.paused, "why": message}),
            ),
            at: now,
        };
        commit_with_event(tx, event).await?;
        self.announce(Changed::Rollout(r.id));
        self.rollout_by_id(r.id).await
    }

    /// An approval: the gate passes with the approver's name, role and comment as evidence.
    pub(crate) async fn approve_gate(
        &self,
        actor: &Actor,
        rollout: i64,
        gate: i64,
        evidence: &serde_json::Value,
        summary: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(backend_error("begin"))?;
        let changed = sqlx::query(
            "UPDATE gate_results SET status = 'passed', summary = $1, evidence = $2, finished_at = $3 \
             WHERE id = $4 AND rollout_id = $5 AND status = 'running' AND kind = 'approval'",
        )
        .bind(summary)
        .bind(evidence.to_string())
        .bind(now)
        .bind(gate)
        .bind(rollout)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("approve"))?
        .rows_affected();
        if changed == 0 {
            return Err(Error::Conflict {
                field: "command",
                message: "the approval was given or withdrawn meanwhile".into(),
            });
        }
        sqlx::query(
            "UPDATE rollouts SET next_attempt_at = 0, revision = revision + 1 WHERE id = $1",
        )
        .bind(rollout)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("approve"))?;
        add_event(
            &mut tx,
            Timeline::Rollout(rollout),
            EventLevel::Info,
            &actor.name,
            summary,
            now,
        )
        .await?;
        let event = NewEvent {
            actor,
            action: AuditAction::RolloutApprove,
            target: format!("rollout:{rollout}"),
            before: None,
            after: Some(evidence.to_string()),
            at: now,
        };
        commit_with_event(tx, event).await?;
        self.announce(Changed::Rollout(rollout));
        Ok(())
    }
}

/// Takes `c` for rollout `rollout`, unless another active rollout holds it.
async fn claim(
    tx: &mut Transaction<'_, Any>,
    env_id: i64,
    c: Claim<'_>,
    rollout: i64,
) -> Result<()> {
    let holder: Option<(i64, String)> = sqlx::query_as(
        "SELECT r.id, r.title FROM rollout_claims c JOIN rollouts r ON r.id = c.rollout_id \
         WHERE c.environment_id = $1 AND c.kind = $2 AND c.name = $3",
    )
    .bind(env_id)
    .bind(c.kind.key())
    .bind(c.name)
    .fetch_optional(&mut **tx)
    .await
    .map_err(backend_error("read rollout claims"))?;
    let holder = holder.map(|(rollout, title)| Holder { rollout, title });
    if let Some(why) = claim::refusal(c, holder.as_ref(), rollout) {
        return Err(refused(why));
    }
    let inserted = sqlx::query(
        "INSERT INTO rollout_claims (environment_id, kind, name, rollout_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(env_id)
    .bind(c.kind.key())
    .bind(c.name)
    .bind(rollout)
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_database_error().map(|d| d.kind())
                == Some(sqlx::error::ErrorKind::UniqueViolation) =>
        {
            Err(refused(claim::lost_race(c)))
        }
        Err(e) => Err(backend_error("claim a rollout's app or flag")(e)),
    }
}

/// A claim refused: a conflict on the field the domain names.
fn refused(why: InvalidInput) -> Error {
    Error::Refused(AppError::Conflict {
        field: why.field,
        message: why.message,
    })
}

async fn write_update(
    tx: &mut Transaction<'_, Any>,
    r: &RolloutRecord,
    u: &RolloutUpdate,
    now: i64,
) -> Result<bool> {
    let over = u.status.is_over();
    let changed = sqlx::query(
        "UPDATE rollouts SET status = $1, paused = $2, phase = $3, step = $4, visit = $5, stop_since = $6, \
         applied = $7, advance = $8, waiting = $9, last_error = $10, attempts = $11, next_attempt_at = $12, \
         deployment_id = $13, flags_before = $14, reason = $15, finished_at = $16, revision = revision + 1 \
         WHERE id = $17 AND revision = $18",
    )
    .bind(u.status.key())
    .bind(i64::from(u.paused))
    .bind(int(u.position.phase))
    .bind(int(u.position.step))
    .bind(u.visit)
    .bind(u.stop_since)
    .bind(i64::from(u.applied))
    .bind(i64::from(u.advance))
    .bind(&u.waiting)
    .bind(&u.last_error)
    .bind(i64::from(u.attempts))
    .bind(u.next_attempt_at)
    .bind(u.deployment_id)
    .bind(&u.flags_before)
    .bind(&u.reason)
    .bind(over.then_some(now))
    .bind(r.id)
    .bind(r.revision)
    .execute(&mut **tx)
    .await
    .map_err(backend_error("save a rollout"))?
    .rows_affected();
    if changed > 0 && over {
        sqlx::query("DELETE FROM rollout_claims WHERE rollout_id = $1")
            .bind(r.id)
            .execute(&mut **tx)
            .await
            .map_err(backend_error("release a rollout's claims"))?;
    }
    Ok(changed > 0)
}
