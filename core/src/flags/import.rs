//! Importing an Unleash client API document into an environment (admins only).

use std::collections::{HashMap, HashSet};
use varai_domain::Role;
use varai_domain::flags::validate::{
    check_flag_spec, check_imported_segment, check_imported_targeting, prerequisite_cycle,
};
use varai_domain::flags::{FlagKind, unleash};
use varai_domain::flags::{FlagSpec, Targeting};

use super::use_cases::{invalid, require_environment};
use super::{FlagRecord, ImportReport};
use crate::Services;
use crate::accounts::Principal;
use crate::clock::now_ms;
use crate::error::Result;

/// The largest Unleash document accepted, in bytes.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

/// Imports an Unleash client API document into `environment`.
pub async fn import_unleash(
    services: &Services,
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
    require_environment(services, environment, "environment").await?;
    let import = unleash::read_document(document)?;
    let existing = services.flags.list_flags().await?;
    let existing_segments = services.flags.list_segments().await?;
    let mut skipped = import.skipped;
    // What the document brings is held to the bounds the API states, so every imported flag
    // and segment reads back as the document describes it; what breaks them is skipped with
    // the reason.
    let mut segments = Vec::new();
    for segment in import.segments {
        match check_imported_segment(&segment) {
            Ok(()) => segments.push(segment),
            Err(e) => skipped.push(format!("segment {}: {e}", segment.key)),
        }
    }
    let segment_keys: HashSet<&str> = segments
        .iter()
        .map(|s| s.key.as_str())
        .chain(existing_segments.iter().map(|r| r.segment.key.as_str()))
        .collect();
    let flags = accepted_flags(
        import.flags,
        &existing,
        environment,
        &segment_keys,
        &mut skipped,
    );
    let mut report = services
        .flags
        .import_flags(who, environment, flags, segments, now_ms())
        .await?;
    report.skipped = skipped;
    report.notes = import.notes;
    report.warnings = import.warnings;
    Ok(report)
}

/// The imported flags that hold to the API's bounds in `environment`, checked against the
/// segments there will be and the flags there will be: a flag whose prerequisite was skipped is
/// skipped too (Unleash's dependencies are one level deep, so one more pass settles it), and
/// none may close a prerequisite cycle with a flag created here.
fn accepted_flags(
    imported: Vec<(FlagSpec, Targeting)>,
    existing: &[FlagRecord],
    environment: &str,
    segment_keys: &HashSet<&str>,
    skipped: &mut Vec<String>,
) -> Vec<(FlagSpec, Targeting)> {
    let created_here: HashSet<&str> = existing
        .iter()
        .filter(|f| f.spec.kind != FlagKind::UnleashToggle)
        .map(|f| f.spec.key.as_str())
        .collect();
    let names_of = |spec: &FlagSpec| spec.variants.iter().map(|v| v.name.clone()).collect();
    let check = |spec: &FlagSpec, t: &Targeting, variants: &HashMap<&str, Vec<String>>| {
        check_flag_spec(spec, true).and_then(|()| {
            check_imported_targeting(
                spec,
                t,
                |k| segment_keys.contains(k),
                |f| variants.get(f).cloned(),
            )
        })
    };
    let mut variants: HashMap<&str, Vec<String>> = existing
        .iter()
        .map(|f| (f.spec.key.as_str(), names_of(&f.spec)))
        .chain(imported.iter().map(|(s, _)| (s.key.as_str(), names_of(s))))
        .collect();
    let mut first = Vec::new();
    for (spec, t) in &imported {
        if created_here.contains(spec.key.as_str()) {
            skipped.push(format!(
                "{}: a flag with this key was created here, not imported; it is left as it is",
                spec.key
            ));
        } else if let Err(e) = check(spec, t, &variants) {
            skipped.push(format!("{}: {e}", spec.key));
        } else {
            first.push((spec, t));
        }
    }
    // The flags there will be: those created here and the imported ones that passed.
    // Looked up by key, once per prerequisite: hashed, so a large document stays linear.
    let will_be: HashMap<&str, &Targeting> =
        first.iter().map(|(s, t)| (s.key.as_str(), *t)).collect();
    let stored: HashMap<&str, &FlagRecord> =
        existing.iter().map(|f| (f.spec.key.as_str(), f)).collect();
    variants.retain(|k, _| will_be.contains_key(k) || stored.contains_key(k));
    let prerequisites_of = |k: &str| -> Vec<String> {
        will_be
            .get(k)
            .copied()
            .or_else(|| stored.get(k).and_then(|f| f.environments.get(environment)))
            .map(|t| t.prerequisites.iter().map(|p| p.flag.clone()).collect())
            .unwrap_or_default()
    };
    let mut accepted = Vec::new();
    for &(spec, t) in &first {
        if t.prerequisites.is_empty() {
            accepted.push((spec.clone(), t.clone()));
            continue;
        }
        let refusal = check(spec, t, &variants)
            .err()
            .map(|e| e.to_string())
            .or_else(|| {
                prerequisite_cycle(&spec.key, prerequisites_of)
                    .map(|cycle| format!("a prerequisite cycle: {}", cycle.join(" → ")))
            });
        match refusal {
            Some(why) => skipped.push(format!("{}: {why}", spec.key)),
            None => accepted.push((spec.clone(), t.clone())),
        }
    }
    accepted
}
