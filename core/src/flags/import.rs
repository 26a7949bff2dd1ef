//! Importing an Unleash client API document into an environment (admins only).

use std::collections::HashMap;
use varai_domain::Role;
use varai_domain::flags::validate::{
    check_flag_spec, check_imported_segment, check_imported_targeting,
};
use varai_domain::flags::{FlagKind, unleash};

use super::ImportReport;
use super::use_cases::{invalid, require_environment};
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
    let mut skipped = Vec::new();
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
    let segment_exists = |key: &str| {
        segments.iter().any(|s| s.key == key)
            || existing_segments.iter().any(|r| r.segment.key == key)
    };
    let variants: HashMap<&str, Vec<String>> = existing
        .iter()
        .map(|f| &f.spec)
        .chain(import.flags.iter().map(|(spec, _)| spec))
        .map(|spec| {
            let names = spec.variants.iter().map(|v| v.name.clone()).collect();
            (spec.key.as_str(), names)
        })
        .collect();
    let mut flags = Vec::new();
    for (spec, targeting) in &import.flags {
        let checked = check_flag_spec(spec, true).and_then(|()| {
            check_imported_targeting(spec, targeting, segment_exists, |f| {
                variants.get(f).cloned()
            })
        });
        if let Err(e) = checked {
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
        flags.push((spec.clone(), targeting.clone()));
    }
    let mut report = services
        .flags
        .import_flags(who, environment, flags, segments, now_ms())
        .await?;
    report.skipped = skipped;
    report.notes = import.notes;
    Ok(report)
}
