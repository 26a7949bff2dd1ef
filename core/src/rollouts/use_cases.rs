//! The [`Rollouts`] port (plan templates, rollouts and the commands people give them) and the
//! role rules in front of it, which the dashboard's server functions and the REST API both call.
//!
//! Product managers plan: they save templates and create, edit and start rollouts. Operators
//! steer running ones: pause, resume, skip, abort and roll back. An approval gate names the
//! role it needs; the port checks it, and four-eyes, against the rollout.

use varai_domain::Role;
use varai_domain::plan::{DEFAULT_TEMPLATE, EstimatedStop, Plan, integration_tests};

use super::{
    ApprovalRefusal, NewPlanTemplate, NewRollout, PlanTemplate, RolloutCommand, RolloutFilter,
    RolloutRecord, RolloutStatus, RolloutView,
};
use crate::Services;
use crate::accounts::Principal;
use crate::clock::now_ms;
use crate::error::{AppError, Result};

/// The role a command needs before the rollout itself is looked at (an approval also needs
/// the gate's role, which the port checks).
pub fn command_role(command: &RolloutCommand) -> Role {
    match command {
        RolloutCommand::Start | RolloutCommand::Advance => Role::ProductManager,
        RolloutCommand::Approve { .. } => Role::Developer,
        RolloutCommand::Pause
        | RolloutCommand::Resume
        | RolloutCommand::Skip { .. }
        | RolloutCommand::Abort { .. }
        | RolloutCommand::RollBack { .. } => Role::Operator,
    }
}

fn check_title(title: &str) -> Result<()> {
    if title.trim().is_empty() || title.chars().count() > 120 {
        return Err(AppError::Invalid {
            field: "title".into(),
            message: "a title of 1 to 120 characters".into(),
        });
    }
    Ok(())
}

fn check_reason(command: &mut RolloutCommand) -> Result<()> {
    let (field, text) = match command {
        RolloutCommand::Skip { reason }
        | RolloutCommand::Abort { reason }
        | RolloutCommand::RollBack { reason } => ("reason", reason),
        RolloutCommand::Approve { comment } => ("comment", comment),
        _ => return Ok(()),
    };
    *text = text.trim().to_owned();
    if text.is_empty() || text.chars().count() > 500 {
        return Err(AppError::Invalid {
            field: field.into(),
            message: format!("say why, in 1 to 500 characters ({field})"),
        });
    }
    Ok(())
}

/// Checks a template's name and plan.
fn check_template(name: &str, plan: &Plan) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(AppError::Invalid {
            field: "name".into(),
            message: "lowercase letters, digits and dashes, up to 63 characters".into(),
        });
    }
    // A template is checked as if it released an app and flags, so every gate type is allowed.
    let release = varai_domain::plan::Release {
        app: Some("app".into()),
        version: Some("v".into()),
        flags: vec!["flag".into()],
    };
    plan.check(&release)?;
    Ok(())
}

pub async fn list_plan_templates(
    services: &Services,
    who: &Principal,
) -> Result<Vec<PlanTemplate>> {
    who.require(Role::Viewer)?;
    services.rollouts.plan_templates().await
}

pub async fn save_plan_template(
    services: &Services,
    who: &Principal,
    name: &str,
    t: NewPlanTemplate,
) -> Result<PlanTemplate> {
    who.require(Role::ProductManager)?;
    let existing = services.rollouts.plan_templates().await?;
    let before = existing.iter().find(|b| b.name == name);
    match before {
        Some(b) => may_change_template(who, b)?,
        // Every rollout without a template runs the default, CI's included.
        None if name == DEFAULT_TEMPLATE => who.require(Role::Operator)?,
        None => {}
    }
    if let Some(wanted) = t.min_role
        && before.is_some_and(|b| b.min_role != wanted && !owns(who, b))
    {
        // Only the owner (or an admin) decides who else may change it.
        who.require(Role::Admin)?;
    }
    check_template(name, &t.plan)?;
    check_integration_tests(services, who, &t.plan, None).await?;
    services.rollouts.save_plan_template(who, name, t).await
}

/// Whether the caller (or the person behind their token) owns the template.
fn owns(who: &Principal, t: &PlanTemplate) -> bool {
    t.owner != "system" && who.actor.people().any(|p| p == t.owner)
}

/// A template's owner may change it; anyone else needs its minimum role.
fn may_change_template(who: &Principal, t: &PlanTemplate) -> Result<()> {
    if owns(who, t) {
        return Ok(());
    }
    who.require(t.min_role)
}

pub async fn delete_plan_template(services: &Services, who: &Principal, name: &str) -> Result<()> {
    who.require(Role::ProductManager)?;
    if name == DEFAULT_TEMPLATE {
        return Err(AppError::Conflict {
            field: "name".into(),
            message:
                "the default template cannot be deleted: every rollout without a template runs it"
                    .into(),
        });
    }
    let existing = services.rollouts.plan_templates().await?;
    if let Some(t) = existing.iter().find(|t| t.name == name) {
        may_change_template(who, t)?;
    }
    services.rollouts.delete_plan_template(who, name).await
}

/// Integration tests run any image and command inside the cluster: an operator (or above)
/// writes them. Anyone else may use those of a saved template unchanged (`template`), which an
/// operator wrote.
async fn check_integration_tests(
    services: &Services,
    who: &Principal,
    plan: &Plan,
    template: Option<&str>,
) -> Result<()> {
    let wanted = integration_tests(plan);
    if wanted.is_empty() || who.role >= Role::Operator {
        return Ok(());
    }
    let templates = services.rollouts.plan_templates().await?;
    let name = template.unwrap_or(DEFAULT_TEMPLATE);
    let allowed = templates
        .iter()
        .find(|t| t.name == name)
        .map(|t| integration_tests(&t.plan))
        .unwrap_or_default();
    if wanted.iter().all(|w| allowed.contains(w)) {
        Ok(())
    } else {
        Err(AppError::Forbidden {
            required: Role::Operator,
            actual: who.role,
        })
    }
}

pub async fn create_rollout(
    services: &Services,
    who: &Principal,
    environment: &str,
    mut new: NewRollout,
) -> Result<RolloutRecord> {
    who.require(Role::ProductManager)?;
    new.title = new.title.trim().to_owned();
    check_title(&new.title)?;
    if let Some(plan) = &new.plan {
        check_integration_tests(services, who, plan, new.template.as_deref()).await?;
    }
    services
        .rollouts
        .create_rollout(who, environment, new)
        .await
}

pub async fn update_rollout(
    services: &Services,
    who: &Principal,
    id: i64,
    mut new: NewRollout,
) -> Result<RolloutRecord> {
    who.require(Role::ProductManager)?;
    new.title = new.title.trim().to_owned();
    check_title(&new.title)?;
    if let Some(plan) = &new.plan {
        check_integration_tests(services, who, plan, new.template.as_deref()).await?;
    }
    services.rollouts.update_rollout(who, id, new).await
}

pub async fn list_rollouts(
    services: &Services,
    who: &Principal,
    filter: RolloutFilter,
) -> Result<Vec<RolloutRecord>> {
    who.require(Role::Viewer)?;
    let now = now_ms();
    let all = services.rollouts.rollouts(filter).await?;
    Ok(all.into_iter().map(|r| r.as_of(now)).collect())
}

pub async fn get_rollout(services: &Services, who: &Principal, id: i64) -> Result<RolloutView> {
    who.require(Role::Viewer)?;
    let mut view = services.rollouts.rollout(id).await?;
    view.rollout = view.rollout.as_of(now_ms());
    Ok(view)
}

/// The plan's estimated timeline, with each analysis template's own duration.
pub async fn estimate_plan(
    services: &Services,
    who: &Principal,
    plan: &Plan,
) -> Result<Vec<EstimatedStop>> {
    who.require(Role::Viewer)?;
    let templates = services.monitor.templates().await?;
    let seconds = |name: &str| {
        templates
            .iter()
            .find(|t| t.template.name == name)
            .map(|t| t.template.expected_seconds())
            .unwrap_or(0)
    };
    Ok(varai_domain::plan::estimate(plan, &seconds))
}

/// A person's command to a rollout. Every role rule is here: the command's role first; for an
/// approval, the waiting gate's own role and four eyes.
pub async fn command_rollout(
    services: &Services,
    who: &Principal,
    id: i64,
    mut command: RolloutCommand,
) -> Result<RolloutRecord> {
    who.require(command_role(&command))?;
    check_reason(&mut command)?;
    let RolloutCommand::Approve { comment } = &command else {
        return services.rollouts.command(who, id, command).await;
    };
    let view = services.rollouts.rollout(id).await?;
    if view.rollout.status != RolloutStatus::Running {
        return Err(conflict(format!("rollout #{id} is not running")));
    }
    let people: Vec<&str> = who.actor.people().collect();
    let Some((approval, refusal)) = view.approval_for(&people, who.role) else {
        return Err(conflict(format!(
            "{} is not waiting for an approval",
            view.rollout.stop_label
        )));
    };
    match refusal {
        Some(ApprovalRefusal::Role { needed, actual }) => Err(AppError::Forbidden {
            required: needed,
            actual,
        }),
        Some(ApprovalRefusal::FourEyes) => Err(conflict(format!(
            "four eyes: {} wrote, edited or started this rollout's plan, so someone else must approve it",
            who.actor.name
        ))),
        None => {
            let row = approval.row;
            services.rollouts.approve(who, id, row, comment).await
        }
    }
}

fn conflict(message: String) -> AppError {
    AppError::Conflict {
        field: "command".into(),
        message,
    }
}
