//! The `varai` server: configuration, storage, HTTP, and the start-up that ties them together.
#![recursion_limit = "512"]

pub mod config;
pub mod deploy;
pub mod engine;
pub mod error;
pub mod files;
pub mod flags;
pub mod http;
pub mod monitor;
pub mod reconcile;
pub mod rollouts;
pub mod sandbox;
pub mod storage;

use crate::http::AppState;
use anyhow::Context;
use leptos::config::LeptosOptions;
use std::future::IntoFuture;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use varai_core::accounts::bootstrap_admin;
use varai_core::clock::now_ms;

use config::ServeArgs;
use engine::{Engine, EngineOptions};
use flags::FlagCache;
use storage::{SqlxSessionStore, SqlxStore};

/// The file the first admin's one-time password is also written to, readable by its owner.
pub const FIRST_ADMIN_FILE: &str = "first-admin.txt";

/// Leptos options for a site built by cargo-leptos into `site_root`.
pub fn leptos_options(site_root: &Path) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("varai"))
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .build()
}

/// Everything `main` needs to serve: the state, the session store and the database handle.
pub struct Server {
    pub state: AppState,
    /// Tells long-polls the server is shutting down.
    pub stop: tokio::sync::watch::Sender<bool>,
    /// The flag configuration OFREP serves, kept current by [`FlagCache::watch`].
    pub flag_cache: Arc<FlagCache>,
    pub sessions: SqlxSessionStore,
    pub store: SqlxStore,
    /// The sandbox, the controllers and monitoring.
    pub engine: Engine,
}

/// Connects the database, creates the first admin when there are no users, and builds the state.
pub async fn prepare(args: &ServeArgs) -> anyhow::Result<Server> {
    files::create_private_dir(&args.storage.data_dir).with_context(|| {
        format!(
            "VARAI_DATA_DIR: could not create {}",
            args.storage.data_dir.display()
        )
    })?;
    let url = args.storage.database_url();
    let store = SqlxStore::connect(&url)
        .await
        .context("DATABASE_URL: could not open the database")?;
    tracing::info!(backend = store.backend().label(), "database ready");
    if let Some((name, password)) = bootstrap_admin(&store, args.admin_password.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        announce_first_admin(args, &name, &password);
    }
    let timings = sandbox::Timings {
        pod_ready: Duration::from_millis(args.sandbox_pod_ready_ms),
        pod_start: Duration::from_millis(args.sandbox_pod_ready_ms * 2 / 5),
        ..sandbox::Timings::default()
    };
    let prometheus = match (&args.prometheus_url, args.prometheus_addr) {
        (Some(url), _) => {
            monitor::ServerPrometheus::Configured(url.trim_end_matches('/').to_owned())
        }
        (None, Some(config::OptionalAddr(None))) => monitor::ServerPrometheus::Missing(
            "no Prometheus: VARAI_PROMETHEUS_ADDR is off and no VARAI_PROMETHEUS_URL is set".into(),
        ),
        (None, _) => monitor::ServerPrometheus::Missing(
            "no Prometheus yet: the server's own is starting".into(),
        ),
    };
    let options = EngineOptions {
        deploy: deploy::launch::Options {
            timings,
            sandbox_file: Some(args.storage.data_dir.join("sandbox.json")),
            sandbox_addr: args.sandbox_addr.0,
            poll: Duration::from_millis(200),
        },
        prometheus,
        scrape_seconds: args.scrape_seconds,
        monitor_tick: Duration::from_millis(250),
        rollout_poll: Duration::from_millis(200),
    };
    let engine = Engine::start(&store, options).await?;
    let (stop, stopping) = http::Stopping::new();
    let state = AppState {
        leptos_options: leptos_options(&args.site_root),
        services: engine.services.clone(),
        stopping,
    };
    let flag_cache = FlagCache::load(Arc::clone(&state.services.flags))
        .await
        .map_err(|e| anyhow::anyhow!("could not load the flag configuration: {e}"))?;
    Ok(Server {
        stop,
        flag_cache,
        sessions: SqlxSessionStore::new(&store),
        state,
        store,
        engine,
    })
}

fn announce_first_admin(args: &ServeArgs, name: &str, password: &str) {
    if args.admin_password.is_some() {
        tracing::warn!(
            user = name,
            "first start: created the first admin with the password from VARAI_ADMIN_PASSWORD"
        );
        return;
    }
    // The password goes to the terminal and to a file only its owner reads, never into the
    // log, which log pipelines keep.
    let path = args.storage.data_dir.join(FIRST_ADMIN_FILE);
    tracing::warn!(
        user = name,
        file = %path.display(),
        "first start: created the first admin with a one-time password (printed on the terminal and written to the file); sign in and change it under Settings → Your account"
    );
    eprintln!(
        "\n  First admin: {name}\n  One-time password: {password}\n  (also in {})\n",
        path.display()
    );
    let database = varai_domain::url::redacted(&args.storage.database_url());
    let contents = format!("username: {name}\npassword: {password}\ndatabase: {database}\n");
    if let Err(e) = files::write_private(&path, &contents) {
        tracing::warn!(path = %path.display(), error = %e, "could not write the first admin's password file");
    }
}

/// How long requests in flight may take to finish once a shutdown begins.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Serves until SIGTERM or Ctrl-C, then finishes the requests in flight (for at most
/// [`SHUTDOWN_DEADLINE`]; long-polls answer at once).
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let server = prepare(&args).await?;
    let listener = TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("VARAI_ADDR: could not listen on {}", args.addr))?;
    let own_prometheus = start_own_prometheus(&args, &listener, &server.engine.monitor);
    let sweeper = tokio::spawn(sweep_sessions(server.sessions.clone()));
    let watcher = server
        .flag_cache
        .watch(Arc::clone(server.store.config_changed()));
    let listener_task = (server.store.backend() == storage::Backend::Postgres).then(|| {
        FlagCache::listen_postgres(
            args.storage.database_url(),
            storage::CHANGE_CHANNEL,
            Arc::clone(server.store.config_changed()),
        )
    });
    let edge = http::EdgePolicy {
        https: args.cookie_secure
            || args
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
        trusted_proxies: args.trusted_proxies.clone(),
    };
    let mut stopping = server.state.stopping.clone();
    let stop = server.stop;
    let shutdown = async move {
        shutdown.await;
        // Long-polls answer now; the rest of the requests in flight finish.
        let _ = stop.send(true);
    };
    let app = http::router(
        server.state,
        server.sessions,
        edge,
        server.flag_cache,
        Arc::clone(&server.engine.deploy.sandbox),
    );
    tracing::info!("VARAi Rollout is listening on http://{}", args.addr);
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let serving = axum::serve(listener, app).with_graceful_shutdown(shutdown);
    let deadline = async {
        stopping.wait().await;
        tokio::time::sleep(SHUTDOWN_DEADLINE).await;
    };
    tokio::select! {
        served = serving.into_future() => served.context("the HTTP server failed")?,
        () = deadline => tracing::warn!(
            "requests still in flight {} s after the shutdown began; stopping anyway",
            SHUTDOWN_DEADLINE.as_secs()
        ),
    }
    sweeper.abort();
    watcher.abort();
    drop(server.engine);
    if let Some(p) = own_prometheus {
        p.shutdown().await;
    }
    if let Some(t) = listener_task {
        t.abort();
    }
    server.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Starts the server's own Prometheus, scraping this server, unless a URL is configured or
/// it is turned off; says plainly when there is no `prometheus` binary.
fn start_own_prometheus(
    args: &ServeArgs,
    listener: &TcpListener,
    monitor: &monitor::MonitorService,
) -> Option<monitor::own::OwnPrometheus> {
    if args.prometheus_url.is_some() || args.prometheus_addr == Some(config::OptionalAddr(None)) {
        return None;
    }
    let missing = |why: String| {
        tracing::warn!("{why}");
        monitor.set_server_prometheus(monitor::ServerPrometheus::Missing(why));
        None
    };
    let Some(binary) = monitor::own::find_binary() else {
        return missing(
            "no Prometheus: no VARAI_PROMETHEUS_URL is set and there is no `prometheus` on the PATH (Debian package prometheus; `make run` installs it)".into(),
        );
    };
    let target = match listener.local_addr() {
        Ok(a) => a.to_string(),
        Err(e) => {
            return missing(format!(
                "no Prometheus: the server's address is unknown: {e}"
            ));
        }
    };
    let listen = match args.prometheus_addr {
        Some(config::OptionalAddr(Some(a))) => a,
        _ => match monitor::own::free_loopback() {
            Ok(a) => a,
            Err(e) => return missing(format!("no Prometheus: no free loopback port: {e}")),
        },
    };
    let config = monitor::own::OwnConfig {
        binary,
        dir: args.storage.data_dir.join("prometheus"),
        listen,
        target,
        scrape_seconds: args.scrape_seconds,
    };
    match monitor::own::OwnPrometheus::start(config) {
        Ok(own) => {
            monitor.set_server_prometheus(monitor::ServerPrometheus::Own(own.url.clone()));
            Some(own)
        }
        Err(e) => missing(format!("no Prometheus: it could not start: {e}")),
    }
}

/// Deletes expired sessions every ten minutes.
async fn sweep_sessions(sessions: SqlxSessionStore) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match sessions.delete_expired(now_ms()).await {
            Ok(n) if n > 0 => tracing::debug!(deleted = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
        }
    }
}

/// Waits for SIGTERM or Ctrl-C. SIGTERM is caught from the moment this is called, so a signal
/// that arrives while the server is still starting (say, its own Prometheus) stops it cleanly.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
