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
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

use super::kind::Kind;
use super::store::{ObjectStore, Part, PatchType, Refusal};
use super::table;
use super::watch::{Filter, ListParams, accept, list, watch};
use varai_core::clock::now_ms;

/// The routes, with the store as state.
pub fn router(store: Arc<ObjectStore>) -> Router {
    let collection = || get(list_objects).post(create_object);
    let object = || {
        get(get_object)
            .put(replace_object)
            .patch(patch_object)
            .delete(delete_object)
    };
    let status = || get(get_object).put(replace_status).patch(patch_status);
    Router::new()
        .route("/api/v1/{plural}", get(list_objects))
        .route("/apis/{group}/{version}/{plural}", get(list_objects))
        .route("/api/v1/namespaces/{ns}/{plural}", collection())
        .route("/api/v1/namespaces/{ns}/{plural}/{name}", object())
        .route("/api/v1/namespaces/{ns}/{plural}/{name}/status", status())
        .route(
            "/apis/{group}/{version}/namespaces/{ns}/{plural}",
            collection(),
        )
        .route(
            "/apis/{group}/{version}/namespaces/{ns}/{plural}/{name}",
            object(),
        )
        .route(
            "/apis/{group}/{version}/namespaces/{ns}/{plural}/{name}/status",
            status(),
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

impl From<Refusal> for Failure {
    fn from(e: Refusal) -> Self {
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

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
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

pub(super) type ApiResult = Result<Response, Failure>;

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

fn parse_body(body: &Bytes) -> Result<Value, Failure> {
    serde_json::from_slice(body)
        .map_err(|e| Failure::bad_request(format!("the body is not valid JSON: {e}")))
}

fn now_rfc3339() -> String {
    varai_domain::clock::format_rfc3339(now_ms())
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
    // Merge patch; strategic merge patch; server-side apply of a JSON manifest (the fields
    // sent win, lists merged by key).
    let how = if content_type.starts_with("application/merge-patch+json") {
        PatchType::Merge
    } else if content_type.starts_with("application/strategic-merge-patch+json")
        || content_type.starts_with("application/apply-patch")
    {
        PatchType::Strategic
    } else {
        return Err(Failure {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!(
                "the sandbox accepts merge, strategic-merge and apply patches, not '{content_type}'"
            ),
        });
    };
    let patched = store.patch_as(kind, ns, name, &parse_body(body)?, part, how)?;
    Ok(axum::Json(patched).into_response())
}

fn delete(store: &ObjectStore, kind: Kind, ns: &str, name: &str) -> ApiResult {
    Ok(axum::Json(store.delete(kind, ns, name)?).into_response())
}

type St = State<Arc<ObjectStore>>;
type Params = Path<HashMap<String, String>>;

/// The kind, namespace and name a path names. Core paths (`/api/v1/...`) have no group;
/// grouped ones (`/apis/{group}/{version}/...`) do. Cluster-wide lists have no namespace.
struct ObjectPath {
    kind: Kind,
    namespace: Option<String>,
    name: String,
}

fn object_path(p: &HashMap<String, String>) -> Result<ObjectPath, Failure> {
    let field = |k: &str| p.get(k).cloned().unwrap_or_default();
    let group_version = match (p.get("group"), p.get("version")) {
        (Some(g), Some(v)) => format!("{g}/{v}"),
        _ => "v1".to_owned(),
    };
    Ok(ObjectPath {
        kind: kind_of(&group_version, &field("plural"))?,
        namespace: p.get("ns").cloned(),
        name: field("name"),
    })
}

async fn list_objects(
    State(s): St,
    Path(p): Params,
    Query(q): Query<ListParams>,
    h: HeaderMap,
) -> ApiResult {
    let t = object_path(&p)?;
    let filter = Filter::new(t.kind, t.namespace, &q)?;
    if q.is_watch() {
        watch(&s, filter, &q)
    } else {
        list(&s, &filter, &h)
    }
}
async fn create_object(State(s): St, Path(p): Params, body: Bytes) -> ApiResult {
    let t = object_path(&p)?;
    create(
        &s,
        t.kind,
        t.namespace.as_deref().unwrap_or_default(),
        &body,
    )
}
async fn get_object(State(s): St, Path(p): Params, h: HeaderMap) -> ApiResult {
    let t = object_path(&p)?;
    let ns = t.namespace.unwrap_or_default();
    let obj = s.get(t.kind, &ns, &t.name)?;
    if table::wanted(accept(&h)) {
        let rv = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Ok(axum::Json(table::table(t.kind, &[obj], rv, now_ms())).into_response());
    }
    Ok(axum::Json(obj).into_response())
}
async fn replace_object(State(s): St, Path(p): Params, body: Bytes) -> ApiResult {
    let t = object_path(&p)?;
    let ns = t.namespace.unwrap_or_default();
    replace(&s, t.kind, &ns, &t.name, &body, Part::Main)
}
async fn replace_status(State(s): St, Path(p): Params, body: Bytes) -> ApiResult {
    let t = object_path(&p)?;
    let ns = t.namespace.unwrap_or_default();
    replace(&s, t.kind, &ns, &t.name, &body, Part::Status)
}
async fn patch_object(State(s): St, Path(p): Params, h: HeaderMap, body: Bytes) -> ApiResult {
    let t = object_path(&p)?;
    let ns = t.namespace.unwrap_or_default();
    patch(&s, t.kind, &ns, &t.name, &h, &body, Part::Main)
}
async fn patch_status(State(s): St, Path(p): Params, h: HeaderMap, body: Bytes) -> ApiResult {
    let t = object_path(&p)?;
    let ns = t.namespace.unwrap_or_default();
    patch(&s, t.kind, &ns, &t.name, &h, &body, Part::Status)
}
async fn delete_object(State(s): St, Path(p): Params) -> ApiResult {
    let t = object_path(&p)?;
    let ns = t.namespace.unwrap_or_default();
    delete(&s, t.kind, &ns, &t.name)
}
