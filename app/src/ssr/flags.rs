//! The flag rules: who may change environments, segments, flags and SDK keys, and what a valid
//! change is. Server functions and REST handlers both call these, so they cannot disagree.

use std::collections::{BTreeMap, HashMap};
use varai_domain::Role;
use varai_domain::flags::validate::{
    check_flag_spec, check_key, check_segment, check_targeting, prerequisite_cycle,
};
use varai_domain::flags::{FlagKind, FlagSpec, Segment, Targeting, unleash};

use super::accounts::hash_token;
use super::flag_ports::FlagChange;
use super::passwords::random_secret;
use super::ports::AuditFilter;
use super::{AppState, Principal, now_ms};
use crate::error::{AppError, Result};
use crate::models::{
    AuditPage, CreatedSdkKey, Environment, FlagRecord, ImportReport, SdkKey, SegmentRecord, Usage,
};

/// The prefix of every SDK key secret.
pub const SDK_KEY_PREFIX: &str = "varai_sdk_";
/// The largest Unleash document accepted, in bytes.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

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

fn check_name(field: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(invalid(field, "must be 1 to 80 characters"));
    }
    Ok(name.to_owned())
}

// ---- environments ----

pub async fn list_environments(state: &AppState, who: &Principal) -> Result<Vec<Environment>> {
    who.require(Role::Viewer)?;
    Ok(state.flags.list_environments().await?)
}

pub async fn create_environment(
    state: &AppState,
    who: &Principal,
    key: &str,
    name: &str,
) -> Result<Environment> {
    who.require(Role::Admin)?;
    let key = key.trim();
    check_key("key", key)?;
    let name = check_name("name", name)?;
    Ok(state
        .flags
        .create_environment(&who.actor, key, &name, now_ms())
        .await?)
}

pub async fn rename_environment(
    state: &AppState,
    who: &Principal,
    key: &str,
    name: &str,
    version: i64,
) -> Result<Environment> {
    who.require(Role::Admin)?;
    let name = check_name("name", name)?;
    Ok(state
        .flags
        .rename_environment(&who.actor, key, &name, version, now_ms())
        .await?)
}

/// What still uses an environment: flags switched on or with rules there, and live SDK keys.
pub async fn environment_usage(state: &AppState, key: &str) -> Result<Usage> {
    let flags = state.flags.list_flags().await?;
    let keys = state.flags.list_sdk_keys().await?;
    Ok(Usage {
        flags: flags
            .iter()
            .filter_map(|f| {
                let t = f.environments.get(key)?;
                let what = match (t.enabled, t.rules.len()) {
                    (true, 0) => "on".to_owned(),
                    (true, n) => format!("on, {n} rules"),
                    (false, 0) => return None,
                    (false, n) => format!("{n} rules"),
                };
                Some(format!("{} ({what})", f.spec.key))
            })
            .collect(),
        sdk_keys: keys
            .iter()
            .filter(|k| k.environment == key && k.revoked_at.is_none())
            .map(|k| k.name.clone())
            .collect(),
    })
}

pub async fn delete_environment(state: &AppState, who: &Principal, key: &str) -> Result<()> {
    who.require(Role::Admin)?;
    let envs = state.flags.list_environments().await?;
    if !envs.iter().any(|e| e.key == key) {
        return Err(AppError::NotFound("environment".into()));
    }
    if envs.len() == 1 {
        return Err(conflict(
            "environment",
            "the last environment cannot be removed",
        ));
    }
    let usage = environment_usage(state, key).await?;
    if !usage.is_empty() {
        let mut parts = Vec::new();
        if !usage.flags.is_empty() {
            parts.push(format!(
                "flags {} (switch them off and clear their rules there)",
                usage.flags.join(", ")
            ));
        }
        if !usage.sdk_keys.is_empty() {
            parts.push(format!(
                "SDK keys {} (revoke them)",
                usage.sdk_keys.join(", ")
            ));
        }
        return Err(conflict(
            "environment",
            format!("'{key}' is still used by {}", parts.join("; and ")),
        ));
    }
    Ok(state
        .flags
        .delete_environment(&who.actor, key, now_ms())
        .await?)
}

// ---- segments ----

pub async fn list_segments(state: &AppState, who: &Principal) -> Result<Vec<SegmentRecord>> {
    who.require(Role::Viewer)?;
    Ok(state.flags.list_segments().await?)
}

/// Where a segment is used: `flag (environment)` for every rule naming it.
pub async fn segment_usage(state: &AppState, who: &Principal, key: &str) -> Result<Vec<String>> {
    who.require(Role::Viewer)?;
    let flags = state.flags.list_flags().await?;
    Ok(uses_of_segment(&flags, key))
}

/// `flag (environment)` for every flag whose rules in an environment name `segment`.
pub fn uses_of_segment(flags: &[FlagRecord], segment: &str) -> Vec<String> {
    flags
        .iter()
        .flat_map(|f| {
            f.environments
                .iter()
                .filter(|(_, t)| {
                    t.rules
                        .iter()
                        .any(|r| r.segments.iter().any(|s| s == segment))
                })
                .map(move |(env, _)| format!("{} ({env})", f.spec.key))
        })
        .collect()
}

pub async fn create_segment(
    state: &AppState,
    who: &Principal,
    segment: Segment,
) -> Result<SegmentRecord> {
    who.require(Role::Developer)?;
    check_segment(&segment)?;
    Ok(state
        .flags
        .create_segment(&who.actor, &segment, now_ms())
        .await?)
}

pub async fn update_segment(
    state: &AppState,
    who: &Principal,
    key: &str,
    segment: Segment,
    version: i64,
) -> Result<SegmentRecord> {
    who.require(Role::Developer)?;
    if segment.key != key {
        return Err(invalid("key", "a segment's key cannot change"));
    }
    check_segment(&segment)?;
    Ok(state
        .flags
        .update_segment(&who.actor, key, &segment, version, now_ms())
        .await?)
}

pub async fn delete_segment(state: &AppState, who: &Principal, key: &str) -> Result<()> {
    who.require(Role::Developer)?;
    let uses = segment_usage(state, who, key).await?;
    if !uses.is_empty() {
        return Err(conflict(
            "segment",
            format!(
                "'{key}' is used by the rules of {}; remove it from them first",
                uses.join(", ")
            ),
        ));
    }
    Ok(state
        .flags
        .delete_segment(&who.actor, key, now_ms())
        .await?)
}

// ---- flags ----

pub async fn list_flags(state: &AppState, who: &Principal) -> Result<Vec<FlagRecord>> {
    who.require(Role::Viewer)?;
    Ok(state.flags.list_flags().await?)
}

pub async fn get_flag(state: &AppState, who: &Principal, key: &str) -> Result<FlagRecord> {
    who.require(Role::Viewer)?;
    state
        .flags
        .get_flag(key)
        .await?
        .ok_or_else(|| AppError::NotFound("flag".into()))
}

/// Creates a flag, off in every environment. `environments` may configure some at once.
pub async fn create_flag(
    state: &AppState,
    who: &Principal,
    spec: FlagSpec,
    environments: BTreeMap<String, Targeting>,
) -> Result<FlagRecord> {
    who.require(Role::Developer)?;
    if spec.kind != FlagKind::Standard {
        return Err(invalid("kind", "only imports create Unleash toggles"));
    }
    check_flag_spec(&spec, false)?;
    check_environments(state, &spec, &environments).await?;
    Ok(state
        .flags
        .create_flag(&who.actor, &spec, &environments, now_ms())
        .await?)
}

/// Saves a flag's definition and targeting; `version` must be the one the editor loaded.
pub async fn save_flag(
    state: &AppState,
    who: &Principal,
    key: &str,
    spec: FlagSpec,
    environments: BTreeMap<String, Targeting>,
    version: i64,
) -> Result<FlagRecord> {
    who.require(Role::Developer)?;
    let current = get_flag(state, who, key).await?;
    if spec.key != key {
        return Err(invalid("key", "a flag's key cannot change"));
    }
    if spec.kind != current.spec.kind {
        return Err(invalid("kind", "a flag's kind cannot change"));
    }
    check_flag_spec(&spec, spec.kind == FlagKind::UnleashToggle)?;
    check_environments(state, &spec, &environments).await?;
    let change = FlagChange::Edit { spec, environments };
    Ok(state
        .flags
        .update_flag(&who.actor, key, change, Some(version), now_ms())
        .await?)
}

/// Checks each environment's targeting against the segments and flags that exist, and that
/// no prerequisite cycle appears.
async fn check_environments(
    state: &AppState,
    spec: &FlagSpec,
    environments: &BTreeMap<String, Targeting>,
) -> Result<()> {
    if environments.is_empty() {
        return Ok(());
    }
    let envs = state.flags.list_environments().await?;
    let segments = state.flags.list_segments().await?;
    let flags = state.flags.list_flags().await?;
    let variants: HashMap<&str, Vec<String>> = flags
        .iter()
        .map(|f| {
            let names = f.spec.variants.iter().map(|v| v.name.clone()).collect();
            (f.spec.key.as_str(), names)
        })
        .collect();
    for (env, t) in environments {
        if !envs.iter().any(|e| &e.key == env) {
            return Err(invalid(
                "environments",
                format!("there is no environment '{env}'"),
            ));
        }
        check_targeting(
            spec,
            t,
            |s| segments.iter().any(|r| r.segment.key == s),
            |f| variants.get(f).cloned(),
        )
        .map_err(|e| invalid(&format!("environments.{env}.{}", e.field), e.message))?;
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
            return Err(invalid(
                &format!("environments.{env}.prerequisites"),
                format!("this makes a prerequisite cycle: {}", cycle.join(" → ")),
            ));
        }
    }
    Ok(())
}

pub async fn toggle_flag(
    state: &AppState,
    who: &Principal,
    key: &str,
    environment: &str,
    enabled: bool,
) -> Result<FlagRecord> {
    who.require(Role::Developer)?;
    let envs = state.flags.list_environments().await?;
    if !envs.iter().any(|e| e.key == environment) {
        return Err(invalid(
            "environment",
            format!("there is no environment '{environment}'"),
        ));
    }
    let change = FlagChange::Toggle {
        environment: environment.to_owned(),
        enabled,
    };
    Ok(state
        .flags
        .update_flag(&who.actor, key, change, None, now_ms())
        .await?)
}

pub async fn set_flag_archived(
    state: &AppState,
    who: &Principal,
    key: &str,
    archived: bool,
) -> Result<FlagRecord> {
    who.require(Role::Developer)?;
    Ok(state
        .flags
        .update_flag(
            &who.actor,
            key,
            FlagChange::Archive(archived),
            None,
            now_ms(),
        )
        .await?)
}

/// The audit events about one flag, newest first.
pub async fn flag_history(
    state: &AppState,
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
    Ok(state.accounts.list_audit(&filter).await?)
}

/// Imports an Unleash client API document into `environment`.
pub async fn import_unleash(
    state: &AppState,
    who: &Principal,
    environment: &str,
    document: &str,
) -> Result<ImportReport> {
    who.require(Role::Admin)?;
    if document.len() > MAX_IMPORT_BYTES {
        return Err(invalid(
            "document",
            format!("is larger than {} MB", MAX_IMPORT_BYTES / 1024 / 1024),
        ));
    }
    let envs = state.flags.list_environments().await?;
    if !envs.iter().any(|e| e.key == environment) {
        return Err(invalid(
            "environment",
            format!("there is no environment '{environment}'"),
        ));
    }
    let import = unleash::read_document(document)?;
    let existing = state.flags.list_flags().await?;
    let mut skipped = Vec::new();
    let mut flags = Vec::new();
    for (spec, targeting) in import.flags {
        if let Err(e) = check_flag_spec(&spec, true) {
            skipped.push(format!("{}: {e}", spec.key));
            continue;
        }
        if existing
            .iter()
            .any(|f| f.spec.key == spec.key && f.spec.kind != FlagKind::UnleashToggle)
        {
            skipped.push(format!(
                "{}: a flag with this key was created here, not imported; it is left as it is",
                spec.key
            ));
            continue;
        }
        flags.push((spec, targeting));
    }
    let mut report = state
        .flags
        .import_flags(&who.actor, environment, flags, import.segments, now_ms())
        .await?;
    report.skipped = skipped;
    report.notes = import.notes;
    Ok(report)
}

// ---- SDK keys ----

pub async fn list_sdk_keys(state: &AppState, who: &Principal) -> Result<Vec<SdkKey>> {
    who.require(Role::Admin)?;
    Ok(state.flags.list_sdk_keys().await?)
}

pub async fn create_sdk_key(
    state: &AppState,
    who: &Principal,
    environment: &str,
    name: &str,
) -> Result<CreatedSdkKey> {
    who.require(Role::Admin)?;
    let name = check_name("name", name)?;
    let envs = state.flags.list_environments().await?;
    if !envs.iter().any(|e| e.key == environment) {
        return Err(invalid(
            "environment",
            format!("there is no environment '{environment}'"),
        ));
    }
    let secret = format!("{SDK_KEY_PREFIX}{}", random_secret(40));
    let prefix: String = secret.chars().take(SDK_KEY_PREFIX.len() + 6).collect();
    let key = state
        .flags
        .create_sdk_key(
            &who.actor,
            environment,
            &name,
            &prefix,
            &hash_token(&secret),
            now_ms(),
        )
        .await?;
    Ok(CreatedSdkKey { key, secret })
}

pub async fn revoke_sdk_key(state: &AppState, who: &Principal, id: i64) -> Result<SdkKey> {
    who.require(Role::Admin)?;
    Ok(state.flags.revoke_sdk_key(&who.actor, id, now_ms()).await?)
}
