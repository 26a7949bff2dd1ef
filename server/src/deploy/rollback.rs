//! The RollbackManager: putting an app's snapshot back. The snapshot's objects are re-applied
//! (a Service's selector switches back at once; a Deployment gets its old template and size),
//! the extra workloads a deployment created are removed, and the environment's flags are set
//! back on or off as they were. Each object's result is reported.

use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Instant;
use varai_core::accounts::Principal;
use varai_core::clock::now_ms;
use varai_core::deploy::{AppRecord, ObjectResult, RollbackRecord, RollbackRequest};
use varai_core::error::{AppError, Result as AppResult};
use varai_core::flags::FlagChange;
use varai_core::flags::FlagStore;

use super::workloads::{AppObjects, extra_deployments, preview_service};
use crate::storage::NewRollback;

fn name_of(obj: &Value) -> String {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}

fn result(kind: &str, name: &str, outcome: Result<String, String>) -> ObjectResult {
    let ok = outcome.is_ok();
    ObjectResult {
        kind: kind.to_owned(),
        name: name.to_owned(),
        ok,
        message: outcome.unwrap_or_else(|e| e),
    }
}

/// Re-applies the snapshot's objects and removes what the deployment added. The active
/// Service is pinned to the snapshot's `version` at once, so that no pod of the version being
/// rolled back serves another request, however long its pods take to go.
pub async fn restore_objects(
    objects: &AppObjects<'_>,
    snapshot: &[Value],
    version: &str,
) -> Vec<ObjectResult> {
    let mut results = Vec::new();
    // Services first: switching a selector back is what makes a Blue-Green rollback instant.
    let mut ordered: Vec<&Value> = snapshot.iter().collect();
    ordered.sort_by_key(|o| o.get("kind").and_then(Value::as_str) != Some("Service"));
    for obj in ordered {
        let name = name_of(obj);
        match obj.get("kind").and_then(Value::as_str) {
            Some("Service") => {
                let mut wanted: BTreeMap<String, Value> = obj
                    .pointer("/spec/selector")
                    .and_then(Value::as_object)
                    .map(|m| m.clone().into_iter().collect())
                    .unwrap_or_default();
                if name == objects.app.service {
                    wanted.insert("version".into(), json!(version));
                }
                let outcome = async {
                    let current = objects.services.get(&name).await?;
                    let mut selector: BTreeMap<String, Value> = current
                        .spec
                        .and_then(|s| s.selector)
                        .unwrap_or_default()
                        .into_keys()
                        .map(|k| (k, Value::Null))
                        .collect();
                    selector.extend(wanted.clone());
                    objects
                        .services
                        .patch(
                            &name,
                            &PatchParams::default(),
                            &Patch::Merge(&json!({"spec": {"selector": selector}})),
                        )
                        .await
                }
                .await;
                let text: Vec<String> = wanted
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect();
                results.push(result(
                    "Service",
                    &name,
                    outcome
                        .map(|_| format!("selects {}", text.join(",")))
                        .map_err(|e| e.to_string()),
                ));
            }
            Some("Deployment") => {
                let spec = obj.get("spec").cloned().unwrap_or(json!({}));
                let mut patch = json!({"spec": spec});
                patch["spec"]["paused"] = json!(false);
                let image = obj
                    .pointer("/spec/template/spec/containers/0/image")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_owned();
                let replicas = obj
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                // A merge patch replaces the containers list whole: the template is exactly
                // the snapshot's.
                let outcome = objects
                    .deployments
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await;
                results.push(result(
                    "Deployment",
                    &name,
                    outcome
                        .map(|_| format!("restored to {replicas} × {image}"))
                        .map_err(|e| e.to_string()),
                ));
            }
            Some(other) => results.push(result(
                other,
                &name,
                Err("this kind is not restored by a rollback".into()),
            )),
            None => {}
        }
    }
    let app = objects.app;
    for (name, _) in extra_deployments(app) {
        if let Ok(Some(_)) = objects.deployments.get_opt(&name).await {
            let outcome = objects.delete_if_present(&objects.deployments, &name).await;
            results.push(result(
                "Deployment",
                &name,
                outcome.map(|_| "deleted".into()).map_err(|e| e.to_string()),
            ));
        }
    }
    if let Ok(Some(_)) = objects.services.get_opt(&preview_service(app)).await {
        let outcome = objects
            .delete_if_present(&objects.services, &preview_service(app))
            .await;
        results.push(result(
            "Service",
            &preview_service(app),
            outcome.map(|_| "deleted".into()).map_err(|e| e.to_string()),
        ));
    }
    results
}

/// The environment's flags as (key, on) pairs, for a snapshot.
pub async fn flag_states(flags: &dyn FlagStore, environment: &str) -> Vec<(String, bool)> {
    match flags.list_flags().await {
        Ok(all) => all
            .into_iter()
            .filter(|f| f.archived_at.is_none())
            .map(|f| {
                let on = f.targeting(environment).enabled;
                (f.spec.key, on)
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not read flags for a snapshot");
            Vec::new()
        }
    }
}

/// Switches every flag whose state differs from the snapshot's back, as `actor`.
pub async fn restore_flags(
    flags: &dyn FlagStore,
    who: &Principal,
    app: &AppRecord,
    snapshot: &[(String, bool)],
) -> Vec<ObjectResult> {
    let now: BTreeMap<String, bool> = flag_states(flags, &app.environment)
        .await
        .into_iter()
        .collect();
    let mut results = Vec::new();
    for (key, was_on) in snapshot {
        if now.get(key) == Some(was_on) || !now.contains_key(key) {
            continue;
        }
        let change = FlagChange::Toggle {
            environment: app.environment.clone(),
            enabled: *was_on,
        };
        let outcome = flags
            .update_flag(who, key, change, None, now_ms())
            .await
            .map(|_| format!("switched {} again", if *was_on { "on" } else { "off" }))
            .map_err(|e| e.to_string());
        results.push(result("Flag", key, outcome));
    }
    results
}

impl super::DeployService {
    /// Rolls `app` back to a snapshot; the caller holds the app's lock.
    pub async fn rollback_held(
        &self,
        who: &Principal,
        environment: &str,
        app: &str,
        request: RollbackRequest,
    ) -> AppResult<RollbackRecord> {
        let actor = &who.actor;
        let started = Instant::now();
        let app = self.store.app_named(environment, app).await?;
        let snapshots = self.store.snapshots_of(app.id).await?;
        let snapshot = match request.snapshot_id {
            Some(id) => snapshots
                .into_iter()
                .find(|s| s.record.id == id)
                .ok_or_else(|| AppError::Conflict {
                    field: "snapshotId".into(),
                    message: format!("{} has no snapshot #{id}", app.name),
                })?,
            None => snapshots
                .into_iter()
                .next()
                .ok_or_else(|| AppError::Conflict {
                    field: "snapshotId".into(),
                    message: format!("{} has no snapshot to roll back to yet", app.name),
                })?,
        };
        let in_progress = self.store.in_progress_of(app.id).await?;
        let target = self.target(environment).await?;
        let objects = AppObjects::new(&app, &target);
        let mut results =
            restore_objects(&objects, &snapshot.objects, &snapshot.record.version).await;
        let flags: Vec<(String, bool)> = self
            .store
            .snapshot_flags(snapshot.record.id)
            .await
            .unwrap_or_default();
        results.extend(restore_flags(self.flags.as_ref(), who, &app, &flags).await);
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let record = NewRollback {
            app_id: app.id,
            target: format!("app:{environment}/{}", app.name),
            snapshot_id: snapshot.record.id,
            deployment_id: in_progress.map(|d| d.id),
            reason: &request.reason,
            results: &results,
            duration_ms,
        };
        Ok(self.store.insert_rollback(actor, record, now_ms()).await?)
    }
}
