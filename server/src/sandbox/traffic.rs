//! The sandbox's simulated traffic: a steady stream of requests per app, spread over the ready
//! pods behind its Service and answered as each pod's version profile says; CPU and memory per
//! running pod; checkout visits and conversions. All of it is exported in Prometheus' text
//! format on `/sandbox/metrics`, and the same answering serves HTTP checks against a Service.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use rand::Rng;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use super::kind::Kind;
use super::objects::{name, pod_ready};
use super::simulation::{Simulation, app_and_version};
use super::store::ObjectStore;
use varai_domain::deploy::LabelSelector;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    namespace: String,
    app: String,
    version: String,
    pod: String,
    code: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    namespace: String,
    app: String,
    version: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PodLabels {
    namespace: String,
    pod: String,
    container: String,
    app: String,
    version: String,
}

type Histograms = Family<VersionLabels, Histogram, fn() -> Histogram>;

/// Share of successful requests that are checkout visits.
const VISIT_SHARE: f64 = 0.25;
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What a request to a Service got.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// How long the answer takes, as the version's latency profile draws it.
    pub latency: Duration,
}

/// The simulated traffic's counters and its exposition.
pub struct Traffic {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Histograms,
    cpu: Family<PodLabels, Counter<f64, AtomicU64>>,
    memory: Family<PodLabels, Gauge<f64, AtomicU64>>,
    visits: Family<VersionLabels, Counter>,
    conversions: Family<VersionLabels, Counter>,
    /// Pods with series, so that a removed pod's series go away with it.
    pods_seen: Mutex<HashSet<PodLabels>>,
    /// Fractions of a request carried to the next tick, per app.
    carry: Mutex<HashMap<(String, String), f64>>,
}

impl Default for Traffic {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let durations: Histograms =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        let cpu = Family::<PodLabels, Counter<f64, AtomicU64>>::default();
        let memory = Family::<PodLabels, Gauge<f64, AtomicU64>>::default();
        let visits = Family::<VersionLabels, Counter>::default();
        let conversions = Family::<VersionLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests served by the sandbox's pods, by version, pod and status code",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Latency of the sandbox's requests, by version",
            durations.clone(),
        );
        registry.register(
            "container_cpu_usage_seconds",
            "CPU time used by each sandbox container",
            cpu.clone(),
        );
        registry.register(
            "container_memory_working_set_bytes",
            "Memory in use by each sandbox container",
            memory.clone(),
        );
        registry.register(
            "checkout_visits",
            "Checkout pages shown, by version",
            visits.clone(),
        );
        registry.register(
            "checkout_conversions",
            "Checkouts completed, by version",
            conversions.clone(),
        );
        Traffic {
            registry,
            requests,
            durations,
            cpu,
            memory,
            visits,
            conversions,
            pods_seen: Mutex::default(),
            carry: Mutex::default(),
        }
    }
}

/// A draw from the standard normal distribution (Box–Muller).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The ready pods behind a Service, from its Endpoints.
pub fn ready_pods(store: &ObjectStore, ns: &str, service: &str) -> Vec<Value> {
    let Ok(endpoints) = store.get(Kind::Endpoints, ns, service) else {
        return Vec::new();
    };
    endpoints
        .get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("addresses").and_then(Value::as_array))
        .flatten()
        .filter_map(|a| a.pointer("/targetRef/name").and_then(Value::as_str))
        .filter_map(|pod| store.get(Kind::Pod, ns, pod).ok())
        .filter(pod_ready)
        .collect()
}

impl Traffic {
    /// The Prometheus text exposition of everything simulated so far.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "could not encode the sandbox's metrics");
        }
        out
    }

    /// How `pod` answers one request, as its version behaves: the status code and latency.
    fn outcome(simulation: &Simulation, ns: &str, pod: &Value, rng: &mut impl Rng) -> (u16, f64) {
        let (app, version) = app_and_version(pod);
        let behaviour = simulation.behaviour(ns, &app, &version);
        let code = if rng.random::<f64>() < behaviour.error_rate {
            500
        } else {
            200
        };
        (code, behaviour.latency_seconds(standard_normal(rng)))
    }

    /// Serves one request of the simulated traffic on `pod`, counting it in the metrics that
    /// analysis judges.
    fn serve(&self, simulation: &Simulation, ns: &str, pod: &Value, rng: &mut impl Rng) {
        let (code, latency) = Self::outcome(simulation, ns, pod, rng);
        let (app, version) = app_and_version(pod);
        let behaviour = simulation.behaviour(ns, &app, &version);
        let v = VersionLabels {
            namespace: ns.to_owned(),
            app: app.clone(),
            version: version.clone(),
        };
        self.requests
            .get_or_create(&RequestLabels {
                namespace: ns.to_owned(),
                app,
                version,
                pod: name(pod).to_owned(),
                code,
            })
            .inc();
        self.durations.get_or_create(&v).observe(latency);
        if code == 200 && rng.random::<f64>() < VISIT_SHARE {
            self.visits.get_or_create(&v).inc();
            if rng.random::<f64>() < behaviour.conversion_rate {
                self.conversions.get_or_create(&v).inc();
            }
        }
    }

    /// Answers a request to a Service, as one of its ready pods (chosen at random) would. Such
    /// requests (checks, load tests, anyone's curl) are not counted in the metrics: analysis
    /// judges the simulated users' traffic only.
    pub fn answer(
        &self,
        store: &ObjectStore,
        simulation: &Simulation,
        ns: &str,
        service: &str,
        path: &str,
    ) -> Answer {
        let pods = ready_pods(store, ns, service);
        let mut rng = rand::rng();
        if pods.is_empty() {
            let message = if store.get(Kind::Service, ns, service).is_ok() {
                format!("no endpoints available for service \"{service}\"")
            } else {
                format!("services \"{service}\" not found")
            };
            return Answer {
                status: 503,
                body: json!({"error": message}),
                latency: Duration::ZERO,
            };
        }
        let pod = &pods[rng.random_range(0..pods.len())];
        self.answer_as(simulation, ns, pod, path, &mut rng)
    }

    /// Answers a request sent to one pod (the API server's pod proxy), if it is ready.
    pub fn answer_pod(
        &self,
        store: &ObjectStore,
        simulation: &Simulation,
        ns: &str,
        pod: &str,
        path: &str,
    ) -> Answer {
        match store.get(Kind::Pod, ns, pod) {
            Ok(p) if pod_ready(&p) => self.answer_as(simulation, ns, &p, path, &mut rand::rng()),
            Ok(_) => Answer {
                status: 503,
                body: json!({"error": format!("pod \"{pod}\" is not ready")}),
                latency: Duration::ZERO,
            },
            Err(_) => Answer {
                status: 404,
                body: json!({"error": format!("pods \"{pod}\" not found")}),
                latency: Duration::ZERO,
            },
        }
    }

    fn answer_as(
        &self,
        simulation: &Simulation,
        ns: &str,
        pod: &Value,
        path: &str,
        rng: &mut impl Rng,
    ) -> Answer {
        let (code, latency) = Self::outcome(simulation, ns, pod, rng);
        let (app, version) = app_and_version(pod);
        let body = if code == 200 {
            json!({"status": "ok", "app": app, "version": version, "pod": name(pod), "path": path})
        } else {
            json!({"status": "error", "error": "internal server error", "app": app,
                   "version": version, "pod": name(pod), "path": path})
        };
        Answer {
            status: code,
            body,
            latency: Duration::from_secs_f64(latency.clamp(0.0, 30.0)),
        }
    }

    /// Advances the simulation by `elapsed`: each app's requests for that time, spread over
    /// the ready pods behind the Service named after it, and every running pod's resources.
    pub fn advance(&self, store: &ObjectStore, simulation: &Simulation, elapsed: Duration) {
        let dt = elapsed.as_secs_f64();
        let mut rng = rand::rng();
        for (ns, app, rate) in simulation.rates() {
            let n = {
                let mut carry = self.carry.lock().unwrap_or_else(|e| e.into_inner());
                let due = carry.entry((ns.clone(), app.clone())).or_default();
                *due += rate * dt;
                let n = due.floor();
                *due -= n;
                n as usize
            };
            let pods = ready_pods(store, &ns, &app);
            if pods.is_empty() {
                continue;
            }
            for _ in 0..n {
                let pod = &pods[rng.random_range(0..pods.len())];
                self.serve(simulation, &ns, pod, &mut rng);
            }
        }
        self.account_resources(store, simulation, dt, &mut rng);
    }

    fn account_resources(
        &self,
        store: &ObjectStore,
        simulation: &Simulation,
        dt: f64,
        rng: &mut impl Rng,
    ) {
        let mut present = HashSet::new();
        for pod in store.list(Kind::Pod, None, &LabelSelector::default()).0 {
            if pod.pointer("/status/phase").and_then(Value::as_str) != Some("Running") {
                continue;
            }
            let ns = super::objects::namespace(&pod).to_owned();
            let (app, version) = app_and_version(&pod);
            let behaviour = simulation.behaviour(&ns, &app, &version);
            let container = pod
                .pointer("/spec/containers/0/name")
                .and_then(Value::as_str)
                .unwrap_or(&app)
                .to_owned();
            let labels = PodLabels {
                namespace: ns,
                pod: name(&pod).to_owned(),
                container,
                app,
                version,
            };
            let jitter: f64 = rng.random_range(0.9..1.1);
            self.cpu
                .get_or_create(&labels)
                .inc_by(behaviour.cpu_millicores / 1000.0 * dt * jitter);
            let memory_jitter: f64 = rng.random_range(0.98..1.02);
            self.memory
                .get_or_create(&labels)
                .set(behaviour.memory_mib * 1024.0 * 1024.0 * memory_jitter);
            present.insert(labels);
        }
        let mut seen = self.pods_seen.lock().unwrap_or_else(|e| e.into_inner());
        for gone in seen.difference(&present) {
            self.cpu.remove(gone);
            self.memory.remove(gone);
        }
        *seen = present;
    }
}
