//! Writing deployments: one started with its snapshot, a person's command checked by the
//! domain, the controller's progress guarded by the row's revision, a rollback's end, and a
//! rollout moving its canary on; each with its timeline line, audit event and announcement.

use sqlx::{Any, Transaction};
use varai_core::accounts::Actor;
use varai_core::deploy::{Control, DeploymentRecord};
use varai_domain::AuditAction;
use varai_domain::deploy::{Controlled, Outcome, Stage, decide_control};

use super::audit::NewEvent;
use super::changes::claim_change_request;
use super::timeline::{Timeline, add_controller_events, add_event};
use super::{Changed, SqlxStore, backend_error};
use crate::error::{Error, Result};
use varai_domain::timeline::EventLevel;

use super::deploy::{NewDeployment, ProgressUpdate, json};

impl SqlxStore {
    /// Writes the snapshot and the deployment with its first event and audit record.
    pub(crate) async fn insert_deployment(
        &self,
        actor: &Actor,
        d: NewDeployment<'_>,
        now: i64,
    ) -> Result<DeploymentRecord> {
        let in_progress = |current: Option<DeploymentRecord>| Error::Conflict {
            field: "version",
            message: match current {
                Some(c) => format!(
                    "{} already has a deployment in progress (#{}, {} → {}, {}: {}); promote, abort or roll it back first",
                    d.app.name,
                    c.id,
                    c.previous_version,
                    c.version,
                    c.strategy.name(),
                    c.stage_label
                ),
                None => format!("{} already has a deployment in progress", d.app.name),
            },
        };
        if let Some(current) = self.in_progress_of(d.app.id).await? {
            return Err(in_progress(Some(current)));
        }
        let stage = Stage::first(d.strategy);
        let mut tx = self.begin().await?;
        let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO deployments (app_id, version, previous_version, strategy, desired, schema_version, \
             stage, stage_since, started_by, started_at, background_analysis) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(d.app.id)
        .bind(d.version)
        .bind(d.previous_version)
        .bind(json(d.strategy))
        .bind(i64::from(d.desired))
        .bind(d.schema_version)
        .bind(json(&stage))
        .bind(now)
        .bind(&actor.name)
        .bind(now)
        .bind(json(&d.background_analysis))
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e)
                if e.as_database_error().map(|d| d.kind())
                    == Some(sqlx::error::ErrorKind::UniqueViolation) =>
            {
                drop(tx);
                return Err(in_progress(self.in_progress_of(d.app.id).await?));
            }
            Err(e) => return Err(backend_error("start a deployment")(e)),
        };
        sqlx::query(
            "INSERT INTO snapshots (app_id, deployment_id, version, schema_version, objects, flags, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(d.app.id)
        .bind(id)
        .bind(d.previous_version)
        .bind(d.schema_version)
        .bind(&d.objects)
        .bind(&d.flags)
        .bind(now)
        .bind(&actor.name)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("take a snapshot"))?;
        if let Some(approval) = d.approval {
            let outcome = format!("deployment #{id} started");
            claim_change_request(&mut tx, approval, actor, &outcome, now).await?;
        }
        let message = format!(
            "{} started: {} → {} ({}), snapshot of {} taken",
            d.app.name,
            d.previous_version,
            d.version,
            d.strategy.name(),
            d.previous_version
        );
        let event = NewEvent {
            actor,
            action: AuditAction::DeploymentStart,
            target: format!("app:{}/{}", d.app.environment, d.app.name),
            before: Some(json(&serde_json::json!({"version": d.previous_version}))),
            after: Some(json(
                &serde_json::json!({"deployment": id, "version": d.version, "strategy": d.strategy}),
            )),
            at: now,
        };
        self.commit_on_timeline(tx, Timeline::Deployment(id), &message, event)
            .await?;
        self.deployment_by_id(id).await
    }

    /// An operator's command, checked against the deployment's state, with its event and
    /// audit record.
    pub(crate) async fn control_deployment(
        &self,
        actor: &Actor,
        id: i64,
        control: Control,
        why: Option<&str>,
        now: i64,
    ) -> Result<DeploymentRecord> {
        let d = self.deployment_by_id(id).await?;
        let at = Controlled {
            id,
            strategy: &d.strategy,
            stage: d.stage,
            stage_label: &d.stage_label,
            paused: d.paused,
            over: !d.in_progress(),
        };
        let effect = decide_control(&at, control).map_err(|message| Error::Conflict {
            field: "control",
            message,
        })?;
        let mut tx = self.begin().await?;
        let aborting = effect.abort.then(|| json(&Stage::Aborting));
        let changed = sqlx::query(
            "UPDATE deployments SET promote = COALESCE($4, promote), paused = COALESCE($5, paused), \
             stage = COALESCE($1, stage), stage_since = CASE WHEN $1 IS NULL THEN stage_since ELSE $2 END, \
             next_attempt_at = 0, revision = revision + 1 WHERE id = $3 AND in_progress = 1",
        )
        .bind(aborting)
        .bind(now)
        .bind(id)
        .bind(effect.promote.map(i64::from))
        .bind(effect.paused.map(i64::from))
        .execute(&mut *tx)
        .await
        .map_err(backend_error("control a deployment"))?
        .rows_affected();
        if changed == 0 {
            return Err(Error::Conflict {
                field: "control",
                message: format!(
                    "deployment #{id} ended meanwhile; nothing to {}",
                    control.label().to_lowercase()
                ),
            });
        }
        let line = match why {
            Some(why) => format!("{} by {}: {why}", capitalise(effect.verb), actor.name),
            None => format!("{} by {}", capitalise(effect.verb), actor.name),
        };
        let event = NewEvent {
            actor,
            action: effect.action,
            target: format!("deployment:{id}"),
            before: Some(json(
                &serde_json::json!({"stage": d.stage, "paused": d.paused}),
            )),
            after: Some(json(&serde_json::json!({"control": control, "why": why}))),
            at: now,
        };
        self.commit_on_timeline(tx, Timeline::Deployment(id), &line, event)
            .await?;
        self.deployment_by_id(id).await
    }

    /// The controller's write: applied only if nobody changed the deployment since it was
    /// read (`revision`); returns whether it was.
    pub(crate) async fn save_progress(
        &self,
        d: &DeploymentRecord,
        update: &ProgressUpdate,
        events: &[(EventLevel, String)],
        now: i64,
    ) -> Result<bool> {
        let finished = match update.stage {
            Stage::Done(_) => Some(now),
            _ => None,
        };
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE deployments SET stage = $1, stage_since = $2, waiting = $3, last_error = $4, attempts = $5, \
             next_attempt_at = $6, finished_at = $7, in_progress = $8, revision = revision + 1 \
             WHERE id = $9 AND revision = $10",
        )
        .bind(json(&update.stage))
        .bind(update.stage_since)
        .bind(&update.waiting)
        .bind(&update.last_error)
        .bind(i64::from(update.attempts))
        .bind(update.next_attempt_at)
        .bind(finished)
        .bind(if finished.is_some() { None } else { Some(1i64) })
        .bind(d.id)
        .bind(d.revision)
        .execute(&mut *tx)
        .await
        .map_err(backend_error("save a deployment's progress"))?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        add_controller_events(&mut tx, Timeline::Deployment(d.id), events, now).await?;
        tx.commit().await.map_err(backend_error("commit"))?;
        if update.stage != d.stage || !events.is_empty() {
            self.announce(Changed::Deployment(d.id));
        }
        Ok(true)
    }

    /// Ends a deployment as rolled back (inside the rollback's transaction).
    pub(crate) async fn finish_rolled_back(
        tx: &mut Transaction<'_, Any>,
        id: i64,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deployments SET stage = $1, stage_since = $2, waiting = NULL, finished_at = $2, \
             in_progress = NULL, revision = revision + 1 WHERE id = $3 AND in_progress = 1",
        )
        .bind(json(&Stage::Done(Outcome::RolledBack)))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(backend_error("finish a rolled-back deployment"))?;
        Ok(())
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl SqlxStore {
    /// Moves a deployment held at canary step `from` (an indefinite pause) on to the next
    /// step, as a rollout entering its next stop does; `false` when it is not held there.
    pub(crate) async fn continue_deployment(
        &self,
        id: i64,
        from: usize,
        why: &str,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE deployments SET stage = $1, stage_since = $2, waiting = NULL, next_attempt_at = 0, \
             revision = revision + 1 WHERE id = $3 AND stage = $4 AND in_progress = 1 AND paused = 0",
        )
        .bind(json(&Stage::Step(from + 1)))
        .bind(now)
        .bind(id)
        .bind(json(&Stage::Step(from)))
        .execute(&mut *tx)
        .await
        .map_err(backend_error("continue a deployment"))?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        add_event(
            &mut tx,
            Timeline::Deployment(id),
            EventLevel::Info,
            "controller",
            why,
            now,
        )
        .await?;
        tx.commit().await.map_err(backend_error("commit"))?;
        self.announce(Changed::Deployment(id));
        Ok(true)
    }
}
