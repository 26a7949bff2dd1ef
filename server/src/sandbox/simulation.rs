//! What the sandbox simulates, as a user sets it: each version's behaviour profile, each app's
//! request rate, and the timings of pods and Jobs.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::Duration;
use varai_domain::sandbox::Behaviour;

use super::objects::string_map;

/// Timings of the simulated cluster.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    /// From a pod's creation to its container running.
    pub pod_start: Duration,
    /// From a pod's creation to it passing readiness (when healthy).
    pub pod_ready: Duration,
    /// How long a Job's pod runs before it succeeds or fails.
    pub job_run: Duration,
    /// How often the controllers and the traffic advance.
    pub tick: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            pod_start: Duration::from_millis(800),
            pod_ready: Duration::from_secs(2),
            job_run: Duration::from_secs(3),
            tick: Duration::from_millis(100),
        }
    }
}

impl Timings {
    /// Timings for tests: everything a few ticks long.
    pub fn fast() -> Timings {
        Timings {
            pod_start: Duration::from_millis(50),
            pod_ready: Duration::from_millis(150),
            job_run: Duration::from_millis(300),
            tick: Duration::from_millis(25),
        }
    }
}

/// One version's profile as the Sandbox page lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VersionProfile {
    pub namespace: String,
    pub app: String,
    pub version: String,
    pub behaviour: Behaviour,
}

/// Requests per second the seeded apps receive until someone changes it.
pub const DEFAULT_RATE: f64 = 20.0;

#[derive(Default)]
struct State {
    behaviours: BTreeMap<(String, String, String), Behaviour>,
    rates: BTreeMap<(String, String), f64>,
}

/// Behaviour profiles and request rates, shared by the controllers, the traffic and the UI.
#[derive(Default)]
pub struct Simulation {
    state: RwLock<State>,
}

fn key3(ns: &str, app: &str, version: &str) -> (String, String, String) {
    (ns.to_owned(), app.to_owned(), version.to_owned())
}

impl Simulation {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The behaviour of a version (the default profile for one nobody described).
    pub fn behaviour(&self, ns: &str, app: &str, version: &str) -> Behaviour {
        self.read()
            .behaviours
            .get(&key3(ns, app, version))
            .copied()
            .unwrap_or_default()
    }

    /// Whether someone described this version.
    pub fn describes(&self, ns: &str, app: &str, version: &str) -> bool {
        self.read().behaviours.contains_key(&key3(ns, app, version))
    }

    /// Whether the app has a request rate set.
    pub fn has_rate(&self, ns: &str, app: &str) -> bool {
        self.read()
            .rates
            .contains_key(&(ns.to_owned(), app.to_owned()))
    }

    pub fn set_behaviour(&self, ns: &str, app: &str, version: &str, behaviour: Behaviour) {
        self.write()
            .behaviours
            .insert(key3(ns, app, version), behaviour);
    }

    /// How many versions are described and how many apps have a rate.
    pub fn counts(&self) -> (usize, usize) {
        let state = self.read();
        (state.behaviours.len(), state.rates.len())
    }

    /// Every described version, ordered by namespace, app and version.
    pub fn profiles(&self) -> Vec<VersionProfile> {
        self.read()
            .behaviours
            .iter()
            .map(|((namespace, app, version), b)| VersionProfile {
                namespace: namespace.clone(),
                app: app.clone(),
                version: version.clone(),
                behaviour: *b,
            })
            .collect()
    }

    /// Requests per second sent to an app's Services (none unless set).
    pub fn rate(&self, ns: &str, app: &str) -> f64 {
        self.read()
            .rates
            .get(&(ns.to_owned(), app.to_owned()))
            .copied()
            .unwrap_or(0.0)
    }

    pub fn set_rate(&self, ns: &str, app: &str, per_second: f64) {
        self.write()
            .rates
            .insert((ns.to_owned(), app.to_owned()), per_second.max(0.0));
    }

    /// Apps with traffic, and their rates.
    pub fn rates(&self) -> Vec<(String, String, f64)> {
        self.read()
            .rates
            .iter()
            .map(|((ns, app), r)| (ns.clone(), app.clone(), *r))
            .collect()
    }
}

/// The app and version a pod (or pod template) runs: its `app` / `version` labels (or the
/// `app.kubernetes.io/` ones), else the image's name and tag.
pub fn app_and_version(pod_like: &Value) -> (String, String) {
    let labels = string_map(pod_like, "/metadata/labels");
    let image = pod_like
        .pointer("/spec/containers/0/image")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (image_name, tag) = image.rsplit_once(':').unwrap_or((image, "latest"));
    let image_app = image_name.rsplit('/').next().unwrap_or(image_name);
    let pick = |a: &str, b: &str, fallback: &str| {
        labels
            .get(a)
            .or_else(|| labels.get(b))
            .cloned()
            .unwrap_or_else(|| fallback.to_owned())
    };
    (
        pick("app", "app.kubernetes.io/name", image_app),
        pick("version", "app.kubernetes.io/version", tag),
    )
}
