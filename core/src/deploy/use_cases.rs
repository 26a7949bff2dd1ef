//! The rules for apps, deployments, rollbacks and the sandbox, which the dashboard's server
//! functions and the REST API both call: who may do what, and what input is acceptable. The
//! [`Deployer`] port (implemented by the server over the database and the clusters) does the
//! work and writes the audit events.

use varai_domain::Role;
use varai_domain::deploy::names::{check_image, check_object_name, check_quantity, check_version};

use super::{
    AppLive, AppRecord, ClusterBinding, Control, DeployRequest, DeploymentRecord, NewApp,
    RollbackRecord, RollbackRequest, SandboxProfile, SandboxView, SnapshotRecord,
};
use crate::Services;
use crate::accounts::Principal;
use crate::clock::now_ms;
use crate::error::{AppError, Result};
use crate::timeline::TimelineEvent;

/// The most requests per second the sandbox simulates for one app.
pub const MAX_RATE: f64 = 2000.0;

pub async fn list_apps(
    services: &Services,
    who: &Principal,
    environment: &str,
) -> Result<Vec<AppLive>> {
    who.require(Role::Viewer)?;
    let now = now_ms();
    let apps = services.deploy.apps(environment).await?;
    Ok(apps.into_iter().map(|a| a.as_of(now)).collect())
}

pub async fn get_app(
    services: &Services,
    who: &Principal,
    environment: &str,
    app: &str,
) -> Result<AppLive> {
    who.require(Role::Viewer)?;
    Ok(services.deploy.app(environment, app).await?.as_of(now_ms()))
}

pub async fn register_app(
    services: &Services,
    who: &Principal,
    environment: &str,
    mut app: NewApp,
) -> Result<AppRecord> {
    who.require(Role::Operator)?;
    app.name = app.name.trim().to_owned();
    app.image = app.image.trim().to_owned();
    check_object_name("name", &app.name)?;
    for (field, value) in [
        ("deployment", &app.deployment),
        ("service", &app.service),
        ("container", &app.container),
    ] {
        if let Some(v) = value {
            check_object_name(field, v)?;
        }
    }
    check_image("image", &app.image)?;
    if let Some(w) = &app.create {
        check_version("create.version", &w.version)?;
        if w.port == 0 {
            return Err(AppError::Invalid {
                field: "create.port".into(),
                message: "a port between 1 and 65535".into(),
            });
        }
        if !(1..=100).contains(&w.replicas) {
            return Err(AppError::Invalid {
                field: "create.replicas".into(),
                message: "between 1 and 100 replicas".into(),
            });
        }
        for (field, quantity) in [("create.cpu", &w.cpu), ("create.memory", &w.memory)] {
            if let Some(q) = quantity {
                check_quantity(field, q)?;
            }
        }
    }
    services.deploy.register_app(who, environment, app).await
}

pub async fn start_deployment(
    services: &Services,
    who: &Principal,
    environment: &str,
    app: &str,
    mut request: DeployRequest,
) -> Result<DeploymentRecord> {
    who.require(Role::Developer)?;
    check_deploy_request(&mut request)?;
    crate::changes::require_direct(services, who, environment).await?;
    services
        .deploy
        .start(who, environment, app, request, None)
        .await
}

/// Trims a deployment request and checks its version and schema label.
pub fn check_deploy_request(request: &mut DeployRequest) -> Result<()> {
    request.version = request.version.trim().to_owned();
    check_version("version", &request.version)?;
    request.schema_version = request
        .schema_version
        .take()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if request
        .schema_version
        .as_ref()
        .is_some_and(|s| s.chars().count() > 100)
    {
        return Err(AppError::Invalid {
            field: "schemaVersion".into(),
            message: "at most 100 characters".into(),
        });
    }
    Ok(())
}

pub async fn control_deployment(
    services: &Services,
    who: &Principal,
    deployment: i64,
    control: Control,
) -> Result<DeploymentRecord> {
    who.require(Role::Operator)?;
    services.deploy.control(who, deployment, control).await
}

pub async fn get_deployment(
    services: &Services,
    who: &Principal,
    id: i64,
) -> Result<(DeploymentRecord, Vec<TimelineEvent>)> {
    who.require(Role::Viewer)?;
    let (d, events) = services.deploy.deployment(id).await?;
    Ok((d.as_of(now_ms()), events))
}

pub async fn deployment_history(
    services: &Services,
    who: &Principal,
    environment: &str,
    app: &str,
) -> Result<Vec<DeploymentRecord>> {
    who.require(Role::Viewer)?;
    let now = now_ms();
    let all = services.deploy.history(environment, app).await?;
    Ok(all.into_iter().map(|d| d.as_of(now)).collect())
}

pub async fn list_snapshots(
    services: &Services,
    who: &Principal,
    environment: &str,
    app: &str,
) -> Result<Vec<SnapshotRecord>> {
    who.require(Role::Viewer)?;
    services.deploy.snapshots(environment, app).await
}

pub async fn roll_back(
    services: &Services,
    who: &Principal,
    environment: &str,
    app: &str,
    mut request: RollbackRequest,
) -> Result<RollbackRecord> {
    who.require(Role::Operator)?;
    request.reason = request.reason.trim().to_owned();
    if request.reason.is_empty() || request.reason.chars().count() > 500 {
        return Err(AppError::Invalid {
            field: "reason".into(),
            message: "say why you are rolling back (up to 500 characters)".into(),
        });
    }
    services
        .deploy
        .rollback(who, environment, app, request)
        .await
}

pub async fn sandbox_view(services: &Services, who: &Principal) -> Result<SandboxView> {
    who.require(Role::Viewer)?;
    services.deploy.sandbox().await
}

pub async fn set_behaviour(
    services: &Services,
    who: &Principal,
    profile: SandboxProfile,
) -> Result<()> {
    who.require(Role::Developer)?;
    check_object_name("namespace", &profile.namespace)?;
    check_object_name("app", &profile.app)?;
    check_version("version", &profile.version)?;
    profile.behaviour.check()?;
    services.deploy.set_behaviour(who, profile).await
}

pub async fn set_rate(
    services: &Services,
    who: &Principal,
    namespace: &str,
    app: &str,
    per_second: f64,
) -> Result<()> {
    who.require(Role::Developer)?;
    check_object_name("namespace", namespace)?;
    check_object_name("app", app)?;
    if !per_second.is_finite() || !(0.0..=MAX_RATE).contains(&per_second) {
        return Err(AppError::Invalid {
            field: "rate".into(),
            message: format!("between 0 and {MAX_RATE} requests per second"),
        });
    }
    services
        .deploy
        .set_rate(who, namespace, app, per_second)
        .await
}

pub async fn cluster(
    services: &Services,
    who: &Principal,
    environment: &str,
) -> Result<ClusterBinding> {
    who.require(Role::Viewer)?;
    services.deploy.cluster(environment).await
}

/// Binds an environment to a cluster: a kubeconfig context (or `in-cluster`) and a namespace.
/// Admins only.
pub async fn bind_cluster(
    services: &Services,
    who: &Principal,
    environment: &str,
    mut binding: ClusterBinding,
) -> Result<ClusterBinding> {
    who.require(Role::Admin)?;
    binding.context = binding
        .context
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    binding.namespace = binding
        .namespace
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if let Some(c) = &binding.context
        && (c.len() > 253 || c.chars().any(char::is_control))
    {
        return Err(AppError::Invalid {
            field: "context".into(),
            message: "a kubeconfig context name of at most 253 printable characters".into(),
        });
    }
    if let Some(n) = &binding.namespace {
        check_object_name("namespace", n)?;
    }
    services
        .deploy
        .bind_cluster(who, environment, binding)
        .await
}
