//! Jobs: run one pod at a time until `completions` pods succeed, or more than `backoffLimit`
//! fail. Whether a pod succeeds is decided when it starts: the Job's
//! `sandbox.varai.dev/outcome` annotation if it has one (`succeed` or `fail`), otherwise its
//! command — one that runs `exit N` with N ≠ 0, or `false`, fails.

use serde_json::{Value, json};

use super::{Cluster, pods, replicasets::owned};
use crate::sandbox::kind::Kind;
use crate::sandbox::objects::{annotation, count_or, name, uid};

fn phase(pod: &Value) -> &str {
    pod.pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending")
}

/// `succeed` or `fail`, for the Job's next pod.
pub fn outcome(job: &Value) -> &'static str {
    match annotation(job, pods::OUTCOME) {
        Some("fail") => return "fail",
        Some("succeed") => return "succeed",
        _ => {}
    }
    let container = job.pointer("/spec/template/spec/containers/0");
    let words: Vec<String> = ["command", "args"]
        .iter()
        .filter_map(|f| container.and_then(|c| c.get(*f)).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .flat_map(|s| {
            s.split([' ', ';', '&', '|'])
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let exits_badly = words
        .windows(2)
        .any(|w| w[0] == "exit" && w[1].parse::<i32>().is_ok_and(|code| code != 0));
    if exits_badly || words.iter().any(|w| w == "false") {
        "fail"
    } else {
        "succeed"
    }
}

pub fn reconcile(cluster: &Cluster<'_>) {
    let all_pods = cluster.all(Kind::Pod);
    let now = cluster.now_rfc3339();
    for job in cluster.all(Kind::Job) {
        let mine = owned(&all_pods, &job);
        let succeeded = mine.iter().filter(|p| phase(p) == "Succeeded").count() as u32;
        let failed = mine.iter().filter(|p| phase(p) == "Failed").count() as u32;
        let mut active = mine.len() as u32 - succeeded - failed;
        let completions = count_or(&job, "/spec/completions", 1);
        let backoff_limit = count_or(&job, "/spec/backoffLimit", 6);
        let complete = succeeded >= completions;
        let gave_up = !complete && failed > backoff_limit;
        if !complete && !gave_up && active == 0 {
            let labels = json!({"job-name": name(&job), "batch.kubernetes.io/job-name": name(&job),
                                "controller-uid": uid(&job)});
            let template = job.pointer("/spec/template").cloned().unwrap_or(json!({}));
            let annotations = json!({pods::OUTCOME: outcome(&job)});
            match pods::create(cluster, &job, &template, &labels, &annotations) {
                Ok(_) => active += 1,
                Err(e) => tracing::debug!(error = %e, "sandbox: job pod not created"),
            }
        }
        let previous = job.get("status").cloned().unwrap_or(json!({}));
        let start = previous.get("startTime").cloned().unwrap_or(json!(now));
        let mut status = json!({"startTime": start, "active": active, "succeeded": succeeded,
                                "failed": failed});
        if complete || gave_up {
            status["active"] = json!(0);
            status["completionTime"] = previous
                .get("completionTime")
                .cloned()
                .unwrap_or(json!(now));
            let (kind, reason) = if complete {
                ("Complete", "Completed")
            } else {
                ("Failed", "BackoffLimitExceeded")
            };
            status["conditions"] = json!([pods::condition(&previous, kind, true, reason, &now)]);
        }
        cluster.set_status(Kind::Job, &job, status);
    }
}
