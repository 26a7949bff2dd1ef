//! Patches as the API server applies them: RFC 7386 JSON merge patch, and Kubernetes'
//! strategic merge (used for server-side apply too), which joins lists of objects by key.

use serde_json::{Value, json};

/// How a patch's lists combine with the object's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else replaces.
    Merge,
    /// Kubernetes' strategic merge (and server-side apply): as `Merge`, but lists of objects
    /// keyed by `name` (containers, env, volumes) or by port merge element by element, and an
    /// element with `"$patch": "delete"` is removed.
    Strategic,
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    merge(target, patch, PatchType::Merge);
}

/// The key a strategic merge joins a list's elements on, if every element has it.
fn list_key(items: &[Value]) -> Option<&'static str> {
    ["name", "containerPort", "port"]
        .into_iter()
        .find(|k| !items.is_empty() && items.iter().all(|i| i.get(*k).is_some()))
}

pub(crate) fn merge(target: &mut Value, patch: &Value, how: PatchType) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v, how);
                    }
                }
            }
        }
        Value::Array(items) if how == PatchType::Strategic && target.is_array() => {
            let Some(key) = list_key(items) else {
                *target = patch.clone();
                return;
            };
            let Value::Array(current) = target else {
                return;
            };
            for item in items {
                let position = current.iter().position(|c| c.get(key) == item.get(key));
                let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                match (position, delete) {
                    (Some(i), true) => {
                        current.remove(i);
                    }
                    (Some(i), false) => merge(&mut current[i], item, how),
                    (None, true) => {}
                    (None, false) => current.push(item.clone()),
                }
            }
        }
        other => *target = other.clone(),
    }
}
