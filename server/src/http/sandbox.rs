//! The sandbox on the main port: its simulated traffic's metrics for Prometheus, and an HTTP
//! endpoint per Service for health, smoke and load checks (the same answers the Kubernetes
//! service proxy gives).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use std::sync::Arc;

use crate::sandbox::Sandbox;

pub fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route("/sandbox/metrics", get(metrics))
        .route("/sandbox/services/{ns}/{name}", any(service_root))
        .route("/sandbox/services/{ns}/{name}/{*path}", any(service_path))
        .with_state(sandbox)
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
