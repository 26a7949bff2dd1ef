//! The bounds on change requests, and segments that decide a flag in a protected environment
//! (on SQLite and PostgreSQL); rollouts started back to back while the controller works; the
//! bounds on what the sandbox and analysis templates keep.

mod common;

use axum::http::{Method, StatusCode};
use common::changes::{ask, flag, switch_on_requested, switched_on};
use common::{Backend, Client, TestApp};
use serde_json::{Value, json};

async fn requests_are_bounded_and_segments_deciding_production_are_guarded(
    backend: common::Backend,
) {
    let t = TestApp::new(backend).await;
    let (admin, dev) = (
        Client::new(&t, "admin").await,
        Client::new(&t, "developer").await,
    );
    switch_on_requested(&admin, &dev).await;
    // A request is checked as the direct change would be.
    let bad = json!({"kind": "deploy", "app": "storefront",
        "request": {"version": "v2", "strategy": {"type": "canary", "steps": [{"setWeight": 150}]}}});
    let (status, body) = ask(&dev, bad).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("steps[0].setWeight")),
        "{body}"
    );
    // At most 20 waiting per person.
    for _ in 1..20 {
        let (status, body) = ask(&dev, switched_on(&dev, "checkout").await).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = ask(&dev, switched_on(&dev, "checkout").await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("20 requests waiting"),
        "{body}"
    );
    // A segment deciding a flag that is on in production is not changed by a developer.
    let segment = json!({"key": "beta", "name": "Beta", "constraints": [{"contextName": "cohort", "operator": "IN", "values": ["beta"]}]});
    let (status, created) = admin
        .call(Method::POST, "/api/v1/segments", Some(segment.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let mut production = json!({"enabled": true, "defaultVariant": "off", "offVariant": "off",
        "rules": [{"segments": ["beta"], "serve": {"variant": "on"}}]});
    let mut save = flag("checkout");
    save["environments"] = json!({"production": production.clone()});
    save["version"] = json!(1);
    let (status, saved) = admin
        .call(Method::PUT, "/api/v1/flags/checkout", Some(save))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let mut edit = segment.clone();
    edit["constraints"][0]["values"] = json!(["beta", "everyone"]);
    edit["version"] = created["version"].clone();
    let (status, body) = dev
        .call(Method::PUT, "/api/v1/segments/beta", Some(edit.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("decides flag checkout"),
        "{body}"
    );
    // Switched off there, the segment is the developer's again.
    production["enabled"] = json!(false);
    let mut off = flag("checkout");
    off["environments"] = json!({"production": production});
    off["version"] = saved["version"].clone();
    assert_eq!(
        admin
            .call(Method::PUT, "/api/v1/flags/checkout", Some(off))
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = dev
        .call(Method::PUT, "/api/v1/segments/beta", Some(edit))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// 500 rollouts started one after another while the controller runs the earlier ones: each is
/// started or refused by a rule, none fails (SQLite's writers take the lock in turn instead of
/// failing with "database is locked" when a read upgrades to a write).
async fn rollouts_started_back_to_back_while_the_controller_works_never_fail(backend: Backend) {
    const FLAGS: usize = 20;
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    for i in 0..FLAGS {
        let (status, body) = admin
            .call(Method::POST, "/api/v1/flags", Some(flag(&format!("f{i}"))))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let mut started = 0;
    for i in 0..500 {
        let body = json!({"title": format!("release {i}"),
            "release": {"flags": [format!("f{}", i % FLAGS)]},
            "plan": common::rollouts::canary_plan(json!([])), "start": true});
        let (status, r) = admin
            .call(
                Method::POST,
                "/api/v1/environments/production/rollouts",
                Some(body),
            )
            .await;
        // Refused by rule: the flag is still in an earlier rollout that has not finished.
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "start {i}: {status} {r}"
        );
        started += usize::from(status == StatusCode::CREATED);
    }
    assert!(started >= FLAGS, "only {started} of 500 started");
}

on_both_backends!(
    requests_are_bounded_and_segments_deciding_production_are_guarded,
    rollouts_started_back_to_back_while_the_controller_works_never_fail,
);

fn profile(namespace: &str, app: &str, version: &str, p50: f64, p99: f64) -> Value {
    json!({"namespace": namespace, "app": app, "version": version,
        "behaviour": {"errorRate": 0.01, "latencyP50Ms": p50, "latencyP99Ms": p99,
            "cpuMillicores": 100.0, "memoryMib": 100.0, "conversionRate": 0.05, "health": "healthy"}})
}

#[tokio::test]
async fn the_sandbox_keeps_a_bounded_number_of_well_named_profiles() {
    let t = TestApp::new(Backend::Sqlite).await;
    let dev = Client::new(&t, "developer").await;
    let put = |body: Value| dev.call(Method::PUT, "/api/v1/sandbox/profiles", Some(body));
    let (status, e) = put(profile("Prod!", "storefront", "v9", 20.0, 40.0)).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("namespace"))
    );
    let (status, e) = dev
        .call(
            Method::PUT,
            "/api/v1/sandbox/rates",
            Some(json!({"namespace": "production", "app": "a b", "rate": 5})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("app"))
    );
    let (status, e) = put(profile("production", "storefront", "v9", 40.0, 20.0)).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("latencyP99Ms")),
        "a p99 below the median contradicts it"
    );
    // Each described version lives as long as the server: at most 1,000.
    let mut described = 0;
    let refused = loop {
        let (status, e) = put(profile("load", "app", &format!("v{described}"), 20.0, 40.0)).await;
        if status != StatusCode::NO_CONTENT {
            break (status, e);
        }
        described += 1;
        assert!(
            described <= 1_000,
            "the sandbox kept more than 1,000 profiles"
        );
    };
    assert_eq!(refused.0, StatusCode::CONFLICT, "{}", refused.1);
    assert!(
        refused.1["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("at most 1000"),
        "{}",
        refused.1
    );
    assert!(
        described > 900,
        "the seeded profiles and these reach the bound"
    );
    let (status, e) = put(profile("load", "app", "v0", 30.0, 60.0)).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "a described version still changes: {e}"
    );
}

#[tokio::test]
async fn an_analysis_template_has_a_bounded_number_of_metrics_and_query_length() {
    let t = TestApp::new(Backend::Sqlite).await;
    let ops = Client::new(&t, "operator").await;
    let metric = |name: String, query: String| json!({"name": name, "query": query, "interval": 1, "count": 1, "successCondition": "result == 1"});
    let many: Vec<Value> = (0..21)
        .map(|i| metric(format!("m{i}"), "vector(1)".into()))
        .collect();
    let save = |metrics: Vec<Value>| {
        ops.call(
            Method::PUT,
            "/api/v1/analysis-templates/wide",
            Some(json!({"name": "wide", "metrics": metrics})),
        )
    };
    let (status, e) = save(many.clone()).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("metrics"))
    );
    let long = format!("vector(1) + {}", "0 * vector(1) + ".repeat(300));
    let (status, e) = save(vec![metric("up".into(), long)]).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("metrics[0].query"))
    );
    let (status, e) = save(many[..20].to_vec()).await;
    assert_eq!(status, StatusCode::OK, "20 metrics are allowed: {e}");
}
