//! The REST API for flags (with per-environment targeting, a toggle, archive and history).
//! Same rules, roles and audit events as the dashboard, since both call `varai_core::flags`.

use crate::http::AppState;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::OpenApi;
use varai_core::accounts::AuditPage;
use varai_core::flags;
use varai_core::flags::FlagRecord;
use varai_domain::flags::{FlagSpec, Targeting};

use super::{ApiResult, SignedIn};
use crate::http::error::{ApiJson, ApiPath, ApiQuery, ErrorBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/flags", get(list_flags).post(create_flag))
        .route("/flags/{key}", get(get_flag).put(update_flag))
        .route("/flags/{key}/environments/{env}/toggle", post(toggle_flag))
        .route("/flags/{key}/archive", post(archive_flag))
        .route("/flags/{key}/restore", post(restore_flag))
        .route("/flags/{key}/history", get(flag_history))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_flags, create_flag, get_flag, update_flag, toggle_flag, archive_flag, restore_flag, flag_history),
    components(schemas(FlagRecord, NewFlag, FlagUpdate, Toggle)),
    tags((name = "flags", description = "Environments, segments, feature flags, SDK keys and imports"))
)]
pub struct FlagApiDoc;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlagFilter {
    /// Text found in the key, name or description.
    q: Option<String>,
    tag: Option<String>,
    owner: Option<String>,
    /// Include archived flags.
    #[serde(default)]
    archived: bool,
}

/// Flags, filtered; archived ones only when asked.
#[utoipa::path(get, path = "/api/v1/flags", tag = "flags", params(FlagFilter),
    responses((status = 200, body = Vec<FlagRecord>)))]
async fn list_flags(
    SignedIn { services, who }: SignedIn,
    ApiQuery(filter): ApiQuery<FlagFilter>,
) -> ApiResult<Json<Vec<FlagRecord>>> {
    let all = flags::list_flags(&services, &who).await?;
    let q = filter.q.as_deref().unwrap_or("").to_lowercase();
    Ok(Json(
        all.into_iter()
            .filter(|f| filter.archived || f.archived_at.is_none())
            .filter(|f| filter.tag.as_ref().is_none_or(|t| f.spec.tags.contains(t)))
            .filter(|f| filter.owner.as_ref().is_none_or(|o| &f.spec.owner == o))
            .filter(|f| {
                q.is_empty()
                    || f.spec.key.to_lowercase().contains(&q)
                    || f.spec.name.to_lowercase().contains(&q)
                    || f.spec.description.to_lowercase().contains(&q)
            })
            .collect(),
    ))
}

/// The rules of a flag document that JSON Schema cannot state, answered 422 with `field`
/// naming the part at fault.
const FLAG_RULES: &str = "The flag contradicts itself or the path: \
a flag created here has a key of letters, digits, '-', '_' and '.' (at most 100), and so do \
a standard flag's variant names; `kind` is `standard` (imports create Unleash toggles) and, \
when saving, the key and kind are the stored ones; variant names are unique and each value \
is of the flag's `valueType`; the default, off, rule, split and override variants are among \
the flag's variants; a split has variants whose weights are not all 0 and add up to at most \
2,147,483,647; an environment has at most 5 `REGEX` constraints; each constraint's value is \
one its operator reads (one `value` for numbers, dates, versions and patterns; at least one \
in `values` otherwise); a prerequisite is another flag, listed once. A segment, flag or \
variant named that does not exist, or a prerequisite cycle, is 409.";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewFlag {
    #[serde(flatten)]
    spec: FlagSpec,
    /// Targeting per environment key; environments not listed start off.
    #[serde(default)]
    environments: BTreeMap<String, Targeting>,
}

/// Creates a flag. Developer or above.
#[utoipa::path(post, path = "/api/v1/flags", tag = "flags", request_body = NewFlag,
    responses((status = 201, body = FlagRecord), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = FLAG_RULES)))]
async fn create_flag(
    SignedIn { services, who }: SignedIn,
    ApiJson(body): ApiJson<NewFlag>,
) -> ApiResult<(StatusCode, Json<FlagRecord>)> {
    let flag = flags::create_flag(&services, &who, body.spec, body.environments).await?;
    Ok((StatusCode::CREATED, Json(flag)))
}

/// One flag with its targeting in every environment.
#[utoipa::path(get, path = "/api/v1/flags/{key}", tag = "flags",
    params(("key" = String, Path, description = "The flag key, percent-encoded")),
    responses((status = 200, body = FlagRecord), (status = 404, body = ErrorBody)))]
async fn get_flag(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<FlagRecord>> {
    Ok(Json(flags::get_flag(&services, &who, &key).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FlagUpdate {
    #[serde(flatten)]
    spec: FlagSpec,
    /// Targeting per environment key; environments not listed keep theirs.
    #[serde(default)]
    environments: BTreeMap<String, Targeting>,
    /// The version you read; a newer one means someone else changed the flag (409).
    /// Bounded at 10¹⁵ − 1 in the document: every whole number up to it reads exactly from JSON,
    /// however it is written (`3` or `3.0`).
    #[schema(minimum = 0, maximum = 999_999_999_999_999_i64)]
    version: i64,
}

/// Saves a flag's definition and targeting. Developer or above.
#[utoipa::path(put, path = "/api/v1/flags/{key}", tag = "flags", request_body = FlagUpdate,
    params(("key" = String, Path)),
    responses((status = 200, body = FlagRecord), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = FLAG_RULES)))]
async fn update_flag(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<FlagUpdate>,
) -> ApiResult<Json<FlagRecord>> {
    Ok(Json(
        flags::save_flag(
            &services,
            &who,
            &key,
            body.spec,
            body.environments,
            body.version,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Toggle {
    enabled: bool,
}

/// Switches a flag on or off in one environment. Developer or above.
#[utoipa::path(post, path = "/api/v1/flags/{key}/environments/{env}/toggle", tag = "flags", request_body = Toggle,
    params(("key" = String, Path), ("env" = String, Path)),
    responses((status = 200, body = FlagRecord), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn toggle_flag(
    SignedIn { services, who }: SignedIn,
    ApiPath((key, env)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<Toggle>,
) -> ApiResult<Json<FlagRecord>> {
    Ok(Json(
        flags::toggle_flag(&services, &who, &key, &env, body.enabled).await?,
    ))
}

/// Archives a flag: applications no longer get it. Developer or above.
#[utoipa::path(post, path = "/api/v1/flags/{key}/archive", tag = "flags", params(("key" = String, Path)),
    responses((status = 200, body = FlagRecord), (status = 404, body = ErrorBody)))]
async fn archive_flag(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<FlagRecord>> {
    Ok(Json(
        flags::set_flag_archived(&services, &who, &key, true).await?,
    ))
}

/// Restores an archived flag. Developer or above.
#[utoipa::path(post, path = "/api/v1/flags/{key}/restore", tag = "flags", params(("key" = String, Path)),
    responses((status = 200, body = FlagRecord), (status = 404, body = ErrorBody)))]
async fn restore_flag(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<FlagRecord>> {
    Ok(Json(
        flags::set_flag_archived(&services, &who, &key, false).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Before {
    /// Show events older than this event id.
    before: Option<i64>,
}

/// The flag's audit history, newest first, with before and after of each change.
#[utoipa::path(get, path = "/api/v1/flags/{key}/history", tag = "flags",
    params(("key" = String, Path), Before),
    responses((status = 200, body = AuditPage)))]
async fn flag_history(
    SignedIn { services, who }: SignedIn,
    ApiPath(key): ApiPath<String>,
    ApiQuery(page): ApiQuery<Before>,
) -> ApiResult<Json<AuditPage>> {
    Ok(Json(
        flags::flag_history(&services, &who, &key, page.before).await?,
    ))
}
