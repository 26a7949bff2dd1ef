//! The REST API for rollouts: plan templates, rollouts created from a template (or with their
//! own plan), the commands that steer them, their gate results and timeline, and a wait that
//! lets a CI pipeline start a rollout and block until it ends. Same rules, roles and audit
//! events as the dashboard: both call `varai_core::rollouts`.

use crate::http::{AppState, Stopping};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use std::time::Duration;
use utoipa::OpenApi;
use varai_core::Services;
use varai_core::accounts::Principal;
use varai_core::error::AppError;
use varai_core::rollouts::{self, RolloutFilter};
use varai_core::rollouts::{
    GateResult, NewPlanTemplate, NewRollout, PlanTemplate, RolloutCommand, RolloutRecord,
    RolloutStatus, RolloutView,
};
use varai_domain::plan::{EstimatedStop, Plan};

use super::{ApiResult, SignedIn};
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use varai_core::timeline::TimelineEvent;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plan-templates", get(list_templates))
        .route(
            "/plan-templates/{name}",
            put(save_template).delete(delete_template),
        )
        .route("/plans/estimate", post(estimate))
        .route("/rollouts", get(list_rollouts))
        .route("/environments/{env}/rollouts", post(create_rollout))
        .route("/rollouts/{id}", get(get_rollout).put(update_rollout))
        .route("/rollouts/{id}/gates", get(list_gates))
        .route("/rollouts/{id}/timeline", get(timeline))
        .route("/rollouts/{id}/wait", get(wait))
        .route("/rollouts/{id}/start", post(start))
        .route("/rollouts/{id}/approve", post(approve))
        .route("/rollouts/{id}/advance", post(advance))
        .route("/rollouts/{id}/pause", post(pause))
        .route("/rollouts/{id}/resume", post(resume))
        .route("/rollouts/{id}/skip", post(skip))
        .route("/rollouts/{id}/abort", post(abort))
        .route("/rollouts/{id}/rollback", post(roll_back))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_templates, save_template, delete_template, estimate, list_rollouts, create_rollout,
          get_rollout, update_rollout, list_gates, timeline, wait, start, approve, advance, pause,
          resume, skip, abort, roll_back),
    components(schemas(PlanTemplate, NewPlanTemplate, NewRollout, RolloutRecord, RolloutStatus,
                       RolloutView, GateResult, TimelineEvent, ReasonBody, Approval)),
    tags((name = "rollouts", description = "Plan templates, rollouts run phase by phase, their gates, approvals and timeline"))
)]
pub struct RolloutApiDoc;

/// Why a phase is skipped, or a rollout aborted or rolled back.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReasonBody {
    /// 1 to 500 characters.
    #[schema(max_length = 500, pattern = "[^\\s\\x85]")]
    reason: String,
}

/// An approval's comment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Approval {
    /// 1 to 500 characters.
    #[schema(max_length = 500, pattern = "[^\\s\\x85]")]
    comment: String,
}

/// Every plan template.
#[utoipa::path(get, path = "/api/v1/plan-templates", tag = "rollouts",
    responses((status = 200, body = Vec<PlanTemplate>)))]
async fn list_templates(
    SignedIn { services, who }: SignedIn,
) -> ApiResult<Json<Vec<PlanTemplate>>> {
    Ok(Json(rollouts::list_plan_templates(&services, &who).await?))
}

/// The rules of a plan that JSON Schema cannot state, answered 422 with `field` naming the part
/// at fault.
const PLAN_RULES: &str = "The plan contradicts itself: \
phases come in their order (Planning, Preparation, audiences and Gradual phases, Full rollout, \
Monitoring), with at most one of each kind but audiences and Gradual phases, and names unique \
regardless of case; only audience and Gradual phases have an audience, and only Gradual \
phases have steps (1 or more), each reaching more users than the one before; shares of users \
and traffic never shrink from one phase to the next; a segment is listed once per audience; a \
plan's load tests send at most 120,000 requests in all (rate × duration).";

/// The rules of a rollout that JSON Schema cannot state, answered 422.
const ROLLOUT_RULES: &str = "The rollout contradicts itself: \
the plan's rules (see PUT /api/v1/plan-templates/{name}); the release names an app with its \
version (both or neither) or at least one flag, each once; health checks, smoke, integration \
and load tests need an app in the release; `startAt` is not in the past. Naming an app, flag, \
segment, analysis template or plan template that does not exist is 409.";

/// Creates or replaces a plan template. Product manager or above.
#[utoipa::path(put, path = "/api/v1/plan-templates/{name}", tag = "rollouts",
    request_body = NewPlanTemplate, params(("name" = String, Path, pattern = "^[a-z0-9-]{1,63}$")),
    responses((status = 200, body = PlanTemplate), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = PLAN_RULES)))]
async fn save_template(
    SignedIn { services, who }: SignedIn,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<NewPlanTemplate>,
) -> ApiResult<Json<PlanTemplate>> {
    Ok(Json(
        rollouts::save_plan_template(&services, &who, &name, body).await?,
    ))
}

/// Deletes a plan template; rollouts copied from it keep their plans. Product manager or above.
#[utoipa::path(delete, path = "/api/v1/plan-templates/{name}", tag = "rollouts",
    params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_template(
    SignedIn { services, who }: SignedIn,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    rollouts::delete_plan_template(&services, &who, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The estimated timeline of a plan: when each phase (and Gradual step) starts and how long it
/// takes at least, and whom it waits for.
#[utoipa::path(post, path = "/api/v1/plans/estimate", tag = "rollouts",
    request_body = Plan,
    responses((status = 200, body = Vec<Object>), (status = 400, body = ErrorBody)))]
async fn estimate(
    SignedIn { services, who }: SignedIn,
    ApiJson(plan): ApiJson<Plan>,
) -> ApiResult<Json<Vec<EstimatedStop>>> {
    Ok(Json(rollouts::estimate_plan(&services, &who, &plan).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this environment's rollouts.
    environment: Option<String>,
    /// Only drafts, scheduled and running rollouts.
    active: Option<bool>,
}

/// The latest rollouts, newest first.
#[utoipa::path(get, path = "/api/v1/rollouts", tag = "rollouts", params(ListQuery),
    responses((status = 200, body = Vec<RolloutRecord>)))]
async fn list_rollouts(
    SignedIn { services, who }: SignedIn,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<RolloutRecord>>> {
    let filter = RolloutFilter {
        environment: q.environment,
        active: q.active.unwrap_or(false),
    };
    Ok(Json(
        rollouts::list_rollouts(&services, &who, filter).await?,
    ))
}

/// Plans a rollout in an environment: from a template (`default` when none is named) or with
/// its own plan; `start: true` starts it at once (or at `startAt`). Product manager or above.
#[utoipa::path(post, path = "/api/v1/environments/{env}/rollouts", tag = "rollouts",
    request_body = NewRollout, params(("env" = String, Path)),
    responses((status = 201, body = RolloutRecord), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = ROLLOUT_RULES)))]
async fn create_rollout(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
    ApiJson(body): ApiJson<NewRollout>,
) -> ApiResult<(StatusCode, Json<RolloutRecord>)> {
    let r = rollouts::create_rollout(&services, &who, &env, body).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// A rollout with its gate results and timeline.
#[utoipa::path(get, path = "/api/v1/rollouts/{id}", tag = "rollouts", params(("id" = i64, Path)),
    responses((status = 200, body = RolloutView), (status = 404, body = ErrorBody)))]
async fn get_rollout(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RolloutView>> {
    Ok(Json(rollouts::get_rollout(&services, &who, id).await?))
}

/// Saves a draft again (and with `start: true` starts it). Product manager or above.
#[utoipa::path(put, path = "/api/v1/rollouts/{id}", tag = "rollouts",
    request_body = NewRollout, params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRecord), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = ROLLOUT_RULES)))]
async fn update_rollout(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewRollout>,
) -> ApiResult<Json<RolloutRecord>> {
    Ok(Json(
        rollouts::update_rollout(&services, &who, id, body).await?,
    ))
}

/// Every gate result of a rollout with its evidence, oldest first.
#[utoipa::path(get, path = "/api/v1/rollouts/{id}/gates", tag = "rollouts", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<GateResult>), (status = 404, body = ErrorBody)))]
async fn list_gates(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<GateResult>>> {
    Ok(Json(
        rollouts::get_rollout(&services, &who, id).await?.gates,
    ))
}

/// A rollout's timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/rollouts/{id}/timeline", tag = "rollouts", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TimelineEvent>), (status = 404, body = ErrorBody)))]
async fn timeline(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<TimelineEvent>>> {
    Ok(Json(
        rollouts::get_rollout(&services, &who, id).await?.events,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct WaitQuery {
    /// How long to wait at most (1–3600 s, default 600).
    #[param(minimum = 1, maximum = 3600)]
    timeout_seconds: Option<u64>,
}

/// Waits until the rollout is over (succeeded, rolled back, aborted or failed) or the timeout
/// passes, then answers with it: a CI pipeline's "start and wait for the outcome". Check
/// `status`; it is still `running` (or `scheduled`) when the timeout passed first.
#[utoipa::path(get, path = "/api/v1/rollouts/{id}/wait", tag = "rollouts",
    params(("id" = i64, Path), WaitQuery),
    responses((status = 200, body = RolloutRecord), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn wait(
    SignedIn { services, who }: SignedIn,
    State(mut stopping): State<Stopping>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> ApiResult<Json<RolloutRecord>> {
    let seconds = q.timeout_seconds.unwrap_or(600);
    if !(1..=3600).contains(&seconds) {
        return Err(ApiError(AppError::Invalid {
            field: "timeoutSeconds".into(),
            message: "between 1 and 3600 seconds".into(),
        }));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let r = rollouts::get_rollout(&services, &who, id).await?.rollout;
        if r.status.is_over()
            || r.status == RolloutStatus::Draft
            || tokio::time::Instant::now() >= deadline
        {
            return Ok(Json(r));
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            // Shutting down: answer with where the rollout is now; the caller asks again.
            () = stopping.wait() => return Ok(Json(rollouts::get_rollout(&services, &who, id).await?.rollout)),
        }
    }
}

async fn command(
    services: &Services,
    who: &Principal,
    id: i64,
    c: RolloutCommand,
) -> ApiResult<Json<RolloutRecord>> {
    Ok(Json(rollouts::command_rollout(services, who, id, c).await?))
}

/// Starts a draft now (or schedules it, when it has a `startAt` in the future). Product
/// manager or above; refused while another rollout holds the same app or flag.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/start", tag = "rollouts", params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn start(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RolloutRecord>> {
    command(&services, &who, id, RolloutCommand::Start).await
}

/// Approves the current phase's approval gate, with a comment. The caller needs the gate's
/// role, and with four eyes must not be the person who started the rollout.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/approve", tag = "rollouts",
    request_body = Approval, params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRecord), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn approve(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Approval>,
) -> ApiResult<Json<RolloutRecord>> {
    let c = RolloutCommand::Approve {
        comment: body.comment,
    };
    command(&services, &who, id, c).await
}

/// Moves on from a phase that does not advance by itself, once its gates have passed.
/// Product manager or above.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/advance", tag = "rollouts", params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn advance(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RolloutRecord>> {
    command(&services, &who, id, RolloutCommand::Advance).await
}

/// Stops the rollout where it is. Operator or above.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/pause", tag = "rollouts", params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn pause(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RolloutRecord>> {
    command(&services, &who, id, RolloutCommand::Pause).await
}

/// Goes on; gates that had no verdict run again. Operator or above.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/resume", tag = "rollouts", params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRecord), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn resume(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RolloutRecord>> {
    command(&services, &who, id, RolloutCommand::Resume).await
}

/// Leaves the current phase (or Gradual step) without waiting for its gates, recording why.
/// Operator or above.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/skip", tag = "rollouts",
    request_body = ReasonBody, params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRecord), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn skip(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<RolloutRecord>> {
    let c = RolloutCommand::Skip {
        reason: body.reason,
    };
    command(&services, &who, id, c).await
}

/// Stops the rollout and takes the release back: the canary aborted, the flags as they were.
/// Operator or above.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/abort", tag = "rollouts",
    request_body = ReasonBody, params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRecord), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn abort(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<RolloutRecord>> {
    let c = RolloutCommand::Abort {
        reason: body.reason,
    };
    command(&services, &who, id, c).await
}

/// Puts the snapshot back: the app's objects and the flags' targeting from before the
/// rollout. Operator or above.
#[utoipa::path(post, path = "/api/v1/rollouts/{id}/rollback", tag = "rollouts",
    request_body = ReasonBody, params(("id" = i64, Path)),
    responses((status = 200, body = RolloutRecord), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn roll_back(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> ApiResult<Json<RolloutRecord>> {
    let c = RolloutCommand::RollBack {
        reason: body.reason,
    };
    command(&services, &who, id, c).await
}
