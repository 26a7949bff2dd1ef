//! Deployments against real clusters and the sandbox: the [`Deployer`] port the dashboard and
//! the REST API use, the controller that carries deployments out, and rollback.

pub mod analysis_check;
pub mod clusters;
pub mod controller;
mod deployer;
pub mod launch;
pub mod rollback;
mod watch;
pub mod workloads;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::PostParams;
use serde_json::json;
use std::sync::Arc;
use varai_core::deploy::{AppLive, AppRecord, NewApp};
use varai_core::error::{AppError, Result};
use varai_core::flags::FlagStore;

use clusters::{ClusterTarget, Clusters};
use workloads::{AppObjects, MANAGED_BY};

use crate::reconcile::{Locks, Queue};
use crate::storage::SqlxStore;

/// The server's side of deployments.
pub struct DeployService {
    pub store: SqlxStore,
    pub flags: Arc<dyn FlagStore>,
    pub clusters: Clusters,
    /// The loopback port the sandbox's API listens on, if it does.
    pub sandbox_port: Option<u16>,
    /// The kubeconfig written for that port, if one was.
    pub sandbox_kubeconfig: Option<std::path::PathBuf>,
    /// One lock per app (environment, name): the controller's steps and a rollback never
    /// interleave, so a step decided before a rollback cannot undo it.
    pub locks: Locks<(String, String)>,
    /// The deployments due for the controller's look.
    pub queue: Arc<Queue<i64>>,
    /// The deployments in progress by their app, and the namespaces watched for changes.
    pub watches: Arc<watch::Watches>,
}

pub(super) fn unavailable(what: &str) -> impl FnOnce(kube::Error) -> AppError + '_ {
    move |e| AppError::Unavailable(format!("{what}: {e}"))
}

impl DeployService {
    /// Holds the app's lock until the guard is dropped.
    pub async fn lock_app(&self, environment: &str, app: &str) -> tokio::sync::OwnedMutexGuard<()> {
        self.locks
            .lock((environment.to_owned(), app.to_owned()))
            .await
    }

    pub(crate) async fn target(&self, environment: &str) -> Result<ClusterTarget> {
        self.clusters.target(&self.store, environment).await
    }

    pub(super) async fn live(&self, app: AppRecord) -> Result<AppLive> {
        let deployment = self.store.in_progress_of(app.id).await?;
        let known_versions = {
            let mut v: Vec<String> = self
                .clusters
                .sandbox
                .simulation
                .profiles()
                .into_iter()
                .filter(|p| p.app == app.name)
                .map(|p| p.version)
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let (versions, cluster_error) = match self.target(&app.environment).await {
            Ok(target) => match AppObjects::new(&app, &target).live().await {
                Ok(v) => (v, None),
                Err(e) => (Vec::new(), Some(format!("reading {}: {e}", app.name))),
            },
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        Ok(AppLive {
            app,
            versions,
            deployment,
            cluster_error,
            known_versions,
        })
    }

    /// Generates and creates an app's Deployment and Service.
    pub(super) async fn create_workload(
        &self,
        target: &ClusterTarget,
        app: &AppRecord,
        new: &NewApp,
    ) -> Result<()> {
        let Some(w) = &new.create else {
            return Ok(());
        };
        let labels = json!({"app": app.name, MANAGED_BY.0: MANAGED_BY.1});
        let mut resources = json!({});
        if let Some(cpu) = &w.cpu {
            resources["requests"]["cpu"] = json!(cpu);
        }
        if let Some(memory) = &w.memory {
            resources["requests"]["memory"] = json!(memory);
        }
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app.deployment, "labels": labels},
            "spec": {"replicas": w.replicas, "selector": {"matchLabels": {"app": app.name}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                "template": {"metadata": {"labels": {"app": app.name, "version": w.version}},
                    "spec": {"containers": [{"name": app.container, "image": format!("{}:{}", app.image, w.version),
                        "ports": [{"containerPort": w.port}], "resources": resources}]}}}});
        let service = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": app.service, "labels": labels},
            "spec": {"selector": {"app": app.name}, "ports": [{"name": "http", "port": 80, "targetPort": w.port}]}});
        let invalid = |e: serde_json::Error| AppError::Invalid {
            field: "create".into(),
            message: e.to_string(),
        };
        let d: Deployment = serde_json::from_value(deployment).map_err(invalid)?;
        let s: Service = serde_json::from_value(service).map_err(invalid)?;
        let objects = AppObjects::new(app, target);
        objects
            .deployments
            .create(&PostParams::default(), &d)
            .await
            .map_err(|e| conflict_or_unavailable("deployment", e))?;
        objects
            .services
            .create(&PostParams::default(), &s)
            .await
            .map_err(|e| conflict_or_unavailable("service", e))?;
        Ok(())
    }
}

pub(super) fn conflict_or_unavailable(field: &str, e: kube::Error) -> AppError {
    match e {
        kube::Error::Api(s) if s.code == 409 || s.code == 422 => AppError::Conflict {
            field: field.to_owned(),
            message: s.message,
        },
        other => AppError::Unavailable(format!("the cluster refused the {field}: {other}")),
    }
}
