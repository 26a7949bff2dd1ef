//! The sandbox as one piece: its store, simulation and traffic; the Kubernetes API (with the
//! service proxy) for the in-process `kube` client and the loopback port; the background
//! controllers; and the demo app it starts with.

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::task::JoinHandle;
use varai_domain::sandbox::seeded_behaviour;

use super::controllers;
use super::kind::Kind;
use super::simulation::{DEFAULT_RATE, Simulation, Timings};
use super::store::ObjectStore;
use super::traffic::Traffic;

/// The demo app every environment starts with.
pub const DEMO_APP: &str = "storefront";
/// Its versions, each with a behaviour profile; the first one runs at start.
pub const DEMO_VERSIONS: [&str; 3] = ["v1", "v2", "v3"];
/// The image a demo version runs.
pub fn demo_image(version: &str) -> String {
    format!("registry.sandbox.local/{DEMO_APP}:{version}")
}

/// The sandbox cluster.
pub struct Sandbox {
    pub store: Arc<ObjectStore>,
    pub simulation: Arc<Simulation>,
    pub traffic: Arc<Traffic>,
    pub timings: Timings,
    /// The bearer token the Kubernetes port asks for; made at start-up.
    pub token: String,
}

/// The sandbox's background work; stops when dropped.
pub struct Running(Vec<JoinHandle<()>>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.iter().for_each(JoinHandle::abort);
    }
}

impl Sandbox {
    pub fn new(timings: Timings) -> Arc<Sandbox> {
        Arc::new(Sandbox {
            store: Arc::new(ObjectStore::default()),
            simulation: Arc::new(Simulation::default()),
            traffic: Arc::new(Traffic::default()),
            timings,
            token: varai_core::accounts::random_secret(40),
        })
    }

    /// The Kubernetes API with the service proxy
    /// (`/api/v1/namespaces/{ns}/services/{name}/proxy/...`).
    pub fn api(self: &Arc<Self>) -> Router {
        let proxy = Router::new()
            .route(
                "/api/v1/namespaces/{ns}/services/{name}/proxy",
                any(proxy_root),
            )
            .route(
                "/api/v1/namespaces/{ns}/services/{name}/proxy/{*path}",
                any(proxy_path),
            )
            .route(
                "/api/v1/namespaces/{ns}/pods/{name}/proxy/",
                any(pod_proxy_root),
            )
            .route(
                "/api/v1/namespaces/{ns}/pods/{name}/proxy/{*path}",
                any(pod_proxy_path),
            )
            .route(
                "/api/v1/namespaces/{ns}/pods/{name}/log",
                axum::routing::get(pod_log),
            )
            .with_state(Arc::clone(self));
        super::api::router(Arc::clone(&self.store)).merge(proxy)
    }

    /// The Kubernetes API as the port serves it: only for the start-up token.
    pub fn guarded_api(self: &Arc<Self>) -> Router {
        super::access::guarded(self.api(), &self.token)
    }

    /// A `kube` client talking to the sandbox in process.
    pub fn client(self: &Arc<Self>, namespace: &str) -> kube::Client {
        kube::Client::new(self.api(), namespace)
    }

    /// Starts the controllers and the traffic.
    pub fn start(self: &Arc<Self>) -> Running {
        let controllers = tokio::spawn(controllers::run(
            Arc::clone(&self.store),
            Arc::clone(&self.simulation),
            self.timings,
        ));
        let me = Arc::clone(self);
        let traffic = tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(me.timings.tick.max(std::time::Duration::from_millis(100)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut last = tokio::time::Instant::now();
            loop {
                tick.tick().await;
                let now = tokio::time::Instant::now();
                me.traffic.advance(&me.store, &me.simulation, now - last);
                last = now;
            }
        });
        Running(vec![controllers, traffic])
    }

    /// The kinds saved between runs: what people and the dashboard create. Pods and
    /// Endpoints are rebuilt by the controllers (as after a node restart).
    const SAVED: [Kind; 5] = [
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::Service,
        Kind::ConfigMap,
        Kind::Job,
    ];

    /// Loads the objects saved in `path` by [`Sandbox::save`], if the file exists.
    pub fn load(&self, path: &Path) -> std::io::Result<()> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let objects: Vec<serde_json::Value> = serde_json::from_slice(&bytes)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                self.store.import(objects);
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Saves the objects worth keeping to `path` (written beside it, then renamed).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let objects = self.store.export(&Self::SAVED);
        let bytes = serde_json::to_vec(&objects)?;
        let temporary = path.with_extension("tmp");
        crate::files::write_private(&temporary, bytes)?;
        std::fs::rename(&temporary, path)
    }

    /// Saves to `path` every second when something changed.
    pub fn keep_saved(self: &Arc<Self>, path: PathBuf) -> JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let mut saved_at = u64::MAX;
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tick.tick().await;
                let version = me.store.resource_version();
                if version == saved_at {
                    continue;
                }
                match me.save(&path) {
                    Ok(()) => saved_at = version,
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "could not save the sandbox")
                    }
                }
            }
        })
    }

    /// Answers a request to a Service of the sandbox, after the latency its pod's version
    /// takes.
    pub async fn call_service(&self, ns: &str, service: &str, path: &str) -> Response {
        let answer = self
            .traffic
            .answer(&self.store, &self.simulation, ns, service, path);
        tokio::time::sleep(answer.latency).await;
        let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
        (status, axum::Json(answer.body)).into_response()
    }

    /// Answers a request sent to one pod, after the latency its version takes.
    pub async fn call_pod(&self, ns: &str, pod: &str, path: &str) -> Response {
        let answer = self
            .traffic
            .answer_pod(&self.store, &self.simulation, ns, pod, path);
        tokio::time::sleep(answer.latency).await;
        let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
        (status, axum::Json(answer.body)).into_response()
    }

    /// Creates the demo app in `namespace` (once: an existing one is left as it is), with its
    /// versions' profiles and a steady request rate.
    pub fn seed(&self, namespace: &str, now_rfc3339: &str) {
        for version in DEMO_VERSIONS {
            if !self.simulation.describes(namespace, DEMO_APP, version) {
                self.simulation.set_behaviour(
                    namespace,
                    DEMO_APP,
                    version,
                    seeded_behaviour(version),
                );
            }
        }
        if !self.simulation.has_rate(namespace, DEMO_APP) {
            self.simulation.set_rate(namespace, DEMO_APP, DEFAULT_RATE);
        }
        let labels = json!({"app": DEMO_APP, "app.kubernetes.io/managed-by": "varai"});
        let deployment = json!({
            "metadata": {"name": DEMO_APP, "labels": labels},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": DEMO_APP}},
                "strategy": {"type": "RollingUpdate",
                             "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
                "template": {
                    "metadata": {"labels": {"app": DEMO_APP, "version": DEMO_VERSIONS[0]}},
                    "spec": {"containers": [{
                        "name": DEMO_APP, "image": demo_image(DEMO_VERSIONS[0]),
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                      "limits": {"cpu": "500m", "memory": "256Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                    }]},
                },
            },
        });
        let service = json!({
            "metadata": {"name": DEMO_APP, "labels": labels},
            "spec": {"selector": {"app": DEMO_APP},
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
        });
        for (kind, obj) in [(Kind::Deployment, deployment), (Kind::Service, service)] {
            if self.store.get(kind, namespace, DEMO_APP).is_err()
                && let Err(e) = self.store.create(kind, namespace, obj, now_rfc3339)
            {
                tracing::warn!(error = %e, namespace, "could not seed the sandbox's demo app");
            }
        }
    }
}

type SandboxState = State<Arc<Sandbox>>;

async fn proxy_root(
    State(sandbox): SandboxState,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Response {
    sandbox.call_service(&ns, &name, "/").await
}

async fn proxy_path(
    State(sandbox): SandboxState,
    UrlPath((ns, name, path)): UrlPath<(String, String, String)>,
) -> Response {
    sandbox.call_service(&ns, &name, &format!("/{path}")).await
}

async fn pod_proxy_root(
    State(sandbox): SandboxState,
    UrlPath((ns, name)): UrlPath<(String, String)>,
) -> Response {
    sandbox.call_pod(&ns, &name, "/").await
}

async fn pod_proxy_path(
    State(sandbox): SandboxState,
    UrlPath((ns, name, path)): UrlPath<(String, String, String)>,
) -> Response {
    sandbox.call_pod(&ns, &name, &format!("/{path}")).await
}

/// `?limitBytes=`: read at most this many bytes of a log, as the API server does.
#[derive(serde::Deserialize)]
struct LogQuery {
    #[serde(rename = "limitBytes")]
    limit_bytes: Option<usize>,
}

/// A pod's log: what its command prints (`echo` words), then how it ended; cut at
/// `limitBytes` (on a character boundary).
async fn pod_log(
    State(sandbox): SandboxState,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<LogQuery>,
) -> Response {
    match sandbox.store.get(super::kind::Kind::Pod, &ns, &name) {
        Ok(pod) => {
            let mut log = super::controllers::pods::log_of(&pod);
            if let Some(limit) = q.limit_bytes
                && log.len() > limit
            {
                let mut cut = limit;
                while !log.is_char_boundary(cut) {
                    cut -= 1;
                }
                log.truncate(cut);
            }
            log.into_response()
        }
        Err(_) => (
            StatusCode::NOT_FOUND,
            axum::Json(
                serde_json::json!({"kind": "Status", "status": "Failure", "code": 404,
                "reason": "NotFound", "message": format!("pods \"{name}\" not found")}),
            ),
        )
            .into_response(),
    }
}
