//! Starting the monitoring side: the seeded analysis templates and the runner that measures
//! analysis runs and evaluates alert rules.

use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use varai_core::clock::now_ms;

use super::{MonitorService, ServerPrometheus, runner};
use crate::deploy::DeployService;
use crate::storage::SqlxStore;

pub async fn launch(
    store: SqlxStore,
    deploy: Arc<DeployService>,
    server_prometheus: ServerPrometheus,
    scrape_seconds: u32,
    tick: Duration,
) -> anyhow::Result<(Arc<MonitorService>, JoinHandle<()>)> {
    store
        .seed_templates(now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("could not seed the analysis templates: {e}"))?;
    let monitor = Arc::new(MonitorService::new(
        store,
        deploy,
        server_prometheus,
        scrape_seconds,
    ));
    let task = tokio::spawn(runner::run(Arc::clone(&monitor), tick));
    Ok((monitor, task))
}
