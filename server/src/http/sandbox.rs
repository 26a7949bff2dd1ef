//! The sandbox on the main port: its simulated traffic's metrics for Prometheus, and an HTTP
//! endpoint per Service for health, smoke and load checks (the same answers the Kubernetes
//! service proxy gives). A Service answers a signed-in person, an API token or an SDK key,
//! never an anonymous caller: what it serves is the traffic analysis judges.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use std::sync::Arc;
use tower_sessions::Session;
use varai_core::Services;
use varai_core::flags::SDK_KEY_PREFIX;

use super::error::{error_response, json_error};
use crate::flags::FlagCache;
use crate::sandbox::Sandbox;

/// What a Service call is checked against: people and tokens, and the SDK keys in the cache.
#[derive(Clone)]
pub struct Callers {
    pub services: Services,
    pub flags: Arc<FlagCache>,
}

/// The sandbox's routes; the Services behind `callers`' check (the caller adds the session
/// layer it reads).
pub fn router(sandbox: Arc<Sandbox>, callers: Callers) -> Router {
    let services = Router::new()
        .route("/sandbox/services/{ns}/{name}", any(service_root))
        .route("/sandbox/services/{ns}/{name}/{*path}", any(service_path))
        .layer(from_fn_with_state(callers, require_caller))
        .with_state(Arc::clone(&sandbox));
    Router::new()
        .route("/sandbox/metrics", get(metrics))
        .with_state(sandbox)
        .merge(services)
}

/// The secret a request presents as `X-API-Key` or a bearer token, if any.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    api_key.or(bearer).map(str::trim)
}

/// Lets a Service call through for a live SDK key, a valid API token or a signed-in session.
async fn require_caller(
    State(callers): State<Callers>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    if let Some(key) = presented_key(req.headers())
        && key.starts_with(SDK_KEY_PREFIX)
    {
        return match callers.flags.snapshot().environment_for_key(key) {
            Some(_) => next.run(req).await,
            None => refuse("the SDK key is not valid (unknown or revoked)"),
        };
    }
    match super::auth::resolve(&callers.services, &session, req.headers()).await {
        Ok(Some(_)) => next.run(req).await,
        Ok(None) => refuse(
            "the sandbox's Services answer a signed-in person, an API token or an SDK key \
             (Authorization: Bearer …, or X-API-Key: …)",
        ),
        Err(e) => error_response(&e),
    }
}

fn refuse(message: &str) -> Response {
    json_error(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        message.to_owned(),
        None,
    )
}

type St = State<Arc<Sandbox>>;

async fn metrics(State(sandbox): St) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        sandbox.traffic.render(),
    )
        .into_response()
}

async fn service_root(State(sandbox): St, Path((ns, name)): Path<(String, String)>) -> Response {
    sandbox.call_service(&ns, &name, "/").await
}

async fn service_path(
    State(sandbox): St,
    Path((ns, name, path)): Path<(String, String, String)>,
) -> Response {
    sandbox.call_service(&ns, &name, &format!("/{path}")).await
}
