//! The integration test gate: a Kubernetes Job from an image and command, passing when the
//! Job succeeds. Its name is fixed by the rollout, the stop and the visit, so a restarted server
//! finds the Job it had started instead of starting another. The pods' logs are kept.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams, PostParams};
use serde_json::json;
use std::time::{Duration, Instant};

use super::Verdict;
use super::pods::excerpt;

/// The most log text kept per gate.
const MAX_LOG_CHARS: usize = 20_000;

pub struct JobSpec<'a> {
    pub client: kube::Client,
    pub namespace: &'a str,
    pub name: String,
    pub rollout: i64,
    pub image: &'a str,
    pub command: &'a [String],
    pub timeout: Duration,
}

async fn create_once(jobs: &Api<Job>, s: &JobSpec<'_>) -> Result<(), String> {
    if jobs
        .get_opt(&s.name)
        .await
        .map_err(|e| format!("reading Job {}: {e}", s.name))?
        .is_some()
    {
        return Ok(());
    }
    let job: Job = serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": s.name, "labels": {"app.kubernetes.io/managed-by": "varai",
            "rollout.varai.dev/id": s.rollout.to_string()}},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "test", "image": s.image, "command": s.command}]}}}
    }))
    .map_err(|e| format!("building Job {}: {e}", s.name))?;
    jobs.create(&PostParams::default(), &job)
        .await
        .map_err(|e| format!("creating Job {}: {e}", s.name))?;
    Ok(())
}

async fn logs(pods: &Api<Pod>, job: &str) -> String {
    let list = match pods
        .list(&ListParams::default().labels(&format!("job-name={job}")))
        .await
    {
        Ok(l) => l,
        Err(e) => return format!("(could not list the Job's pods: {e})"),
    };
    let mut text = String::new();
    for pod in list.items {
        let name = pod.metadata.name.unwrap_or_default();
        match pods.logs(&name, &LogParams::default()).await {
            Ok(l) => text.push_str(&format!("--- {name}\n{l}")),
            Err(e) => text.push_str(&format!("--- {name}\n(no log: {e})\n")),
        }
    }
    excerpt(&text, MAX_LOG_CHARS)
}

/// Runs the Job (or follows the one already running) to its end.
pub async fn integration_test(s: JobSpec<'_>) -> Verdict {
    let jobs: Api<Job> = Api::namespaced(s.client.clone(), s.namespace);
    let pods: Api<Pod> = Api::namespaced(s.client.clone(), s.namespace);
    if let Err(e) = create_once(&jobs, &s).await {
        return Verdict::inconclusive(format!("Integration test: {e}"), json!({"job": s.name}));
    }
    let deadline = Instant::now() + s.timeout;
    loop {
        let status = match jobs.get(&s.name).await {
            Ok(j) => j.status.unwrap_or_default(),
            Err(e) => {
                return Verdict::inconclusive(
                    format!("Integration test: reading Job {}: {e}", s.name),
                    json!({"job": s.name}),
                );
            }
        };
        let (succeeded, failed) = (status.succeeded.unwrap_or(0), status.failed.unwrap_or(0));
        if succeeded > 0 || failed > 0 || Instant::now() > deadline {
            let log = logs(&pods, &s.name).await;
            let evidence = json!({"job": s.name, "image": s.image, "command": s.command,
                "succeeded": succeeded, "failed": failed, "logs": log});
            return if succeeded > 0 {
                Verdict::passed(
                    format!("Integration test passed: Job {} succeeded", s.name),
                    evidence,
                )
            } else if failed > 0 {
                Verdict::failed(
                    format!("Integration test failed: Job {} failed", s.name),
                    evidence,
                )
            } else {
                Verdict::failed(
                    format!(
                        "Integration test failed: Job {} did not finish within {} s",
                        s.name,
                        s.timeout.as_secs()
                    ),
                    evidence,
                )
            };
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
