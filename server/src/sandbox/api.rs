//! The sandbox's Kubernetes REST API over the [`ObjectStore`]: the same paths, verbs, list
//! shapes and `Status` errors as a real API server, for the kinds the sandbox serves
//! (`/api/v1/...` for Pods, Services, ConfigMaps, Endpoints; `/apis/apps/v1/...` for
//! Deployments and ReplicaSets; `/apis/batch/v1/...` for Jobs).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use varai_domain::deploy::LabelSelector;

use super::kind::Kind;
use super::store::{ObjectStore, Part, PatchType, StoreError, WatchEvent, labels};
use super::table;
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
    watch: Option<String>,
    resource_version: Option<String>,
    timeout_seconds: Option<u64>,
}

impl ListParams {
    fn is_watch(&self) -> bool {
        matches!(self.watch.as_deref(), Some("1" | "true"))
    }
}

/// Which objects a list or watch returns: kind, namespace, label and field selectors.
struct Filter {
    kind: Kind,
    namespace: Option<String>,
    labels: LabelSelector,
    /// JSON pointer, wanted value, and whether the term is negated (`!=`).
    fields: Vec<(String, String, bool)>,
}

impl Filter {
    fn new(kind: Kind, namespace: Option<String>, p: &ListParams) -> Result<Filter, Failure> {
        let labels =
            LabelSelector::parse(p.label_selector.as_deref().unwrap_or("")).map_err(|e| {
                Failure::bad_request(format!("unable to parse requirement: {}", e.message))
            })?;
        let mut fields = Vec::new();
        for term in p
            .field_selector
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|t| !t.trim().is_empty())
        {
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
            fields.push((pointer, want.trim().to_owned(), negate));
        }
        Ok(Filter {
            kind,
            namespace,
            labels,
            fields,
        })
    }

    fn selects(&self, obj: &Value) -> bool {
        let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        self.namespace.as_deref().is_none_or(|n| Some(n) == ns)
            && self.labels.matches(&labels(obj))
            && self.fields.iter().all(|(pointer, want, negate)| {
                (obj.pointer(pointer).and_then(Value::as_str) == Some(want.as_str())) != *negate
            })
    }

    fn selects_event(&self, e: &WatchEvent) -> bool {
        e.kind == self.kind && self.selects(&e.object)
    }
}

fn accept(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
}

fn list(store: &ObjectStore, filter: &Filter, headers: &HeaderMap) -> ApiResult {
    let (mut items, version) = store.list(
        filter.kind,
        filter.namespace.as_deref(),
        &LabelSelector::default(),
    );
    items.retain(|o| filter.selects(o));
    if table::wanted(accept(headers)) {
        let t = table::table(filter.kind, &items, Some(version.to_string()), now_ms());
        return Ok(axum::Json(t).into_response());
    }
    let body = json!({
        "kind": format!("{}List", filter.kind.name()), "apiVersion": filter.kind.api_version(),
        "metadata": {"resourceVersion": version.to_string()}, "items": items,
    });
    Ok(axum::Json(body).into_response())
}

/// One line of a watch stream.
fn watch_line(kind_of_change: &str, object: &Value) -> Bytes {
    let mut line = json!({"type": kind_of_change, "object": object}).to_string();
    line.push('\n');
    Bytes::from(line)
}

/// A watch: newline-separated `{"type", "object"}` events, from the resourceVersion asked for
/// (or every current object), until `timeoutSeconds` or the client goes away. A watcher that
/// falls too far behind gets a 410 `ERROR` event and starts again, as with a real API server.
fn watch(store: &ObjectStore, filter: Filter, p: &ListParams) -> ApiResult {
    let since =
        match p.resource_version.as_deref() {
            None | Some("" | "0") => None,
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                Failure::bad_request(format!("resourceVersion '{v}' is not a number"))
            })?),
        };
    let (past, receiver) = store.watch(since)?;
    let past: VecDeque<WatchEvent> = past
        .into_iter()
        .filter(|e| filter.selects_event(e))
        .collect();
    let deadline = tokio::time::Instant::now()
        + Duration::from_secs(p.timeout_seconds.unwrap_or(1800).min(3600));
    struct Watching {
        past: VecDeque<WatchEvent>,
        receiver: broadcast::Receiver<WatchEvent>,
        filter: Filter,
        deadline: tokio::time::Instant,
        ended: bool,
    }
    let start = Watching {
        past,
        receiver,
        filter,
        deadline,
        ended: false,
    };
    let stream = futures_util::stream::unfold(start, |mut w| async move {
        if w.ended {
            return None;
        }
        if let Some(e) = w.past.pop_front() {
            return Some((
                Ok::<_, Infallible>(watch_line(e.kind_of_change, &e.object)),
                w,
            ));
        }
        loop {
            match tokio::time::timeout_at(w.deadline, w.receiver.recv()).await {
                Err(_) | Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                Ok(Ok(e)) if w.filter.selects_event(&e) => {
                    return Some((Ok(watch_line(e.kind_of_change, &e.object)), w));
                }
                Ok(Ok(_)) => {}
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    w.ended = true;
                    let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "reason": "Expired", "code": 410,
                        "message": "the watch fell behind; list and watch again"});
                    return Some((Ok(watch_line("ERROR", &status)), w));
                }
            }
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
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
struct Target {
    kind: Kind,
    namespace: Option<String>,
    name: String,
}

fn target(p: &HashMap<String, String>) -> Result<Target, Failure> {
    let field = |k: &str| p.get(k).cloned().unwrap_or_default();
    let group_version = match (p.get("group"), p.get("version")) {
        (Some(g), Some(v)) => format!("{g}/{v}"),
        _ => "v1".to_owned(),
    };
    Ok(Target {
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
    let t = target(&p)?;
    let filter = Filter::new(t.kind, t.namespace, &q)?;
    if q.is_watch() {
        watch(&s, filter, &q)
    } else {
        list(&s, &filter, &h)
    }
}
async fn create_object(State(s): St, Path(p): Params, body: Bytes) -> ApiResult {
    let t = target(&p)?;
    create(
        &s,
        t.kind,
        t.namespace.as_deref().unwrap_or_default(),
        &body,
    )
}
async fn get_object(State(s): St, Path(p): Params, h: HeaderMap) -> ApiResult {
    let t = target(&p)?;
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
    let t = target(&p)?;
    let ns = t.namespace.unwrap_or_default();
    replace(&s, t.kind, &ns, &t.name, &body, Part::Main)
}
async fn replace_status(State(s): St, Path(p): Params, body: Bytes) -> ApiResult {
    let t = target(&p)?;
    let ns = t.namespace.unwrap_or_default();
    replace(&s, t.kind, &ns, &t.name, &body, Part::Status)
}
async fn patch_object(State(s): St, Path(p): Params, h: HeaderMap, body: Bytes) -> ApiResult {
    let t = target(&p)?;
    let ns = t.namespace.unwrap_or_default();
    patch(&s, t.kind, &ns, &t.name, &h, &body, Part::Main)
}
async fn patch_status(State(s): St, Path(p): Params, h: HeaderMap, body: Bytes) -> ApiResult {
    let t = target(&p)?;
    let ns = t.namespace.unwrap_or_default();
    patch(&s, t.kind, &ns, &t.name, &h, &body, Part::Status)
}
async fn delete_object(State(s): St, Path(p): Params) -> ApiResult {
    let t = target(&p)?;
    let ns = t.namespace.unwrap_or_default();
    delete(&s, t.kind, &ns, &t.name)
}
