//! Pods: created from a template by their owner, then started, made ready (or kept unready,
//! or crash-looping, as their version's profile says), or for a Job's pod run to an outcome.

use serde_json::{Value, json};
use varai_domain::sandbox::PodHealth;

use super::Cluster;
use crate::sandbox::kind::Kind;
use crate::sandbox::objects::{CREATED_MS, annotation, created_ms, name, namespace, owned_by, uid};
use crate::sandbox::simulation::app_and_version;
use crate::sandbox::store::Refusal;

/// Annotation on a Job's pod: `succeed` or `fail`, decided when it is created.
pub const OUTCOME: &str = "sandbox.varai.dev/outcome";
/// How long a crash-looping container waits between restarts.
const CRASH_BACKOFF_MS: i64 = 10_000;

/// Creates a pod for `owner` from its pod `template`, with `labels` added.
pub fn create(
    cluster: &Cluster<'_>,
    owner: &Value,
    template: &Value,
    labels: &Value,
    annotations: &Value,
) -> Result<Value, Refusal> {
    let mut meta = template.get("metadata").cloned().unwrap_or(json!({}));
    crate::sandbox::store::merge_patch(
        &mut meta,
        &json!({"labels": labels, "annotations": annotations}),
    );
    meta["annotations"][CREATED_MS] = json!(cluster.now_ms.to_string());
    meta["generateName"] = json!(format!("{}-", name(owner)));
    meta["ownerReferences"] = owned_by(owner);
    if let Some(m) = meta.as_object_mut() {
        m.remove("name");
    }
    let pod = json!({
        "metadata": meta,
        "spec": template.get("spec").cloned().unwrap_or(json!({})),
        "status": {"phase": "Pending"},
    });
    cluster
        .store
        .create(Kind::Pod, namespace(owner), pod, &cluster.now_rfc3339())
}

/// A condition, keeping its previous transition time while its status holds.
pub fn condition(previous: &Value, kind: &str, status: bool, reason: &str, now: &str) -> Value {
    let status = if status { "True" } else { "False" };
    let since = previous
        .get("conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter().find(|c| {
                c.get("type").and_then(Value::as_str) == Some(kind)
                    && c.get("status").and_then(Value::as_str) == Some(status)
            })
        })
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or_else(|| json!(now));
    json!({"type": kind, "status": status, "reason": reason, "lastTransitionTime": since})
}

/// The pod's address, derived from its uid so that it never changes.
fn pod_ip(pod: &Value) -> String {
    let n = u64::from_str_radix(uid(pod).trim_start_matches("sandbox-"), 16).unwrap_or(0);
    format!("10.244.{}.{}", (n >> 8) & 0xff, n & 0xff)
}

/// The state of the first container and whether the pod is ready, for a pod `age_ms` old.
fn container_state(
    cluster: &Cluster<'_>,
    pod: &Value,
    age_ms: i64,
) -> (&'static str, Value, bool, i64) {
    let start = i64::try_from(cluster.timings.pod_start.as_millis()).unwrap_or(i64::MAX);
    let ready_at = i64::try_from(cluster.timings.pod_ready.as_millis()).unwrap_or(i64::MAX);
    let job_run = i64::try_from(cluster.timings.job_run.as_millis()).unwrap_or(i64::MAX);
    let started_at = varai_domain::clock::format_rfc3339(created_ms(pod) + start);
    if age_ms < start {
        return (
            "Pending",
            json!({"waiting": {"reason": "ContainerCreating"}}),
            false,
            0,
        );
    }
    if let Some(outcome) = annotation(pod, OUTCOME) {
        if age_ms < start + job_run {
            return (
                "Running",
                json!({"running": {"startedAt": started_at}}),
                true,
                0,
            );
        }
        let failed = outcome == "fail";
        let finished_at = varai_domain::clock::format_rfc3339(created_ms(pod) + start + job_run);
        let state = json!({"terminated": {"exitCode": i32::from(failed),
            "reason": if failed { "Error" } else { "Completed" },
            "startedAt": started_at, "finishedAt": finished_at}});
        return (if failed { "Failed" } else { "Succeeded" }, state, false, 0);
    }
    let (app, version) = app_and_version(pod);
    match cluster
        .simulation
        .behaviour(namespace(pod), &app, &version)
        .health
    {
        PodHealth::Healthy => (
            "Running",
            json!({"running": {"startedAt": started_at}}),
            age_ms >= ready_at,
            0,
        ),
        PodHealth::FailsReadiness => (
            "Running",
            json!({"running": {"startedAt": started_at}}),
            false,
            0,
        ),
        PodHealth::CrashLoop => (
            "Running",
            json!({"waiting": {"reason": "CrashLoopBackOff",
                "message": format!("back-off restarting failed container of {app} {version}")}}),
            false,
            1 + (age_ms - start) / CRASH_BACKOFF_MS,
        ),
    }
}

/// Moves every pod's status forward to what its age and profile say.
pub fn advance(cluster: &Cluster<'_>) {
    let now = cluster.now_rfc3339();
    for pod in cluster.all(Kind::Pod) {
        let age = cluster.now_ms - created_ms(&pod);
        let (phase, state, ready, restarts) = container_state(cluster, &pod, age);
        let previous = pod.get("status").cloned().unwrap_or(json!({}));
        let containers: Vec<Value> = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|c| {
                json!({"name": c.get("name"), "image": c.get("image"), "ready": ready,
                       "started": phase != "Pending", "restartCount": restarts, "state": state})
            })
            .collect();
        let ip = pod_ip(&pod);
        let start_time = varai_domain::clock::format_rfc3339(created_ms(&pod));
        let status = json!({
            "phase": phase,
            "conditions": [
                condition(&previous, "PodScheduled", true, "", &now),
                condition(&previous, "Initialized", true, "", &now),
                condition(&previous, "ContainersReady", ready, "", &now),
                condition(&previous, "Ready", ready, if ready { "" } else { "ContainersNotReady" }, &now),
            ],
            "hostIP": "10.0.0.1",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": start_time,
            "containerStatuses": containers,
        });
        cluster.set_status(Kind::Pod, &pod, status);
    }
}

/// A pod's log as the sandbox tells it: the command, what its `echo`s print, and, for a
/// finished pod, how it ended.
pub fn log_of(pod: &Value) -> String {
    let container = pod.pointer("/spec/containers/0");
    let words: Vec<&str> = ["command", "args"]
        .iter()
        .filter_map(|f| container.and_then(|c| c.get(*f)).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut log = format!("$ {}\n", words.join(" "));
    let script = words.last().copied().unwrap_or("");
    for part in script.split([';', '\n']).flat_map(|p| p.split("&&")) {
        if let Some(text) = part.trim().strip_prefix("echo ") {
            log.push_str(text.trim().trim_matches(['\'', '"']));
            log.push('\n');
        }
    }
    match pod.pointer("/status/phase").and_then(Value::as_str) {
        Some("Succeeded") => log.push_str("exit status 0\n"),
        Some("Failed") => log.push_str("exit status 1\n"),
        _ => {}
    }
    log
}
