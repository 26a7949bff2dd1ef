//! ReplicaSets: keep `spec.replicas` pods from the template, removing unready and then the
//! newest pods first when scaling down, and report how many are ready.

use serde_json::{Value, json};

use super::{Cluster, pods};
use crate::sandbox::kind::Kind;
use crate::sandbox::objects::{
    controller_uid, count_or, created_ms, int, name, namespace, pod_ready, uid,
};

/// The pods `owner` controls, from `pods`.
pub fn owned<'a>(pods: &'a [Value], owner: &Value) -> Vec<&'a Value> {
    pods.iter()
        .filter(|p| namespace(p) == namespace(owner) && controller_uid(p) == Some(uid(owner)))
        .collect()
}

pub fn reconcile(cluster: &Cluster<'_>) {
    let all_pods = cluster.all(Kind::Pod);
    for rs in cluster.all(Kind::ReplicaSet) {
        let wanted = count_or(&rs, "/spec/replicas", 1) as usize;
        let mut mine = owned(&all_pods, &rs);
        let template = rs.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let mut created = 0;
        for _ in mine.len()..wanted {
            match pods::create(cluster, &rs, &template, &json!({}), &json!({})) {
                Ok(_) => created += 1,
                Err(e) => tracing::debug!(error = %e, "sandbox: pod not created"),
            }
        }
        if mine.len() > wanted {
            // Unready pods first, then the newest.
            mine.sort_by_key(|p| (pod_ready(p), std::cmp::Reverse(created_ms(p))));
            for pod in mine.drain(..mine.len() - wanted) {
                cluster.report(cluster.store.delete(Kind::Pod, namespace(pod), name(pod)));
            }
        }
        let ready = mine.iter().filter(|p| pod_ready(p)).count();
        let status = json!({
            "replicas": mine.len() + created,
            "fullyLabeledReplicas": mine.len() + created,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": int(&rs, "/metadata/generation"),
        });
        cluster.set_status(Kind::ReplicaSet, &rs, status);
    }
}
