//! The exact Kubernetes API calls of a promotion and a rollback, checked the way kube's own
//! tests do with `tower-test`: the `kube` client talks to a service that records every request
//! (here it also passes it on to the sandbox, so the answers are real).

use axum::Router;
use http::{Request, Response};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::ServiceExt;
use varai_core::deploy::AppRecord;
use varai_domain::deploy::{
    Action, DeploySpec, IntOrPercent, Observed, Progress, Stage, Strategy, Workload, decide,
};
use varai_server::deploy::clusters::ClusterTarget;
use varai_server::deploy::rollback::restore_objects;
use varai_server::deploy::workloads::AppObjects;
use varai_server::sandbox::{Sandbox, Timings};

/// One request as the cluster received it.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    method: String,
    path: String,
    content_type: String,
    body: Value,
}

#[derive(Clone)]
struct Recorder {
    api: Router,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl tower::Service<Request<kube::client::Body>> for Recorder {
    type Response = Response<axum::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<kube::client::Body>) -> Self::Future {
        let api = self.api.clone();
        let calls = Arc::clone(&self.calls);
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            calls.lock().expect("log").push(Call {
                method: parts.method.to_string(),
                path: parts.uri.to_string(),
                content_type: parts
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned(),
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            });
            api.oneshot(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        })
    }
}

fn storefront() -> AppRecord {
    AppRecord {
        id: 1,
        environment: "production".into(),
        name: "storefront".into(),
        deployment: "storefront".into(),
        service: "storefront".into(),
        container: "storefront".into(),
        image: "registry.sandbox.local/storefront".into(),
        created_at: 0,
        created_by: "system".into(),
    }
}

struct Rig {
    sandbox: Arc<Sandbox>,
    _running: varai_server::sandbox::Running,
    plain: ClusterTarget,
    recorded: ClusterTarget,
    calls: Arc<Mutex<Vec<Call>>>,
}

async fn rig() -> Rig {
    let sandbox = Sandbox::new(Timings::fast());
    sandbox.seed("production", "2026-11-26T00:00:00Z");
    let running = sandbox.start();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recorder {
        api: sandbox.api(),
        calls: Arc::clone(&calls),
    };
    let target = |client| ClusterTarget {
        client,
        namespace: "production".into(),
        sandbox: true,
    };
    Rig {
        plain: target(sandbox.client("production")),
        recorded: target(kube::Client::new(recorder, "production")),
        sandbox,
        _running: running,
        calls,
    }
}

impl Rig {
    fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().expect("log"))
    }

    async fn ready(&self, app: &AppRecord) {
        let objects = AppObjects::new(app, &self.plain);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let seen = objects
                .observe(&Strategy::Recreate)
                .await
                .expect("observed");
            if seen.primary.is_some_and(|p| p.rolled_out && p.ready == 3) {
                return;
            }
            assert!(Instant::now() < deadline, "storefront never came up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn lines(calls: &[Call]) -> Vec<String> {
    calls
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect()
}

#[tokio::test]
async fn a_blue_green_promotion_is_one_merge_patch_of_the_active_services_selector() {
    let rig = rig().await;
    let app = storefront();
    rig.ready(&app).await;
    let objects = AppObjects::new(&app, &rig.recorded);
    let strategy = Strategy::BlueGreen {
        auto_promotion_seconds: None,
        scale_down_delay_seconds: 30,
    };
    let plan = DeploySpec {
        strategy: strategy.clone(),
        version: "v2".into(),
        previous_version: "v1".into(),
        desired: 3,
    };
    let seen = Observed {
        primary: Some(Workload {
            version: "v1".into(),
            replicas: 3,
            ready: 3,
            rolled_out: true,
            stalled: false,
        }),
        secondary: Some(Workload {
            version: "v2".into(),
            replicas: 3,
            ready: 3,
            rolled_out: true,
            stalled: false,
        }),
        active_version: Some("v1".into()),
        preview_service: true,
    };
    let progress = Progress {
        stage: Stage::AwaitPromotion,
        since_ms: 0,
        promote: true,
        analysis: None,
    };
    let decision = decide(&plan, &progress, &seen, 1_000);
    assert_eq!(decision.actions, [Action::Active(Some("v2".into()))]);
    for a in &decision.actions {
        objects.apply(a, &strategy, false).await.expect("applied");
    }
    assert_eq!(
        rig.take(),
        [Call {
            method: "PATCH".into(),
            path: "/api/v1/namespaces/production/services/storefront?".into(),
            content_type: "application/merge-patch+json".into(),
            body: json!({"spec": {"selector": {"version": "v2"}}}),
        }]
    );
}

#[tokio::test]
async fn a_canary_promotion_patches_the_primary_to_the_new_version_without_losing_capacity() {
    let rig = rig().await;
    let app = storefront();
    rig.ready(&app).await;
    let objects = AppObjects::new(&app, &rig.recorded);
    let strategy = Strategy::Canary { steps: vec![] };
    let rollout = varai_domain::deploy::Rollout::Rolling {
        max_surge: IntOrPercent::Percent(25),
        max_unavailable: IntOrPercent::Count(0),
    };
    objects
        .apply(
            &Action::Primary {
                version: "v2".into(),
                replicas: 3,
                rollout,
            },
            &strategy,
            false,
        )
        .await
        .expect("applied");
    assert_eq!(
        rig.take(),
        [Call {
            method: "PATCH".into(),
            path: "/apis/apps/v1/namespaces/production/deployments/storefront?".into(),
            content_type: "application/strategic-merge-patch+json".into(),
            body: json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "varai"}},
                "spec": {"replicas": 3, "paused": false,
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                    "template": {"metadata": {"labels": {"version": "v2"}},
                        "spec": {"containers": [{"name": "storefront", "image": "registry.sandbox.local/storefront:v2"}]}}}}),
        }]
    );
}

#[tokio::test]
async fn a_canary_rollback_pins_the_service_restores_the_primary_and_deletes_the_canary() {
    let rig = rig().await;
    let app = storefront();
    rig.ready(&app).await;
    let plain = AppObjects::new(&app, &rig.plain);
    let snapshot = plain.manifests().await.expect("snapshot");
    let strategy = Strategy::Canary { steps: vec![] };
    for a in [
        Action::Secondary {
            version: "v3".into(),
            replicas: 1,
        },
        Action::ScalePrimary(2),
    ] {
        plain.apply(&a, &strategy, false).await.expect("canary up");
    }
    rig.take();

    let recorded = AppObjects::new(&app, &rig.recorded);
    let results = restore_objects(&recorded, &snapshot, "v1").await;
    assert!(results.iter().all(|r| r.ok), "{results:?}");
    let calls = rig.take();
    assert_eq!(
        lines(&calls),
        [
            "GET /api/v1/namespaces/production/services/storefront",
            "PATCH /api/v1/namespaces/production/services/storefront?",
            "PATCH /apis/apps/v1/namespaces/production/deployments/storefront?",
            "GET /apis/apps/v1/namespaces/production/deployments/storefront-canary",
            "DELETE /apis/apps/v1/namespaces/production/deployments/storefront-canary?",
            "GET /apis/apps/v1/namespaces/production/deployments/storefront-preview",
            "GET /api/v1/namespaces/production/services/storefront-preview",
        ]
    );
    assert_eq!(
        calls[1].body,
        json!({"spec": {"selector": {"app": "storefront", "version": "v1"}}})
    );
    assert_eq!(calls[2].content_type, "application/merge-patch+json");
    assert_eq!(calls[2].body["spec"]["replicas"], 3);
    assert_eq!(
        calls[2].body["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.sandbox.local/storefront:v1"
    );
    let _ = &rig.sandbox;
}
