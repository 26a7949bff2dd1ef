//! The sandbox's Kubernetes REST API over the [`ObjectStore`]: the same paths, verbs, list
//! shapes and `Status` errors as a real API server, for the kinds the sandbox serves
//! (`/api/v1/...` for Pods, Services, ConfigMaps, Endpoints; `/apis/apps/v1/...` for
//! Deployments and ReplicaSets; `/apis/batch/v1/...` for Jobs).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use varai_domain::deploy::LabelSelector;

use super::kind::Kind;
use super::store::{ObjectStore, Part, StoreError};

/// The routes, with the store as state.
pub fn router(store: Arc<ObjectStore>) -> Router {
    Router::new()
        .route("/api/v1/{plural}", get(list_all))
        .route("/apis/{group}/{version}/{plural}", get(list_all_grouped))
        .route(
            "/api/v1/namespaces/{ns}/{plural}",
            get(list_core).post(create_core),
        )
        .route(
            "/api/v1/namespaces/{ns}/{plural}/{name}",
            get(get_core)
                .put(replace_core)
                .patch(patch_core)
                .delete(delete_core),
        )
        .route(
            "/api/v1/namespaces/{ns}/{plural}/{name}/status",
            get(get_core)
                .put(replace_core_status)
                .patch(patch_core_status),
        )
        .route(
            "/apis/{group}/{version}/namespaces/{ns}/{plural}",
            get(list_grouped).post(create_grouped),
        )
        .route(
            "/apis/{group}/{version}/namespaces/{ns}/{plural}/{name}",
            get(get_grouped)
                .put(replace_grouped)
                .patch(patch_grouped)
                .delete(delete_grouped),
        )
        .route(
            "/apis/{group}/{version}/namespaces/{ns}/{plural}/{name}/status",
            get(get_grouped)
                .put(replace_grouped_status)
                .patch(patch_grouped_status),
        )
        .with_state(store)
        .merge(super::discovery::router())
}

/// A Kubernetes `Status` failure.
pub struct Failure {
    code: u16,
    reason: &'static str,
    message: String,
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure {
            code: e.code(),
            reason: e.reason(),
            message: e.to_string(),
        }
    }
}

impl Failure {
    pub(super) fn not_found(message: impl Into<String>) -> Self {
        Failure {
            code: 404,
            reason: "NotFound",
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Failure {
            code: 400,
            reason: "BadRequest",
            message: message.into(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": self.message, "reason": self.reason, "code": self.code,
        });
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::BAD_REQUEST);
        (status, axum::Json(body)).into_response()
    }
}

type ApiResult = Result<Response, Failure>;

/// The kind a URL names, checked against its API group and version.
fn kind_of(group_version: &str, plural: &str) -> Result<Kind, Failure> {
    Kind::from_plural(plural)
        .filter(|k| k.api_version() == group_version)
        .ok_or_else(|| {
            Failure::not_found(format!(
                "the server could not find the requested resource ({group_version} {plural})"
            ))
        })
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListParams {
    label_selector: Option<String>,
    field_selector: Option<String>,
}

fn list(store: &ObjectStore, kind: Kind, ns: Option<&str>, p: &ListParams) -> ApiResult {
    let selector = LabelSelector::parse(p.label_selector.as_deref().unwrap_or(""))
        .map_err(|e| Failure::bad_request(format!("unable to parse requirement: {}", e.message)))?;
    let (mut items, version) = store.list(kind, ns, &selector);
    if let Some(fields) = p.field_selector.as_deref().filter(|f| !f.is_empty()) {
        for term in fields.split(',') {
            let (path, want, negate) = match term.split_once("!=") {
                Some((k, v)) => (k, v, true),
                None => match term.split_once('=') {
                    Some((k, v)) => (k, v.trim_start_matches('='), false),
                    None => {
                        return Err(Failure::bad_request(format!(
                            "invalid field selector '{term}'"
                        )));
                    }
                },
            };
            let pointer = format!("/{}", path.trim().replace('.', "/"));
            items.retain(|o| {
                (o.pointer(&pointer).and_then(Value::as_str) == Some(want.trim())) != negate
            });
        }
    }
    let body = json!({
        "kind": format!("{}List", kind.name()), "apiVersion": kind.api_version(),
        "metadata": {"resourceVersion": version.to_string()}, "items": items,
    });
    Ok(axum::Json(body).into_response())
}

fn parse_body(body: &Bytes) -> Result<Value, Failure> {
    serde_json::from_slice(body)
        .map_err(|e| Failure::bad_request(format!("the body is not valid JSON: {e}")))
}

fn now_rfc3339() -> String {
    varai_domain::clock::format_rfc3339(varai_app::ssr::now_ms())
}

fn create(store: &ObjectStore, kind: Kind, ns: &str, body: &Bytes) -> ApiResult {
    let obj = store.create(kind, ns, parse_body(body)?, &now_rfc3339())?;
    Ok((StatusCode::CREATED, axum::Json(obj)).into_response())
}

fn replace(
    store: &ObjectStore,
    kind: Kind,
    ns: &str,
    name: &str,
    body: &Bytes,
    part: Part,
) -> ApiResult {
    Ok(axum::Json(store.replace(kind, ns, name, parse_body(body)?, part)?).into_response())
}

fn patch(
    store: &ObjectStore,
    kind: Kind,
    ns: &str,
    name: &str,
    headers: &HeaderMap,
    body: &Bytes,
    part: Part,
) -> ApiResult {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Merge patch, and server-side apply of a JSON manifest (the fields sent win).
    if !(content_type.starts_with("application/merge-patch+json")
        || content_type.starts_with("application/apply-patch"))
    {
        return Err(Failure {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!(
                "the sandbox accepts merge-patch and apply patches, not '{content_type}'"
            ),
        });
    }
    Ok(axum::Json(store.patch(kind, ns, name, &parse_body(body)?, part)?).into_response())
}

fn delete(store: &ObjectStore, kind: Kind, ns: &str, name: &str) -> ApiResult {
    Ok(axum::Json(store.delete(kind, ns, name)?).into_response())
}

type St = State<Arc<ObjectStore>>;
type Grouped = Path<(String, String, String, String)>;
type GroupedNamed = Path<(String, String, String, String, String)>;

async fn list_all(
    State(s): St,
    Path(plural): Path<String>,
    Query(p): Query<ListParams>,
) -> ApiResult {
    list(&s, kind_of("v1", &plural)?, None, &p)
}
async fn list_all_grouped(
    State(s): St,
    Path((g, v, plural)): Path<(String, String, String)>,
    Query(p): Query<ListParams>,
) -> ApiResult {
    list(&s, kind_of(&format!("{g}/{v}"), &plural)?, None, &p)
}
async fn list_core(
    State(s): St,
    Path((ns, plural)): Path<(String, String)>,
    Query(p): Query<ListParams>,
) -> ApiResult {
    list(&s, kind_of("v1", &plural)?, Some(&ns), &p)
}
async fn create_core(
    State(s): St,
    Path((ns, plural)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    create(&s, kind_of("v1", &plural)?, &ns, &body)
}
async fn get_core(
    State(s): St,
    Path((ns, plural, name)): Path<(String, String, String)>,
) -> ApiResult {
    Ok(axum::Json(s.get(kind_of("v1", &plural)?, &ns, &name)?).into_response())
}
async fn replace_core(
    State(s): St,
    Path((ns, plural, name)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    replace(&s, kind_of("v1", &plural)?, &ns, &name, &body, Part::Main)
}
async fn replace_core_status(
    State(s): St,
    Path((ns, plural, name)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    replace(&s, kind_of("v1", &plural)?, &ns, &name, &body, Part::Status)
}
async fn patch_core(
    State(s): St,
    Path((ns, plural, name)): Path<(String, String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> ApiResult {
    patch(
        &s,
        kind_of("v1", &plural)?,
        &ns,
        &name,
        &h,
        &body,
        Part::Main,
    )
}
async fn patch_core_status(
    State(s): St,
    Path((ns, plural, name)): Path<(String, String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> ApiResult {
    patch(
        &s,
        kind_of("v1", &plural)?,
        &ns,
        &name,
        &h,
        &body,
        Part::Status,
    )
}
async fn delete_core(
    State(s): St,
    Path((ns, plural, name)): Path<(String, String, String)>,
) -> ApiResult {
    delete(&s, kind_of("v1", &plural)?, &ns, &name)
}
async fn list_grouped(
    State(s): St,
    Path((g, v, ns, plural)): Grouped,
    Query(p): Query<ListParams>,
) -> ApiResult {
    list(&s, kind_of(&format!("{g}/{v}"), &plural)?, Some(&ns), &p)
}
async fn create_grouped(State(s): St, Path((g, v, ns, plural)): Grouped, body: Bytes) -> ApiResult {
    create(&s, kind_of(&format!("{g}/{v}"), &plural)?, &ns, &body)
}
async fn get_grouped(State(s): St, Path((g, v, ns, plural, name)): GroupedNamed) -> ApiResult {
    Ok(axum::Json(s.get(kind_of(&format!("{g}/{v}"), &plural)?, &ns, &name)?).into_response())
}
async fn replace_grouped(
    State(s): St,
    Path((g, v, ns, plural, name)): GroupedNamed,
    body: Bytes,
) -> ApiResult {
    replace(
        &s,
        kind_of(&format!("{g}/{v}"), &plural)?,
        &ns,
        &name,
        &body,
        Part::Main,
    )
}
async fn replace_grouped_status(
    State(s): St,
    Path((g, v, ns, plural, name)): GroupedNamed,
    body: Bytes,
) -> ApiResult {
    replace(
        &s,
        kind_of(&format!("{g}/{v}"), &plural)?,
        &ns,
        &name,
        &body,
        Part::Status,
    )
}
async fn patch_grouped(
    State(s): St,
    Path((g, v, ns, plural, name)): GroupedNamed,
    h: HeaderMap,
    body: Bytes,
) -> ApiResult {
    patch(
        &s,
        kind_of(&format!("{g}/{v}"), &plural)?,
        &ns,
        &name,
        &h,
        &body,
        Part::Main,
    )
}
async fn patch_grouped_status(
    State(s): St,
    Path((g, v, ns, plural, name)): GroupedNamed,
    h: HeaderMap,
    body: Bytes,
) -> ApiResult {
    patch(
        &s,
        kind_of(&format!("{g}/{v}"), &plural)?,
        &ns,
        &name,
        &h,
        &body,
        Part::Status,
    )
}
async fn delete_grouped(State(s): St, Path((g, v, ns, plural, name)): GroupedNamed) -> ApiResult {
    delete(&s, kind_of(&format!("{g}/{v}"), &plural)?, &ns, &name)
}
