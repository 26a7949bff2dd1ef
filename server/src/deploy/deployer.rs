//! The [`Deployer`] port over the database and the clusters: apps registered (found or
//! generated), deployments started with their snapshot, commands, history, snapshots and
//! rollbacks, cluster bindings checked before they are saved, and the sandbox's behaviour.

use async_trait::async_trait;
use serde_json::json;
use varai_core::accounts::Principal;
use varai_core::changes::Approval;
use varai_core::clock::now_ms;
use varai_core::deploy::Deployer;
use varai_core::deploy::{
    AppLive, AppRecord, ClusterBinding, Control, DeployRequest, DeploymentRecord, NewApp,
    RollbackRecord, RollbackRequest, SandboxProfile, SandboxView, SnapshotRecord,
};
use varai_core::error::{AppError, Result};
use varai_domain::AuditAction;

use super::clusters;
use super::workloads::{self, AppObjects};
use super::{DeployService, unavailable};

use crate::storage::{NewDeployment, Timeline};
use varai_core::timeline::TimelineEvent;

/// Versions the sandbox describes, and apps it sends traffic to, at most: each entry lives as
/// long as the server, so a caller cannot grow them without bound.
const SANDBOX_ENTRIES: usize = 1_000;

fn sandbox_full(field: &str, what: &str) -> AppError {
    AppError::Conflict {
        field: field.into(),
        message: format!(
            "the sandbox holds at most {SANDBOX_ENTRIES} {what}; change one it has instead"
        ),
    }
}

#[async_trait]
impl Deployer for DeployService {
    async fn apps(&self, environment: &str) -> Result<Vec<AppLive>> {
        self.store.environment(environment).await?;
        let mut out = Vec::new();
        for app in self.store.apps_in(environment).await? {
            out.push(self.live(app).await?);
        }
        Ok(out)
    }

    async fn app(&self, environment: &str, app: &str) -> Result<AppLive> {
        let app = self.store.app_named(environment, app).await?;
        self.live(app).await
    }

    async fn register_app(
        &self,
        who: &Principal,
        environment: &str,
        new: NewApp,
    ) -> Result<AppRecord> {
        let actor = &who.actor;
        self.store.environment(environment).await?;
        let pick = |v: &Option<String>| v.clone().unwrap_or_else(|| new.name.clone());
        let record = AppRecord {
            id: 0,
            environment: environment.to_owned(),
            name: new.name.clone(),
            deployment: pick(&new.deployment),
            service: pick(&new.service),
            container: pick(&new.container),
            image: new.image.clone(),
            created_at: 0,
            created_by: actor.name.clone(),
        };
        if self
            .store
            .app_named(environment, &record.name)
            .await
            .is_ok()
        {
            return Err(AppError::Conflict {
                field: "name".into(),
                message: format!("{environment} already has an app called '{}'", record.name),
            });
        }
        let target = self.target(environment).await?;
        if new.create.is_some() {
            self.create_workload(&target, &record, &new).await?;
        } else {
            let objects = AppObjects::new(&record, &target);
            // Well-formed names the cluster does not hold: they clash with what is there (409).
            let missing = |kind: &str, name: &str| AppError::Conflict {
                field: kind.to_lowercase(),
                message: format!("no {kind} '{name}' in namespace {}", target.namespace),
            };
            let d = objects
                .deployments
                .get_opt(&record.deployment)
                .await
                .map_err(unavailable("reading the Deployment"))?
                .ok_or_else(|| missing("Deployment", &record.deployment))?;
            let has_container = d
                .spec
                .and_then(|s| s.template.spec)
                .is_some_and(|s| s.containers.iter().any(|c| c.name == record.container));
            if !has_container {
                return Err(AppError::Conflict {
                    field: "container".into(),
                    message: format!(
                        "Deployment '{}' has no container '{}'",
                        record.deployment, record.container
                    ),
                });
            }
            objects
                .services
                .get_opt(&record.service)
                .await
                .map_err(unavailable("reading the Service"))?
                .ok_or_else(|| missing("Service", &record.service))?;
        }
        Ok(self
            .store
            .insert_app(actor, environment, &record, now_ms())
            .await?)
    }

    async fn start(
        &self,
        who: &Principal,
        environment: &str,
        app: &str,
        request: DeployRequest,
        approval: Option<Approval>,
    ) -> Result<DeploymentRecord> {
        let actor = &who.actor;
        let app = self.store.app_named(environment, app).await?;
        let target = self.target(environment).await?;
        let objects = AppObjects::new(&app, &target);
        let primary = objects
            .deployments
            .get_opt(&app.deployment)
            .await
            .map_err(unavailable("reading the app's Deployment"))?
            .ok_or_else(|| AppError::Conflict {
                field: "app".into(),
                message: format!(
                    "Deployment '{}' is missing from namespace {}",
                    app.deployment, target.namespace
                ),
            })?;
        let desired =
            u32::try_from(primary.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)).unwrap_or(1);
        request.strategy.check(desired)?;
        self.check_templates(&request).await?;
        let previous = workloads::version_of(&primary, &app.container);
        if previous == request.version {
            return Err(AppError::Conflict {
                field: "version".into(),
                message: format!("{} already runs {previous}", app.name),
            });
        }
        let manifests = objects
            .manifests()
            .await
            .map_err(unavailable("snapshotting the app"))?;
        let flags = super::rollback::flag_states(self.flags.as_ref(), environment).await;
        let new = NewDeployment {
            app: &app,
            version: &request.version,
            previous_version: &previous,
            strategy: &request.strategy,
            desired,
            schema_version: request.schema_version.as_deref(),
            background_analysis: &request.analysis,
            objects: serde_json::to_string(&manifests).unwrap_or_else(|_| "[]".into()),
            flags: serde_json::to_string(&flags).unwrap_or_else(|_| "[]".into()),
            approval: approval.as_ref(),
        };
        Ok(self.store.insert_deployment(actor, new, now_ms()).await?)
    }

    async fn control(
        &self,
        who: &Principal,
        id: i64,
        control: Control,
    ) -> Result<DeploymentRecord> {
        // Under the app's lock, as the controller steps: a command never interleaves with a
        // step decided before it.
        let d = self.store.deployment_by_id(id).await?;
        let _exclusive = self.lock_app(&d.environment, &d.app).await;
        Ok(self
            .store
            .control_deployment(&who.actor, id, control, None, now_ms())
            .await?)
    }

    async fn deployment(&self, id: i64) -> Result<(DeploymentRecord, Vec<TimelineEvent>)> {
        let d = self.store.deployment_by_id(id).await?;
        let events = self.store.timeline(Timeline::Deployment(id)).await?;
        Ok((d, events))
    }

    async fn history(&self, environment: &str, app: &str) -> Result<Vec<DeploymentRecord>> {
        let app = self.store.app_named(environment, app).await?;
        Ok(self.store.deployments_of(app.id).await?)
    }

    async fn snapshots(&self, environment: &str, app: &str) -> Result<Vec<SnapshotRecord>> {
        let app = self.store.app_named(environment, app).await?;
        Ok(self
            .store
            .snapshots_of(app.id)
            .await?
            .into_iter()
            .map(|s| s.record)
            .collect())
    }

    async fn rollback(
        &self,
        who: &Principal,
        environment: &str,
        app: &str,
        request: RollbackRequest,
    ) -> Result<RollbackRecord> {
        let _exclusive = self.lock_app(environment, app).await;
        self.rollback_held(who, environment, app, request).await
    }

    async fn cluster(&self, environment: &str) -> Result<ClusterBinding> {
        let (context, namespace) = self.store.cluster_binding(environment).await?;
        Ok(ClusterBinding {
            context,
            namespace: Some(namespace),
        })
    }

    async fn bind_cluster(
        &self,
        who: &Principal,
        environment: &str,
        binding: ClusterBinding,
    ) -> Result<ClusterBinding> {
        let actor = &who.actor;
        self.store.environment(environment).await?;
        let namespace = binding
            .namespace
            .clone()
            .unwrap_or_else(|| environment.to_owned());
        match &binding.context {
            None => self
                .clusters
                .sandbox
                .seed(&namespace, &varai_domain::clock::format_rfc3339(now_ms())),
            Some(context) => {
                // Refuse a cluster that does not answer, rather than find out mid-deployment.
                // A context the kubeconfig does not hold (or cannot connect with) is the
                // request's problem, named by its field; a cluster that does not answer is 503.
                let client = clusters::connect(context)
                    .await
                    .map_err(|e| AppError::Conflict {
                        field: "context".into(),
                        message: format!(
                            "cannot reach the cluster of context '{context}': {e}; the binding was not changed"
                        ),
                    })?;
                client.apiserver_version().await.map_err(|e| {
                    AppError::Unavailable(format!(
                        "the cluster of context '{context}' did not answer: {e}; the binding was not changed"
                    ))
                })?;
            }
        }
        self.store
            .set_cluster_binding(actor, environment, &binding, now_ms())
            .await?;
        self.cluster(environment).await
    }

    async fn sandbox(&self) -> Result<SandboxView> {
        let simulation = &self.clusters.sandbox.simulation;
        Ok(SandboxView {
            profiles: simulation
                .profiles()
                .into_iter()
                .map(|p| SandboxProfile {
                    namespace: p.namespace,
                    app: p.app,
                    version: p.version,
                    behaviour: p.behaviour,
                })
                .collect(),
            rates: simulation.rates(),
            api_port: self.sandbox_port,
            kubeconfig: self
                .sandbox_kubeconfig
                .as_ref()
                .map(|p| p.display().to_string()),
        })
    }

    async fn set_behaviour(&self, who: &Principal, profile: SandboxProfile) -> Result<()> {
        let actor = &who.actor;
        let simulation = &self.clusters.sandbox.simulation;
        let described = simulation.describes(&profile.namespace, &profile.app, &profile.version);
        if !described && simulation.counts().0 >= SANDBOX_ENTRIES {
            return Err(sandbox_full("version", "versions"));
        }
        let before = simulation.behaviour(&profile.namespace, &profile.app, &profile.version);
        simulation.set_behaviour(
            &profile.namespace,
            &profile.app,
            &profile.version,
            profile.behaviour,
        );
        let target = format!(
            "sandbox:{}/{}/{}",
            profile.namespace, profile.app, profile.version
        );
        let as_json = |b: &varai_domain::sandbox::Behaviour| serde_json::to_string(b).ok();
        Ok(self
            .store
            .audit_only(
                actor,
                AuditAction::SandboxUpdate,
                target,
                as_json(&before),
                as_json(&profile.behaviour),
                now_ms(),
            )
            .await?)
    }

    async fn set_rate(
        &self,
        who: &Principal,
        namespace: &str,
        app: &str,
        per_second: f64,
    ) -> Result<()> {
        let actor = &who.actor;
        let simulation = &self.clusters.sandbox.simulation;
        if !simulation.has_rate(namespace, app) && simulation.counts().1 >= SANDBOX_ENTRIES {
            return Err(sandbox_full("app", "apps' rates"));
        }
        let before = simulation.rate(namespace, app);
        simulation.set_rate(namespace, app, per_second);
        Ok(self
            .store
            .audit_only(
                actor,
                AuditAction::SandboxUpdate,
                format!("sandbox:{namespace}/{app}"),
                Some(json!({"rate": before}).to_string()),
                Some(json!({"rate": per_second}).to_string()),
                now_ms(),
            )
            .await?)
    }
}
