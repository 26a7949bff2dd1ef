//! Rollouts: plans carried out phase by phase against the cluster and the flags. The
//! [`RolloutService`] implements the app's `Rollouts` port; its controller runs the plans; its
//! gates verify each stop; a failed gate or an alert puts the snapshot back.

pub mod audience;
mod commands;
pub mod controller;
mod exposure;
pub mod gates;
mod prepare;
mod references;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use varai_core::accounts::Principal;
use varai_core::flags::FlagStore;
use varai_domain::flags::Targeting;

use crate::deploy::DeployService;
use crate::error::{Error, Result};
use crate::monitor::MonitorService;
use crate::reconcile::{self, Locks, Pace, Queue};
use crate::storage::{RolloutUpdate, SqlxStore};

/// The server's side of rollouts.
pub struct RolloutService {
    pub store: SqlxStore,
    pub deploy: Arc<DeployService>,
    pub monitor: Arc<MonitorService>,
    pub flags: Arc<dyn FlagStore>,
    /// Gate rows with a task running them in this process, with their rollout.
    running: Mutex<HashMap<i64, (i64, tokio::task::AbortHandle)>>,
    /// One lock per rollout: the controller's steps and a person's command never interleave,
    /// so an audience put in place by a step decided earlier cannot follow an abort.
    locks: Locks<i64>,
    /// The rollouts due for the controller's look.
    queue: Queue<i64>,
    /// Which rollout drives each deployment, so a deployment moving on wakes its rollout.
    drivers: Mutex<HashMap<i64, i64>>,
}

impl RolloutService {
    pub fn new(
        store: SqlxStore,
        deploy: Arc<DeployService>,
        monitor: Arc<MonitorService>,
        flags: Arc<dyn FlagStore>,
    ) -> RolloutService {
        RolloutService {
            store,
            deploy,
            monitor,
            flags,
            running: Mutex::default(),
            locks: Locks::default(),
            queue: Queue::default(),
            drivers: Mutex::default(),
        }
    }
}

impl RolloutService {
    /// How many times the controller looked at a rollout since the start.
    pub fn looks(&self) -> u64 {
        self.queue.looks()
    }

    /// Holds the rollout's lock until the guard is dropped.
    pub async fn lock_rollout(&self, id: i64) -> tokio::sync::OwnedMutexGuard<()> {
        self.locks.lock(id).await
    }

    /// Notes that `rollout` drives `deployment`.
    fn watch_deployment(&self, deployment: i64, rollout: i64) {
        self.drivers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(deployment, rollout);
    }

    /// The rollout that drives `deployment`, if one does.
    fn rollout_of(&self, deployment: i64) -> Option<i64> {
        self.drivers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&deployment)
            .copied()
    }

    /// Stops every gate task, as a stopping server does; their rows stay `running` for the
    /// next server to start again.
    pub fn stop_gates(&self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        for (_, (_, task)) in running.drain() {
            task.abort();
        }
    }

    /// Stops the gates still running for a rollout that has ended, and records that they
    /// ended without a verdict.
    pub async fn stop_gates_of(&self, rollout: i64, why: &str) {
        {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            running.retain(|_, (r, task)| {
                if *r == rollout {
                    task.abort();
                }
                *r != rollout
            });
        }
        if let Err(e) = self
            .store
            .cancel_gates(rollout, why, varai_core::clock::now_ms())
            .await
        {
            tracing::warn!(rollout, error = %e, "could not record the gates stopped with their rollout");
        }
    }
}

/// Seeds the default plan template and starts the rollout controller, which looks at a
/// rollout waiting for its deployment every `poll`.
pub async fn launch(
    service: RolloutService,
    poll: Duration,
) -> anyhow::Result<(Arc<RolloutService>, JoinHandle<()>)> {
    service
        .store
        .seed_plan_templates(varai_core::clock::now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("could not seed the plan templates: {e}"))?;
    let service = Arc::new(service);
    let pace = Pace {
        poll,
        ..Pace::default()
    };
    let changes = service.store.changes();
    let task = tokio::spawn(reconcile::run(
        Arc::new(Arc::clone(&service)),
        changes,
        pace,
    ));
    Ok((service, task))
}

/// Who the audit log names for what a rollout does by itself.
pub fn rollout_actor(id: i64) -> Principal {
    Principal::automation(format!("rollout #{id}"))
}

/// The released flags' targeting from before the rollout, as the update holds it.
fn flags_before(u: &RolloutUpdate) -> Result<BTreeMap<String, Targeting>> {
    match &u.flags_before {
        None => Ok(BTreeMap::new()),
        Some(text) => serde_json::from_str(text).map_err(|e| Error::Storage {
            op: "read the flags' targeting from before the rollout",
            source: Box::new(e),
        }),
    }
}
