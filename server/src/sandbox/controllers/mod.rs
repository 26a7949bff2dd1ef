//! The sandbox's simulated controllers. Every tick each one compares what is asked (specs) with
//! what exists and takes a step towards it, as Kubernetes' controllers do: Deployments make and
//! scale ReplicaSets, ReplicaSets make and remove Pods, Pods start and become ready (or not, as
//! their version's profile says), Services get Endpoints, Jobs run to an outcome, and objects
//! whose owner is gone are collected. Writes happen only when something changed.

mod deployments;
mod endpoints;
mod jobs;
pub mod pods;
mod replicasets;

use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;

use super::kind::Kind;
use super::objects::{controller_uid, name, namespace, uid};
use super::simulation::{Simulation, Timings};
use super::store::{ObjectStore, Part, Refusal};
use varai_domain::deploy::LabelSelector;

/// What every controller works with.
pub struct Cluster<'a> {
    pub store: &'a ObjectStore,
    pub simulation: &'a Simulation,
    pub timings: Timings,
    /// Milliseconds since the epoch.
    pub now_ms: i64,
}

impl Cluster<'_> {
    pub fn all(&self, kind: Kind) -> Vec<Value> {
        self.store.list(kind, None, &LabelSelector::default()).0
    }

    pub fn now_rfc3339(&self) -> String {
        varai_domain::clock::format_rfc3339(self.now_ms)
    }

    /// Writes `status` when it differs from the object's.
    pub fn set_status(&self, kind: Kind, obj: &Value, status: Value) {
        if obj.get("status") == Some(&status) {
            return;
        }
        let mut next = obj.clone();
        next["status"] = status;
        self.report(
            self.store
                .replace(kind, namespace(obj), name(obj), next, Part::Status),
        );
    }

    /// A write that lost a race with a client is retried on the next tick; nothing else fails.
    pub fn report(&self, result: Result<Value, Refusal>) {
        if let Err(e) = result {
            tracing::debug!(error = %e, "sandbox controller write deferred");
        }
    }
}

/// One pass of every controller.
pub fn reconcile(cluster: &Cluster<'_>) {
    pods::advance(cluster);
    jobs::reconcile(cluster);
    replicasets::reconcile(cluster);
    deployments::reconcile(cluster);
    endpoints::reconcile(cluster);
    collect_garbage(cluster);
}

/// Runs the controllers every tick, forever.
pub async fn run(store: Arc<ObjectStore>, simulation: Arc<Simulation>, timings: Timings) {
    let mut tick = tokio::time::interval(timings.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        reconcile(&Cluster {
            store: &store,
            simulation: &simulation,
            timings,
            now_ms: varai_core::clock::now_ms(),
        });
    }
}

/// Deletes ReplicaSets, Pods and Endpoints' owners' leftovers: anything whose controlling
/// owner no longer exists.
fn collect_garbage(cluster: &Cluster<'_>) {
    let owners: HashSet<String> = [Kind::Deployment, Kind::ReplicaSet, Kind::Job]
        .into_iter()
        .flat_map(|k| cluster.all(k))
        .map(|o| uid(&o).to_owned())
        .collect();
    for kind in [Kind::ReplicaSet, Kind::Pod] {
        for obj in cluster.all(kind) {
            if controller_uid(&obj).is_some_and(|u| !owners.contains(u)) {
                cluster.report(cluster.store.delete(kind, namespace(&obj), name(&obj)));
            }
        }
    }
}
