//! Test helpers: a fresh database per test on SQLite or PostgreSQL, and the whole app
//! answering requests in process.
#![allow(dead_code)]

pub mod changes;
pub mod deployments;
pub mod observe;
pub mod ofrep;
pub mod recorder;
pub mod rollouts;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use varai_core::Services;
use varai_core::accounts::Actor;
use varai_core::accounts::{bootstrap_admin, issue_token};
use varai_server::engine::{Engine, EngineOptions};
use varai_server::flags::FlagCache;
use varai_server::http::AppState;
use varai_server::http::{EdgePolicy, SESSION_COOKIE, router};
use varai_server::monitor::ServerPrometheus;
use varai_server::storage::{SqlxSessionStore, SqlxStore};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// Which database a test runs against.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database made for one test and removed after it, even when the test fails.
pub struct TestDb {
    pub store: SqlxStore,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

fn postgres_admin_url() -> String {
    std::env::var("VARAI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    /// The PostgreSQL database's name, for a test that opens a second connection to it.
    pub fn pg_name(&self) -> Option<&str> {
        self.pg_name.as_deref()
    }

    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/varai.db", dir.path().display());
                let store = SqlxStore::connect(&url).await.expect("SQLite store");
                TestDb {
                    store,
                    _dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                // Connecting creates the database, as the server does on a first start.
                let name = format!("varai_test_{}", uuid::Uuid::new_v4().simple());
                let store = SqlxStore::connect(&postgres_url(&name)).await.expect(
                    "PostgreSQL must be running for the PostgreSQL tests (VARAI_TEST_POSTGRES_URL)",
                );
                TestDb {
                    store,
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }
}

/// The URL of database `name` on the test PostgreSQL server.
pub fn postgres_url(name: &str) -> String {
    let admin = postgres_admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

/// Drops database `name`, ending any connections still open to it.
pub async fn drop_postgres_database(name: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&postgres_admin_url()).await?;
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    sqlx::query(sqlx::AssertSqlSafe(drop))
        .execute(&mut conn)
        .await?;
    Ok(())
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime; a thread with its own runtime can block on IO.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(drop_postgres_database(&name)).ok()
        })
        .join();
    }
}

/// The app over a fresh database with its first admin created.
pub struct TestApp {
    pub db: TestDb,
    pub app: Router,
    pub services: Services,
    /// The OFREP cache, watching the store as the server's does.
    pub flag_cache: Arc<FlagCache>,
    /// The sandbox, the controllers and monitoring, with test timings; no Prometheus unless a
    /// test gives it one.
    pub engine: Engine,
    /// Sending `true` tells long-polls the server is shutting down.
    pub stop: tokio::sync::watch::Sender<bool>,
    _watcher: tokio::task::JoinHandle<()>,
}

/// Stops a background task when the test ends.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How often the rollout controller looks at a rollout waiting for its deployment in tests.
const ROLLOUT_POLL: std::time::Duration = std::time::Duration::from_millis(50);

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        TestApp::with_edge(backend, EdgePolicy::default()).await
    }

    /// An app reached as `edge` says (over HTTPS, behind proxies).
    pub async fn with_edge(backend: Backend, edge: EdgePolicy) -> TestApp {
        let db = TestDb::new(backend).await;
        bootstrap_admin(&db.store, Some(ADMIN_PASSWORD.into()))
            .await
            .expect("first admin");
        let options = EngineOptions {
            deploy: varai_server::deploy::launch::Options {
                timings: varai_server::sandbox::Timings::fast(),
                sandbox_file: None,
                sandbox_addr: None,
                poll: std::time::Duration::from_millis(25),
            },
            prometheus: ServerPrometheus::Missing("no Prometheus in this test".into()),
            scrape_seconds: 1,
            monitor_tick: std::time::Duration::from_millis(250),
            rollout_poll: ROLLOUT_POLL,
        };
        let engine = Engine::start(&db.store, options)
            .await
            .expect("the engine starts");
        let services = engine.services.clone();
        let (stop, stopping) = varai_server::http::Stopping::new();
        let state = AppState {
            leptos_options: varai_server::leptos_options(std::path::Path::new("target/site")),
            services: services.clone(),
            stopping,
        };
        let flag_cache = FlagCache::load(Arc::clone(&services.flags))
            .await
            .expect("flag configuration loads");
        let watcher = flag_cache.watch(Arc::clone(db.store.config_changed()));
        let app = router(
            state,
            SqlxSessionStore::new(&db.store),
            edge,
            Arc::clone(&flag_cache),
            Arc::clone(&engine.deploy.sandbox),
        );
        TestApp {
            db,
            app,
            services,
            flag_cache,
            engine,
            stop,
            _watcher: watcher,
        }
    }

    /// Stops the rollout controller and its gate tasks, as a stopping server does, and starts a
    /// new one over the same database, as the next server would.
    pub async fn restart_rollouts(&mut self) {
        self.engine
            .restart_rollouts(ROLLOUT_POLL)
            .await
            .expect("the rollout side starts again");
    }

    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.app
            .clone()
            .oneshot(req)
            .await
            .expect("the router always answers")
    }

    /// GET `path` with one extra header (a cookie or an authorization).
    pub async fn get_with(
        &self,
        path: &str,
        name: header::HeaderName,
        value: impl AsRef<str>,
    ) -> Response<Body> {
        let req = get(path)
            .header(name, value.as_ref())
            .body(Body::empty())
            .expect("request");
        self.send(req).await
    }

    /// Signs in through the form and returns the session cookie (`name=value`).
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<String, Response<Body>> {
        let res = self.send(login_request(username, password)).await;
        let signed_in = res.status() == StatusCode::SEE_OTHER
            && res
                .headers()
                .get(header::LOCATION)
                .is_some_and(|l| !l.to_str().unwrap_or("").starts_with("/login"));
        match session_cookie(&res) {
            Some(cookie) if signed_in => Ok(cookie),
            _ => Err(res),
        }
    }

    /// Creates a user through the store's rules, as the admin would.
    pub async fn create_user(&self, username: &str, password: &str, role: &str) {
        let admin = admin_principal();
        varai_core::accounts::create_user(&self.services, &admin, username, password, role)
            .await
            .expect("create user");
    }

    /// A stored user by name; panics when there is none.
    pub async fn user(&self, username: &str) -> varai_core::accounts::User {
        use varai_core::accounts::AccountStore;
        self.db
            .store
            .find_user_by_name(username)
            .await
            .expect("read user")
            .expect("user exists")
            .user
    }

    pub async fn token(&self, role: &str) -> String {
        issue_token(
            &self.db.store,
            &varai_core::accounts::Principal::cli(),
            &format!("test-{role}"),
            role,
        )
        .await
        .expect("token")
        .secret
    }
}

pub fn admin_principal() -> varai_core::accounts::Principal {
    varai_core::accounts::Principal {
        actor: Actor {
            user_id: Some(1),
            name: "admin".into(),
            behind: None,
        },
        role: varai_domain::Role::Admin,
    }
}

pub fn login_request(username: &str, password: &str) -> Request<Body> {
    let body = format!(
        "username={}&password={}&next=%2F",
        varai_domain::url::encode_query_value(username),
        varai_domain::url::encode_query_value(password)
    );
    Request::post("/login")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request")
}

/// The `name=value` of the session cookie a response sets, if any.
/// Where a redirect points.
pub fn location(res: &Response<Body>) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub fn session_cookie(res: &Response<Body>) -> Option<String> {
    set_cookie_header(res).map(|h| h.split(';').next().unwrap_or_default().to_owned())
}

pub fn set_cookie_header(res: &Response<Body>) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(str::to_owned)
}

pub async fn body_text(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

pub async fn body_json(res: Response<Body>) -> serde_json::Value {
    let text = body_text(res).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn get(path: &str) -> axum::http::request::Builder {
    Request::get(path).header(header::HOST, "127.0.0.1:3000")
}

pub fn with_json(builder: axum::http::request::Builder, body: serde_json::Value) -> Request<Body> {
    builder
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// Declares one async test per backend from a function taking a [`Backend`].
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!(@module sqlite Sqlite $($name),*);
        $crate::on_both_backends!(@module postgres Postgres $($name),*);
    };
    (@module $module:ident $backend:ident $($name:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::within_watchdog(
                        concat!(stringify!($module), "::", stringify!($name)),
                        super::$name($crate::common::Backend::$backend),
                    )
                    .await
                }
            )*
        }
    };
}

/// How long one test may take before it is failed as stuck: every test here finishes in
/// seconds, so a stall fails the run with the test's name instead of holding CI until its
/// overall limit.
const WATCHDOG: std::time::Duration = std::time::Duration::from_secs(180);

/// Runs a test on the multi-threaded runtime the server itself runs on, failing it when it
/// stalls, with what it and the rest of the binary logged last.
pub async fn within_watchdog(name: &str, test: impl std::future::Future<Output = ()>) {
    use tracing::Instrument;
    recorder::install();
    let span = tracing::info_span!("test", name);
    if tokio::time::timeout(WATCHDOG, test.instrument(span))
        .await
        .is_err()
    {
        let needle = format!("test{{name=\"{name}\"}}");
        panic!(
            "{name} did not finish within {} s\n{}",
            WATCHDOG.as_secs(),
            recorder::dump(&needle, 200)
        );
    }
}

/// A client of the app holding one bearer token.
pub struct Client<'a> {
    pub t: &'a TestApp,
    pub auth: String,
}

impl<'a> Client<'a> {
    pub async fn new(t: &'a TestApp, role: &str) -> Client<'a> {
        Client {
            t,
            auth: format!("Bearer {}", t.token(role).await),
        }
    }

    /// A client holding a token with `role` that the person `creator` created.
    pub async fn of(t: &'a TestApp, role: &str, creator: &str) -> Client<'a> {
        let token = issue_token(
            &t.db.store,
            &varai_core::accounts::Principal::automation(creator),
            &format!("{creator}-{role}"),
            role,
        )
        .await
        .expect("token");
        Client {
            t,
            auth: format!("Bearer {}", token.secret),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::AUTHORIZATION, &self.auth);
        let req = match body {
            Some(b) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => builder.body(Body::empty()),
        }
        .expect("request");
        let res = self.t.send(req).await;
        let status = res.status();
        let text = body_text(res).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}
