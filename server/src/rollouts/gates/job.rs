//! The integration test gate: a Kubernetes Job from an image and command, passing when the
//! Job succeeds. Its name is fixed by the rollout, the stop and the visit, so a restarted server
//! finds the Job it had started instead of starting another. The pods' logs are kept (the
//! first 64 KiB of each, 20,000 characters in all), then the Job is deleted.
//!
//! The Job runs as locked down as Kubernetes' "restricted" pod security standard asks: no
//! service account token, not as root, no privilege escalation, every capability dropped, the
//! runtime's seccomp profile, and a deadline the cluster itself enforces.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};
use serde_json::json;
use std::time::{Duration, Instant};

use super::Verdict;
use super::pods::excerpt;
use varai_domain::plan::GateStatus;

/// The most log text kept per gate.
const MAX_LOG_CHARS: usize = 20_000;
/// The most of one pod's log read from the cluster.
const MAX_LOG_BYTES: i64 = 64 * 1024;

pub struct JobSpec<'a> {
    pub client: kube::Client,
    pub namespace: &'a str,
    pub name: String,
    pub rollout: i64,
    pub image: &'a str,
    pub command: &'a [String],
    pub timeout: Duration,
}

/// The Job's manifest: one try, a deadline the cluster enforces, and the restricted pod
/// security standard.
fn job_object(s: &JobSpec<'_>) -> serde_json::Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": s.name, "labels": {"app.kubernetes.io/managed-by": "varai",
            "rollout.varai.dev/id": s.rollout.to_string()}},
        "spec": {"backoffLimit": 0, "activeDeadlineSeconds": s.timeout.as_secs().max(1),
            "template": {"spec": {"restartPolicy": "Never",
                "automountServiceAccountToken": false,
                "securityContext": {"runAsNonRoot": true, "runAsUser": 65534,
                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{"name": "test", "image": s.image, "command": s.command,
                    "securityContext": {"allowPrivilegeEscalation": false,
                        "capabilities": {"drop": ["ALL"]}}}]}}}
    })
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
    let job: Job = serde_json::from_value(job_object(s))
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
        let limited = LogParams {
            limit_bytes: Some(MAX_LOG_BYTES),
            ..LogParams::default()
        };
        match pods.logs(&name, &limited).await {
            Ok(l) => text.push_str(&format!("--- {name}\n{l}")),
            Err(e) => text.push_str(&format!("--- {name}\n(no log: {e})\n")),
        }
    }
    excerpt(&text, MAX_LOG_CHARS)
}

/// Runs the Job (or follows the one already running) to its end, then deletes it.
pub async fn integration_test(s: JobSpec<'_>) -> Verdict {
    let jobs: Api<Job> = Api::namespaced(s.client.clone(), s.namespace);
    let verdict = run(&jobs, &s).await;
    if matches!(verdict.status, GateStatus::Passed | GateStatus::Failed) {
        // Its pods go with it (background propagation); the logs are in the evidence.
        if let Err(e) = jobs.delete(&s.name, &DeleteParams::background()).await {
            tracing::warn!(job = %s.name, error = %e, "could not delete a finished test Job");
        }
    }
    verdict
}

async fn run(jobs: &Api<Job>, s: &JobSpec<'_>) -> Verdict {
    let pods: Api<Pod> = Api::namespaced(s.client.clone(), s.namespace);
    if let Err(e) = create_once(jobs, s).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_test_job_runs_locked_down_with_a_deadline() {
        let command = vec!["sh".to_owned(), "-c".to_owned(), "exit 0".to_owned()];
        let Ok(client) = kube::Client::try_from(kube::Config::new(
            "http://127.0.0.1:9".parse().expect("a URL"),
        )) else {
            panic!("a client needs no server to be built");
        };
        let s = JobSpec {
            client,
            namespace: "shop",
            name: "varai-it-1-2-0".into(),
            rollout: 1,
            image: "registry.example/tests:1",
            command: &command,
            timeout: Duration::from_secs(90),
        };
        let job = job_object(&s);
        let pod = &job["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        assert_eq!(job["spec"]["activeDeadlineSeconds"], 90);
        assert_eq!(job["spec"]["backoffLimit"], 0);
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        assert_eq!(
            container["securityContext"]["allowPrivilegeEscalation"],
            false
        );
        assert_eq!(
            container["securityContext"]["capabilities"]["drop"][0],
            "ALL"
        );
        assert_eq!(container["image"], "registry.example/tests:1");
    }
}
