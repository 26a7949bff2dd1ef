//! Writing rollouts: drafts created and edited, started (taking their claims), the
//! controller's progress, people's commands and approvals, each with its timeline line and
//! audit event in one transaction, guarded by the row's revision.

use sqlx::{Any, Transaction};
use varai_core::accounts::Actor;
use varai_core::rollouts::{RolloutRecord, RolloutStatus};
use varai_domain::AuditAction;
use varai_domain::plan::claim::{self};
use varai_domain::timeline::EventLevel;

use super::audit::{NewEvent, state_json};
use super::timeline::{Timeline, add_controller_events};
use super::{SqlxStore, backend_error};
use crate::error::{Error, Result};

use super::claims::claim;
use super::rollouts::{DraftRollout, RolloutUpdate, int};

impl SqlxStore {
    pub(crate) async fn insert_rollout(
        &self,
        actor: &Actor,
        d: DraftRollout<'_>,
        now: i64,
    ) -> Result<RolloutRecord> {
        let env_id = self.environment_id(d.environment).await?;
        let involved = self.plan_writers(Vec::new(), actor, d.template).await;
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rollouts (environment_id, title, template, release, plan, status, start_at, created_by, created_at, involved) \
             VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9) RETURNING id",
        )
        .bind(env_id)
        .bind(d.title)
        .bind(d.template)
        .bind(state_json(d.release))
        .bind(state_json(d.plan))
        .bind(d.start_at)
        .bind(&actor.name)
        .bind(now)
        .bind(involved)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_error("create a rollout"))?;
        let message = format!("Planned by {}: {}", actor.name, d.title);
        let event = NewEvent {
            actor,
            action: AuditAction::RolloutCreate,
            target: format!("rollout:{id}"),
            before: None,
            after: state_json(&serde_json::json!({"release": d.release, "plan": d.plan})),
            at: now,
        };
        self.commit_on_timeline(tx, Timeline::Rollout(id), &message, event)
            .await?;
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
        let involved = self
            .plan_writers(before.involved.clone(), actor, d.template)
            .await;
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE rollouts SET title = $1, template = $2, release = $3, plan = $4, start_at = $5, \
             involved = $7, revision = revision + 1 WHERE id = $6 AND status = 'draft'",
        )
        .bind(d.title)
        .bind(d.template)
        .bind(state_json(d.release))
        .bind(state_json(d.plan))
        .bind(d.start_at)
        .bind(id)
        .bind(involved)
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
        self.commit_on_timeline(tx, Timeline::Rollout(id), "Plan edited", event)
            .await?;
        self.rollout_by_id(id).await
    }

    /// `involved` with the actor (and the person behind a token) and, when the plan comes from
    /// a template, everyone who saved that template.
    async fn plan_writers(
        &self,
        involved: Vec<String>,
        actor: &Actor,
        template: Option<&str>,
    ) -> String {
        let authors = match template {
            Some(name) => self
                .plan_template(name)
                .await
                .map(|t| t.authors)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let people = actor.people().chain(authors.iter().map(String::as_str));
        super::plans::with_names(involved, people)
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
        let mut tx = self.begin().await?;
        for c in claim::claims(&r.release) {
            claim(&mut tx, env_id, c, r.id).await?;
        }
        let (status, message) = if scheduled {
            (
                RolloutStatus::Scheduled.key(),
                format!("Scheduled by {}", actor.name),
            )
        } else {
            (
                RolloutStatus::Running.key(),
                format!("Started by {}", actor.name),
            )
        };
        let changed = sqlx::query(
            "UPDATE rollouts SET status = $1, started_by = $2, started_at = $3, phase = 0, step = 0, \
             visit = 1, stop_since = $3, applied = 0, advance = 0, next_attempt_at = 0, involved = $6, \
             revision = revision + 1 WHERE id = $4 AND status IN ('draft', 'scheduled') AND revision = $5",
        )
        .bind(status)
        .bind(&actor.name)
        .bind(now)
        .bind(r.id)
        .bind(r.revision)
        .bind(super::plans::with_names(r.involved.clone(), actor.people()))
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
        let event = NewEvent {
            actor,
            action: AuditAction::RolloutStart,
            target: format!("rollout:{}", r.id),
            before: state_json(&r.status),
            after: state_json(&status),
            at: now,
        };
        self.commit_on_timeline(tx, Timeline::Rollout(r.id), &message, event)
            .await?;
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
        let mut tx = self.begin().await?;
        let changed = write_update(&mut tx, r, u, now).await?;
        if !changed {
            return Ok(false);
        }
        add_controller_events(&mut tx, Timeline::Rollout(r.id), events, now).await?;
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
        let mut tx = self.begin().await?;
        if !write_update(&mut tx, r, u, now).await? {
            return Err(Error::Conflict {
                field: "revision",
                message: format!("rollout #{} changed meanwhile; look again", r.id),
            });
        }
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
        self.commit_on_timeline(tx, Timeline::Rollout(r.id), message, event)
            .await?;
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
        let mut tx = self.begin().await?;
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
        let event = NewEvent {
            actor,
            action: AuditAction::RolloutApprove,
            target: format!("rollout:{rollout}"),
            before: None,
            after: Some(evidence.to_string()),
            at: now,
        };
        self.commit_on_timeline(tx, Timeline::Rollout(rollout), summary, event)
            .await?;
        Ok(())
    }
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
