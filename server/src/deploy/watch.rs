//! Watching the clusters: a change to one of an app's Deployments (its pods becoming ready or
//! going away, someone editing or deleting it) wakes that app's deployment in progress, so the
//! controller sees progress and repairs drift at once, even while the deployment waits for a
//! person, instead of reading the cluster on a tick.

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::DeployService;
use super::clusters::ClusterTarget;
use crate::reconcile::Queue;

/// The deployments in progress, by the environment and primary Deployment of their app, and
/// the namespaces being watched.
#[derive(Default)]
pub struct Watches {
    apps: Mutex<HashMap<(String, String), i64>>,
    namespaces: Mutex<HashSet<(String, String, bool)>>,
}

impl Watches {
    /// The deployment in progress whose app has the Kubernetes Deployment `name` (its primary,
    /// or the `-canary` or `-preview` beside it) in `environment`.
    fn deployment_of(&self, environment: &str, name: &str) -> Option<i64> {
        let primary = name
            .strip_suffix("-canary")
            .or_else(|| name.strip_suffix("-preview"))
            .unwrap_or(name);
        let apps = self.apps.lock().unwrap_or_else(|e| e.into_inner());
        apps.get(&(environment.to_owned(), primary.to_owned()))
            .copied()
    }
}

impl DeployService {
    /// Notes that deployment `id` moves the app whose primary Deployment is `primary` in
    /// `environment`, and makes sure that environment's namespace is watched.
    pub(super) fn watch(&self, environment: &str, target: &ClusterTarget, primary: &str, id: i64) {
        self.watches
            .apps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((environment.to_owned(), primary.to_owned()), id);
        let key = (
            environment.to_owned(),
            target.namespace.clone(),
            target.sandbox,
        );
        let new = self
            .watches
            .namespaces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
        if new {
            tokio::spawn(watch_namespace(
                Api::namespaced(target.client.clone(), &target.namespace),
                environment.to_owned(),
                Arc::downgrade(&self.watches),
                Arc::downgrade(&self.queue),
            ));
        }
    }

    /// Forgets deployment `id`: it is over.
    pub(super) fn unwatch(&self, id: i64) {
        self.watches
            .apps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, d| *d != id);
    }
}

/// Wakes the deployment in progress behind every change to a Deployment in the namespace,
/// until the service is gone; reconnects (reading the current state again) when the watch
/// ends or fails.
async fn watch_namespace(
    api: Api<Deployment>,
    environment: String,
    watches: Weak<Watches>,
    queue: Weak<Queue<i64>>,
) {
    loop {
        let version = match api.list(&ListParams::default().limit(1)).await {
            Ok(list) => list.metadata.resource_version.unwrap_or_default(),
            Err(e) => {
                tracing::debug!(%environment, error = %e, "could not list Deployments to watch them");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        match api
            .watch(&WatchParams::default().timeout(290), &version)
            .await
        {
            Ok(events) => {
                let mut events = Box::pin(events);
                while let Some(event) = events.next().await {
                    let name = match event {
                        Ok(
                            WatchEvent::Added(d) | WatchEvent::Modified(d) | WatchEvent::Deleted(d),
                        ) => d.metadata.name.unwrap_or_default(),
                        Ok(WatchEvent::Bookmark(_)) => continue,
                        Ok(WatchEvent::Error(_)) | Err(_) => break,
                    };
                    let (Some(watches), Some(queue)) = (watches.upgrade(), queue.upgrade()) else {
                        return;
                    };
                    if let Some(id) = watches.deployment_of(&environment, &name) {
                        queue.wake(id);
                    }
                }
            }
            Err(e) => {
                tracing::debug!(%environment, error = %e, "could not watch Deployments");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
        if watches.strong_count() == 0 {
            return;
        }
        // A watch that ended (its timeout, or it fell behind) starts again from a fresh list,
        // never in a tight loop.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
