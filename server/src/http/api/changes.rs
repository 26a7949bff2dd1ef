//! The REST API for protected environments: an environment's protection policy, and change
//! requests asked for, listed, reviewed and decided. Same rules, roles and audit events as the
//! dashboard.

use crate::http::AppState;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;
use varai_core::changes::{
    self, ChangeRequest, ChangeState, Decision, NewChangeRequest, ProposedChange, Protection,
};
use varai_core::flags::{self, Environment};

use super::{ApiResult, SignedIn};
use crate::http::error::{ApiJson, ApiPath, ApiQuery, ErrorBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/environments/{key}/protection", put(set_protection))
        .route(
            "/change-requests",
            get(list_change_requests).post(request_change),
        )
        .route("/change-requests/{id}", get(get_change_request))
        .route("/change-requests/{id}/decision", post(decide))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        set_protection,
        list_change_requests,
        request_change,
        get_change_request,
        decide
    ),
    components(schemas(
        Protection,
        ProtectionUpdate,
        ChangeRequest,
        ChangeState,
        NewChangeRequest,
        ProposedChange,
        Decision,
        DecisionBody
    ))
)]
pub struct ChangeApiDoc;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtectionUpdate {
    protection: Protection,
    /// The environment's version you read; a newer one means someone else changed it.
    /// Bounded at 10¹⁵ − 1 in the document: every whole number up to it reads exactly from JSON,
    /// however it is written (`3` or `3.0`).
    #[schema(minimum = 0, maximum = 999_999_999_999_999_i64)]
    version: i64,
}

/// Sets who may change an environment directly and who approves change requests there.
/// Admin only.
#[utoipa::path(put, path = "/api/v1/environments/{key}/protection", tag = "changes",
    request_body = ProtectionUpdate, params(("key" = String, Path)),
    responses((status = 200, body = Environment), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn set_protection(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ProtectionUpdate>,
) -> ApiResult<Json<Environment>> {
    let env = flags::set_protection(&services, &who, &key, body.protection, body.version).await?;
    Ok(Json(env))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only requests in this state.
    state: Option<ChangeState>,
}

/// Change requests, newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/change-requests", tag = "changes", params(ListQuery),
    responses((status = 200, body = Vec<ChangeRequest>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
async fn list_change_requests(
    SignedIn { services, who }: SignedIn,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<ChangeRequest>>> {
    let list = changes::list_change_requests(&services, &who, query.state).await?;
    Ok(Json(list))
}

/// Asks for a change in a protected environment: a flag save or a deployment, checked as the
/// direct change would be, then waiting for another person's review. Developer or above.
#[utoipa::path(post, path = "/api/v1/change-requests", tag = "changes",
    request_body = NewChangeRequest,
    responses((status = 201, body = ChangeRequest), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "The change contradicts itself: a flag change \
            follows the flag's rules (see POST /api/v1/flags) with `spec.key` the `flag` it changes; \
            a deployment follows a deployment's (see POST /api/v1/environments/{env}/apps/{app}/deployments).")))]
async fn request_change(
    SignedIn { services, who }: SignedIn,
    ApiJson(body): ApiJson<NewChangeRequest>,
) -> ApiResult<(StatusCode, Json<ChangeRequest>)> {
    let request = changes::request_change(&services, &who, body).await?;
    Ok((StatusCode::CREATED, Json(request)))
}

/// One change request, with the texts its review compares.
#[utoipa::path(get, path = "/api/v1/change-requests/{id}", tag = "changes",
    params(("id" = i64, Path)),
    responses((status = 200, body = ChangeRequest), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn get_change_request(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ChangeRequest>> {
    Ok(Json(
        changes::get_change_request(&services, &who, id).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    decision: Decision,
    /// The reviewer's words, at most 2,000 characters; line breaks but no other control
    /// characters.
    #[serde(default)]
    #[schema(value_type = String, required = false, max_length = 2000, pattern = "^[^\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f]*$")]
    comment: Option<String>,
}

/// Approves (and applies at once), rejects, or withdraws an open request. Approving and
/// rejecting need the environment's approver role and someone other than the requester;
/// only the requester withdraws.
#[utoipa::path(post, path = "/api/v1/change-requests/{id}/decision", tag = "changes",
    request_body = DecisionBody, params(("id" = i64, Path)),
    responses((status = 200, body = ChangeRequest), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn decide(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<ChangeRequest>> {
    let decided =
        changes::decide_change_request(&services, &who, id, body.decision, body.comment).await?;
    Ok(Json(decided))
}
