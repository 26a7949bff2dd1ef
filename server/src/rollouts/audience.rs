//! Putting a stop's audience on the release's flags, and the flags' targeting from before the
//! rollout back when it ends badly.

use std::collections::BTreeMap;
use varai_core::accounts::Principal;
use varai_core::clock::now_ms;
use varai_core::error::AppError;
use varai_core::flags::FlagChange;
use varai_core::flags::FlagStore;
use varai_domain::flags::Targeting;
use varai_domain::plan::Exposure;
use varai_domain::plan::audience::exposed_targeting;

use crate::error::{Context, Error, Result};

/// The refusal for a released flag that was deleted meanwhile.
fn gone(key: &str) -> Error {
    Error::Refused(AppError::NotFound(format!("flag '{key}'")))
}

/// Each released flag's targeting in the environment now, to restore later.
pub async fn snapshot(
    flags: &dyn FlagStore,
    environment: &str,
    keys: &[String],
) -> Result<BTreeMap<String, Targeting>> {
    let mut out = BTreeMap::new();
    for key in keys {
        let flag = flags
            .get_flag(key)
            .await
            .doing(format!("reading flag {key}"))?
            .ok_or_else(|| gone(key))?;
        out.insert(key.clone(), flag.targeting(environment));
    }
    Ok(out)
}

async fn set(
    flags: &dyn FlagStore,
    who: &Principal,
    environment: &str,
    key: &str,
    wanted: impl FnOnce(&varai_domain::flags::FlagSpec) -> Result<Targeting>,
) -> Result<bool> {
    let flag = flags
        .get_flag(key)
        .await
        .doing(format!("reading flag {key}"))?
        .ok_or_else(|| gone(key))?;
    let target = wanted(&flag.spec)?;
    if flag.targeting(environment) == target {
        return Ok(false);
    }
    let change = FlagChange::Edit {
        spec: flag.spec.clone(),
        environments: BTreeMap::from([(environment.to_owned(), target)]),
    };
    flags
        .update_flag(who, key, change, Some(flag.version), now_ms())
        .await
        .doing(format!("updating flag {key}"))?;
    Ok(true)
}

/// Gives each flag the stop's audience; returns the flags changed.
pub async fn apply(
    flags: &dyn FlagStore,
    who: &Principal,
    environment: &str,
    rollout: i64,
    before: &BTreeMap<String, Targeting>,
    exposure: &Exposure,
) -> Result<Vec<String>> {
    let mut changed = Vec::new();
    for (key, was) in before {
        let wanted = |spec: &varai_domain::flags::FlagSpec| {
            exposed_targeting(spec, was, rollout, exposure).map_err(|e| Error::Refused(e.into()))
        };
        if set(flags, who, environment, key, wanted).await? {
            changed.push(key.clone());
        }
    }
    Ok(changed)
}

/// Puts each flag's targeting from before the rollout back; returns (flag, outcome) pairs.
pub async fn restore(
    flags: &dyn FlagStore,
    who: &Principal,
    environment: &str,
    before: &BTreeMap<String, Targeting>,
) -> Vec<(String, Result<bool>)> {
    let mut out = Vec::new();
    for (key, was) in before {
        let outcome = set(flags, who, environment, key, |_| Ok(was.clone())).await;
        out.push((key.clone(), outcome));
    }
    out
}
