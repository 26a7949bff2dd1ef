//! The REST API for what flags are configured against: environments, segments, SDK keys and
//! the Unleash import. Same rules, roles and audit events as the dashboard.

use crate::http::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;
use varai_core::flags::{self, MAX_IMPORT_BYTES};
use varai_core::flags::{CreatedSdkKey, Environment, ImportReport, SdkKey, SegmentRecord};
use varai_domain::flags::Segment;
use varai_domain::flags::unleash::UnleashDocument;

use super::{ApiResult, SignedIn};
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/environments",
            get(list_environments).post(create_environment),
        )
        .route(
            "/environments/{key}",
            axum::routing::patch(rename_environment).delete(delete_environment),
        )
        .route("/segments", get(list_segments).post(create_segment))
        .route(
            "/segments/{key}",
            get(get_segment).put(update_segment).delete(delete_segment),
        )
        .route("/sdk-keys", get(list_sdk_keys).post(create_sdk_key))
        .route("/sdk-keys/{id}", axum::routing::delete(revoke_sdk_key))
        .route(
            "/import/unleash",
            post(import_unleash).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_environments,
        create_environment,
        rename_environment,
        delete_environment,
        list_segments,
        create_segment,
        get_segment,
        update_segment,
        delete_segment,
        list_sdk_keys,
        create_sdk_key,
        revoke_sdk_key,
        import_unleash
    ),
    components(schemas(
        Environment,
        SegmentRecord,
        SdkKey,
        CreatedSdkKey,
        ImportReport,
        NewEnvironment,
        RenameEnvironment,
        SegmentUpdate,
        SegmentDetail,
        NewSdkKey
    ))
)]
pub struct ConfigApiDoc;

// ---- environments ----

/// Every environment, in display order.
#[utoipa::path(get, path = "/api/v1/environments", tag = "flags",
    responses((status = 200, body = Vec<Environment>), (status = 401, body = ErrorBody)))]
async fn list_environments(
    SignedIn { services, who }: SignedIn,
) -> ApiResult<Json<Vec<Environment>>> {
    Ok(Json(flags::list_environments(&services, &who).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEnvironment {
    /// 1 to 100 letters, digits, `-`, `_`, `.`; never changes.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$")]
    key: String,
    /// 1 to 80 characters.
    #[schema(max_length = 80, pattern = "[^\\s\\x85]")]
    name: String,
}

/// Adds an environment. Admin only.
#[utoipa::path(post, path = "/api/v1/environments", tag = "flags", request_body = NewEnvironment,
    responses((status = 201, body = Environment), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_environment(
    SignedIn { services, who }: SignedIn,
    ApiJson(body): ApiJson<NewEnvironment>,
) -> ApiResult<(StatusCode, Json<Environment>)> {
    let env = flags::create_environment(&services, &who, &body.key, &body.name).await?;
    Ok((StatusCode::CREATED, Json(env)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameEnvironment {
    /// 1 to 80 characters.
    #[schema(max_length = 80, pattern = "[^\\s\\x85]")]
    name: String,
    /// The version you read; a newer one means someone else changed it.
    /// Bounded at 10¹⁵ − 1 in the document: every whole number up to it reads exactly from JSON,
    /// however it is written (`3` or `3.0`).
    #[schema(minimum = 0, maximum = 999_999_999_999_999_i64)]
    version: i64,
}

/// Renames an environment. Admin only.
#[utoipa::path(patch, path = "/api/v1/environments/{key}", tag = "flags", request_body = RenameEnvironment,
    params(("key" = String, Path)),
    responses((status = 200, body = Environment), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn rename_environment(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<RenameEnvironment>,
) -> ApiResult<Json<Environment>> {
    Ok(Json(
        flags::rename_environment(&services, &who, &key, &body.name, body.version).await?,
    ))
}

/// Removes an environment; refused (409, saying what) while flags or SDK keys use it. Admin only.
#[utoipa::path(delete, path = "/api/v1/environments/{key}", tag = "flags",
    params(("key" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_environment(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<StatusCode> {
    flags::delete_environment(&services, &who, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- segments ----

/// Every segment.
#[utoipa::path(get, path = "/api/v1/segments", tag = "flags",
    responses((status = 200, body = Vec<SegmentRecord>)))]
async fn list_segments(
    SignedIn { services, who }: SignedIn,
) -> ApiResult<Json<Vec<SegmentRecord>>> {
    Ok(Json(flags::list_segments(&services, &who).await?))
}

/// The rules of a segment that JSON Schema cannot state, answered 422 with `field` naming the
/// part at fault.
const SEGMENT_RULES: &str = "The segment contradicts itself or the path: \
at most 5 `REGEX` constraints; each constraint's value is one its operator reads (one `value` \
for numbers, RFC 3339 date-times, semantic versions and patterns; at least one in `values`, \
IP addresses or CIDR ranges for `IN_CIDR`, otherwise); when saving, the key is the path's.";

/// Creates a segment (key, name, description, constraints, included, excluded). Developer or above.
#[utoipa::path(post, path = "/api/v1/segments", tag = "flags", request_body = Segment,
    responses((status = 201, body = SegmentRecord), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = SEGMENT_RULES)))]
async fn create_segment(
    SignedIn { services, who }: SignedIn,
    ApiJson(segment): ApiJson<Segment>,
) -> ApiResult<(StatusCode, Json<SegmentRecord>)> {
    let record = flags::create_segment(&services, &who, segment).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SegmentDetail {
    segment: SegmentRecord,
    /// `flag (environment)` for every rule that uses the segment.
    used_by: Vec<String>,
}

/// One segment and where it is used.
#[utoipa::path(get, path = "/api/v1/segments/{key}", tag = "flags", params(("key" = String, Path)),
    responses((status = 200, body = SegmentDetail), (status = 404, body = ErrorBody)))]
async fn get_segment(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<SegmentDetail>> {
    let segment = flags::list_segments(&services, &who)
        .await?
        .into_iter()
        .find(|s| s.segment.key == key)
        .ok_or_else(|| ApiError(varai_core::error::AppError::NotFound("segment".into())))?;
    let used_by = flags::segment_usage(&services, &who, &key).await?;
    Ok(Json(SegmentDetail { segment, used_by }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SegmentUpdate {
    #[serde(flatten)]
    segment: Segment,
    /// Bounded at 10¹⁵ − 1 in the document: every whole number up to it reads exactly from JSON,
    /// however it is written (`3` or `3.0`).
    #[schema(minimum = 0, maximum = 999_999_999_999_999_i64)]
    version: i64,
}

/// Replaces a segment; `version` must be the one you read. Developer or above.
#[utoipa::path(put, path = "/api/v1/segments/{key}", tag = "flags", request_body = SegmentUpdate,
    params(("key" = String, Path)),
    responses((status = 200, body = SegmentRecord), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = SEGMENT_RULES)))]
async fn update_segment(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<SegmentUpdate>,
) -> ApiResult<Json<SegmentRecord>> {
    Ok(Json(
        flags::update_segment(&services, &who, &key, body.segment, body.version).await?,
    ))
}

/// Deletes a segment; refused (409, naming the flags) while rules use it. Developer or above.
#[utoipa::path(delete, path = "/api/v1/segments/{key}", tag = "flags", params(("key" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_segment(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<StatusCode> {
    flags::delete_segment(&services, &who, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- SDK keys and import ----

/// Every SDK key (secrets are never shown again). Admin only.
#[utoipa::path(get, path = "/api/v1/sdk-keys", tag = "flags",
    responses((status = 200, body = Vec<SdkKey>), (status = 403, body = ErrorBody)))]
async fn list_sdk_keys(SignedIn { services, who }: SignedIn) -> ApiResult<Json<Vec<SdkKey>>> {
    Ok(Json(flags::list_sdk_keys(&services, &who).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSdkKey {
    /// The key of an existing environment.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$")]
    environment: String,
    /// 1 to 80 characters.
    #[schema(max_length = 80, pattern = "[^\\s\\x85]")]
    name: String,
}

/// Creates an SDK key for one environment; the secret is in this response only. Admin only.
#[utoipa::path(post, path = "/api/v1/sdk-keys", tag = "flags", request_body = NewSdkKey,
    responses((status = 201, body = CreatedSdkKey), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_sdk_key(
    SignedIn { services, who }: SignedIn,
    ApiJson(body): ApiJson<NewSdkKey>,
) -> ApiResult<(StatusCode, Json<CreatedSdkKey>)> {
    let created = flags::create_sdk_key(&services, &who, &body.environment, &body.name).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes an SDK key; applications using it get 401 within a second. Admin only.
#[utoipa::path(delete, path = "/api/v1/sdk-keys/{id}", tag = "flags", params(("id" = i64, Path)),
    responses((status = 200, body = SdkKey), (status = 404, body = ErrorBody)))]
async fn revoke_sdk_key(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SdkKey>> {
    Ok(Json(flags::revoke_sdk_key(&services, &who, id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportTarget {
    /// The environment whose targeting the toggles set.
    #[param(pattern = "^[A-Za-z0-9._-]{1,100}$")]
    environment: String,
}

/// Imports an Unleash client API document (`/api/client/features`, version 1 or 2) into an
/// environment. The body is the document itself, read as leniently as Unleash reads it: lists
/// and flags may be missing or `null`, constraint values may be strings, numbers or booleans.
/// A feature or segment that breaks the bounds the flag and segment documents state is not
/// imported; the report lists it under `skipped` with the reason, and lists under `notes` what
/// evaluates differently from the document's letter (as Unleash evaluates it). Admin only.
#[utoipa::path(post, path = "/api/v1/import/unleash", tag = "flags", params(ImportTarget),
    request_body = UnleashDocument,
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "There is no environment by that key.")))]
async fn import_unleash(
    SignedIn { services, who }: SignedIn,
    ApiQuery(target): ApiQuery<ImportTarget>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ImportReport>> {
    let document =
        std::str::from_utf8(&body).map_err(|_| varai_core::error::AppError::Invalid {
            field: "document".into(),
            message: "is not UTF-8 text".into(),
        })?;
    Ok(Json(
        flags::import_unleash(&services, &who, &target.environment, document).await?,
    ))
}
