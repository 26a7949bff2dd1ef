//! Environments and SDK keys: admins add, rename and remove environments (refused while in
//! use, saying what uses them) and issue and revoke the keys applications evaluate with.

use varai_domain::Role;
use varai_domain::flags::validate::check_key;

use super::use_cases::{check_name, conflict, require_environment};
use super::{CreatedSdkKey, Environment, NewSdkKey, SdkKey, Usage};
use crate::Services;
use crate::accounts::{Principal, hash_token, random_secret};
use crate::changes::Protection;
use crate::clock::now_ms;
use crate::error::{AppError, Result};

/// The prefix of every SDK key secret.
pub const SDK_KEY_PREFIX: &str = "varai_sdk_";

pub async fn list_environments(services: &Services, who: &Principal) -> Result<Vec<Environment>> {
    who.require(Role::Viewer)?;
    services.flags.list_environments().await
}

pub async fn create_environment(
    services: &Services,
    who: &Principal,
    key: &str,
    name: &str,
) -> Result<Environment> {
    who.require(Role::Admin)?;
    let key = key.trim();
    check_key("key", key)?;
    let name = check_name("name", name)?;
    services
        .flags
        .create_environment(who, key, &name, now_ms())
        .await
}

pub async fn rename_environment(
    services: &Services,
    who: &Principal,
    key: &str,
    name: &str,
    version: i64,
) -> Result<Environment> {
    who.require(Role::Admin)?;
    let name = check_name("name", name)?;
    services
        .flags
        .rename_environment(who, key, (&name, version), now_ms())
        .await
}

/// Sets who may change an environment directly and who approves change requests there.
pub async fn set_protection(
    services: &Services,
    who: &Principal,
    key: &str,
    protection: Protection,
    version: i64,
) -> Result<Environment> {
    who.require(Role::Admin)?;
    for (field, role) in [
        ("directRole", protection.direct_role),
        ("approverRole", protection.approver_role),
    ] {
        if role == Role::Viewer {
            return Err(AppError::Invalid {
                field: field.into(),
                message: "viewers change nothing: choose developer or above".into(),
            });
        }
    }
    services
        .flags
        .set_protection(who, key, (protection, version), now_ms())
        .await
}

/// What still uses an environment: flags switched on or with rules there, and live SDK keys.
pub async fn environment_usage(services: &Services, key: &str) -> Result<Usage> {
    let flags = services.flags.list_flags().await?;
    let keys = services.flags.list_sdk_keys().await?;
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

pub async fn delete_environment(services: &Services, who: &Principal, key: &str) -> Result<()> {
    who.require(Role::Admin)?;
    let envs = services.flags.list_environments().await?;
    if !envs.iter().any(|e| e.key == key) {
        return Err(AppError::NotFound("environment".into()));
    }
    if envs.len() == 1 {
        return Err(conflict(
            "environment",
            "the last environment cannot be removed",
        ));
    }
    let usage = environment_usage(services, key).await?;
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
    services.flags.delete_environment(who, key, now_ms()).await
}

pub async fn list_sdk_keys(services: &Services, who: &Principal) -> Result<Vec<SdkKey>> {
    who.require(Role::Admin)?;
    services.flags.list_sdk_keys().await
}

pub async fn create_sdk_key(
    services: &Services,
    who: &Principal,
    environment: &str,
    name: &str,
) -> Result<CreatedSdkKey> {
    who.require(Role::Admin)?;
    let name = check_name("name", name)?;
    require_environment(services, environment, "environment").await?;
    let secret = format!("{SDK_KEY_PREFIX}{}", random_secret(40));
    let prefix: String = secret.chars().take(SDK_KEY_PREFIX.len() + 6).collect();
    let new = NewSdkKey {
        environment: environment.to_owned(),
        name,
        prefix,
        secret_hash: hash_token(&secret),
    };
    let key = services.flags.create_sdk_key(who, new, now_ms()).await?;
    Ok(CreatedSdkKey { key, secret })
}

pub async fn revoke_sdk_key(services: &Services, who: &Principal, id: i64) -> Result<SdkKey> {
    who.require(Role::Admin)?;
    services.flags.revoke_sdk_key(who, id, now_ms()).await
}
