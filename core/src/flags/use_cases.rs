//! The flag rules: who may change environments, segments, flags and SDK keys, and what a valid
//! change is. Server functions and REST handlers both call these, so they cannot disagree.

use std::collections::{BTreeMap, HashMap};
use varai_domain::flags::validate::{check_flag_spec, check_targeting, prerequisite_cycle};
use varai_domain::flags::{FlagKind, FlagSpec, Targeting};
use varai_domain::{InvalidInput, Role};

use super::FlagRecord;
use super::port::FlagChange;
use crate::Services;
use crate::accounts::{AuditFilter, AuditPage, Principal};
use crate::changes::{check_flag_protection, protected, require_direct};
use crate::clock::now_ms;
use crate::error::{AppError, Result};

pub(super) fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A value contradicting another part of the request (the path, another field): 422.
pub(super) fn unprocessable(field: &str, message: impl Into<String>) -> AppError {
    AppError::Unprocessable {
        field: field.into(),
        message: message.into(),
    }
}

pub(super) fn conflict(field: &str, message: impl Into<String>) -> AppError {
    AppError::Conflict {
        field: field.into(),
        message: message.into(),
    }
}

pub(super) fn check_name(field: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(invalid(field, "must be 1 to 80 characters"));
    }
    Ok(name.to_owned())
}

/// Whether `key` names an environment.
async fn environment_exists(services: &Services, key: &str) -> Result<bool> {
    let envs = services.flags.list_environments().await?;
    Ok(envs.iter().any(|e| e.key == key))
}

/// Refuses a key in a request's body that names no environment, as a problem with `field`.
pub(super) async fn require_environment(services: &Services, key: &str, field: &str) -> Result<()> {
    if environment_exists(services, key).await? {
        Ok(())
    } else {
        Err(AppError::unknown_environment(field, key))
    }
}

pub async fn list_flags(services: &Services, who: &Principal) -> Result<Vec<FlagRecord>> {
    who.require(Role::Viewer)?;
    services.flags.list_flags().await
}

pub async fn get_flag(services: &Services, who: &Principal, key: &str) -> Result<FlagRecord> {
    who.require(Role::Viewer)?;
    services
        .flags
        .get_flag(key)
        .await?
        .ok_or_else(|| AppError::NotFound("flag".into()))
}

/// Creates a flag, off in every environment. `environments` may configure some at once.
pub async fn create_flag(
    services: &Services,
    who: &Principal,
    spec: FlagSpec,
    environments: BTreeMap<String, Targeting>,
) -> Result<FlagRecord> {
    who.require(Role::Developer)?;
    if spec.kind != FlagKind::Standard {
        return Err(unprocessable("kind", "only imports create Unleash toggles"));
    }
    check_flag_spec(&spec, false)?;
    check_environments(services, &spec, &environments).await?;
    check_flag_protection(services, who, None, &spec, &environments).await?;
    services
        .flags
        .create_flag(who, &spec, &environments, now_ms())
        .await
}

/// Saves a flag's definition and targeting; `version` must be the one the editor loaded.
pub async fn save_flag(
    services: &Services,
    who: &Principal,
    key: &str,
    spec: FlagSpec,
    environments: BTreeMap<String, Targeting>,
    version: i64,
) -> Result<FlagRecord> {
    who.require(Role::Developer)?;
    let current = check_flag_change(services, who, key, &spec, &environments).await?;
    check_flag_protection(services, who, Some(&current), &spec, &environments).await?;
    let change = FlagChange::Edit { spec, environments };
    services
        .flags
        .update_flag(who, key, change, Some(version), now_ms())
        .await
}

/// Checks a save of flag `key` as the editor makes it, returning the flag as it stands.
pub async fn check_flag_change(
    services: &Services,
    who: &Principal,
    key: &str,
    spec: &FlagSpec,
    environments: &BTreeMap<String, Targeting>,
) -> Result<FlagRecord> {
    let current = get_flag(services, who, key).await?;
    if spec.key != key {
        return Err(unprocessable("key", "a flag's key cannot change"));
    }
    if spec.kind != current.spec.kind {
        return Err(unprocessable("kind", "a flag's kind cannot change"));
    }
    check_flag_spec(spec, spec.kind == FlagKind::UnleashToggle)?;
    check_environments(services, spec, environments).await?;
    Ok(current)
}

/// Checks each environment's targeting against the segments and flags that exist, and that
/// no prerequisite cycle appears.
async fn check_environments(
    services: &Services,
    spec: &FlagSpec,
    environments: &BTreeMap<String, Targeting>,
) -> Result<()> {
    if environments.is_empty() {
        return Ok(());
    }
    let envs = services.flags.list_environments().await?;
    let segments = services.flags.list_segments().await?;
    let flags = services.flags.list_flags().await?;
    let variants: HashMap<&str, Vec<String>> = flags
        .iter()
        .map(|f| {
            let names = f.spec.variants.iter().map(|v| v.name.clone()).collect();
            (f.spec.key.as_str(), names)
        })
        .collect();
    for (env, t) in environments {
        if !envs.iter().any(|e| &e.key == env) {
            return Err(AppError::unknown_environment("environments", env));
        }
        check_targeting(
            spec,
            t,
            |s| segments.iter().any(|r| r.segment.key == s),
            |f| variants.get(f).cloned(),
        )
        .map_err(|e| InvalidInput {
            field: format!("environments.{env}.{}", e.field),
            ..e
        })?;
        let prerequisites_of = |k: &str| -> Vec<String> {
            let targeting = if k == spec.key {
                Some(t)
            } else {
                flags
                    .iter()
                    .find(|f| f.spec.key == k)
                    .and_then(|f| f.environments.get(env))
            };
            targeting
                .map(|t| t.prerequisites.iter().map(|p| p.flag.clone()).collect())
                .unwrap_or_default()
        };
        if let Some(cycle) = prerequisite_cycle(&spec.key, prerequisites_of) {
            return Err(conflict(
                &format!("environments.{env}.prerequisites"),
                format!("this makes a prerequisite cycle: {}", cycle.join(" → ")),
            ));
        }
    }
    Ok(())
}

pub async fn toggle_flag(
    services: &Services,
    who: &Principal,
    key: &str,
    environment: &str,
    enabled: bool,
) -> Result<FlagRecord> {
    who.require(Role::Developer)?;
    // The environment is part of the path here: one that does not exist is not found.
    if !environment_exists(services, environment).await? {
        return Err(AppError::NotFound(format!("environment '{environment}'")));
    }
    require_direct(services, who, environment).await?;
    let change = FlagChange::Toggle {
        environment: environment.to_owned(),
        enabled,
    };
    services
        .flags
        .update_flag(who, key, change, None, now_ms())
        .await
}

pub async fn set_flag_archived(
    services: &Services,
    who: &Principal,
    key: &str,
    archived: bool,
) -> Result<FlagRecord> {
    who.require(Role::Developer)?;
    let flag = get_flag(services, who, key).await?;
    let envs = services.flags.list_environments().await?;
    if let Some(e) = envs
        .iter()
        .find(|e| e.protection.blocks(who.role) && flag.targeting(&e.key).enabled)
    {
        return Err(protected(e));
    }
    services
        .flags
        .update_flag(who, key, FlagChange::Archive(archived), None, now_ms())
        .await
}

/// The audit events about one flag, newest first.
pub async fn flag_history(
    services: &Services,
    who: &Principal,
    key: &str,
    before: Option<i64>,
) -> Result<AuditPage> {
    who.require(Role::Viewer)?;
    let filter = AuditFilter {
        actor: None,
        target: Some(format!("flag:{key}")),
        before,
        limit: 50,
    };
    services.accounts.list_audit(&filter).await
}
