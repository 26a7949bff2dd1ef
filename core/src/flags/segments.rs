//! Segments: developers create, change and delete them; a segment a rule uses cannot be deleted.

use varai_domain::Role;
use varai_domain::flags::Segment;
use varai_domain::flags::validate::check_segment;

use super::use_cases::{conflict, unprocessable};
use super::{FlagRecord, SegmentRecord};
use crate::Services;
use crate::accounts::Principal;
use crate::clock::now_ms;
use crate::error::{AppError, Result};

pub async fn list_segments(services: &Services, who: &Principal) -> Result<Vec<SegmentRecord>> {
    who.require(Role::Viewer)?;
    services.flags.list_segments().await
}

/// Where a segment is used: `flag (environment)` for every rule naming it.
pub async fn segment_usage(services: &Services, who: &Principal, key: &str) -> Result<Vec<String>> {
    who.require(Role::Viewer)?;
    let flags = services.flags.list_flags().await?;
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
    services: &Services,
    who: &Principal,
    segment: Segment,
) -> Result<SegmentRecord> {
    who.require(Role::Developer)?;
    check_segment(&segment)?;
    services.flags.create_segment(who, &segment, now_ms()).await
}

pub async fn update_segment(
    services: &Services,
    who: &Principal,
    key: &str,
    segment: Segment,
    version: i64,
) -> Result<SegmentRecord> {
    who.require(Role::Developer)?;
    if segment.key != key {
        return Err(unprocessable("key", "a segment's key cannot change"));
    }
    check_segment(&segment)?;
    check_segment_protection(services, who, key).await?;
    services
        .flags
        .update_segment(who, &segment, version, now_ms())
        .await
}

/// Refuses a change to a segment that decides a flag switched on in a protected environment
/// this caller may not change directly: the change would reach it without review.
async fn check_segment_protection(services: &Services, who: &Principal, key: &str) -> Result<()> {
    let envs = services.flags.list_environments().await?;
    let flags = services.flags.list_flags().await?;
    for env in envs.iter().filter(|e| e.protection.blocks(who.role)) {
        let deciding = flags.iter().find(|f| {
            let t = f.targeting(&env.key);
            f.archived_at.is_none()
                && t.enabled
                && t.rules.iter().any(|r| r.segments.iter().any(|s| s == key))
        });
        if let Some(flag) = deciding {
            let direct = env.protection.direct_role.label().to_lowercase();
            return Err(AppError::Protected {
                environment: env.name.clone(),
                key: env.key.clone(),
                message: format!(
                    "segment '{key}' decides flag {}, which is on here; ask someone with the {direct} role or above to change the segment",
                    flag.spec.key
                ),
            });
        }
    }
    Ok(())
}

pub async fn delete_segment(services: &Services, who: &Principal, key: &str) -> Result<()> {
    who.require(Role::Developer)?;
    let uses = segment_usage(services, who, key).await?;
    if !uses.is_empty() {
        return Err(conflict(
            "segment",
            format!(
                "'{key}' is used by the rules of {}; remove it from them first",
                uses.join(", ")
            ),
        ));
    }
    services.flags.delete_segment(who, key, now_ms()).await
}
