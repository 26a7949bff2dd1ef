//! The HTTP surface: the dashboard (pages and server functions), the REST API, sign-in, and
//! the operations endpoints, behind the session, caller and origin checks.

pub mod api;
pub mod auth;
mod edge;
pub mod error;
mod headers;
pub mod hooks;
pub mod ops;
pub mod sandbox;

use axum::Router;
use axum::extract::FromRef;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use std::sync::{Arc, OnceLock};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use varai_app::{App, shell};
use varai_core::Services;

pub use edge::{Client, EdgePolicy};

use crate::flags::FlagCache;
use crate::storage::SqlxSessionStore;

/// What the router's handlers reach: the Leptos options and the ports, built once in `main`.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub stopping: Stopping,
}

/// Tells long-running requests that the server is shutting down, so a long-poll answers at
/// once instead of holding the shutdown for up to an hour.
#[derive(Clone)]
pub struct Stopping(tokio::sync::watch::Receiver<bool>);

impl Stopping {
    /// A signal and its sender: sending `true` tells every request holding it.
    pub fn new() -> (tokio::sync::watch::Sender<bool>, Stopping) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, Stopping(rx))
    }

    /// Resolves once the server is shutting down (at once if it already is); never before.
    pub async fn wait(&mut self) {
        if self.0.wait_for(|stopping| *stopping).await.is_err() {
            // The sender is gone without a shutdown: nothing will ever say stop.
            std::future::pending::<()>().await;
        }
    }
}

impl FromRef<AppState> for Stopping {
    fn from_ref(state: &AppState) -> Self {
        state.stopping.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Services {
    fn from_ref(state: &AppState) -> Self {
        state.services.clone()
    }
}

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "varai_session";

/// How long a session lasts without a request.
pub const SESSION_INACTIVITY: time::Duration = time::Duration::hours(12);

/// The dashboard's routes, listed once per process. Listing renders the app with resource
/// loading switched off for the whole process (Leptos' `SuppressResourceLoad` is one global
/// flag), so a page whose data started loading at that moment would wait for it forever;
/// listing once, before the first router serves, leaves no such moment even where one process
/// builds many routers (the test binaries build one per test).
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Builds the whole application; `main` serves it and tests call it directly.
pub fn router(
    state: AppState,
    sessions: SqlxSessionStore,
    edge: EdgePolicy,
    flags: Arc<FlagCache>,
    sandbox: Arc<crate::sandbox::Sandbox>,
) -> Router {
    let metrics = ops::HttpMetrics::new();
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(edge.https)
        .with_expiry(Expiry::OnInactivity(SESSION_INACTIVITY))
        // Every request moves the expiry on (the store writes it at most once a minute), so a
        // session ends 12 h after its last use, not 12 h after sign-in.
        .with_always_save(true);
    let callers = sandbox::Callers {
        services: state.services.clone(),
        flags: Arc::clone(&flags),
    };
    let sandbox_routes = sandbox::router(sandbox, callers).layer(session_layer.clone());
    let routes = route_list();
    let context_services = state.services.clone();
    let hooks_services = state.services.clone();
    let metrics_route = Router::new()
        .route("/metrics", get(ops::metrics))
        .with_state(Arc::clone(&metrics));
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .nest("/api/v1", api::router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_services.clone()),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(from_fn(auth::server_fn_status))
        .layer(from_fn_with_state(state.clone(), auth::resolve_caller))
        .layer(session_layer)
        .layer(from_fn(auth::refuse_cross_origin))
        .layer(from_fn_with_state(
            Arc::new(edge::Edge::new(edge)),
            edge::edge,
        ))
        .with_state(state)
        .merge(metrics_route)
        .merge(crate::flags::ofrep::router(flags))
        .merge(hooks::router(hooks_services))
        .layer(from_fn(headers::security_headers))
        .layer(from_fn_with_state(metrics, ops::track))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        // The sandbox's Services answer with simulated errors on purpose: they are neither
        // logged as failures nor counted in the server's own metrics.
        .merge(sandbox_routes)
}

/// A request's span names its method and path only: query strings carry secrets (the webhook's
/// `?token=`) and never reach the logs.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        version = ?req.version(),
    )
}
