//! Starting the deployment side of the server: the sandbox (loaded from and saved to the data
//! folder, seeded with the demo app in every environment that has no cluster), its loopback
//! Kubernetes API for kubectl, and the deployment controller.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use varai_core::clock::now_ms;
use varai_core::flags::FlagStore;

use super::DeployService;
use super::clusters::Clusters;
use crate::reconcile::{self, Locks, Pace};
use crate::sandbox::{Running, Sandbox, Timings};
use crate::storage::SqlxStore;

/// How the deployment side starts.
pub struct Options {
    pub timings: Timings,
    /// Where the sandbox keeps its objects between runs; `None` keeps nothing.
    pub sandbox_file: Option<PathBuf>,
    /// Loopback address for the sandbox's Kubernetes API; `None` for none.
    pub sandbox_addr: Option<SocketAddr>,
    /// How often the deployment controller looks at a deployment waiting for the cluster.
    pub poll: Duration,
}

/// The running deployment side; stops when dropped.
pub struct Launched {
    pub service: Arc<DeployService>,
    pub sandbox: Arc<Sandbox>,
    /// The deployment controller's loop.
    pub controller: JoinHandle<()>,
    tasks: Vec<JoinHandle<()>>,
    _simulation: Running,
}

impl Drop for Launched {
    fn drop(&mut self) {
        self.controller.abort();
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

pub async fn launch(
    store: SqlxStore,
    flags: Arc<dyn FlagStore>,
    options: Options,
) -> anyhow::Result<Launched> {
    let sandbox = Sandbox::new(options.timings);
    if let Some(path) = &options.sandbox_file {
        sandbox.load(path).map_err(|e| {
            anyhow::anyhow!("could not load the sandbox from {}: {e}", path.display())
        })?;
    }
    let now = varai_domain::clock::format_rfc3339(now_ms());
    for env in store
        .environments()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        let (context, namespace) = store
            .cluster_binding(&env.key)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if context.is_none() {
            sandbox.seed(&namespace, &now);
        }
    }
    let simulation = sandbox.start();
    let mut tasks = Vec::new();
    if let Some(path) = options.sandbox_file.clone() {
        tasks.push(sandbox.keep_saved(path));
    }
    let (mut port, mut kubeconfig) = (None, None);
    if let Some(addr) = options.sandbox_addr {
        let state_file = options.sandbox_file.as_deref();
        if let Some(served) = crate::sandbox::access::serve_port(&sandbox, addr, state_file).await {
            (port, kubeconfig) = (Some(served.port), served.kubeconfig);
            tasks.push(served.task);
        }
    }
    let service = Arc::new(DeployService {
        store,
        flags,
        clusters: Clusters::new(Arc::clone(&sandbox)),
        sandbox_port: port,
        sandbox_kubeconfig: kubeconfig,
        locks: Locks::default(),
        queue: Arc::default(),
        watches: Arc::default(),
    });
    let pace = Pace {
        poll: options.poll,
        ..Pace::default()
    };
    let changes = service.store.changes();
    let controller = tokio::spawn(reconcile::run(Arc::clone(&service), changes, pace));

    Ok(Launched {
        service,
        sandbox,
        controller,
        tasks,
        _simulation: simulation,
    })
}
