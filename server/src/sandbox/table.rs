//! Server-side printing: the `meta.k8s.io/v1` `Table` kubectl asks for (`Accept: ...;as=Table`)
//! with the columns `kubectl get` shows for each kind.

use serde_json::{Value, json};

use super::kind::Kind;
use super::objects::{count_or, int, name};

/// Whether the request's `Accept` header asks for a Table.
pub fn wanted(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("as=Table"))
}

/// kubectl's short age: `45s`, `3m12s`, `25m`, `7h`, `3d`.
pub fn age(created: Option<&str>, now_ms: i64) -> String {
    let Some(t) = created.and_then(varai_domain::clock::parse_rfc3339) else {
        return "<unknown>".into();
    };
    let s = ((now_ms - t) / 1000).max(0);
    match s {
        0..120 => format!("{s}s"),
        120..600 => format!("{}m{}s", s / 60, s % 60),
        600..10_800 => format!("{}m", s / 60),
        10_800..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Deployment => &["Name", "Ready", "Up-to-date", "Available", "Age"],
        Kind::ReplicaSet => &["Name", "Desired", "Current", "Ready", "Age"],
        Kind::Pod => &["Name", "Ready", "Status", "Restarts", "Age"],
        Kind::Service => &[
            "Name",
            "Type",
            "Cluster-IP",
            "External-IP",
            "Port(s)",
            "Age",
        ],
        Kind::Endpoints => &["Name", "Endpoints", "Age"],
        Kind::ConfigMap => &["Name", "Data", "Age"],
        Kind::Job => &["Name", "Status", "Completions", "Age"],
    }
}

fn pod_status(pod: &Value) -> String {
    let state = pod.pointer("/status/containerStatuses/0/state");
    let reason = |s: &str| {
        state
            .and_then(|st| st.pointer(&format!("/{s}/reason")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    reason("waiting")
        .or_else(|| reason("terminated"))
        .or_else(|| {
            pod.pointer("/status/phase")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Pending".into())
}

fn cells(kind: Kind, obj: &Value, now_ms: i64) -> Vec<Value> {
    let age = age(
        obj.pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str),
        now_ms,
    );
    let n = |p: &str| int(obj, p);
    let mut cells = vec![json!(name(obj))];
    match kind {
        Kind::Deployment => {
            let desired = count_or(obj, "/spec/replicas", 1);
            cells.push(json!(format!("{}/{desired}", n("/status/readyReplicas"))));
            cells.push(json!(n("/status/updatedReplicas")));
            cells.push(json!(n("/status/availableReplicas")));
        }
        Kind::ReplicaSet => {
            cells.push(json!(count_or(obj, "/spec/replicas", 1)));
            cells.push(json!(n("/status/replicas")));
            cells.push(json!(n("/status/readyReplicas")));
        }
        Kind::Pod => cells.extend(pod_cells(obj)),
        Kind::Service => cells.extend(service_cells(obj)),
        Kind::Endpoints => cells.push(json!(endpoint_addresses(obj))),
        Kind::ConfigMap => {
            cells.push(json!(
                obj.get("data")
                    .and_then(Value::as_object)
                    .map_or(0, |d| d.len())
            ));
        }
        Kind::Job => {
            let conditions = obj
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let done = conditions
                .iter()
                .find(|c| c.get("status").and_then(Value::as_str) == Some("True"))
                .and_then(|c| c.get("type").and_then(Value::as_str))
                .unwrap_or("Running");
            cells.push(json!(done));
            cells.push(json!(format!(
                "{}/{}",
                n("/status/succeeded"),
                count_or(obj, "/spec/completions", 1)
            )));
        }
    }
    cells.push(json!(age));
    cells
}

/// A Pod's READY, STATUS and RESTARTS.
fn pod_cells(obj: &Value) -> Vec<Value> {
    let statuses = obj
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let containers = obj
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let ready = statuses
        .iter()
        .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
        .count();
    let restarts: i64 = statuses
        .iter()
        .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
        .sum();
    vec![
        json!(format!("{ready}/{containers}")),
        json!(pod_status(obj)),
        json!(restarts),
    ]
}

/// A Service's TYPE, CLUSTER-IP, EXTERNAL-IP and PORT(S).
fn service_cells(obj: &Value) -> Vec<Value> {
    let ports: Vec<String> = obj
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p.get("port").and_then(Value::as_i64).unwrap_or(0),
                p.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
            )
        })
        .collect();
    let text = |p: &str, default: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_owned()
    };
    vec![
        json!(text("/spec/type", "ClusterIP")),
        json!(text("/spec/clusterIP", "None")),
        json!("<none>"),
        json!(ports.join(",")),
    ]
}

/// An Endpoints object's addresses with their port, as kubectl lists them.
fn endpoint_addresses(obj: &Value) -> String {
    let addresses: Vec<String> = obj
        .get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|s| {
            let port = s.pointer("/ports/0/port").and_then(Value::as_i64);
            s.get("addresses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(move |a| {
                    let ip = a.get("ip")?.as_str()?.to_owned();
                    Some(port.map_or(ip.clone(), |p| format!("{ip}:{p}")))
                })
        })
        .collect();
    if addresses.is_empty() {
        "<none>".to_owned()
    } else {
        addresses.join(",")
    }
}

/// A Table of `objects`, with each row's object as metadata only (kubectl's default).
pub fn table(
    kind: Kind,
    objects: &[Value],
    resource_version: Option<String>,
    now_ms: i64,
) -> Value {
    let definitions: Vec<Value> = columns(kind)
        .iter()
        .map(|c| {
            json!({"name": c, "type": "string", "format": if *c == "Name" { "name" } else { "" },
                   "description": "", "priority": 0})
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({"cells": cells(kind, o, now_ms), "object": {
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": o.get("metadata").cloned().unwrap_or(json!({}))}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1",
           "metadata": {"resourceVersion": resource_version.unwrap_or_default()},
           "columnDefinitions": definitions, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let t = "2026-11-26T00:00:00Z";
        let at = |s: i64| age(Some(t), 1_795_651_200_000 + s * 1000);
        assert_eq!(at(5), "5s");
        assert_eq!(at(192), "3m12s");
        assert_eq!(at(1500), "25m");
        assert_eq!(at(7 * 3600), "7h");
        assert_eq!(at(3 * 86_400), "3d");
        assert_eq!(age(None, 0), "<unknown>");
    }

    #[test]
    fn a_crash_looping_pod_shows_its_reason() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Running", "containerStatuses": [{"ready": false, "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        let row = cells(Kind::Pod, &pod, 0);
        assert_eq!(
            row[1..4],
            [json!("0/1"), json!("CrashLoopBackOff"), json!(4)]
        );
    }
}
