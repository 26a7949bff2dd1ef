//! Deployments: one ReplicaSet per pod template (named by its hash, numbered by revision),
//! rolled from the old ones to the new one as the strategy says — `RollingUpdate` within
//! maxSurge / maxUnavailable (the domain's [`next_rolling_step`]), `Recreate` by emptying the
//! old ones first — and a status `kubectl rollout status` reads.

use serde_json::{Value, json};
use varai_domain::deploy::{IntOrPercent, RollingBudget, RollingState, next_rolling_step};

use super::{Cluster, pods::condition};
use crate::sandbox::kind::Kind;
use crate::sandbox::objects::{
    REVISION, TEMPLATE_HASH, annotation, controller_uid, count_or, int, name, namespace, owned_by,
    template_hash, uid,
};
use crate::sandbox::store::Part;

const DEFAULT_HISTORY: usize = 10;
const DEFAULT_DEADLINE_SECONDS: i64 = 600;

fn revision(rs: &Value) -> u64 {
    annotation(rs, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// maxSurge or maxUnavailable: a number, a percentage string, or 25% when missing or invalid.
fn int_or_percent(d: &Value, field: &str) -> IntOrPercent {
    match d.pointer(&format!("/spec/strategy/rollingUpdate/{field}")) {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map_or(IntOrPercent::Percent(25), IntOrPercent::Count),
        Some(Value::String(s)) => {
            IntOrPercent::parse(field, s).unwrap_or(IntOrPercent::Percent(25))
        }
        _ => IntOrPercent::Percent(25),
    }
}

fn scale(cluster: &Cluster<'_>, rs: &Value, replicas: u32) {
    if count_or(rs, "/spec/replicas", 1) != replicas {
        cluster.report(cluster.store.patch(
            Kind::ReplicaSet,
            namespace(rs),
            name(rs),
            &json!({"spec": {"replicas": replicas}}),
            Part::Main,
        ));
    }
}

/// The ReplicaSet for the Deployment's current template, created (or its revision renewed,
/// when an earlier template comes back) as needed.
fn current_set(cluster: &Cluster<'_>, d: &Value, owned: &[&Value], desired: u32) -> Option<Value> {
    let mut template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let hash = template_hash(&template);
    let latest = owned.iter().map(|rs| revision(rs)).max().unwrap_or(0);
    if let Some(rs) = owned
        .iter()
        .find(|rs| crate::sandbox::store::labels(rs).get(TEMPLATE_HASH) == Some(&hash))
    {
        if revision(rs) < latest {
            cluster.report(cluster.store.patch(
                Kind::ReplicaSet,
                namespace(rs),
                name(rs),
                &json!({"metadata": {"annotations": {REVISION: (latest + 1).to_string()}}}),
                Part::Main,
            ));
        }
        return Some((*rs).clone());
    }
    template["metadata"]["labels"][TEMPLATE_HASH] = json!(hash);
    let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
    selector["matchLabels"][TEMPLATE_HASH] = json!(hash);
    let any_running = owned.iter().any(|rs| int(rs, "/status/replicas") > 0);
    let rs = json!({
        "metadata": {
            "name": format!("{}-{hash}", name(d)),
            "labels": template["metadata"]["labels"],
            "annotations": {REVISION: (latest + 1).to_string()},
            "ownerReferences": owned_by(d),
        },
        "spec": {
            "replicas": if any_running { 0 } else { desired },
            "selector": selector,
            "template": template,
        },
    });
    match cluster
        .store
        .create(Kind::ReplicaSet, namespace(d), rs, &cluster.now_rfc3339())
    {
        Ok(created) => Some(created),
        Err(e) => {
            tracing::debug!(error = %e, "sandbox: replica set not created");
            None
        }
    }
}

fn roll(cluster: &Cluster<'_>, d: &Value, new: &Value, old: &mut [&Value], desired: u32) {
    let recreate = d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate");
    if recreate {
        if old.iter().any(|rs| count_or(rs, "/spec/replicas", 1) > 0) {
            old.iter().for_each(|rs| scale(cluster, rs, 0));
        } else if old.iter().all(|rs| int(rs, "/status/replicas") == 0) {
            scale(cluster, new, desired);
        }
        return;
    }
    let budget = RollingBudget::resolve(
        desired,
        int_or_percent(d, "maxSurge"),
        int_or_percent(d, "maxUnavailable"),
    );
    let count = |rs: &&Value, field: &str| u32::try_from(int(rs, field)).unwrap_or(0);
    let state = RollingState {
        old: old.iter().map(|rs| count_or(rs, "/spec/replicas", 1)).sum(),
        old_ready: old
            .iter()
            .map(|rs| count(rs, "/status/readyReplicas"))
            .sum(),
        new: count_or(new, "/spec/replicas", 1),
        new_ready: count(&new, "/status/readyReplicas"),
    };
    let next = next_rolling_step(desired, budget, state);
    scale(cluster, new, next.new);
    // Take the oldest revisions down first.
    old.sort_by_key(|rs| revision(rs));
    let mut remove = state.old - next.old.min(state.old);
    for rs in old.iter() {
        let has = count_or(rs, "/spec/replicas", 1);
        let take = has.min(remove);
        if take > 0 {
            scale(cluster, rs, has - take);
            remove -= take;
        }
    }
}

fn status(cluster: &Cluster<'_>, d: &Value, new: &Value, owned: &[&Value], desired: u32) -> Value {
    let sum = |field: &str| owned.iter().map(|rs| int(rs, field)).sum::<i64>();
    let replicas = sum("/status/replicas");
    let ready = sum("/status/readyReplicas");
    let updated = int(new, "/status/replicas");
    let desired = i64::from(desired);
    let complete = updated == desired && replicas == desired && ready >= desired;
    let max_unavailable =
        int_or_percent(d, "maxUnavailable").resolve(u32::try_from(desired).unwrap_or(0), false);
    let previous = d.get("status").cloned().unwrap_or(json!({}));
    let now = cluster.now_rfc3339();
    let counts = [
        ("replicas", replicas),
        ("updatedReplicas", updated),
        ("readyReplicas", ready),
    ];
    let counts_changed = counts
        .iter()
        .any(|(field, v)| previous.get(*field).and_then(Value::as_i64) != Some(*v));
    let last_progress = previous
        .get("conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing"))
        .and_then(|c| c.get("lastUpdateTime"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|_| !counts_changed)
        .unwrap_or_else(|| now.clone());
    let deadline = d
        .pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_DEADLINE_SECONDS);
    let stalled = !complete
        && varai_domain::clock::parse_rfc3339(&last_progress)
            .is_some_and(|t| cluster.now_ms - t > deadline * 1000);
    let (progressing, reason, message) = if complete {
        (
            true,
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{}\" has successfully progressed.", name(new)),
        )
    } else if stalled {
        (
            false,
            "ProgressDeadlineExceeded",
            format!("ReplicaSet \"{}\" has timed out progressing.", name(new)),
        )
    } else {
        (
            true,
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{}\" is progressing.", name(new)),
        )
    };
    let available_ok = ready >= desired - i64::from(max_unavailable);
    let mut progressing = condition(&previous, "Progressing", progressing, reason, &now);
    progressing["lastUpdateTime"] = json!(last_progress);
    progressing["message"] = json!(message);
    json!({
        "observedGeneration": int(d, "/metadata/generation"),
        "replicas": replicas,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "unavailableReplicas": (desired - ready).max(0),
        "conditions": [
            condition(&previous, "Available", available_ok,
                if available_ok { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" }, &now),
            progressing,
        ],
    })
}

fn reconcile_one(cluster: &Cluster<'_>, d: &Value, sets: &[Value]) {
    let desired = count_or(d, "/spec/replicas", 1);
    let owned: Vec<&Value> = sets
        .iter()
        .filter(|rs| namespace(rs) == namespace(d) && controller_uid(rs) == Some(uid(d)))
        .collect();
    let Some(new) = current_set(cluster, d, &owned, desired) else {
        return;
    };
    let mut old: Vec<&Value> = owned
        .iter()
        .copied()
        .filter(|rs| uid(rs) != uid(&new))
        .collect();
    let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    if !paused {
        roll(cluster, d, &new, &mut old, desired);
    }
    // Keep revisionHistoryLimit empty old sets for `kubectl rollout undo`.
    let limit = d
        .pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_HISTORY, |n| {
            usize::try_from(n).unwrap_or(DEFAULT_HISTORY)
        });
    let mut empty: Vec<&&Value> = old
        .iter()
        .filter(|rs| count_or(rs, "/spec/replicas", 1) == 0 && int(rs, "/status/replicas") == 0)
        .collect();
    empty.sort_by_key(|rs| revision(rs));
    let surplus = empty.len().saturating_sub(limit);
    for rs in empty.into_iter().take(surplus) {
        cluster.report(
            cluster
                .store
                .delete(Kind::ReplicaSet, namespace(rs), name(rs)),
        );
    }
    let mut with_new = old.clone();
    with_new.push(&new);
    if annotation(d, REVISION) != annotation(&new, REVISION)
        && let Some(r) = annotation(&new, REVISION)
    {
        cluster.report(cluster.store.patch(
            Kind::Deployment,
            namespace(d),
            name(d),
            &json!({"metadata": {"annotations": {REVISION: r}}}),
            Part::Main,
        ));
    }
    let status = status(cluster, d, &new, &with_new, desired);
    if let Ok(current) = cluster.store.get(Kind::Deployment, namespace(d), name(d)) {
        cluster.set_status(Kind::Deployment, &current, status);
    }
}

pub fn reconcile(cluster: &Cluster<'_>) {
    let sets = cluster.all(Kind::ReplicaSet);
    for d in cluster.all(Kind::Deployment) {
        reconcile_one(cluster, &d, &sets);
    }
}
