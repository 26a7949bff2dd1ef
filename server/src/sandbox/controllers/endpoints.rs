//! Endpoints: each Service with a selector lists the addresses of the pods it selects, ready
//! ones under `addresses`, the rest under `notReadyAddresses`, as the real controller does.

use serde_json::{Value, json};
use std::collections::HashSet;

use super::Cluster;
use crate::sandbox::kind::Kind;
use crate::sandbox::objects::{annotation, name, namespace, pod_ready, selects, string_map, uid};
use crate::sandbox::store::{Part, labels};

/// Marks the Endpoints this controller owns, so that it only removes its own.
const MANAGED: &str = "sandbox.varai.dev/managed-by";

fn address(pod: &Value) -> Value {
    json!({
        "ip": pod.pointer("/status/podIP"),
        "nodeName": "sandbox",
        "targetRef": {"kind": "Pod", "name": name(pod), "namespace": namespace(pod), "uid": uid(pod)},
    })
}

fn subsets(svc: &Value, pods: &[Value]) -> Value {
    let selector = string_map(svc, "/spec/selector");
    let mut chosen: Vec<&Value> = pods
        .iter()
        .filter(|p| namespace(p) == namespace(svc) && selects(&selector, &labels(p)))
        .filter(|p| p.pointer("/status/podIP").is_some())
        .filter(|p| {
            !matches!(
                p.pointer("/status/phase").and_then(Value::as_str),
                Some("Succeeded" | "Failed")
            )
        })
        .collect();
    chosen.sort_by_key(|p| name(p).to_owned());
    let ready: Vec<Value> = chosen
        .iter()
        .filter(|p| pod_ready(p))
        .map(|p| address(p))
        .collect();
    let unready: Vec<Value> = chosen
        .iter()
        .filter(|p| !pod_ready(p))
        .map(|p| address(p))
        .collect();
    if ready.is_empty() && unready.is_empty() {
        return json!([]);
    }
    let ports: Vec<Value> = svc
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let port = p
                .get("targetPort")
                .filter(|t| t.is_number())
                .or(p.get("port"));
            json!({"name": p.get("name").cloned().unwrap_or(json!("")), "port": port,
                   "protocol": p.get("protocol").cloned().unwrap_or(json!("TCP"))})
        })
        .collect();
    let mut subset = json!({"ports": ports});
    if !ready.is_empty() {
        subset["addresses"] = json!(ready);
    }
    if !unready.is_empty() {
        subset["notReadyAddresses"] = json!(unready);
    }
    json!([subset])
}

pub fn reconcile(cluster: &Cluster<'_>) {
    let pods = cluster.all(Kind::Pod);
    let services = cluster.all(Kind::Service);
    let mut served = HashSet::new();
    for svc in services
        .iter()
        .filter(|s| !string_map(s, "/spec/selector").is_empty())
    {
        served.insert((namespace(svc).to_owned(), name(svc).to_owned()));
        let subsets = subsets(svc, &pods);
        match cluster
            .store
            .get(Kind::Endpoints, namespace(svc), name(svc))
        {
            Ok(existing) if existing.get("subsets") == Some(&subsets) => {}
            Ok(_) => cluster.report(cluster.store.patch(
                Kind::Endpoints,
                namespace(svc),
                name(svc),
                &json!({"subsets": subsets}),
                Part::Main,
            )),
            Err(_) => {
                let endpoints = json!({
                    "metadata": {"name": name(svc), "labels": labels(svc),
                                 "annotations": {MANAGED: "endpoints-controller"}},
                    "subsets": subsets,
                });
                cluster.report(cluster.store.create(
                    Kind::Endpoints,
                    namespace(svc),
                    endpoints,
                    &cluster.now_rfc3339(),
                ));
            }
        }
    }
    for ep in cluster.all(Kind::Endpoints) {
        let key = (namespace(&ep).to_owned(), name(&ep).to_owned());
        if annotation(&ep, MANAGED).is_some() && !served.contains(&key) {
            cluster.report(cluster.store.delete(Kind::Endpoints, &key.0, &key.1));
        }
    }
}
