//! The sandbox cluster as a Kubernetes client sees it through the real `kube` crate: the seeded
//! demo app comes up, Deployments roll within their surge and unavailability budgets or
//! recreate, unhealthy versions stall, Jobs finish, watches stream, stale writes conflict, the
//! service proxy answers, and traffic shows up as metrics. Also checked with `kubectl`.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Endpoints, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use varai_domain::sandbox::{Behaviour, PodHealth};
use varai_server::sandbox::access::serve_port;
use varai_server::sandbox::{Running, Sandbox, Timings};

const NS: &str = "production";

fn start() -> (Arc<Sandbox>, Running, kube::Client) {
    let sandbox = Sandbox::new(Timings::fast());
    sandbox.seed(NS, "2026-11-26T00:00:00Z");
    let running = sandbox.start();
    let client = sandbox.client(NS);
    (sandbox, running, client)
}

/// Polls `check` until it returns `Some`, failing with `what` after 10 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn pods_by_version(pods: &Api<Pod>) -> Vec<(String, bool)> {
    let list = pods
        .list(&ListParams::default().labels("app=storefront"))
        .await
        .expect("pods listed");
    list.items
        .iter()
        .map(|p| {
            let version = p
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("version").cloned())
                .unwrap_or_default();
            let ready = p
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            (version, ready)
        })
        .collect()
}

async fn rolled_out(deployments: &Api<Deployment>, name: &str, replicas: i32) -> bool {
    let Ok(d) = deployments.get(name).await else {
        return false;
    };
    let s = d.status.unwrap_or_default();
    s.observed_generation == d.metadata.generation
        && s.updated_replicas == Some(replicas)
        && s.replicas == Some(replicas)
        && s.ready_replicas == Some(replicas)
}

async fn set_version(deployments: &Api<Deployment>, version: &str, strategy: serde_json::Value) {
    let patch = json!({"spec": {"strategy": strategy, "template": {
        "metadata": {"labels": {"app": "storefront", "version": version}},
        "spec": {"containers": [{"name": "storefront",
                                 "image": format!("registry.sandbox.local/storefront:{version}")}]}}}});
    deployments
        .patch("storefront", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("deployment patched");
}

#[tokio::test]
async fn the_demo_app_comes_up_with_ready_pods_and_endpoints() {
    let (_sandbox, _running, client) = start();
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    eventually("storefront to be ready", || async {
        rolled_out(&deployments, "storefront", 3)
            .await
            .then_some(())
    })
    .await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let running = pods_by_version(&pods).await;
    assert_eq!(running, vec![("v1".to_owned(), true); 3]);
    let endpoints: Api<Endpoints> = Api::default_namespaced(client.clone());
    let ep = endpoints.get("storefront").await.expect("endpoints");
    let addresses = ep.subsets.unwrap_or_default()[0]
        .addresses
        .clone()
        .unwrap_or_default();
    assert_eq!(addresses.len(), 3, "every ready pod is an endpoint");
    let sets: Api<ReplicaSet> = Api::default_namespaced(client);
    let rs = sets
        .list(&ListParams::default())
        .await
        .expect("replica sets");
    assert_eq!(rs.items.len(), 1);
    assert_eq!(
        rs.items[0]
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .map(String::as_str),
        Some("1")
    );
}

#[tokio::test]
async fn a_rolling_update_stays_within_its_surge_and_unavailability_budgets() {
    let (_sandbox, _running, client) = start();
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    eventually("storefront v1", || async {
        rolled_out(&deployments, "storefront", 3)
            .await
            .then_some(())
    })
    .await;
    set_version(
        &deployments,
        "v2",
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut saw_both = false;
    loop {
        let now = pods_by_version(&pods).await;
        let ready = now.iter().filter(|(_, r)| *r).count();
        assert!(now.len() <= 4, "more than desired + maxSurge pods: {now:?}");
        assert!(
            ready >= 2,
            "fewer than desired − maxUnavailable ready: {now:?}"
        );
        saw_both |= now.iter().any(|(v, _)| v == "v1") && now.iter().any(|(v, _)| v == "v2");
        if rolled_out(&deployments, "storefront", 3).await
            && now.iter().all(|(v, r)| v == "v2" && *r)
            && now.len() == 3
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rollout did not finish: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(saw_both, "old and new pods overlapped during the rollout");
    let d = deployments.get("storefront").await.expect("deployment");
    assert_eq!(
        d.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .map(String::as_str),
        Some("2")
    );
}

#[tokio::test]
async fn recreate_removes_every_old_pod_before_a_new_one_starts() {
    let (_sandbox, _running, client) = start();
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    eventually("storefront v1", || async {
        rolled_out(&deployments, "storefront", 3)
            .await
            .then_some(())
    })
    .await;
    set_version(
        &deployments,
        "v2",
        json!({"type": "Recreate", "rollingUpdate": null}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut saw_empty = false;
    loop {
        let now = pods_by_version(&pods).await;
        assert!(
            !(now.iter().any(|(v, _)| v == "v1") && now.iter().any(|(v, _)| v == "v2")),
            "old and new pods ran together: {now:?}"
        );
        saw_empty |= now.is_empty();
        if now.len() == 3 && now.iter().all(|(v, r)| v == "v2" && *r) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the recreate did not finish: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(saw_empty, "there was a moment with no pods (the downtime)");
}

#[tokio::test]
async fn an_unhealthy_version_stalls_its_rollout_and_keeps_the_old_pods_serving() {
    let (sandbox, _running, client) = start();
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    eventually("storefront v1", || async {
        rolled_out(&deployments, "storefront", 3)
            .await
            .then_some(())
    })
    .await;
    sandbox.simulation.set_behaviour(
        NS,
        "storefront",
        "v9",
        Behaviour {
            health: PodHealth::CrashLoop,
            ..Behaviour::default()
        },
    );
    set_version(
        &deployments,
        "v9",
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}),
    )
    .await;
    let crashing = eventually("a crash-looping v9 pod", || async {
        let list = pods
            .list(&ListParams::default().labels("version=v9"))
            .await
            .ok()?;
        let pod = list.items.into_iter().next()?;
        let waiting = pod
            .status?
            .container_statuses?
            .first()?
            .state
            .clone()?
            .waiting?;
        (waiting.reason.as_deref() == Some("CrashLoopBackOff")).then_some(waiting)
    })
    .await;
    assert!(crashing.message.unwrap_or_default().contains("v9"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let now = pods_by_version(&pods).await;
    let v1_ready = now.iter().filter(|(v, r)| v == "v1" && *r).count();
    assert_eq!(v1_ready, 3, "no old pod was taken away: {now:?}");
    assert_eq!(now.len(), 4, "one surge pod, stuck: {now:?}");
}

#[tokio::test]
async fn jobs_run_to_success_or_failure() {
    let (_sandbox, _running, client) = start();
    let jobs: Api<Job> = Api::default_namespaced(client);
    for (name, command) in [("smoke-ok", "echo ok"), ("smoke-bad", "echo no; exit 3")] {
        let job: Job = serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "check", "image": "busybox", "command": ["sh", "-c", command]}]}}}
        }))
        .expect("job");
        jobs.create(&PostParams::default(), &job)
            .await
            .expect("job created");
    }
    let outcome = |name: &'static str| {
        let jobs = jobs.clone();
        async move {
            eventually(name, || async {
                let status = jobs.get(name).await.ok()?.status?;
                let c = status
                    .conditions?
                    .into_iter()
                    .find(|c| c.status == "True")?;
                Some((c.type_, status.succeeded, status.failed))
            })
            .await
        }
    };
    assert_eq!(
        outcome("smoke-ok").await,
        ("Complete".to_owned(), Some(1), Some(0))
    );
    assert_eq!(
        outcome("smoke-bad").await,
        ("Failed".to_owned(), Some(0), Some(1))
    );
}

#[tokio::test]
async fn watches_stream_changes_and_stale_writes_conflict() {
    let (_sandbox, _running, client) = start();
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let mut seen = deployments.get("storefront").await.expect("deployment");
    let version = seen.metadata.resource_version.clone().expect("version");
    let stream = deployments
        .watch(
            &WatchParams::default()
                .fields("metadata.name=storefront")
                .timeout(5),
            &version,
        )
        .await
        .expect("watch started");
    let mut stream = Box::pin(stream);
    use futures_util::StreamExt;
    let event = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("an event in time")
        .expect("the stream goes on")
        .expect("a well-formed event");
    assert!(
        matches!(event, WatchEvent::Modified(ref d) if d.metadata.name.as_deref() == Some("storefront")),
        "{event:?}"
    );

    seen.metadata.resource_version = Some(version);
    seen.spec.as_mut().expect("spec").replicas = Some(5);
    let err = deployments
        .replace("storefront", &PostParams::default(), &seen)
        .await
        .expect_err("a stale write is refused");
    match err {
        kube::Error::Api(status) => {
            assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
        }
        other => panic!("expected a Conflict status, got {other:?}"),
    }
    let err = deployments.get("nope").await.expect_err("missing");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_service_proxy_answers_and_traffic_is_exported() {
    let (sandbox, _running, client) = start();
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    eventually("storefront v1", || async {
        rolled_out(&deployments, "storefront", 3)
            .await
            .then_some(())
    })
    .await;
    // With the simulated users away, requests through the proxy (checks, load tests, anyone's
    // curl) answer but are not counted: analysis judges the simulated users only.
    let rate = sandbox.simulation.rate(NS, "storefront");
    sandbox.simulation.set_rate(NS, "storefront", 0.0);
    let counted = || {
        let text = sandbox.traffic.render();
        text.lines()
            .filter(|l| l.starts_with("http_requests_total{") && l.contains("app=\"storefront\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = counted();
    for _ in 0..20 {
        let req = http::Request::get(format!(
            "/api/v1/namespaces/{NS}/services/storefront/proxy/healthz"
        ))
        .body(Vec::new())
        .expect("request");
        let answer: serde_json::Value = client.request(req).await.expect("proxy answers");
        assert_eq!(answer["version"], "v1");
        assert_eq!(answer["path"], "/healthz");
    }
    assert_eq!(
        counted(),
        before,
        "proxied requests are not the users' traffic"
    );
    sandbox.simulation.set_rate(NS, "storefront", rate.max(1.0));
    // The simulated users' requests are counted; resource usage is sampled on the next tick.
    let families = [
        "http_requests_total{namespace=\"production\",app=\"storefront\",version=\"v1\"",
        "http_request_duration_seconds_bucket{",
        "container_cpu_usage_seconds_total{",
        "container_memory_working_set_bytes{",
        "# TYPE checkout_visits counter",
        "# TYPE checkout_conversions counter",
    ];
    eventually("every metric family in the exposition", || async {
        let text = sandbox.traffic.render();
        families
            .iter()
            .all(|family| text.contains(family))
            .then_some(())
    })
    .await;
}

/// Runs kubectl with the kubeconfig at `config`.
async fn kubectl(config: &std::path::Path, args: &[&str]) -> (bool, String) {
    let mut command = tokio::process::Command::new("kubectl");
    command
        .arg(format!("--kubeconfig={}", config.display()))
        .arg(format!("--namespace={NS}"))
        .args(args)
        .env("HOME", std::env::temp_dir());
    let out = command
        .output()
        .await
        .expect("kubectl runs (scripts/setup.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn kubectl_reads_the_sandbox_and_follows_a_rollout() {
    let (sandbox, _running, _client) = start();
    let dir = tempfile::tempdir().expect("a temp dir");
    let any_port = "127.0.0.1:0".parse().expect("an address");
    let served = serve_port(&sandbox, any_port, Some(&dir.path().join("sandbox.json")))
        .await
        .expect("the port serves");
    let server = served.task;
    let config = served.kubeconfig.expect("a kubeconfig is written");
    let mode = std::fs::metadata(&config)
        .expect("written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "only its owner reads the token");
    let written = std::fs::read_to_string(&config).expect("readable");
    assert!(
        written.contains(&format!("server: https://127.0.0.1:{}", served.port)),
        "{written}"
    );
    let stranger = dir.path().join("stranger");
    std::fs::write(&stranger, written.replace(&sandbox.token, "a-guess")).expect("written");
    let (ok, out) = kubectl(&stranger, &["get", "pods"]).await;
    assert!(
        !ok && out.contains("must be logged in"),
        "a wrong token is refused: {out}"
    );
    let port = config.as_path();

    let (ok, out) = kubectl(
        port,
        &["rollout", "status", "deploy/storefront", "--timeout=20s"],
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("successfully rolled out"), "{out}");

    let (ok, out) = kubectl(port, &["get", "deploy,rs,pods,svc"]).await;
    assert!(ok, "{out}");
    for expected in [
        "deployment.apps/storefront",
        "3/3",
        "replicaset.apps/storefront-",
        "pod/storefront-",
        "Running",
        "service/storefront",
    ] {
        assert!(out.contains(expected), "{expected} missing from:\n{out}");
    }

    let (ok, out) = kubectl(
        port,
        &[
            "set",
            "image",
            "deploy/storefront",
            "storefront=registry.sandbox.local/storefront:v2",
        ],
    )
    .await;
    assert!(ok, "{out}");
    let (ok, out) = kubectl(
        port,
        &["rollout", "status", "deploy/storefront", "--timeout=20s"],
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("successfully rolled out"), "{out}");
    let (ok, out) = kubectl(
        port,
        &[
            "get",
            "pods",
            "-o",
            "jsonpath={.items[*].spec.containers[0].image}",
        ],
    )
    .await;
    assert!(ok, "{out}");
    assert_eq!(out.matches("storefront:v2").count(), 3, "{out}");
    server.abort();
}
