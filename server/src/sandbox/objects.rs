//! Reading and building the JSON objects the sandbox's controllers work with: names, owners,
//! counts, labels and the annotations the simulation keeps its timing in.

use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Annotation holding a simulated object's creation time in milliseconds since the epoch.
pub const CREATED_MS: &str = "sandbox.varai.dev/created-ms";
/// Annotation holding the Deployment revision, as the real controller writes it.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The label a Deployment's ReplicaSets and Pods carry to tell templates apart.
pub const TEMPLATE_HASH: &str = "pod-template-hash";

pub fn name(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn namespace(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn uid(obj: &Value) -> &str {
    obj.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn int(obj: &Value, pointer: &str) -> i64 {
    obj.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// A count such as `spec.replicas`, with the default Kubernetes gives a missing one.
pub fn count_or(obj: &Value, pointer: &str, default: u32) -> u32 {
    obj.pointer(pointer)
        .and_then(Value::as_u64)
        .map_or(default, |v| u32::try_from(v).unwrap_or(u32::MAX))
}

pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

pub fn created_ms(obj: &Value) -> i64 {
    annotation(obj, CREATED_MS)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The uid of the object's controlling owner.
pub fn controller_uid(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
}

/// An owner reference making `owner` the controller of what carries it.
pub fn owned_by(owner: &Value) -> Value {
    json!([{
        "apiVersion": owner.get("apiVersion").cloned().unwrap_or(Value::Null),
        "kind": owner.get("kind").cloned().unwrap_or(Value::Null),
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    }])
}

/// A string map such as `spec.selector.matchLabels` or `spec.selector` of a Service.
pub fn string_map(obj: &Value, pointer: &str) -> BTreeMap<String, String> {
    obj.pointer(pointer)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether every label of `selector` is on `labels` (an empty selector selects nothing, as a
/// Service without a selector has no managed endpoints).
pub fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// A short stable hash of a pod template, as the `pod-template-hash` label.
pub fn template_hash(template: &Value) -> String {
    use sha2::{Digest, Sha256};
    // serde_json's maps are sorted, so equal templates print equally.
    let digest = Sha256::digest(template.to_string().as_bytes());
    hex::encode(&digest[..5])
}

/// Whether a Pod's `Ready` condition is true.
pub fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Ready")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

pub(super) fn meta(obj: &Value, field: &str) -> Option<String> {
    obj.pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The object's labels as a map (missing or malformed labels count as none).
pub fn labels(obj: &Value) -> BTreeMap<String, String> {
    string_map(obj, "/metadata/labels")
}

/// Sets `metadata.{field}`, making `metadata` an object first if it is not one. `obj` must
/// be an object (checked by every caller).
pub(super) fn set_meta(obj: &mut Value, field: &str, value: Value) {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"][field] = value;
}
