//! Listing and watching objects through the sandbox's API: label and field selectors, the
//! table form kubectl asks for, and watch streams that start from a resourceVersion (410 Gone
//! when it is no longer kept), as a real API server serves them.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast;
use varai_domain::deploy::LabelSelector;

use super::kind::Kind;
use super::store::{ObjectStore, WatchEvent, labels};
use super::table;
use varai_core::clock::now_ms;

use super::api::{ApiResult, Failure};

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
    pub(super) fn is_watch(&self) -> bool {
        matches!(self.watch.as_deref(), Some("1" | "true"))
    }
}

/// Which objects a list or watch returns: kind, namespace, label and field selectors.
pub(super) struct Filter {
    kind: Kind,
    namespace: Option<String>,
    labels: LabelSelector,
    /// JSON pointer, wanted value, and whether the term is negated (`!=`).
    fields: Vec<(String, String, bool)>,
}

impl Filter {
    pub(super) fn new(
        kind: Kind,
        namespace: Option<String>,
        p: &ListParams,
    ) -> Result<Filter, Failure> {
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

pub(super) fn accept(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
}

pub(super) fn list(store: &ObjectStore, filter: &Filter, headers: &HeaderMap) -> ApiResult {
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
pub(super) fn watch(store: &ObjectStore, filter: Filter, p: &ListParams) -> ApiResult {
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
