//! The REST API for accounts: the caller, users, API tokens and the audit log.

use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;
use varai_core::accounts::{
    self, ApiToken, AuditEvent, AuditPage, CreatedToken, Me, RoleName, User,
};
use varai_core::error::AppError;

use super::{ApiResult, SignedIn};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(get_me))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", patch(update_user))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/audit", get(list_audit))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_me, list_users, create_user, update_user, list_tokens, create_token, revoke_token, list_audit),
    components(schemas(User, Me, ApiToken, CreatedToken, AuditEvent, AuditPage, NewUserRequest, UpdateUserRequest, NewTokenRequest, RoleName)),
    tags((name = "accounts", description = "Users, API tokens and the audit log"))
)]
pub struct AccountApiDoc;

/// The caller this token or session stands for.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn get_me(SignedIn { who, .. }: SignedIn) -> ApiResult<Json<Me>> {
    Ok(Json(who.me()))
}

/// Every user, by username. Admin only.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts",
    responses((status = 200, body = Vec<User>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_users(SignedIn { services, who }: SignedIn) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(accounts::list_users(&services, &who).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUserRequest {
    /// 3 to 64 letters, digits, `.`, `_`, `-` or `@`; stored lowercased.
    #[schema(pattern = "^[A-Za-z0-9._@-]{3,64}$")]
    username: String,
    /// 12 to 1,024 characters, not only spaces.
    #[schema(min_length = 12, max_length = 1024, pattern = "[^\\s\\x85]")]
    password: String,
    #[schema(value_type = RoleName)]
    role: String,
}

/// Creates a user. Admin only.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = NewUserRequest,
    responses((status = 201, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_user(
    SignedIn { services, who }: SignedIn,
    ApiJson(body): ApiJson<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user =
        accounts::create_user(&services, &who, &body.username, &body.password, &body.role).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default)]
    #[schema(value_type = RoleName, required = false)]
    role: Option<String>,
    #[serde(default)]
    #[schema(value_type = bool, required = false)]
    disabled: Option<bool>,
}

/// Marks `UpdateUserRequest` as needing at least one property (utoipa 5.5's `min_properties`
/// attribute writes `maxProperties`).
pub fn require_a_change(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{RefOr, schema::Schema};
    let schema = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("UpdateUserRequest"));
    if let Some(RefOr::T(Schema::Object(object))) = schema {
        object.min_properties = Some(1);
    }
}

/// Changes a user's role and/or disables or enables the account. Admin only.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "accounts", request_body = UpdateUserRequest,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_user(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UpdateUserRequest>,
) -> ApiResult<Json<User>> {
    if body.role.is_none() && body.disabled.is_none() {
        return Err(ApiError(AppError::Invalid {
            field: "body".into(),
            message: "nothing to change; send role and/or disabled".into(),
        }));
    }
    let mut user = None;
    if let Some(role) = &body.role {
        user = Some(accounts::change_role(&services, &who, id, role).await?);
    }
    if let Some(disabled) = body.disabled {
        user = Some(accounts::set_disabled(&services, &who, id, disabled).await?);
    }
    user.map(Json).ok_or(ApiError(AppError::Internal))
}

/// Every API token, live ones first. Admin only.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts",
    responses((status = 200, body = Vec<ApiToken>), (status = 403, body = ErrorBody)))]
async fn list_tokens(SignedIn { services, who }: SignedIn) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(accounts::list_tokens(&services, &who).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewTokenRequest {
    /// 1 to 80 characters without control characters.
    #[schema(
        max_length = 80,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    name: String,
    #[schema(value_type = RoleName)]
    role: String,
}

/// Creates a token; the response holds its secret, which is never shown again. Admin only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = NewTokenRequest,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_token(
    SignedIn { services, who }: SignedIn,
    ApiJson(body): ApiJson<NewTokenRequest>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let created = accounts::create_token(&services, &who, &body.name, &body.role).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes a token at once. Admin only.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 200, body = ApiToken), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_token(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ApiToken>> {
    Ok(Json(accounts::revoke_token(&services, &who, id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events by this actor (a username, `token:NAME`, `system` or `cli`).
    actor: Option<String>,
    /// Only events older than this event id (from `next_before`).
    before: Option<i64>,
    /// At most this many events (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 401, body = ErrorBody)))]
async fn list_audit(
    SignedIn { services, who }: SignedIn,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    Ok(Json(
        accounts::list_audit(&services, &who, q.actor, q.before, q.limit).await?,
    ))
}
