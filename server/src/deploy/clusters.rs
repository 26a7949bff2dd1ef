//! Which cluster an environment deploys to: the sandbox (no cluster configured), the cluster
//! the server runs in (`in-cluster`), or a kubeconfig context. Clients are made once and kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use varai_core::error::AppError;

use crate::sandbox::Sandbox;
use crate::storage::SqlxStore;

/// A cluster and namespace to work in.
#[derive(Clone)]
pub struct ClusterTarget {
    pub client: kube::Client,
    pub namespace: String,
    /// The built-in sandbox rather than a real cluster.
    pub sandbox: bool,
}

/// The clients of every cluster in use.
pub struct Clusters {
    pub sandbox: Arc<Sandbox>,
    sandbox_client: kube::Client,
    real: Mutex<HashMap<String, kube::Client>>,
}

/// The context name that means "the cluster this server runs in".
pub const IN_CLUSTER: &str = "in-cluster";

impl Clusters {
    pub fn new(sandbox: Arc<Sandbox>) -> Clusters {
        Clusters {
            sandbox_client: sandbox.client("default"),
            sandbox,
            real: Mutex::default(),
        }
    }

    /// The cluster `environment` is bound to.
    pub async fn target(
        &self,
        store: &SqlxStore,
        environment: &str,
    ) -> Result<ClusterTarget, AppError> {
        let (context, namespace) = store.cluster_binding(environment).await?;
        let Some(context) = context else {
            return Ok(ClusterTarget {
                client: self.sandbox_client.clone(),
                namespace,
                sandbox: true,
            });
        };
        let known = self
            .real
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&context)
            .cloned();
        let client = match known {
            Some(c) => c,
            None => {
                let c = connect(&context).await.map_err(|e| {
                    AppError::Unavailable(format!(
                        "cannot reach the cluster of {environment} (context '{context}'): {e}"
                    ))
                })?;
                self.real
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(context.clone(), c.clone());
                c
            }
        };
        Ok(ClusterTarget {
            client,
            namespace,
            sandbox: false,
        })
    }
}

/// A client for a kubeconfig context, or the cluster this server runs in.
pub async fn connect(context: &str) -> Result<kube::Client, String> {
    let config = if context == IN_CLUSTER {
        kube::Config::incluster().map_err(|e| e.to_string())?
    } else {
        let options = kube::config::KubeConfigOptions {
            context: Some(context.to_owned()),
            ..Default::default()
        };
        kube::Config::from_kubeconfig(&options)
            .await
            .map_err(|e| e.to_string())?
    };
    kube::Client::try_from(config).map_err(|e| e.to_string())
}
