//! An app's Kubernetes objects: reading them into the domain's [`Observed`], and making the
//! domain's [`Action`]s true with the fewest calls. Every call is a merge or strategic patch
//! of a target state, a create of a missing object or a delete of a present one, so repeating
//! an action is harmless.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use varai_core::deploy::{AppRecord, VersionLive};
use varai_domain::deploy::{Action, IntOrPercent, Observed, Rollout, Strategy, Workload};

use super::clusters::ClusterTarget;

/// The label every object the dashboard manages carries.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "varai");
/// The label telling a canary's or preview's pods from the primary's.
pub const TRACK: &str = "varai.dev/track";

/// The objects of one app in one cluster.
pub struct AppObjects<'a> {
    pub app: &'a AppRecord,
    pub deployments: Api<Deployment>,
    pub services: Api<Service>,
}

/// The extra Deployment a strategy runs beside the primary: `-canary` or `-preview`.
pub fn secondary_name(app: &AppRecord, strategy: &Strategy) -> String {
    match strategy {
        Strategy::BlueGreen { .. } => format!("{}-preview", app.deployment),
        _ => format!("{}-canary", app.deployment),
    }
}

/// Every extra Deployment a strategy may have made beside the primary, with its role.
pub fn extra_deployments(app: &AppRecord) -> [(String, &'static str); 2] {
    [
        (format!("{}-canary", app.deployment), "canary"),
        (format!("{}-preview", app.deployment), "preview"),
    ]
}

pub fn preview_service(app: &AppRecord) -> String {
    format!("{}-preview", app.service)
}

fn int_or_percent(v: IntOrPercent) -> Value {
    match v {
        IntOrPercent::Count(n) => json!(n),
        IntOrPercent::Percent(_) => json!(v.to_string()),
    }
}

/// The version a Deployment runs: its pod template's `version` label, else the image tag of
/// the app's container.
pub fn version_of(d: &Deployment, container: &str) -> String {
    let template = d.spec.as_ref().map(|s| &s.template);
    if let Some(v) = template
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref())
        .and_then(|l| l.get("version"))
    {
        return v.clone();
    }
    template
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| {
            s.containers
                .iter()
                .find(|c| c.name == container)
                .or(s.containers.first())
        })
        .and_then(|c| c.image.as_deref())
        .and_then(|i| i.rsplit_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, tag)| tag.to_owned())
}

fn workload(d: &Deployment, container: &str) -> Workload {
    let spec_replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = d.status.clone().unwrap_or_default();
    let count = |v: Option<i32>| u32::try_from(v.unwrap_or(0)).unwrap_or(0);
    let observed = status.observed_generation >= d.metadata.generation;
    let rolled_out = observed
        && status.updated_replicas.unwrap_or(0) == spec_replicas
        && status.replicas.unwrap_or(0) == spec_replicas
        && status.ready_replicas.unwrap_or(0) >= spec_replicas;
    let stalled = status.conditions.unwrap_or_default().iter().any(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    Workload {
        version: version_of(d, container),
        replicas: u32::try_from(spec_replicas).unwrap_or(0),
        ready: count(status.ready_replicas),
        rolled_out,
        stalled,
    }
}

impl<'a> AppObjects<'a> {
    pub fn new(app: &'a AppRecord, target: &ClusterTarget) -> AppObjects<'a> {
        AppObjects {
            app,
            deployments: Api::namespaced(target.client.clone(), &target.namespace),
            services: Api::namespaced(target.client.clone(), &target.namespace),
        }
    }

    /// The app's objects as the domain reasons about them.
    pub async fn observe(&self, strategy: &Strategy) -> Result<Observed, kube::Error> {
        let primary = self.deployments.get_opt(&self.app.deployment).await?;
        let secondary = self
            .deployments
            .get_opt(&secondary_name(self.app, strategy))
            .await?;
        let active = self.services.get_opt(&self.app.service).await?;
        let preview = self.services.get_opt(&preview_service(self.app)).await?;
        Ok(Observed {
            primary: primary.as_ref().map(|d| workload(d, &self.app.container)),
            secondary: secondary.as_ref().map(|d| workload(d, &self.app.container)),
            active_version: active
                .and_then(|s| s.spec)
                .and_then(|s| s.selector)
                .and_then(|s| s.get("version").cloned()),
            preview_service: preview.is_some(),
        })
    }

    /// What runs now, per workload, for the Deployments page.
    pub async fn live(&self) -> Result<Vec<VersionLive>, kube::Error> {
        let active = self.services.get_opt(&self.app.service).await?;
        let selector = active
            .and_then(|s| s.spec)
            .and_then(|s| s.selector)
            .unwrap_or_default();
        let mut out = Vec::new();
        let primary = (self.app.deployment.clone(), "primary");
        for (name, role) in std::iter::once(primary).chain(extra_deployments(self.app)) {
            let Some(d) = self.deployments.get_opt(&name).await? else {
                continue;
            };
            let w = workload(&d, &self.app.container);
            let labels = d
                .spec
                .as_ref()
                .and_then(|s| s.template.metadata.as_ref())
                .and_then(|m| m.labels.clone())
                .unwrap_or_default();
            let serving =
                !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v));
            out.push(VersionLive {
                version: w.version,
                workload: role.to_owned(),
                deployment: name,
                desired: w.replicas,
                ready: w.ready,
                serving,
            });
        }
        Ok(out)
    }

    /// The primary Deployment and the active Service as manifests, for a snapshot.
    pub async fn manifests(&self) -> Result<Vec<Value>, kube::Error> {
        let mut out = Vec::new();
        if let Some(d) = self.deployments.get_opt(&self.app.deployment).await? {
            out.push(clean(serde_json::to_value(d).unwrap_or(Value::Null)));
        }
        if let Some(s) = self.services.get_opt(&self.app.service).await? {
            out.push(clean(serde_json::to_value(s).unwrap_or(Value::Null)));
        }
        Ok(out)
    }

    async fn merge<K>(&self, api: &Api<K>, name: &str, patch: &Value) -> Result<(), kube::Error>
    where
        K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        api.patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .map(|_| ())
    }

    /// Pauses the primary Deployment's rollout (Rolling and Recreate, paused by an operator).
    pub async fn pause_primary(&self) -> Result<(), kube::Error> {
        let patch = serde_json::json!({"spec": {"paused": true}});
        self.merge(&self.deployments, &self.app.deployment, &patch)
            .await
    }

    pub async fn delete_if_present<K>(&self, api: &Api<K>, name: &str) -> Result<(), kube::Error>
    where
        K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn image(&self, version: &str) -> String {
        format!("{}:{version}", self.app.image)
    }

    /// Makes one action true.
    pub async fn apply(
        &self,
        action: &Action,
        strategy: &Strategy,
        paused: bool,
    ) -> Result<(), kube::Error> {
        let app = self.app;
        match action {
            Action::Primary {
                version,
                replicas,
                rollout,
            } => {
                let strategy_spec = match rollout {
                    Rollout::Rolling {
                        max_surge,
                        max_unavailable,
                    } => json!({"type": "RollingUpdate", "rollingUpdate": {
                        "maxSurge": int_or_percent(*max_surge),
                        "maxUnavailable": int_or_percent(*max_unavailable)}}),
                    Rollout::Recreate => json!({"type": "Recreate", "rollingUpdate": null}),
                };
                let patch = json!({"metadata": {"labels": {MANAGED_BY.0: MANAGED_BY.1}},
                    "spec": {"replicas": replicas, "paused": paused, "strategy": strategy_spec,
                    "template": {"metadata": {"labels": {"version": version}},
                    "spec": {"containers": [{"name": app.container, "image": self.image(version)}]}}}});
                self.deployments
                    .patch(
                        &app.deployment,
                        &PatchParams::default(),
                        &Patch::Strategic(&patch),
                    )
                    .await
                    .map(|_| ())
            }
            Action::ScalePrimary(n) => {
                self.merge(
                    &self.deployments,
                    &app.deployment,
                    &json!({"spec": {"replicas": n}}),
                )
                .await
            }
            Action::Secondary { version, replicas } => {
                self.ensure_secondary(strategy, version, *replicas).await
            }
            Action::RemoveSecondary => {
                for (name, _) in extra_deployments(app) {
                    self.delete_if_present(&self.deployments, &name).await?;
                }
                Ok(())
            }
            Action::Active(version) => {
                self.merge(
                    &self.services,
                    &app.service,
                    &json!({"spec": {"selector": {"version": version}}}),
                )
                .await
            }
            Action::Preview(version) => self.ensure_preview(version).await,
            Action::RemovePreview => {
                self.delete_if_present(&self.services, &preview_service(app))
                    .await
            }
        }
    }

    async fn ensure_secondary(
        &self,
        strategy: &Strategy,
        version: &str,
        replicas: u32,
    ) -> Result<(), kube::Error> {
        let app = self.app;
        let name = secondary_name(app, strategy);
        let track = if matches!(strategy, Strategy::BlueGreen { .. }) {
            "preview"
        } else {
            "canary"
        };
        if self.deployments.get_opt(&name).await?.is_some() {
            let patch = json!({"spec": {"replicas": replicas,
                "template": {"metadata": {"labels": {"version": version}},
                "spec": {"containers": [{"name": app.container, "image": self.image(version)}]}}}});
            return self
                .deployments
                .patch(&name, &PatchParams::default(), &Patch::Strategic(&patch))
                .await
                .map(|_| ());
        }
        let primary = self.deployments.get(&app.deployment).await?;
        let mut spec = serde_json::to_value(primary.spec).unwrap_or(json!({}));
        let mut selector = spec
            .pointer("/selector/matchLabels")
            .cloned()
            .unwrap_or(json!({}));
        selector[TRACK] = json!(track);
        spec["selector"] = json!({"matchLabels": selector});
        spec["replicas"] = json!(replicas);
        spec["paused"] = json!(false);
        spec["template"]["metadata"]["labels"][TRACK] = json!(track);
        spec["template"]["metadata"]["labels"]["version"] = json!(version);
        if let Some(containers) = spec
            .pointer_mut("/template/spec/containers")
            .and_then(Value::as_array_mut)
        {
            for c in containers.iter_mut() {
                if c.get("name").and_then(Value::as_str) == Some(app.container.as_str()) {
                    c["image"] = json!(self.image(version));
                }
            }
        }
        let manifest = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": app.name, TRACK: track, MANAGED_BY.0: MANAGED_BY.1}},
            "spec": spec});
        let d: Deployment = serde_json::from_value(manifest).map_err(kube::Error::SerdeError)?;
        self.deployments
            .create(&PostParams::default(), &d)
            .await
            .map(|_| ())
    }

    async fn ensure_preview(&self, version: &str) -> Result<(), kube::Error> {
        let name = preview_service(self.app);
        let active = self.services.get(&self.app.service).await?;
        let mut selector = active
            .spec
            .as_ref()
            .and_then(|s| s.selector.clone())
            .unwrap_or_default();
        selector.insert("version".into(), version.to_owned());
        if self.services.get_opt(&name).await?.is_some() {
            return self
                .merge(
                    &self.services,
                    &name,
                    &json!({"spec": {"selector": selector}}),
                )
                .await;
        }
        let ports = active.spec.and_then(|s| s.ports).unwrap_or_default();
        let manifest = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "labels": {"app": self.app.name, MANAGED_BY.0: MANAGED_BY.1}},
            "spec": {"selector": selector, "ports": ports}});
        let s: Service = serde_json::from_value(manifest).map_err(kube::Error::SerdeError)?;
        self.services
            .create(&PostParams::default(), &s)
            .await
            .map(|_| ())
    }
}

/// A manifest without what the cluster fills in (status, uid, versions, timestamps).
pub fn clean(mut obj: Value) -> Value {
    if let Some(o) = obj.as_object_mut() {
        o.remove("status");
    }
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
            "ownerReferences",
        ] {
            m.remove(field);
        }
    }
    obj
}
