//! The sandbox's object store: Kubernetes objects as JSON, keyed by kind, namespace and name,
//! with one cluster-wide resourceVersion counter, optimistic concurrency (a write naming an old
//! resourceVersion is refused), JSON merge patch, a separate status part, and a stream of watch
//! events. Nothing is persisted: the sandbox is rebuilt at start.

use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::broadcast;
use varai_domain::deploy::LabelSelector;

use super::kind::Kind;
pub use super::objects::labels;
use super::objects::{meta, set_meta};
use super::patch::merge;
pub use super::patch::{PatchType, merge_patch};
pub use super::refusal::Refusal;
use super::refusal::require_object;

/// A change, as a Kubernetes watch reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchEvent {
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind_of_change: &'static str,
    pub kind: Kind,
    pub object: Value,
}

/// Which part of an object a replace writes: the object (its status kept) or only its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Main,
    Status,
}

type Key = (Kind, String, String);

/// How many past changes a watch can resume from.
const HISTORY: usize = 4096;

#[derive(Default)]
struct Inner {
    objects: BTreeMap<Key, Value>,
    version: u64,
    next_uid: u64,
    /// The latest changes with the resourceVersion each produced, oldest first.
    history: VecDeque<(u64, WatchEvent)>,
}

impl Inner {
    /// Records a change; called with the lock held, so that a watch started under the same
    /// lock sees every change exactly once.
    fn record(
        &mut self,
        events: &broadcast::Sender<WatchEvent>,
        kind_of_change: &'static str,
        kind: Kind,
        object: &Value,
    ) {
        let event = WatchEvent {
            kind_of_change,
            kind,
            object: object.clone(),
        };
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back((self.version, event.clone()));
        // No subscriber is fine: nobody is watching.
        let _ = events.send(event);
    }
}

/// The store itself; cheap to share behind an `Arc`.
pub struct ObjectStore {
    inner: Mutex<Inner>,
    events: broadcast::Sender<WatchEvent>,
}

impl Default for ObjectStore {
    fn default() -> Self {
        ObjectStore {
            inner: Mutex::new(Inner::default()),
            events: broadcast::channel(4096).0,
        }
    }
}

impl ObjectStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a watch: the changes after resourceVersion `since` (refused with
    /// [`Refusal::Gone`] when they are no longer kept), or, without `since`, every current
    /// object as `ADDED`; then a receiver of the changes still to come.
    pub fn watch(
        &self,
        since: Option<u64>,
    ) -> Result<(Vec<WatchEvent>, broadcast::Receiver<WatchEvent>), Refusal> {
        let inner = self.lock();
        let past = match since {
            None => inner
                .objects
                .iter()
                .map(|((kind, _, _), obj)| WatchEvent {
                    kind_of_change: "ADDED",
                    kind: *kind,
                    object: obj.clone(),
                })
                .collect(),
            Some(asked) => {
                let oldest = inner.history.front().map_or(inner.version, |(v, _)| *v);
                if asked + 1 < oldest && asked < inner.version {
                    return Err(Refusal::Gone { asked, oldest });
                }
                inner
                    .history
                    .iter()
                    .filter(|(v, _)| *v > asked)
                    .map(|(_, e)| e.clone())
                    .collect()
            }
        };
        Ok((past, self.events.subscribe()))
    }

    /// The current resourceVersion of the whole store.
    pub fn resource_version(&self) -> u64 {
        self.lock().version
    }

    /// Creates `obj` in `namespace`, filling in uid, resourceVersion, creationTimestamp
    /// (`now`, RFC 3339) and `generateName`.
    pub fn create(
        &self,
        kind: Kind,
        namespace: &str,
        mut obj: Value,
        now: &str,
    ) -> Result<Value, Refusal> {
        require_object(kind, &obj)?;
        let mut inner = self.lock();
        inner.next_uid += 1;
        let uid = inner.next_uid;
        let name = match (meta(&obj, "name"), meta(&obj, "generateName")) {
            (Some(n), _) if !n.is_empty() => n,
            (_, Some(prefix)) => format!("{prefix}{uid:05x}"),
            _ => {
                return Err(Refusal::Invalid {
                    kind: kind.name(),
                    message: "metadata.name: Required value".into(),
                });
            }
        };
        let key = (kind, namespace.to_owned(), name.clone());
        if inner.objects.contains_key(&key) {
            return Err(Refusal::AlreadyExists {
                kind: kind.name(),
                name,
            });
        }
        inner.version += 1;
        let version = inner.version;
        obj["apiVersion"] = json!(kind.api_version());
        obj["kind"] = json!(kind.name());
        set_meta(&mut obj, "name", json!(name));
        set_meta(&mut obj, "namespace", json!(namespace));
        set_meta(&mut obj, "uid", json!(format!("sandbox-{uid:012x}")));
        set_meta(&mut obj, "resourceVersion", json!(version.to_string()));
        set_meta(&mut obj, "generation", json!(1));
        set_meta(&mut obj, "creationTimestamp", json!(now));
        if kind == Kind::Service {
            // Every Service gets a cluster address, as the API server allocates one.
            if obj.pointer("/spec/clusterIP").is_none() {
                obj["spec"]["clusterIP"] =
                    json!(format!("10.96.{}.{}", (uid >> 8) & 0xff, uid & 0xff));
            }
            if obj.pointer("/spec/type").is_none() {
                obj["spec"]["type"] = json!("ClusterIP");
            }
        }
        inner.objects.insert(key, obj.clone());
        inner.record(&self.events, "ADDED", kind, &obj);
        Ok(obj)
    }

    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Result<Value, Refusal> {
        self.lock()
            .objects
            .get(&(kind, namespace.to_owned(), name.to_owned()))
            .cloned()
            .ok_or_else(|| Refusal::NotFound {
                kind: kind.name(),
                name: name.to_owned(),
            })
    }

    /// Objects of `kind` (in `namespace`, or all namespaces) that `selector` selects, with the
    /// store's resourceVersion at the time of the list.
    pub fn list(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        selector: &LabelSelector,
    ) -> (Vec<Value>, u64) {
        let inner = self.lock();
        let items = inner
            .objects
            .iter()
            .filter(|((k, ns, _), _)| *k == kind && namespace.is_none_or(|n| n == ns))
            .filter(|(_, obj)| selector.matches(&labels(obj)))
            .map(|(_, obj)| obj.clone())
            .collect();
        (items, inner.version)
    }

    /// Replaces an object (or only its status). A resourceVersion in `obj` must be the current
    /// one; identity fields (uid, creationTimestamp) are kept; the main part bumps `generation`
    /// when the spec changes.
    pub fn replace(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        mut obj: Value,
        part: Part,
    ) -> Result<Value, Refusal> {
        require_object(kind, &obj)?;
        let mut inner = self.lock();
        let key = (kind, namespace.to_owned(), name.to_owned());
        let current = inner
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| Refusal::NotFound {
                kind: kind.name(),
                name: name.to_owned(),
            })?;
        if let Some(v) = meta(&obj, "resourceVersion")
            && Some(&v) != meta(&current, "resourceVersion").as_ref()
        {
            return Err(Refusal::Conflict {
                kind: kind.name(),
                name: name.to_owned(),
            });
        }
        let mut next = match part {
            Part::Main => {
                obj["status"] = current.get("status").cloned().unwrap_or(Value::Null);
                if obj["status"].is_null() {
                    obj.as_object_mut().map(|o| o.remove("status"));
                }
                obj
            }
            Part::Status => {
                let mut kept = current.clone();
                kept["status"] = obj.get("status").cloned().unwrap_or(json!({}));
                kept
            }
        };
        let generation = current
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let spec_changed = next.get("spec") != current.get("spec");
        next["apiVersion"] = json!(kind.api_version());
        next["kind"] = json!(kind.name());
        for field in [
            "uid",
            "creationTimestamp",
            "name",
            "namespace",
            "resourceVersion",
        ] {
            if let Some(v) = current.pointer(&format!("/metadata/{field}")) {
                set_meta(&mut next, field, v.clone());
            }
        }
        let generation = if spec_changed {
            generation + 1
        } else {
            generation
        };
        set_meta(&mut next, "generation", json!(generation));
        // As with a real API server, a write that changes nothing is no change: the object
        // keeps its resourceVersion and watchers hear nothing.
        if next == current {
            return Ok(current);
        }
        inner.version += 1;
        let version = inner.version;
        set_meta(&mut next, "resourceVersion", json!(version.to_string()));
        inner.objects.insert(key, next.clone());
        inner.record(&self.events, "MODIFIED", kind, &next);
        Ok(next)
    }

    /// Applies a JSON merge patch to the object (or its status) and stores the result.
    pub fn patch(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        patch: &Value,
        part: Part,
    ) -> Result<Value, Refusal> {
        self.patch_as(kind, namespace, name, patch, part, PatchType::Merge)
    }

    /// Applies a patch of the given type to the object (or its status) and stores the result.
    pub fn patch_as(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        patch: &Value,
        part: Part,
        how: PatchType,
    ) -> Result<Value, Refusal> {
        let mut obj = self.get(kind, namespace, name)?;
        let current = obj.pointer("/metadata/resourceVersion").cloned();
        merge(&mut obj, patch, how);
        // A patch that names a resourceVersion is checked like a replace; otherwise the
        // version read above is used, so a patch never conflicts by accident.
        if patch.pointer("/metadata/resourceVersion").is_none()
            && obj.is_object()
            && let Some(current) = current
        {
            set_meta(&mut obj, "resourceVersion", current);
        }
        self.replace(kind, namespace, name, obj, part)
    }

    /// Every object of `kinds`, for saving the sandbox between runs.
    pub fn export(&self, kinds: &[Kind]) -> Vec<Value> {
        self.lock()
            .objects
            .iter()
            .filter(|((k, _, _), _)| kinds.contains(k))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Puts saved objects back as they were (uids, versions and all), before anyone watches.
    pub fn import(&self, objects: Vec<Value>) {
        let mut inner = self.lock();
        for obj in objects {
            let kind = obj
                .get("kind")
                .and_then(Value::as_str)
                .and_then(|k| Kind::ALL.into_iter().find(|x| x.name() == k));
            let (Some(kind), Some(ns), Some(name)) =
                (kind, meta(&obj, "namespace"), meta(&obj, "name"))
            else {
                continue;
            };
            let version = meta(&obj, "resourceVersion")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let uid = meta(&obj, "uid")
                .and_then(|u| u64::from_str_radix(u.trim_start_matches("sandbox-"), 16).ok())
                .unwrap_or(0);
            inner.version = inner.version.max(version);
            inner.next_uid = inner.next_uid.max(uid);
            inner.objects.insert((kind, ns, name), obj);
        }
    }

    /// Deletes the object and returns it as it was, with the resourceVersion of its deletion.
    pub fn delete(&self, kind: Kind, namespace: &str, name: &str) -> Result<Value, Refusal> {
        let mut inner = self.lock();
        let mut removed = inner
            .objects
            .remove(&(kind, namespace.to_owned(), name.to_owned()))
            .ok_or_else(|| Refusal::NotFound {
                kind: kind.name(),
                name: name.to_owned(),
            })?;
        inner.version += 1;
        set_meta(
            &mut removed,
            "resourceVersion",
            json!(inner.version.to_string()),
        );
        inner.record(&self.events, "DELETED", kind, &removed);
        Ok(removed)
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
