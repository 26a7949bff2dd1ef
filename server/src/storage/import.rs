//! Writing an Unleash import: segments upserted, each flag's definition and its targeting in
//! one environment written, an audit event per flag and one for the import, in one transaction.

use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap, HashSet};
use varai_core::accounts::Principal;
use varai_core::error::Result as AppResult;
use varai_core::flags::{FlagImporter, FlagRecord, ImportReport};
use varai_domain::AuditAction;
use varai_domain::flags::{FlagSpec, Segment, Targeting};

use super::audit::{NewEvent, state_json, write_event};
use super::flags::audit_state;
use super::segments::{stale, to_json};
use super::{SqlxStore, backend_error};

#[async_trait]
impl FlagImporter for SqlxStore {
    async fn import_flags(
        &self,
        who: &Principal,
        environment: &str,
        flags: Vec<(FlagSpec, Targeting)>,
        segments: Vec<Segment>,
        now: i64,
    ) -> AppResult<ImportReport> {
        let actor = &who.actor;
        let ids = self.environment_ids().await?;
        let existing: HashMap<String, FlagRecord> = self
            .flags_where(None)
            .await?
            .into_iter()
            .map(|f| (f.spec.key.clone(), f))
            .collect();
        let existing_segments: HashSet<String> = self
            .segments()
            .await?
            .into_iter()
            .map(|r| r.segment.key)
            .collect();
        let mut report = ImportReport {
            environment: environment.to_owned(),
            ..ImportReport::default()
        };
        let mut tx = self.begin().await?;
        for s in &segments {
            let json = to_json(s)?;
            if existing_segments.contains(&s.key) {
                sqlx::query(
                    "UPDATE segments SET definition = $1, version = version + 1, updated_at = $2, \
                     updated_by = $3 WHERE key = $4",
                )
                .bind(&json)
                .bind(now)
                .bind(&actor.name)
                .bind(&s.key)
                .execute(&mut *tx)
                .await
                .map_err(backend_error("import a segment"))?;
            } else {
                sqlx::query(
                    "INSERT INTO segments (key, definition, version, created_at, updated_at, updated_by) \
                     VALUES ($1, $2, 1, $3, $3, $4)",
                )
                .bind(&s.key)
                .bind(&json)
                .bind(now)
                .bind(&actor.name)
                .execute(&mut *tx)
                .await
                .map_err(backend_error("import a segment"))?;
            }
            report.segments.push(s.key.clone());
        }
        for (spec, targeting) in flags {
            let written = BTreeMap::from([(environment.to_owned(), targeting)]);
            let (id, before, version) = match existing.get(&spec.key) {
                Some(f) => {
                    let mut after = f.clone();
                    after.spec = spec.clone();
                    after.version += 1;
                    after.updated_at = now;
                    after.updated_by = actor.name.clone();
                    if !self.replace_flag_row(&mut tx, &after, f.version).await? {
                        return Err(stale("flag", f.version, &f.updated_by).into());
                    }
                    report.updated.push(spec.key.clone());
                    (f.id, Some(f), after.version)
                }
                None => {
                    let id = self.insert_flag(&mut tx, actor, &spec, now).await?;
                    report.created.push(spec.key.clone());
                    (id, None, 1)
                }
            };
            self.write_targeting(&mut tx, id, &written, &ids).await?;
            let mut environments = before.map(|b| b.environments.clone()).unwrap_or_default();
            environments.extend(written);
            let after = FlagRecord {
                id,
                spec,
                environments,
                archived_at: before.and_then(|b| b.archived_at),
                version,
                created_at: before.map_or(now, |b| b.created_at),
                updated_at: now,
                updated_by: actor.name.clone(),
            };
            write_event(
                &mut tx,
                NewEvent {
                    actor,
                    action: AuditAction::FlagImport,
                    target: format!("flag:{}", after.spec.key),
                    before: before.and_then(audit_state),
                    after: audit_state(&after),
                    at: now,
                },
            )
            .await?;
        }
        let summary = NewEvent {
            actor,
            action: AuditAction::FlagImport,
            target: format!("environment:{environment}"),
            before: None,
            after: state_json(&report),
            at: now,
        };
        self.commit_flag_change(tx, summary).await?;
        Ok(report)
    }
}
