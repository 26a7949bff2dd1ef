//! The `Rollouts` port: plan templates, creating and editing rollouts with every reference
//! checked (app, flags, segments, analysis templates), and the commands people give a rollout,
//! each checked against its state and written with its audit event.

use async_trait::async_trait;
use varai_core::accounts::Principal;
use varai_core::clock::now_ms;
use varai_core::error::{AppError, Result};
use varai_core::rollouts::RolloutFilter;
use varai_core::rollouts::Rollouts;
use varai_core::rollouts::{
    NewPlanTemplate, NewRollout, PlanTemplate, RolloutCommand, RolloutRecord, RolloutStatus,
    RolloutView,
};
use varai_domain::AuditAction;
use varai_domain::plan::{GateStatus, Position, stop_index, stops};

use super::RolloutService;
use crate::storage::{DraftRollout, RolloutUpdate, Timeline};

fn conflict(message: impl Into<String>) -> AppError {
    AppError::Conflict {
        field: "command".into(),
        message: message.into(),
    }
}

impl RolloutService {
    async fn start(&self, who: &Principal, r: &RolloutRecord) -> Result<RolloutRecord> {
        if r.status != RolloutStatus::Draft {
            return Err(conflict(format!(
                "rollout #{} is {}; only a draft can be started",
                r.id,
                r.status.label().to_lowercase()
            )));
        }
        let scheduled = r.start_at.is_some_and(|at| at > now_ms());
        Ok(self
            .store
            .start_rollout(&who.actor, r, scheduled, now_ms())
            .await?)
    }

    /// Skip never passes an approval gate its caller could not give: the gate's role, and
    /// with four eyes someone who neither wrote, edited nor started the plan.
    async fn refuse_skipping_an_approval(
        &self,
        who: &Principal,
        r: &RolloutRecord,
        visit: i64,
    ) -> Result<()> {
        let results = self.store.gate_results(r.id).await?;
        let passed = |gate: usize| {
            results.iter().any(|g| {
                g.visit == visit
                    && g.gate == gate
                    && g.status == GateStatus::Passed
                    && Position {
                        phase: g.phase,
                        step: g.step,
                    } == r.position
            })
        };
        let people: Vec<&str> = who.actor.people().collect();
        match r.approval_skip_would_pass(&people, who.role, passed) {
            None => Ok(()),
            Some((gate, refusal)) => Err(conflict(format!(
                "Skip would pass \"{gate}\" without its approval. {}",
                refusal.explain()
            ))),
        }
    }

    /// The update, audit action and timeline line of a command that changes the row.
    async fn change(
        &self,
        who: &Principal,
        r: &RolloutRecord,
        command: &RolloutCommand,
    ) -> Result<(RolloutUpdate, AuditAction, String)> {
        let s = self.store.rollout_state(r.id).await?;
        let mut u = s.unchanged();
        let name = &who.actor.name;
        let running = r.status == RolloutStatus::Running;
        let over = || {
            conflict(format!(
                "rollout #{} is {}",
                r.id,
                r.status.label().to_lowercase()
            ))
        };
        Ok(match command {
            RolloutCommand::Advance if running => {
                u.advance = true;
                u.next_attempt_at = 0;
                (
                    u,
                    AuditAction::RolloutAdvance,
                    format!("Advance asked by {name}"),
                )
            }
            RolloutCommand::Pause if running && !r.paused => {
                u.paused = true;
                u.waiting = Some(format!("paused by {name}; resume to go on"));
                (u, AuditAction::RolloutPause, format!("Paused by {name}"))
            }
            RolloutCommand::Pause if running => {
                return Err(conflict("the rollout is already paused"));
            }
            RolloutCommand::Resume if running && r.paused => {
                let results = self.store.gate_results(r.id).await?;
                let undecided = results.iter().any(|g| {
                    g.visit == s.visit
                        && g.status == GateStatus::Inconclusive
                        && Position {
                            phase: g.phase,
                            step: g.step,
                        } == r.position
                });
                u.paused = false;
                u.waiting = None;
                u.next_attempt_at = 0;
                if undecided {
                    u.visit += 1;
                }
                (u, AuditAction::RolloutResume, format!("Resumed by {name}"))
            }
            RolloutCommand::Resume if running => return Err(conflict("the rollout is not paused")),
            RolloutCommand::Skip { reason } if running => {
                self.refuse_skipping_an_approval(who, r, s.visit).await?;
                let all = stops(&r.plan);
                let at = stop_index(&all, r.position).unwrap_or(0);
                let label = all.get(at).map(|s| s.label()).unwrap_or_default();
                match all.get(at + 1) {
                    Some(next) => {
                        u.position = next.position;
                        u.visit += 1;
                        u.applied = false;
                        u.advance = false;
                        u.stop_since = Some(now_ms());
                        u.waiting = None;
                        u.next_attempt_at = 0;
                        let m = format!(
                            "{label} skipped by {name}: {reason}; entering {}",
                            next.label()
                        );
                        (u, AuditAction::RolloutSkip, m)
                    }
                    None => {
                        u.status = RolloutStatus::Succeeded;
                        u.waiting = None;
                        u.reason = Some(format!("{label} skipped: {reason}"));
                        let m =
                            format!("{label} skipped by {name}: {reason}; the rollout is complete");
                        (u, AuditAction::RolloutSkip, m)
                    }
                }
            }
            _ => return Err(over()),
        })
    }

    /// Abort or roll back: the release taken back now, under the person's name.
    async fn end(
        &self,
        who: &Principal,
        r: &RolloutRecord,
        status: RolloutStatus,
        reason: &str,
    ) -> Result<RolloutRecord> {
        if !matches!(
            r.status,
            RolloutStatus::Running | RolloutStatus::Scheduled | RolloutStatus::Draft
        ) {
            return Err(conflict(format!(
                "rollout #{} is already {}",
                r.id,
                r.status.label().to_lowercase()
            )));
        }
        let s = self.store.rollout_state(r.id).await?;
        self.take_back(&s, status, reason).await?;
        let update = self.ended(&s, status, reason.to_owned()).update;
        let (action, verb) = match status {
            RolloutStatus::Aborted => (AuditAction::RolloutAbort, "Aborted"),
            _ => (AuditAction::RolloutRollback, "Rolled back"),
        };
        let message = format!("{verb} by {}: {reason}", who.actor.name);
        let ended = self
            .store
            .command_rollout(&who.actor, r, &update, action, &message, now_ms())
            .await?;
        self.stop_gates_of(
            r.id,
            &format!("{} by {}", verb.to_lowercase(), who.actor.name),
        )
        .await;
        Ok(ended)
    }
}

#[async_trait]
impl Rollouts for RolloutService {
    async fn plan_templates(&self) -> Result<Vec<PlanTemplate>> {
        Ok(self.store.plan_templates().await?)
    }

    async fn save_plan_template(
        &self,
        who: &Principal,
        name: &str,
        t: NewPlanTemplate,
    ) -> Result<PlanTemplate> {
        self.check_references(&t.plan).await?;
        Ok(self
            .store
            .save_plan_template(
                &who.actor,
                name,
                t.description.trim(),
                &t.plan,
                t.min_role,
                now_ms(),
            )
            .await?)
    }

    async fn delete_plan_template(&self, who: &Principal, name: &str) -> Result<()> {
        Ok(self
            .store
            .delete_plan_template(&who.actor, name, now_ms())
            .await?)
    }

    async fn create_rollout(
        &self,
        who: &Principal,
        environment: &str,
        new: NewRollout,
    ) -> Result<RolloutRecord> {
        let (template, plan) = self.checked(environment, &new).await?;
        let draft = DraftRollout {
            environment,
            title: &new.title,
            template: template.as_deref(),
            release: &new.release,
            plan: &plan,
            start_at: new.start_at,
        };
        let r = self
            .store
            .insert_rollout(&who.actor, draft, now_ms())
            .await?;
        if new.start {
            return self.start(who, &r).await;
        }
        Ok(r)
    }

    async fn update_rollout(
        &self,
        who: &Principal,
        id: i64,
        new: NewRollout,
    ) -> Result<RolloutRecord> {
        let r = self.store.rollout_by_id(id).await?;
        let (template, plan) = self.checked(&r.environment, &new).await?;
        let draft = DraftRollout {
            environment: &r.environment,
            title: &new.title,
            template: template.as_deref(),
            release: &new.release,
            plan: &plan,
            start_at: new.start_at,
        };
        let saved = self
            .store
            .update_draft(&who.actor, id, draft, now_ms())
            .await?;
        if new.start {
            return self.start(who, &saved).await;
        }
        Ok(saved)
    }

    async fn rollouts(&self, filter: RolloutFilter) -> Result<Vec<RolloutRecord>> {
        Ok(self
            .store
            .list_rollouts(filter.environment.as_deref(), filter.active)
            .await?)
    }

    async fn rollout(&self, id: i64) -> Result<RolloutView> {
        Ok(RolloutView {
            rollout: self.store.rollout_by_id(id).await?,
            gates: self.store.gate_results(id).await?,
            events: self.store.timeline(Timeline::Rollout(id)).await?,
        })
    }

    async fn command(
        &self,
        who: &Principal,
        id: i64,
        command: RolloutCommand,
    ) -> Result<RolloutRecord> {
        let _exclusive = self.lock_rollout(id).await;
        let r = self.store.rollout_by_id(id).await?;
        match &command {
            RolloutCommand::Start => self.start(who, &r).await,
            RolloutCommand::Approve { .. } => Err(AppError::Invalid {
                field: "command".into(),
                message: "an approval names the gate it completes".into(),
            }),
            RolloutCommand::Abort { reason } => {
                self.end(who, &r, RolloutStatus::Aborted, reason).await
            }
            RolloutCommand::RollBack { reason } => {
                self.end(who, &r, RolloutStatus::RolledBack, reason).await
            }
            other => {
                let (update, action, message) = self.change(who, &r, other).await?;
                let changed = self
                    .store
                    .command_rollout(&who.actor, &r, &update, action, &message, now_ms())
                    .await?;
                if matches!(other, RolloutCommand::Skip { .. }) {
                    let why = format!("{} skipped the phase", who.actor.name);
                    self.stop_gates_of(id, &why).await;
                }
                Ok(changed)
            }
        }
    }

    async fn approve(
        &self,
        who: &Principal,
        id: i64,
        row: i64,
        comment: &str,
    ) -> Result<RolloutRecord> {
        let _exclusive = self.lock_rollout(id).await;
        let r = self.store.rollout_by_id(id).await?;
        if r.status != RolloutStatus::Running {
            return Err(conflict(format!("rollout #{id} is not running")));
        }
        // The gate the use case authorised must still be the one waiting, at this stop and visit.
        let waiting = self.store.gate_results(id).await?.into_iter().any(|g| {
            g.id == row
                && g.kind == "approval"
                && g.status == GateStatus::Running
                && g.visit == r.visit
                && Position {
                    phase: g.phase,
                    step: g.step,
                } == r.position
        });
        if !waiting {
            return Err(conflict("the approval was given or withdrawn meanwhile"));
        }
        let now = now_ms();
        let evidence = serde_json::json!({"approver": who.actor.name, "role": who.role,
            "comment": comment, "at": now});
        let summary = format!(
            "{}: approved by {} ({}): {comment}",
            r.stop_label,
            who.actor.name,
            who.role.label().to_lowercase()
        );
        self.store
            .approve_gate(&who.actor, id, row, &evidence, &summary, now)
            .await?;
        Ok(self.store.rollout_by_id(id).await?)
    }
}
