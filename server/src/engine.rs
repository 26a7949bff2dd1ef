//! Everything behind the HTTP surface, started over one store: the sandbox and the deployment
//! controller, monitoring (analysis runs and alert rules), the rollout controller, and the
//! ports the use cases reach. The server, the tests and the benchmarks start it the same way.

use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use varai_core::Services;
use varai_core::flags::FlagStore;

use crate::deploy::launch::{Launched, Options};
use crate::monitor::{MonitorService, ServerPrometheus};
use crate::rollouts::RolloutService;
use crate::storage::SqlxStore;

/// How the engine starts.
pub struct EngineOptions {
    /// The sandbox and the deployment controller.
    pub deploy: Options,
    /// Where the server's Prometheus is, or why there is none yet.
    pub prometheus: ServerPrometheus,
    /// How often Prometheus scrapes, in seconds.
    pub scrape_seconds: u32,
    /// How often analysis runs are measured and alert rules evaluated.
    pub monitor_tick: Duration,
    /// How often a rollout waiting for its deployment is looked at.
    pub rollout_poll: Duration,
}

/// The running engine; its tasks stop when it is dropped.
pub struct Engine {
    pub services: Services,
    pub deploy: Launched,
    pub monitor: Arc<MonitorService>,
    pub rollouts: Arc<RolloutService>,
    /// The analysis runner and alert-rule evaluator.
    monitor_task: JoinHandle<()>,
    /// The rollout controller's loop.
    rollouts_task: JoinHandle<()>,
}

impl Engine {
    /// Seeds what is seeded once, starts every controller and builds the ports.
    pub async fn start(store: &SqlxStore, options: EngineOptions) -> anyhow::Result<Engine> {
        let flags: Arc<dyn FlagStore> = Arc::new(store.clone());
        let deploy =
            crate::deploy::launch::launch(store.clone(), Arc::clone(&flags), options.deploy)
                .await?;
        let (monitor, monitor_task) = crate::monitor::launch::launch(
            store.clone(),
            Arc::clone(&deploy.service),
            options.prometheus,
            options.scrape_seconds,
            options.monitor_tick,
        )
        .await?;
        let service = RolloutService::new(
            store.clone(),
            Arc::clone(&deploy.service),
            Arc::clone(&monitor),
            Arc::clone(&flags),
        );
        let (rollouts, rollouts_task) =
            crate::rollouts::launch(service, options.rollout_poll).await?;
        let services = Services {
            accounts: Arc::new(store.clone()),
            flags,
            changes: Arc::new(store.clone()),
            deploy: Arc::clone(&deploy.service) as _,
            monitor: Arc::clone(&monitor) as _,
            rollouts: Arc::clone(&rollouts) as _,
            storage: store.backend().label(),
        };
        Ok(Engine {
            services,
            deploy,
            monitor,
            rollouts,
            monitor_task,
            rollouts_task,
        })
    }

    /// Stops the rollout controller and its gate tasks, as a stopping server does, and starts
    /// a new one over the same database, as the next server would.
    pub async fn restart_rollouts(&mut self, poll: Duration) -> anyhow::Result<()> {
        self.rollouts.stop_gates();
        self.rollouts_task.abort();
        let service = RolloutService::new(
            self.rollouts.store.clone(),
            Arc::clone(&self.deploy.service),
            Arc::clone(&self.monitor),
            Arc::clone(&self.services.flags),
        );
        let (rollouts, task) = crate::rollouts::launch(service, poll).await?;
        self.services.rollouts = Arc::clone(&rollouts) as _;
        self.rollouts = rollouts;
        self.rollouts_task = task;
        Ok(())
    }
}

impl Engine {
    /// Stops both controllers (the deployment and the rollout controller) and leaves
    /// everything else running: the ports still answer, the sandbox still simulates.
    pub fn stop_controllers(&self) {
        self.deploy.controller.abort();
        self.rollouts_task.abort();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.monitor_task.abort();
        self.rollouts_task.abort();
    }
}
