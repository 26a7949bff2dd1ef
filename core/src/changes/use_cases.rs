//! The rules of protected environments: which direct changes a policy refuses, what a valid
//! change request is, and who may decide one. The flag and deployment use cases call
//! [`require_direct`] and [`check_flag_protection`]; the dashboard and the REST API call the rest.

use std::collections::BTreeMap;
use varai_domain::Role;
use varai_domain::flags::{FlagSpec, Targeting};

use super::port::{Approval, RequestDraft};
use super::{
    ChangeRequest, ChangeState, Decision, NewChangeRequest, ProposedChange, flag_document,
};
use crate::Services;
use crate::accounts::Principal;
use crate::clock::now_ms;
use crate::deploy::{AppLive, DeployRequest, check_deploy_request};
use crate::error::{AppError, Result};
use crate::flags::{Environment, FlagChange, FlagRecord, check_flag_change};

/// The longest title and review comment, in characters.
pub const MAX_TITLE: usize = 200;
pub const MAX_COMMENT: usize = 2_000;
/// The most requests one person may have waiting for review at once.
pub const MAX_OPEN_PER_PERSON: usize = 20;

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn conflict(field: &str, message: impl Into<String>) -> AppError {
    AppError::Conflict {
        field: field.into(),
        message: message.into(),
    }
}

/// The refusal of a direct change in a protected environment, saying what to do instead.
pub fn protected(env: &Environment) -> AppError {
    let p = env.protection;
    AppError::Protected {
        environment: env.name.clone(),
        key: env.key.clone(),
        message: format!(
            "below {}, changes here go through a rollout or a change request that a person with the {} role or above approves",
            p.direct_role.label().to_lowercase(),
            p.approver_role.label().to_lowercase()
        ),
    }
}

async fn environment(services: &Services, key: &str, field: &str) -> Result<Environment> {
    services
        .flags
        .list_environments()
        .await?
        .into_iter()
        .find(|e| e.key == key)
        .ok_or_else(|| AppError::unknown_environment(field, key))
}

/// Refuses a direct change in `environment` when its protection sends this caller through a
/// change request.
pub async fn require_direct(services: &Services, who: &Principal, environment: &str) -> Result<()> {
    let envs = services.flags.list_environments().await?;
    match envs.iter().find(|e| e.key == environment) {
        Some(e) if e.protection.blocks(who.role) => Err(protected(e)),
        _ => Ok(()),
    }
}

/// The protected environments a flag save would change for this caller: those whose targeting
/// it changes, and, when the definition changes, those where the flag is on.
pub async fn protected_changes(
    services: &Services,
    who: &Principal,
    current: Option<&FlagRecord>,
    spec: &FlagSpec,
    environments: &BTreeMap<String, Targeting>,
) -> Result<Vec<Environment>> {
    let envs = services.flags.list_environments().await?;
    let spec_changed = current.is_some_and(|c| c.spec != *spec);
    Ok(envs
        .into_iter()
        .filter(|e| e.protection.blocks(who.role))
        .filter(|e| {
            let targeting_changed = match (current, environments.get(&e.key)) {
                (Some(c), Some(t)) => *t != c.targeting(&e.key),
                // A new flag: anything but off, without rules, changes what is served.
                (None, Some(t)) => t.enabled || !t.rules.is_empty() || !t.prerequisites.is_empty(),
                (_, None) => false,
            };
            let on_now = current.is_some_and(|c| c.targeting(&e.key).enabled);
            targeting_changed || (spec_changed && on_now)
        })
        .collect())
}

/// Refuses a flag save that changes a protected environment this caller may not change directly.
pub async fn check_flag_protection(
    services: &Services,
    who: &Principal,
    current: Option<&FlagRecord>,
    spec: &FlagSpec,
    environments: &BTreeMap<String, Targeting>,
) -> Result<()> {
    match protected_changes(services, who, current, spec, environments)
        .await?
        .first()
    {
        Some(e) => Err(protected(e)),
        None => Ok(()),
    }
}

fn check_text(field: &str, text: &str, max: usize) -> Result<String> {
    let text = text.trim();
    if text.chars().count() > max || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(invalid(
            field,
            format!("at most {max} characters, without control characters"),
        ));
    }
    Ok(text.to_owned())
}

/// Asks for a change in a protected environment; it waits for another person's review.
pub async fn request_change(
    services: &Services,
    who: &Principal,
    mut new: NewChangeRequest,
) -> Result<ChangeRequest> {
    who.require(Role::Developer)?;
    let title = check_text("title", &new.title, MAX_TITLE)?;
    if title.is_empty() {
        return Err(invalid("title", "say what the change is for"));
    }
    let env = environment(services, &new.environment, "environment").await?;
    let open = services
        .changes
        .list_change_requests(Some(ChangeState::Open), 1_000)
        .await?;
    let mine = open
        .iter()
        .filter(|r| r.created_by == who.actor.name)
        .count();
    if mine >= MAX_OPEN_PER_PERSON {
        return Err(conflict(
            "change",
            format!(
                "you already have {mine} requests waiting for review; withdraw some, or wait for their review"
            ),
        ));
    }
    if !env.protection.protected {
        return Err(conflict(
            "environment",
            format!("{} is not protected: make the change directly", env.name),
        ));
    }
    let (before, after) = match &mut new.change {
        ProposedChange::Flag {
            flag,
            spec,
            environments,
            version,
        } => {
            flag_texts(
                services,
                who,
                &env,
                flag,
                (&*spec, &*environments),
                *version,
            )
            .await?
        }
        ProposedChange::Deploy { app, request } => {
            check_deploy_request(request)?;
            let live = services.deploy.app(&env.key, app).await?;
            deploy_texts(&live, request)?
        }
    };
    let draft = RequestDraft {
        environment: &env.key,
        title: &title,
        change: &new.change,
        before: &before,
        after: &after,
    };
    services
        .changes
        .create_change_request(who, draft, now_ms())
        .await
}

/// Checks a requested flag save as the editor's save is checked, and returns the documents
/// before and after it for the review.
async fn flag_texts(
    services: &Services,
    who: &Principal,
    env: &Environment,
    key: &str,
    (spec, environments): (&FlagSpec, &BTreeMap<String, Targeting>),
    version: i64,
) -> Result<(String, String)> {
    let current = check_flag_change(services, who, key, spec, environments).await?;
    if current.version != version {
        return Err(conflict(
            "version",
            format!(
                "the flag was changed by {} since you loaded it (it is now at version {}); reload, then ask again",
                current.updated_by, current.version
            ),
        ));
    }
    let touched = protected_changes(services, who, Some(&current), spec, environments).await?;
    if touched.is_empty() {
        return Err(conflict(
            "change",
            format!("this does not change the flag in {}", env.name),
        ));
    }
    if let Some(other) = touched.iter().find(|e| e.key != env.key) {
        return Err(conflict(
            "environments",
            format!(
                "one change request covers one protected environment: request the change in {} separately",
                other.name
            ),
        ));
    }
    let before_targeting = environments
        .keys()
        .map(|k| (k.clone(), current.targeting(k)))
        .collect();
    Ok((
        flag_document(&current.spec, &before_targeting),
        flag_document(spec, environments),
    ))
}

/// Checks a requested deployment as a direct one is checked; the texts name what runs now and
/// what would.
fn deploy_texts(live: &AppLive, request: &DeployRequest) -> Result<(String, String)> {
    let desired = live
        .versions
        .iter()
        .find(|v| v.workload == "primary")
        .map_or(1, |v| v.desired.max(1));
    request.strategy.check(desired)?;
    if live.versions.iter().any(|v| v.version == request.version) && live.versions.len() == 1 {
        return Err(invalid(
            "version",
            format!("{} already runs {}", live.app.name, request.version),
        ));
    }
    let running: Vec<&str> = live.versions.iter().map(|v| v.version.as_str()).collect();
    let before = format!(
        "app: {}\nversion: {}\n",
        live.app.name,
        if running.is_empty() {
            "(none running)".to_owned()
        } else {
            running.join(", ")
        }
    );
    let strategy = serde_json::to_string(&request.strategy).unwrap_or_default();
    let mut after = format!(
        "app: {}\nversion: {}\nstrategy: {strategy}\n",
        live.app.name, request.version
    );
    if !request.analysis.is_empty() {
        after.push_str(&format!("analysis: {}\n", request.analysis.join(", ")));
    }
    if let Some(s) = &request.schema_version {
        after.push_str(&format!("schema version: {s}\n"));
    }
    Ok((before, after))
}

pub async fn list_change_requests(
    services: &Services,
    who: &Principal,
    state: Option<ChangeState>,
) -> Result<Vec<ChangeRequest>> {
    who.require(Role::Viewer)?;
    services.changes.list_change_requests(state, 200).await
}

pub async fn get_change_request(
    services: &Services,
    who: &Principal,
    id: i64,
) -> Result<ChangeRequest> {
    who.require(Role::Viewer)?;
    services
        .changes
        .change_request(id)
        .await?
        .ok_or_else(|| AppError::NotFound("change request".into()))
}

/// Why this caller may not approve `request`, if they may not.
pub fn approval_refusal(
    who: &Principal,
    env: &Environment,
    request: &ChangeRequest,
) -> Option<AppError> {
    let needed = env.protection.approver_role.max(Role::Developer);
    if !who.role.allows(needed) {
        return Some(AppError::Forbidden {
            required: needed,
            actual: who.role,
        });
    }
    if who
        .actor
        .people()
        .any(|p| request.requesters.iter().any(|r| r == p))
    {
        return Some(conflict(
            "decision",
            "you asked for this change: another person must approve it",
        ));
    }
    None
}

/// The open requests this caller may approve, for the Overview.
pub async fn awaiting_review(services: &Services, who: &Principal) -> Result<Vec<ChangeRequest>> {
    who.require(Role::Viewer)?;
    let envs = services.flags.list_environments().await?;
    let open = services
        .changes
        .list_change_requests(Some(ChangeState::Open), 200)
        .await?;
    Ok(open
        .into_iter()
        .filter(|r| {
            envs.iter()
                .find(|e| e.key == r.environment)
                .is_some_and(|e| approval_refusal(who, e, r).is_none())
        })
        .collect())
}

/// Approves (and applies), rejects or withdraws an open request.
pub async fn decide_change_request(
    services: &Services,
    who: &Principal,
    id: i64,
    decision: Decision,
    comment: Option<String>,
) -> Result<ChangeRequest> {
    who.require(Role::Developer)?;
    let comment = match comment {
        Some(c) => Some(check_text("comment", &c, MAX_COMMENT)?).filter(|c| !c.is_empty()),
        None => None,
    };
    let request = get_change_request(services, who, id).await?;
    if request.state != ChangeState::Open {
        return Err(conflict(
            "decision",
            format!(
                "this request was already decided: {} by {}",
                request.state.label().to_lowercase(),
                request.decided_by.as_deref().unwrap_or("someone")
            ),
        ));
    }
    let now = now_ms();
    let env = environment(services, &request.environment, "environment").await?;
    match decision {
        Decision::Withdraw => {
            if !who.actor.people().any(|p| p == request.created_by) {
                return Err(conflict(
                    "decision",
                    "only the person who asked can withdraw a request",
                ));
            }
            let closed = (ChangeState::Withdrawn, comment.as_deref());
            close(services, who, id, closed, now).await
        }
        Decision::Reject => {
            if let Some(refusal) = approval_refusal(who, &env, &request) {
                return Err(refusal);
            }
            let closed = (ChangeState::Rejected, comment.as_deref());
            close(services, who, id, closed, now).await
        }
        Decision::Approve => {
            if let Some(refusal) = approval_refusal(who, &env, &request) {
                return Err(refusal);
            }
            apply(services, who, &env, &request, comment).await?;
            get_change_request(services, who, id).await
        }
    }
}

async fn close(
    services: &Services,
    who: &Principal,
    id: i64,
    (state, comment): (ChangeState, Option<&str>),
    now: i64,
) -> Result<ChangeRequest> {
    services
        .changes
        .close_change_request(who, id, state, comment, now)
        .await
}

/// Applies an approved request, in the same transaction as its approval.
async fn apply(
    services: &Services,
    who: &Principal,
    env: &Environment,
    request: &ChangeRequest,
    comment: Option<String>,
) -> Result<()> {
    let approval = Approval {
        request: request.id,
        comment,
    };
    match &request.change {
        ProposedChange::Flag {
            flag,
            spec,
            environments,
            version,
        } => {
            let current = check_flag_change(services, who, flag, spec, environments).await?;
            if current.version != *version {
                return Err(conflict(
                    "version",
                    format!(
                        "the flag was changed by {} since this request was made (version {} → {}): reject it and ask again",
                        current.updated_by, version, current.version
                    ),
                ));
            }
            let change = FlagChange::Edit {
                spec: spec.clone(),
                environments: environments.clone(),
            };
            services
                .changes
                .approve_flag_change(who, &approval, flag, change, *version, now_ms())
                .await?;
        }
        ProposedChange::Deploy {
            app,
            request: deploy,
        } => {
            services
                .deploy
                .start(who, &env.key, app, deploy.clone(), Some(approval))
                .await?;
        }
    }
    Ok(())
}
