//! What an attacker or a careless colleague tries, over HTTP: costly flags and contexts,
//! made-up methods, redirects off-site, secrets in logs and pages, and lists cut short.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::ofrep::{ofrep, sdk_key};
use common::{ADMIN_PASSWORD, Backend, Client, TestApp, body_text, get, location};
use serde_json::{Value, json};

fn flag(key: &str, production: Value) -> Value {
    json!({
        "key": key, "name": key, "valueType": "boolean",
        "variants": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "environments": {"production": production}
    })
}

#[tokio::test]
async fn made_up_methods_add_no_metric_series() {
    let t = TestApp::new(Backend::Sqlite).await;
    for i in 0..300 {
        let method = Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        let req = Request::builder()
            .method(method)
            .uri("/healthz")
            .body(Body::empty())
            .unwrap();
        t.send(req).await;
    }
    let text = body_text(t.send(get("/metrics").body(Body::empty()).unwrap()).await).await;
    assert!(!text.contains("MADEUP"), "a series per made-up method");
    assert!(
        text.contains(
            r#"varai_http_requests_total{method="OTHER",route="/healthz",status="405"} 300"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn sign_in_sends_people_back_only_to_a_plain_local_path() {
    let t = TestApp::new(Backend::Sqlite).await;
    for (next, expected) in [
        ("%2Fflags%3Fq%3Dx", "/flags?q=x"),
        ("%2F%09%2Fevil.example", "/"),
        ("%2Faudit%0D%0ASet-Cookie%3A%20a%3Db", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
    ] {
        let body = format!("username=admin&password={ADMIN_PASSWORD}&next={next}");
        let req = Request::post("/login")
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let res = t.send(req).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&res), expected, "{next}");
    }
}

#[tokio::test]
async fn a_page_whose_name_has_a_dot_still_needs_a_session() {
    let t = TestApp::new(Backend::Sqlite).await;
    let res = t
        .send(get("/flags/checkout.v2").body(Body::empty()).unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&res).starts_with("/login?next="),
        "{}",
        location(&res)
    );
}

/// Collects what the server logs, at every level, while the test runs.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn query_strings_never_reach_the_logs() {
    let t = TestApp::new(Backend::Sqlite).await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::NEW)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let req = Request::post("/hooks/alertmanager?token=never-log-this-secret")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    t.send(req).await;
    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(
        log.contains("/hooks/alertmanager"),
        "the request is logged: {log}"
    );
    assert!(!log.contains("never-log-this-secret"), "{log}");
}

on_both_backends!(a_rollout_list_filters_before_it_limits);

#[tokio::test]
async fn ofrep_refuses_a_targeting_key_that_is_not_a_string() {
    let t = TestApp::new(Backend::Sqlite).await;
    let admin = Client::new(&t, "admin").await;
    let sdk = sdk_key(&admin, "production").await;
    t.flag_cache.reload().await.expect("reload");
    for key in ["null", "42", "{}"] {
        let body = format!(r#"{{"context": {{"targetingKey": {key}}}}}"#);
        let (status, e) = ofrep(&t, None, &sdk, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key}: {e}");
        assert_eq!(e["errorCode"], "INVALID_CONTEXT", "{key}: {e}");
    }
}

#[tokio::test]
async fn a_context_value_too_long_to_read_matches_nothing_and_is_reported() {
    let t = TestApp::new(Backend::Sqlite).await;
    let admin = Client::new(&t, "admin").await;
    let sdk = sdk_key(&admin, "production").await;
    let rule = json!({"enabled": true, "defaultVariant": "off", "offVariant": "off",
        "rules": [{"constraints": [{"contextName": "email", "operator": "STR_ENDS_WITH",
                                    "values": ["@example.com"]}],
                   "rollout": 100, "serve": {"variant": "on"}}]});
    let (status, created) = admin
        .call(
            Method::POST,
            "/api/v1/flags",
            Some(flag("staff-only", rule)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    t.flag_cache.reload().await.expect("reload");
    let email = format!("{}@example.com", "a".repeat(60_000));
    let body = json!({"context": {"targetingKey": "u1", "email": email}}).to_string();
    let (status, e) = ofrep(&t, Some("staff-only"), &sdk, &body).await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(e["value"], false, "{e}");
    assert_eq!(e["metadata"]["contextValuesIgnored"], "email", "{e}");
    let body = json!({"context": {"targetingKey": "u1", "email": "ann@example.com"}}).to_string();
    let (_, e) = ofrep(&t, Some("staff-only"), &sdk, &body).await;
    assert_eq!(e["value"], true, "{e}");
    assert!(e["metadata"].get("contextValuesIgnored").is_none(), "{e}");
}

#[tokio::test]
async fn costly_targeting_is_refused_on_save_naming_the_field() {
    let t = TestApp::new(Backend::Sqlite).await;
    let dev = Client::new(&t, "developer").await;
    let regex = json!({"enabled": true, "defaultVariant": "off", "offVariant": "off",
        "rules": [{"constraints": [{"contextName": "email", "operator": "REGEX",
                                    "value": "(?:.{0,200}){200}x"}],
                   "rollout": 100, "serve": {"variant": "on"}}]});
    let (status, e) = dev
        .call(Method::POST, "/api/v1/flags", Some(flag("slow", regex)))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e.to_string().contains("constraints[0].value"), "{e}");

    for i in 0..11 {
        let off = json!({"enabled": false, "defaultVariant": "off", "offVariant": "off"});
        let (status, e) = dev
            .call(
                Method::POST,
                "/api/v1/flags",
                Some(flag(&format!("p{i}"), off)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{e}");
    }
    let eleven: Vec<Value> = (0..11).map(|i| json!({"flag": format!("p{i}")})).collect();
    let many = json!({"enabled": true, "defaultVariant": "on", "offVariant": "off",
        "prerequisites": eleven});
    let (status, e) = dev
        .call(Method::POST, "/api/v1/flags", Some(flag("needy", many)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert!(e.to_string().contains("at most 10 prerequisites"), "{e}");
}

#[tokio::test]
async fn a_long_poll_answers_when_the_server_begins_to_shut_down() {
    let t = TestApp::new(Backend::Sqlite).await;
    let pm = Client::new(&t, "product-manager").await;
    common::deployments::app_ready(&pm, "v1").await;
    common::rollouts::release_flag(&pm).await;
    let tomorrow = varai_core::clock::now_ms() + 86_400_000;
    let body = json!({"title": "tomorrow", "release": {"app": "storefront", "version": "v2", "flags": []},
        "plan": common::rollouts::canary_plan(json!([])), "start": true, "startAt": tomorrow});
    let (status, r) = pm
        .call(
            Method::POST,
            "/api/v1/environments/production/rollouts",
            Some(body),
        )
        .await;
    assert_eq!(
        (status, r["status"].as_str()),
        (StatusCode::CREATED, Some("scheduled")),
        "{r}"
    );
    let id = r["id"].as_i64().unwrap_or(0);
    let path = format!("/api/v1/rollouts/{id}/wait?timeoutSeconds=3600");
    let waiting = pm.call(Method::GET, &path, None);
    let stop = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        t.stop.send_replace(true);
    };
    let ((status, r), ()) = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        tokio::join!(waiting, stop)
    })
    .await
    .expect("the long-poll answered once the shutdown began, not an hour later");
    assert_eq!(
        (status, r["status"].as_str()),
        (StatusCode::OK, Some("scheduled")),
        "{r}"
    );
}

#[tokio::test]
async fn only_admins_read_account_details_in_the_audit_log() {
    let t = TestApp::new(Backend::Sqlite).await;
    t.create_user("gina", "gina-long-password", "operator")
        .await;
    let event = |page: &Value| {
        page["events"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["action"] == "user.create").cloned())
            .expect("the account's creation is listed")
    };
    let admin = Client::new(&t, "admin").await;
    let (_, page) = admin.call(Method::GET, "/api/v1/audit", None).await;
    assert!(
        event(&page)["after"]
            .as_str()
            .is_some_and(|a| a.contains("operator")),
        "{page}"
    );
    let viewer = Client::new(&t, "viewer").await;
    let (status, page) = viewer.call(Method::GET, "/api/v1/audit", None).await;
    assert_eq!(status, StatusCode::OK);
    let seen = event(&page);
    assert!(
        seen["after"].is_null() && seen["before"].is_null(),
        "{seen}"
    );
}

async fn a_rollout_list_filters_before_it_limits(backend: Backend) {
    use varai_core::rollouts::{NewRollout, RolloutFilter};
    use varai_domain::plan::{Audience, Phase, PhaseKind, Plan, Release};
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let off = json!({"enabled": false, "defaultVariant": "off", "offVariant": "off"});
    let (status, e) = admin
        .call(Method::POST, "/api/v1/flags", Some(flag("f", off)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    let who = common::admin_principal();
    let draft = |title: &str| NewRollout {
        title: title.into(),
        release: Release {
            app: None,
            version: None,
            flags: vec!["f".into()],
        },
        template: None,
        plan: Some(Plan {
            phases: vec![Phase {
                name: "Everyone".into(),
                kind: PhaseKind::Exposure,
                audience: Audience {
                    segments: vec![],
                    users_percent: Some(100),
                    traffic_percent: None,
                },
                gates: vec![],
                bake_seconds: 0,
                auto_advance: true,
                steps: vec![],
            }],
        }),
        start: false,
        start_at: None,
    };
    let rollouts = &t.services.rollouts;
    rollouts
        .create_rollout(&who, "production", draft("the production one"))
        .await
        .unwrap();
    for i in 0..201 {
        rollouts
            .create_rollout(&who, "staging", draft(&format!("staging {i}")))
            .await
            .unwrap();
    }
    let filter = RolloutFilter {
        environment: Some("production".into()),
        active: false,
    };
    let listed = varai_core::rollouts::list_rollouts(&t.services, &who, filter)
        .await
        .unwrap();
    let titles: Vec<&str> = listed.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["the production one"]);
}

#[tokio::test]
async fn every_answer_forbids_framing_sniffing_and_referrers() {
    let t = TestApp::new(Backend::Sqlite).await;
    for path in ["/login", "/api/v1/me", "/healthz"] {
        let res = t.send(get(path).body(Body::empty()).unwrap()).await;
        let h = res.headers();
        let csp = h
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(
            h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff",
            "{path}"
        );
        assert_eq!(
            h.get(header::REFERRER_POLICY).unwrap(),
            "same-origin",
            "{path}"
        );
        assert_eq!(h.get(header::X_FRAME_OPTIONS).unwrap(), "DENY", "{path}");
        let scripts = csp
            .split(';')
            .find(|d| d.trim_start().starts_with("script-src"))
            .unwrap_or_default();
        assert!(
            scripts.contains("'self'") && !scripts.contains("unsafe-inline"),
            "{path}: no inline script runs without the nonce: {csp}"
        );
    }
    // A page's inline hydration script runs because it carries this response's nonce.
    let res = t.send(get("/login").body(Body::empty()).unwrap()).await;
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in script-src");
    assert!(nonce.len() >= 22, "128 bits: {nonce}");
    let html = body_text(res).await;
    assert!(
        html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\"")),
        "{html}"
    );
}

#[tokio::test]
async fn the_default_template_is_changed_by_operators_and_never_deleted() {
    let t = TestApp::new(Backend::Sqlite).await;
    let path = "/api/v1/plan-templates/default";
    let pm = Client::new(&t, "product-manager").await;
    let (_, templates) = pm.call(Method::GET, "/api/v1/plan-templates", None).await;
    let default = templates
        .as_array()
        .and_then(|all| all.iter().find(|t| t["name"] == "default").cloned())
        .expect("the default template is seeded");
    let again = json!({"description": "replaced", "plan": default["plan"]});
    let (status, body) = pm.call(Method::PUT, path, Some(again.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = pm.call(Method::DELETE, path, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let ops = Client::new(&t, "operator").await;
    let (status, body) = ops.call(Method::PUT, path, Some(again)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let admin = Client::new(&t, "admin").await;
    let (status, body) = admin.call(Method::DELETE, path, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("cannot be deleted"), "{body}");
}
