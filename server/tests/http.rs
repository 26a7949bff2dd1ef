//! The HTTP surface as browsers and Prometheus see it: sign-in, sessions, role checks on
//! server functions, origin checks and operations endpoints.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{
    ADMIN_PASSWORD, Backend, TestApp, body_json, body_text, get, location, login_request,
    session_cookie, set_cookie_header,
};
use sha2::{Digest, Sha256};

const PASSWORD: &str = "a-long-enough-password";

fn rpc(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let t = TestApp::new(Backend::Sqlite).await;
    let res = t.send(get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = t.send(get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    t.db.store.close().await;
    let res = t.send(get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(
        res.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "readiness follows the database"
    );
}

#[tokio::test]
async fn a_signed_out_browser_is_sent_to_sign_in_and_back() {
    let t = TestApp::new(Backend::Sqlite).await;
    let res = t
        .get_with("/audit?actor=admin", header::ACCEPT, "text/html")
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login?next=/audit%3Factor%3Dadmin");
    let page = t.send(get("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = body_text(page).await;
    assert!(
        html.contains(r#"<form method="post" action="/login""#),
        "a plain form works without JavaScript"
    );
    assert!(html.contains("Sign in"));
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_rotates_it() {
    let t = TestApp::new(Backend::Sqlite).await;
    let res = t.send(login_request("admin", ADMIN_PASSWORD)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/");
    let set = set_cookie_header(&res).expect("session cookie");
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    let first = session_cookie(&res).unwrap();

    let mut again = login_request("admin", ADMIN_PASSWORD);
    again
        .headers_mut()
        .insert(header::COOKIE, first.parse().unwrap());
    let res = t.send(again).await;
    let second = session_cookie(&res).expect("a new cookie at sign-in");
    assert_ne!(first, second, "the session id changes at sign-in");
    let old = t.get_with("/", header::COOKIE, &first).await;
    assert_eq!(
        old.status(),
        StatusCode::SEE_OTHER,
        "the old id no longer signs anyone in"
    );

    let home = t.get_with("/", header::COOKIE, &second).await;
    assert_eq!(home.status(), StatusCode::OK);
    let html = body_text(home).await;
    assert!(
        html.contains("Signed in as admin"),
        "overview greets the user: {html}"
    );
}

#[tokio::test]
async fn a_wrong_password_returns_to_the_form_and_repeats_are_throttled() {
    let t = TestApp::new(Backend::Sqlite).await;
    for _ in 0..3 {
        let res = t.send(login_request("admin", "not-the-password")).await;
        assert_eq!(location(&res), "/login?error=invalid");
        assert!(session_cookie(&res).is_none());
    }
    let res = t.send(login_request("admin", ADMIN_PASSWORD)).await;
    assert!(
        location(&res).starts_with("/login?error=throttled&retry="),
        "{}",
        location(&res)
    );
    let page = t
        .send(get(&location(&res)).body(Body::empty()).unwrap())
        .await;
    assert!(body_text(page).await.contains("Too many failed sign-ins"));
}

#[tokio::test]
async fn signing_out_ends_the_session_and_is_audited() {
    let t = TestApp::new(Backend::Sqlite).await;
    let cookie = t.sign_in("admin", ADMIN_PASSWORD).await.unwrap();
    let out = Request::post("/logout")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let res = t.send(out).await;
    assert_eq!(location(&res), "/login?notice=signed_out");
    let after = t.get_with("/", header::COOKIE, &cookie).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    let token = t.token("viewer").await;
    let audit = t
        .get_with(
            "/api/v1/audit?actor=admin",
            header::AUTHORIZATION,
            format!("Bearer {token}"),
        )
        .await;
    let json = body_json(audit).await;
    assert_eq!(json["events"][0]["action"], "session.logout");
    assert_eq!(json["events"][1]["action"], "session.login");
}

#[tokio::test]
async fn server_functions_check_the_role_on_the_server() {
    let t = TestApp::new(Backend::Sqlite).await;
    t.create_user("dev", PASSWORD, "developer").await;
    let dev = t.sign_in("dev", PASSWORD).await.unwrap();
    let res = t.send(rpc("/rpc/users/list", &dev, "")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = body_text(res).await;
    assert!(body.contains("admin"), "{body}");
    let res = t
        .send(rpc(
            "/rpc/users/create",
            &dev,
            "username=mallory&password=a-long-enough-password&role=admin",
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let admin = t.sign_in("admin", ADMIN_PASSWORD).await.unwrap();
    let res = t.send(rpc("/rpc/users/list", &admin, "")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let users = body_text(res).await;
    assert!(
        users.contains("\"dev\"") && !users.contains("mallory"),
        "{users}"
    );

    let anonymous = t.send(rpc("/rpc/users/list", "", "")).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_developer_page_for_users_says_it_needs_an_admin() {
    let t = TestApp::new(Backend::Sqlite).await;
    t.create_user("dev", PASSWORD, "developer").await;
    let dev = t.sign_in("dev", PASSWORD).await.unwrap();
    let res = t.get_with("/settings/users", header::COOKIE, &dev).await;
    let html = body_text(res).await;
    assert!(html.contains("this needs the admin role"), "{html}");
    assert!(!html.contains("Add a user"));
}

#[tokio::test]
async fn cross_origin_writes_are_refused() {
    let t = TestApp::new(Backend::Sqlite).await;
    let mut req = login_request("admin", ADMIN_PASSWORD);
    req.headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    let res = t.send(req).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(res).await["error"]["code"], "cross_origin");
    let mut same = login_request("admin", ADMIN_PASSWORD);
    same.headers_mut()
        .insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
    assert_eq!(t.send(same).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let t = TestApp::new(Backend::Sqlite).await;
    t.send(get("/healthz").body(Body::empty()).unwrap()).await;
    t.send(get("/api/v1/users/42").body(Body::empty()).unwrap())
        .await;
    let res = t.send(get("/metrics").body(Body::empty()).unwrap()).await;
    let text = body_text(res).await;
    assert!(
        text.contains(r#"varai_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("varai_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/users/{id}""#),
        "ids are folded into the route: {text}"
    );
}

async fn sessions_are_kept_by_a_hash_of_their_id(backend: Backend) {
    let t = TestApp::new(backend).await;
    let cookie = t.sign_in("admin", ADMIN_PASSWORD).await.unwrap();
    let id = cookie.split_once('=').map(|(_, v)| v).unwrap();
    let stored: Vec<(String, String)> = sqlx::query_as("SELECT id, data FROM sessions")
        .fetch_all(t.db.store.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, hex::encode(Sha256::digest(id.as_bytes())));
    assert!(
        !stored[0].1.contains(id),
        "the id is not in the data either"
    );
    assert_eq!(
        t.get_with("/", header::COOKIE, &cookie).await.status(),
        StatusCode::OK
    );
}

async fn a_new_password_ends_the_users_other_sessions(backend: Backend) {
    let t = TestApp::new(backend).await;
    t.create_user("dana", "dana-first-password", "developer")
        .await;
    let laptop = t.sign_in("dana", "dana-first-password").await.unwrap();
    let phone = t.sign_in("dana", "dana-first-password").await.unwrap();
    let admin = t.sign_in("admin", ADMIN_PASSWORD).await.unwrap();
    let req = Request::post("/rpc/account/change-password")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::COOKIE, &laptop)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(
            "current=dana-first-password&new_password=dana-second-password",
        ))
        .unwrap();
    let res = t.send(req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let renewed = session_cookie(&res).expect("the browser that changed it gets a new session");
    assert_eq!(
        t.get_with("/", header::COOKIE, &renewed).await.status(),
        StatusCode::OK
    );
    for (who, cookie) in [("laptop's old id", &laptop), ("phone", &phone)] {
        let res = t.get_with("/", header::COOKIE, cookie).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{who} is signed out");
    }
    let res = t.get_with("/", header::COOKIE, &admin).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "other users keep their sessions"
    );
}

async fn a_session_ends_after_inactivity_not_after_sign_in(backend: Backend) {
    let t = TestApp::new(backend).await;
    let cookie = t.sign_in("admin", ADMIN_PASSWORD).await.unwrap();
    let now = varai_core::clock::now_ms();
    // Signed in long ago: an hour of the session is left.
    sqlx::query("UPDATE sessions SET expiry_date = $1")
        .bind(now + 3_600_000)
        .execute(t.db.store.pool())
        .await
        .unwrap();
    assert_eq!(
        t.get_with("/", header::COOKIE, &cookie).await.status(),
        StatusCode::OK
    );
    let expiry: i64 = sqlx::query_scalar("SELECT expiry_date FROM sessions")
        .fetch_one(t.db.store.pool())
        .await
        .unwrap();
    let twelve_hours = 12 * 3_600_000;
    assert!(
        expiry >= now + twelve_hours - 60_000,
        "using the session moves its end to 12 h from now: {} min left",
        (expiry - now) / 60_000
    );
}

on_both_backends!(
    sessions_are_kept_by_a_hash_of_their_id,
    a_new_password_ends_the_users_other_sessions,
    a_session_ends_after_inactivity_not_after_sign_in,
);

/// A page renders while another router is built in the same process (a test binary builds one
/// per test): building a router must not leave a render in progress waiting forever for its
/// data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_another_router_is_built() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use varai_server::http::{AppState, EdgePolicy, Stopping, router};
    use varai_server::storage::SqlxSessionStore;

    let t = TestApp::new(Backend::Sqlite).await;
    let cookie = t.sign_in("admin", ADMIN_PASSWORD).await.unwrap();
    /// Stops the builder when the test ends, passing or not.
    struct Done(Arc<AtomicBool>);
    impl Drop for Done {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let (done, built) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let stop_builder = Done(Arc::clone(&done));
    let builder = {
        let (done, built) = (Arc::clone(&done), Arc::clone(&built));
        let state = AppState {
            leptos_options: varai_server::leptos_options(std::path::Path::new("target/site")),
            services: t.services.clone(),
            stopping: Stopping::new().1,
        };
        let (store, flags) = (t.db.store.clone(), Arc::clone(&t.flag_cache));
        let sandbox = Arc::clone(&t.engine.deploy.sandbox);
        tokio::task::spawn_blocking(move || {
            while !done.load(Ordering::Relaxed) {
                let sessions = SqlxSessionStore::new(&store);
                drop(router(
                    state.clone(),
                    sessions,
                    EdgePolicy::default(),
                    Arc::clone(&flags),
                    Arc::clone(&sandbox),
                ));
                built.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    for i in 0..60 {
        let page = t.get_with("/", header::COOKIE, &cookie);
        let res = tokio::time::timeout(std::time::Duration::from_secs(10), page).await;
        let status = res.map(|r| r.status());
        assert_eq!(
            status.ok(),
            Some(StatusCode::OK),
            "render {i} did not finish within 10 s while routers were built"
        );
    }
    drop(stop_builder);
    builder.await.expect("the builder stops");
    assert!(
        built.load(Ordering::Relaxed) > 0,
        "routers were built meanwhile"
    );
}

/// A sign-in request as if from `ip`, with extra headers.
fn login_from(ip: [u8; 4], user: &str, extra: &[(&str, &str)]) -> Request<Body> {
    let mut req = login_request(user, "wrong-password-wrong");
    let peer = std::net::SocketAddr::from((ip, 40_000));
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    for (k, v) in extra {
        req.headers_mut().insert(
            header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    req
}

#[tokio::test]
async fn one_address_gets_thirty_password_checks_a_minute_others_are_unaffected() {
    let t = TestApp::new(Backend::Sqlite).await;
    // Each attempt names a different account, so only the per-address allowance stops them.
    // The allowance refills one check every 2 s while the checks run, so the refusal comes at
    // the 31st attempt or a few later.
    let mut refused = None;
    for i in 0..60 {
        let res = t
            .send(login_from([198, 51, 100, 9], &format!("user{i}"), &[]))
            .await;
        if location(&res).contains("error=throttled") {
            refused = Some((i, res));
            break;
        }
        assert_eq!(location(&res), "/login?error=invalid", "attempt {i}");
    }
    let (i, res) = refused.expect("one address's checks are refused past its allowance");
    assert!(
        i >= 30,
        "the first 30 checks are allowed; the {}th was refused",
        i + 1
    );
    let wait: u64 = res.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=2).contains(&wait),
        "one check comes back every 2 s: {wait}"
    );
    // Another address still signs in; a forged X-Forwarded-For does not make a new address.
    let res = t
        .send(login_from(
            [198, 51, 100, 9],
            "user",
            &[("x-forwarded-for", "192.0.2.1")],
        ))
        .await;
    assert!(location(&res).contains("error=throttled"));
    let res = t.send(login_from([192, 0, 2, 1], "admin", &[])).await;
    assert_eq!(location(&res), "/login?error=invalid");
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_dashboard_is_public_over_https() {
    let t = TestApp::with_edge(
        Backend::Sqlite,
        varai_server::http::EdgePolicy {
            https: true,
            trusted_proxies: vec![],
        },
    )
    .await;
    let mut req = login_request("admin", ADMIN_PASSWORD);
    req.headers_mut()
        .insert(header::ORIGIN, "https://127.0.0.1:3000".parse().unwrap());
    let res = t.send(req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie_header(&res).expect("a session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    // From a plain-HTTP page of the same host, the post is another site's.
    let mut req = login_request("admin", ADMIN_PASSWORD);
    req.headers_mut()
        .insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
    assert_eq!(t.send(req).await.status(), StatusCode::FORBIDDEN);
}
