//! The REST API for monitoring: each environment's Prometheus, chart data, analysis templates
//! and runs, alert rules, alerts received and saved queries. Same rules, roles and audit
//! events as the dashboard: both call `varai_core::monitor`.

use crate::http::AppState;
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;
use varai_core::error::AppError;
use varai_core::monitor;
use varai_core::monitor::{
    AlertRecord, AlertRuleRecord, AnalysisRunRecord, ChartSet, MetricsSource, NewAlertRule,
    NewSavedQuery, SavedQuery, TemplateRecord, TimeRange,
};
use varai_domain::analysis::AnalysisTemplate;

use super::{ApiResult, SignedIn};
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/environments/{env}/prometheus",
            get(get_source).put(set_source),
        )
        .route("/environments/{env}/apps/{app}/metrics", get(charts))
        .route("/analysis-templates", get(list_templates))
        .route(
            "/analysis-templates/{name}",
            put(save_template).delete(delete_template),
        )
        .route("/deployments/{id}/analysis-runs", get(list_runs))
        .route(
            "/environments/{env}/alert-rules",
            get(list_rules).post(save_rule),
        )
        .route(
            "/environments/{env}/alert-rules/{name}",
            delete(delete_rule),
        )
        .route("/environments/{env}/alerts", get(list_alerts))
        .route(
            "/environments/{env}/queries",
            get(list_queries).post(save_query),
        )
        .route("/environments/{env}/queries/{id}", delete(delete_query))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_source, set_source, charts, list_templates, save_template, delete_template, list_runs,
          list_rules, save_rule, delete_rule, list_alerts, list_queries, save_query, delete_query),
    components(schemas(MetricsSource, SourceChange, ChartSet, TemplateRecord, AnalysisRunRecord,
                       AlertRuleRecord, NewAlertRule, AlertRecord, SavedQuery, NewSavedQuery)),
    tags((name = "monitoring", description = "Prometheus per environment, charts, analysis templates and runs, alert rules and alerts"))
)]
pub struct MonitorApiDoc;

/// A new Prometheus for an environment; none (or empty) means the server's own.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SourceChange {
    /// `http://host:port[/path]`; empty or absent for the server's own.
    #[serde(default)]
    #[schema(value_type = String, required = false, max_length = 500, pattern = "^(http://([A-Za-z]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?(\\.[A-Za-z]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?){0,4}|((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~-]{0,40}){0,4})?$")]
    url: Option<String>,
}

/// Where an environment's metrics come from, and whether it answers.
#[utoipa::path(get, path = "/api/v1/environments/{env}/prometheus", tag = "monitoring",
    params(("env" = String, Path)),
    responses((status = 200, body = MetricsSource), (status = 404, body = ErrorBody)))]
async fn get_source(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
) -> ApiResult<Json<MetricsSource>> {
    Ok(Json(monitor::metrics_source(&services, &who, &env).await?))
}

/// Points an environment at a Prometheus after checking it answers. Admin only.
#[utoipa::path(put, path = "/api/v1/environments/{env}/prometheus", tag = "monitoring",
    request_body = SourceChange, params(("env" = String, Path)),
    responses((status = 200, body = MetricsSource), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn set_source(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
    ApiJson(body): ApiJson<SourceChange>,
) -> ApiResult<Json<MetricsSource>> {
    Ok(Json(
        monitor::set_metrics_source(&services, &who, &env, body.url).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChartQuery {
    /// `5m` (default), `15m`, `1h` or `6h`.
    #[param(pattern = "^(5m|15m|1h|6h)$")]
    range: Option<String>,
    /// Only points after this time (seconds since the epoch), for live updates.
    since: Option<f64>,
}

/// Request rate, error rate, latency p50/p95/p99, CPU, memory, conversion and saved queries,
/// each split by version.
#[utoipa::path(get, path = "/api/v1/environments/{env}/apps/{app}/metrics", tag = "monitoring",
    params(("env" = String, Path), ("app" = String, Path), ChartQuery),
    responses((status = 200, body = ChartSet), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn charts(
    SignedIn { services, who }: SignedIn,
    ApiPath((env, app)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ChartQuery>,
) -> ApiResult<Json<ChartSet>> {
    let range = match q.range.as_deref() {
        None => TimeRange::default(),
        Some(r) => TimeRange::from_key(r).ok_or_else(|| {
            ApiError(AppError::Invalid {
                field: "range".into(),
                message: format!("'{r}' is not one of 5m, 15m, 1h, 6h"),
            })
        })?,
    };
    Ok(Json(
        monitor::charts(&services, &who, &env, &app, range, q.since).await?,
    ))
}

/// Every analysis template.
#[utoipa::path(get, path = "/api/v1/analysis-templates", tag = "monitoring",
    responses((status = 200, body = Vec<TemplateRecord>)))]
async fn list_templates(
    SignedIn { services, who }: SignedIn,
) -> ApiResult<Json<Vec<TemplateRecord>>> {
    Ok(Json(monitor::list_templates(&services, &who).await?))
}

/// Creates or replaces a template (Argo Rollouts' metric fields). Operator or above.
#[utoipa::path(put, path = "/api/v1/analysis-templates/{name}", tag = "monitoring",
    request_body = AnalysisTemplate,
    params(("name" = String, Path, pattern = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")),
    responses((status = 200, body = TemplateRecord), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "The template contradicts itself or the path: \
            the body's `name`, when given, is the path's; metric names are unique; each metric has a \
            `successCondition`, a `failureCondition` or both; a query's placeholders are among \
            {{app}}, {{version}}, {{stable}}, {{namespace}} and {{environment}}, each closed.")))]
async fn save_template(
    SignedIn { services, who }: SignedIn,
    ApiPath(name): ApiPath<String>,
    ApiJson(mut body): ApiJson<AnalysisTemplate>,
) -> ApiResult<Json<TemplateRecord>> {
    if body.name.is_empty() {
        body.name = name.clone();
    }
    if body.name != name {
        return Err(ApiError(AppError::Unprocessable {
            field: "name".into(),
            message: format!("the body names '{}' but the path '{name}'", body.name),
        }));
    }
    Ok(Json(monitor::save_template(&services, &who, body).await?))
}

/// Deletes a template. Operator or above.
#[utoipa::path(delete, path = "/api/v1/analysis-templates/{name}", tag = "monitoring",
    params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_template(
    SignedIn { services, who }: SignedIn,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    monitor::delete_template(&services, &who, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A deployment's analysis runs with every measurement, newest first.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/analysis-runs", tag = "monitoring",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AnalysisRunRecord>), (status = 404, body = ErrorBody)))]
async fn list_runs(
    SignedIn { services, who }: SignedIn,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AnalysisRunRecord>>> {
    Ok(Json(monitor::analysis_runs(&services, &who, id).await?))
}

/// An environment's alert rules and where each is.
#[utoipa::path(get, path = "/api/v1/environments/{env}/alert-rules", tag = "monitoring",
    params(("env" = String, Path)),
    responses((status = 200, body = Vec<AlertRuleRecord>), (status = 404, body = ErrorBody)))]
async fn list_rules(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
) -> ApiResult<Json<Vec<AlertRuleRecord>>> {
    Ok(Json(monitor::list_rules(&services, &who, &env).await?))
}

/// Creates or replaces (by name) a rule: a query, a condition and a `for` duration; when it
/// fires, its app's deployment in progress is rolled back. Operator or above.
#[utoipa::path(post, path = "/api/v1/environments/{env}/alert-rules", tag = "monitoring",
    request_body = NewAlertRule, params(("env" = String, Path)),
    responses((status = 201, body = AlertRuleRecord), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn save_rule(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
    ApiJson(body): ApiJson<NewAlertRule>,
) -> ApiResult<(StatusCode, Json<AlertRuleRecord>)> {
    let rule = monitor::save_rule(&services, &who, &env, body).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

/// Deletes a rule. Operator or above.
#[utoipa::path(delete, path = "/api/v1/environments/{env}/alert-rules/{name}", tag = "monitoring",
    params(("env" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_rule(
    SignedIn { services, who }: SignedIn,
    ApiPath((env, name)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    monitor::delete_rule(&services, &who, &env, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Alerts received (Alertmanager) or raised (rules) about an environment, newest first.
#[utoipa::path(get, path = "/api/v1/environments/{env}/alerts", tag = "monitoring",
    params(("env" = String, Path)),
    responses((status = 200, body = Vec<AlertRecord>), (status = 404, body = ErrorBody)))]
async fn list_alerts(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
) -> ApiResult<Json<Vec<AlertRecord>>> {
    Ok(Json(monitor::list_alerts(&services, &who, &env).await?))
}

/// The environment's saved queries (the business panel).
#[utoipa::path(get, path = "/api/v1/environments/{env}/queries", tag = "monitoring",
    params(("env" = String, Path)),
    responses((status = 200, body = Vec<SavedQuery>), (status = 404, body = ErrorBody)))]
async fn list_queries(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
) -> ApiResult<Json<Vec<SavedQuery>>> {
    Ok(Json(monitor::list_queries(&services, &who, &env).await?))
}

/// Saves a named PromQL query, charted on the Monitoring page. Developer or above.
#[utoipa::path(post, path = "/api/v1/environments/{env}/queries", tag = "monitoring",
    request_body = NewSavedQuery, params(("env" = String, Path)),
    responses((status = 201, body = SavedQuery), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn save_query(
    SignedIn { services, who }: SignedIn,
    ApiPath(env): ApiPath<String>,
    ApiJson(body): ApiJson<NewSavedQuery>,
) -> ApiResult<(StatusCode, Json<SavedQuery>)> {
    let q = monitor::save_query(&services, &who, &env, body).await?;
    Ok((StatusCode::CREATED, Json(q)))
}

/// Deletes a saved query. Developer or above.
#[utoipa::path(delete, path = "/api/v1/environments/{env}/queries/{id}", tag = "monitoring",
    params(("env" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_query(
    SignedIn { services, who }: SignedIn,
    ApiPath((env, id)): ApiPath<(String, i64)>,
) -> ApiResult<StatusCode> {
    monitor::delete_query(&services, &who, &env, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
