//! Importing an Unleash client API document into an environment (admins only).

use varai_domain::Role;
use varai_domain::flags::validate::check_flag_spec;
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
    let mut report = services
        .flags
        .import_flags(who, environment, flags, import.segments, now_ms())
        .await?;
    report.skipped = skipped;
    report.notes = import.notes;
    Ok(report)
}
