//! The REST API for apps, deployments, snapshots, rollback and the sandbox, so CI can deploy
//! and roll back. Same rules, roles and audit events as the dashboard: both call
//! `varai_core::deploy`.

use crate::http::AppState;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;
use varai_core::deploy;
use varai_core::deploy::{
    AppLive, AppRecord, ClusterBinding, Control, DeployRequest, DeploymentRecord, NewApp,
    RollbackRecord, RollbackRequest, SandboxProfile, SandboxView, SnapshotRecord,
};

use super::{ApiResult, SignedIn};
use crate::http::error::{ApiJson, ApiPath, ErrorBody};
use varai_core::timeline::TimelineEvent;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/environments/{env}/apps",
            get(list_apps).post(register_app),
        )
        .route("/environments/{env}/apps/{app}", get(get_app))
        .route(
            "/environments/{env}/apps/{app}/deployments",
            get(list_deployments).post(start_deployment),
        )
        .route(
            "/environments/{env}/apps/{app}/snapshots",
            get(list_snapshots),
        )
        .route("/environments/{env}/apps/{app}/rollback", post(roll_back))
        .route("/deployments/{id}", get(get_deployment))
        .route("/deployments/{id}/{control}", post(control_deployment))
        .route(
            "/environments/{env}/cluster",
            get(get_cluster).put(bind_cluster),
        )
        .route("/sandbox", get(sandbox))
        .route("/sandbox/profiles", put(set_profile))
        .route("/sandbox/rates", put(set_rate))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_cluster, bind_cluster, list_apps, register_app, get_app, list_deployments, start_deployment, list_snapshots,
          roll_back, get_deployment, control_deployment, sandbox, set_profile, set_rate),
    components(schemas(ClusterBinding, AppLive, AppRecord, NewApp, DeployRequest, DeploymentRecord, TimelineEvent,
                       DeploymentDetail, SnapshotRecord, RollbackRequest, RollbackRecord, SandboxView,
                       SandboxProfile, RateChange)),
    tags((name = "deployments", description = "Apps, deployments (Canary, Blue-Green, Rolling, Recreate), snapshots, rollback and the sandbox cluster"))
)]
pub struct DeployApiDoc;

/// The cluster an environment deploys to (no context: the built-in sandbox).
#[utoipa::path(get, path = "/api/v1/environments/{env}/cluster", tag = "deployments",
    params(("env" = String, Path)),
    responses((status = 200, body = ClusterBinding), (status = 404, body = ErrorBody)))]
async fn get_cluster(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
) -> ApiResult<Json<ClusterBinding>> {
    Ok(Json(deploy::cluster(&services, &who, &env).await?))
}

/// Binds an environment to a kubeconfig context (or `in-cluster`) and a namespace, after
/// checking the cluster answers; no context means the sandbox. Admin only.
#[utoipa::path(put, path = "/api/v1/environments/{env}/cluster", tag = "deployments",
    request_body = ClusterBinding, params(("env" = String, Path)),
    responses((status = 200, body = ClusterBinding), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn bind_cluster(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
    ApiJson(body): ApiJson<ClusterBinding>,
) -> ApiResult<Json<ClusterBinding>> {
    Ok(Json(
        deploy::bind_cluster(&services, &who, &env, body).await?,
    ))
}

/// Apps of an environment with what runs now and any deployment in progress.
#[utoipa::path(get, path = "/api/v1/environments/{env}/apps", tag = "deployments",
    params(("env" = String, Path, description = "Environment key")),
    responses((status = 200, body = Vec<AppLive>), (status = 404, body = ErrorBody)))]
async fn list_apps(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
) -> ApiResult<Json<Vec<AppLive>>> {
    Ok(Json(deploy::list_apps(&services, &who, &env).await?))
}

/// Registers an app by naming its Deployment, Service and container, or (with `create`)
/// generates them. Operator or above.
#[utoipa::path(post, path = "/api/v1/environments/{env}/apps", tag = "deployments", request_body = NewApp,
    params(("env" = String, Path)),
    responses((status = 201, body = AppRecord), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn register_app(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
    ApiJson(body): ApiJson<NewApp>,
) -> ApiResult<(StatusCode, Json<AppRecord>)> {
    let app = deploy::register_app(&services, &who, &env, body).await?;
    Ok((StatusCode::CREATED, Json(app)))
}

/// One app with what runs now.
#[utoipa::path(get, path = "/api/v1/environments/{env}/apps/{app}", tag = "deployments",
    params(("env" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = AppLive), (status = 404, body = ErrorBody)))]
async fn get_app(
    SignedIn { services, who }: SignedIn,
    ApiPath((env, app)): ApiPath<(String, String)>,
) -> ApiResult<Json<AppLive>> {
    Ok(Json(deploy::get_app(&services, &who, &env, &app).await?))
}

/// The app's latest deployments, newest first.
#[utoipa::path(get, path = "/api/v1/environments/{env}/apps/{app}/deployments", tag = "deployments",
    params(("env" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = Vec<DeploymentRecord>), (status = 404, body = ErrorBody)))]
async fn list_deployments(
    SignedIn { services, who }: SignedIn,
    ApiPath((env, app)): ApiPath<(String, String)>,
) -> ApiResult<Json<Vec<DeploymentRecord>>> {
    Ok(Json(
        deploy::deployment_history(&services, &who, &env, &app).await?,
    ))
}

/// Starts deploying a version with a strategy, after taking a snapshot. Refused (409) while
/// the app has a deployment in progress. Developer or above.
#[utoipa::path(post, path = "/api/v1/environments/{env}/apps/{app}/deployments", tag = "deployments",
    request_body = DeployRequest, params(("env" = String, Path), ("app" = String, Path)),
    responses((status = 201, body = DeploymentRecord), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A rolling update whose `maxSurge` and `maxUnavailable` both come to 0 replicas for the app's replica count: it could never make progress."),
        (status = 503, body = ErrorBody)))]
async fn start_deployment(
    SignedIn { services, who }: SignedIn,
    ApiPath((env, app)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<DeployRequest>,
) -> ApiResult<(StatusCode, Json<DeploymentRecord>)> {
    let d = deploy::start_deployment(&services, &who, &env, &app, body).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// The app's snapshots, newest first, with what each holds.
#[utoipa::path(get, path = "/api/v1/environments/{env}/apps/{app}/snapshots", tag = "deployments",
    params(("env" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = Vec<SnapshotRecord>), (status = 404, body = ErrorBody)))]
async fn list_snapshots(
    SignedIn { services, who }: SignedIn,
    ApiPath((env, app)): ApiPath<(String, String)>,
) -> ApiResult<Json<Vec<SnapshotRecord>>> {
    Ok(Json(
        deploy::list_snapshots(&services, &who, &env, &app).await?,
    ))
}

/// Restores a snapshot (the latest when none is named), ending any deployment in progress as
/// rolled back; reports each object's result. Operator or above.
#[utoipa::path(post, path = "/api/v1/environments/{env}/apps/{app}/rollback", tag = "deployments",
    request_body = RollbackRequest, params(("env" = String, Path), ("app" = String, Path)),
    responses((status = 200, body = RollbackRecord), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn roll_back(
    SignedIn { services, who }: SignedIn,
    ApiPath((env, app)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RollbackRequest>,
) -> ApiResult<Json<RollbackRecord>> {
    Ok(Json(
        deploy::roll_back(&services, &who, &env, &app, body).await?,
    ))
}

/// A deployment with its timeline.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeploymentDetail {
    deployment: DeploymentRecord,
    events: Vec<TimelineEvent>,
}

/// A deployment and its timeline.
#[utoipa::path(get, path = "/api/v1/deployments/{id}", tag = "deployments",
    params(("id" = i64, Path)),
    responses((status = 200, body = DeploymentDetail), (status = 404, body = ErrorBody)))]
async fn get_deployment(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DeploymentDetail>> {
    let (deployment, events) = deploy::get_deployment(&services, &who, id).await?;
    Ok(Json(DeploymentDetail { deployment, events }))
}

/// Promote, pause, resume or abort a deployment in progress. Operator or above.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/{control}", tag = "deployments",
    params(("id" = i64, Path), ("control" = String, Path, description = "promote, pause, resume or abort")),
    responses((status = 200, body = DeploymentRecord), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn control_deployment(
    SignedIn { services, who }: SignedIn,
    ApiPath((id, control)): ApiPath<(i64, String)>,
) -> ApiResult<Json<DeploymentRecord>> {
    let control = match control.as_str() {
        "promote" => Control::Promote,
        "pause" => Control::Pause,
        "resume" => Control::Resume,
        "abort" => Control::Abort,
        other => {
            return Err(varai_core::error::AppError::NotFound(format!(
                "action '{other}' (use promote, pause, resume or abort)"
            ))
            .into());
        }
    };
    Ok(Json(
        deploy::control_deployment(&services, &who, id, control).await?,
    ))
}

/// The sandbox's behaviour profiles and traffic.
#[utoipa::path(get, path = "/api/v1/sandbox", tag = "deployments",
    responses((status = 200, body = SandboxView)))]
async fn sandbox(SignedIn { services, who }: SignedIn) -> ApiResult<Json<SandboxView>> {
    Ok(Json(deploy::sandbox_view(&services, &who).await?))
}

/// Sets a sandbox version's behaviour (errors, latency, CPU, memory, conversion, pod health).
/// Developer or above.
#[utoipa::path(put, path = "/api/v1/sandbox/profiles", tag = "deployments", request_body = SandboxProfile,
    responses((status = 204), (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "The p99 latency (`latencyP99Ms`) is below the median (`latencyP50Ms`).")))]
async fn set_profile(
    SignedIn { services, who }: SignedIn,
    ApiJson(body): ApiJson<SandboxProfile>,
) -> ApiResult<StatusCode> {
    deploy::set_behaviour(&services, &who, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RateChange {
    #[schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    namespace: String,
    #[schema(pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    app: String,
    /// Requests per second, 0 to 2,000.
    #[schema(minimum = 0, maximum = 2000)]
    rate: f64,
}

/// Sets the requests per second the sandbox sends an app. Developer or above.
#[utoipa::path(put, path = "/api/v1/sandbox/rates", tag = "deployments", request_body = RateChange,
    responses((status = 204), (status = 400, body = ErrorBody)))]
async fn set_rate(
    SignedIn { services, who }: SignedIn,
    ApiJson(body): ApiJson<RateChange>,
) -> ApiResult<StatusCode> {
    deploy::set_rate(&services, &who, &body.namespace, &body.app, body.rate).await?;
    Ok(StatusCode::NO_CONTENT)
}
