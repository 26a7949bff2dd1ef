//! What gates check: the ready pods of the release's new version, reached through the
//! Kubernetes API's pod proxy (the sandbox serves the same path), so a check answers for the
//! new version alone even while a canary shares its Service with the stable version.

use http_body_util::{BodyExt, LengthLimitError, Limited};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::client::Body;
use std::time::{Duration, Instant};
use varai_core::deploy::AppRecord;

/// The most of one answer a gate reads from a pod.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Where a gate's requests go.
#[derive(Clone)]
pub struct PodTarget {
    pub client: kube::Client,
    pub namespace: String,
    pub app: AppRecord,
    pub version: String,
}

/// One answer from a pod.
#[derive(Debug, Clone)]
pub struct PodAnswer {
    pub pod: String,
    pub status: u16,
    pub body: String,
    pub latency: Duration,
}

fn ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        && pod.metadata.deletion_timestamp.is_none()
}

impl PodTarget {
    /// The names of the new version's ready pods.
    pub async fn ready_pods(&self) -> Result<Vec<String>, String> {
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), &self.namespace);
        let primary = deployments
            .get(&self.app.deployment)
            .await
            .map_err(|e| format!("reading Deployment {}: {e}", self.app.deployment))?;
        let mut labels: Vec<String> = primary
            .spec
            .and_then(|s| s.selector.match_labels)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "version")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        labels.push(format!("version={}", self.version));
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let list = pods
            .list(&ListParams::default().labels(&labels.join(",")))
            .await
            .map_err(|e| format!("listing the pods of {}: {e}", self.version))?;
        let mut names: Vec<String> = list
            .items
            .iter()
            .filter(|p| ready(p))
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        names.sort();
        Ok(names)
    }

    /// GETs `path` from one pod, within `timeout`.
    pub async fn get(&self, pod: &str, path: &str, timeout: Duration) -> Result<PodAnswer, String> {
        let uri = format!(
            "/api/v1/namespaces/{}/pods/{pod}/proxy{}",
            self.namespace,
            if path == "/" { "/" } else { path }
        );
        let request = http::Request::get(uri)
            .body(Body::from(Vec::new()))
            .map_err(|e| format!("GET {path}: {e}"))?;
        let started = Instant::now();
        let call = async {
            let response = self
                .client
                .send(request)
                .await
                .map_err(|e| format!("GET {path} on {pod}: {e}"))?;
            let status = response.status().as_u16();
            let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<LengthLimitError>() {
                        format!(
                            "the answer to GET {path} on {pod} is larger than {} KiB",
                            MAX_ANSWER_BYTES / 1024
                        )
                    } else {
                        format!("reading the answer to GET {path} on {pod}: {e}")
                    }
                })?
                .to_bytes();
            Ok::<_, String>((status, String::from_utf8_lossy(&bytes).into_owned()))
        };
        let (status, body) = tokio::time::timeout(timeout, call).await.map_err(|_| {
            format!(
                "GET {path} on {pod}: no answer within {} ms",
                timeout.as_millis()
            )
        })??;
        Ok(PodAnswer {
            pod: pod.to_owned(),
            status,
            body,
            latency: started.elapsed(),
        })
    }
}

/// The first `n` characters of `text`, marked when cut.
pub fn excerpt(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(n).collect::<String>())
    }
}
