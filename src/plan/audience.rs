//! A stop's audience as flag targeting: the release's variant served to the stop's segments
//! and to its share of all users, by rules placed before the flag's own rules (which stay as
//! they were). Rolling back puts the targeting from before the rollout back whole.

use super::Exposure;
use crate::InvalidInput;
use crate::flags::model::DEFAULT_STICKINESS;
use crate::flags::{FlagSpec, Rule, Serve, Targeting};
use serde_json::Value;

/// The variant a rollout releases: `true` for a boolean flag; otherwise the first variant
/// that is neither the default nor the off variant.
pub fn release_variant(spec: &FlagSpec, before: &Targeting) -> Result<String, InvalidInput> {
    let boolean_on = spec
        .variants
        .iter()
        .find(|v| v.value == Value::Bool(true))
        .map(|v| v.name.clone());
    boolean_on
        .or_else(|| {
            spec.variants
                .iter()
                .find(|v| v.name != before.default_variant && v.name != before.off_variant)
                .map(|v| v.name.clone())
        })
        .ok_or_else(|| {
            InvalidInput::new(
                "release.flags",
                format!(
                    "flag '{}' has no variant to release besides the one everyone gets already",
                    spec.key
                ),
            )
        })
}

fn rule(rollout: i64, what: &str, segments: Vec<String>, share: u32, variant: &str) -> Rule {
    Rule {
        description: format!("rollout #{rollout}: {what}"),
        segments,
        constraints: Vec::new(),
        rollout: share,
        stickiness: DEFAULT_STICKINESS.to_owned(),
        group_id: None,
        serve: Serve::Variant(variant.to_owned()),
    }
}

/// The rules that give `variant` to who `exposure` names.
pub fn rollout_rules(rollout: i64, exposure: &Exposure, variant: &str) -> Vec<Rule> {
    if exposure.full || exposure.users_percent >= 100 {
        return vec![rule(rollout, "everyone", Vec::new(), 100, variant)];
    }
    let mut rules: Vec<Rule> = exposure
        .segments
        .iter()
        .map(|s| {
            rule(
                rollout,
                &format!("segment {s}"),
                vec![s.clone()],
                100,
                variant,
            )
        })
        .collect();
    if exposure.users_percent > 0 {
        let what = format!("{}% of users", exposure.users_percent);
        rules.push(rule(
            rollout,
            &what,
            Vec::new(),
            exposure.users_percent,
            variant,
        ));
    }
    rules
}

/// The flag's targeting at a stop: the rollout's rules first, then, if the flag was on, its
/// own rules from before the rollout. A flag that was off is switched on with everyone else
/// still served its off variant, so only the audience sees a change.
pub fn exposed_targeting(
    spec: &FlagSpec,
    before: &Targeting,
    rollout: i64,
    exposure: &Exposure,
) -> Result<Targeting, InvalidInput> {
    let variant = release_variant(spec, before)?;
    let mut rules = rollout_rules(rollout, exposure, &variant);
    if rules.is_empty() {
        return Ok(before.clone());
    }
    if before.enabled {
        rules.extend(before.rules.iter().cloned());
        return Ok(Targeting {
            rules,
            ..before.clone()
        });
    }
    Ok(Targeting {
        enabled: true,
        rules,
        default_variant: before.off_variant.clone(),
        prerequisites: Vec::new(),
        ..before.clone()
    })
}
