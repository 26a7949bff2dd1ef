//! Helpers for tests that drive deployments of the sandbox's demo app over the REST API.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use super::{Client, TestApp};

pub const APP: &str = "/api/v1/environments/production/apps/storefront";

/// Polls the deployment until `done` holds, failing after 15 s with its last state.
pub async fn wait_for(c: &Client<'_>, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    wait_within(c, id, what, 15, done).await
}

/// Polls the deployment until `done` holds, failing after `seconds` with its last state.
pub async fn wait_within(
    c: &Client<'_>,
    id: i64,
    what: &str,
    seconds: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let (status, body) = c
            .call(Method::GET, &format!("/api/v1/deployments/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if done(&body["deployment"]) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub async fn app_ready(c: &Client<'_>, version: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, app) = c.call(Method::GET, APP, None).await;
        let versions = app["versions"].as_array().cloned().unwrap_or_default();
        if versions.len() == 1
            && versions[0]["version"] == version
            && versions[0]["ready"] == versions[0]["desired"]
            && versions[0]["serving"] == true
        {
            return app;
        }
        assert!(
            Instant::now() < deadline,
            "storefront never ran only {version}: {app:#}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The versions that answered `n` requests to a sandbox Service.
pub async fn served_by(t: &TestApp, service: &str, n: usize) -> Vec<String> {
    let mut versions = Vec::new();
    for _ in 0..n {
        let answer = t.engine.deploy.sandbox.traffic.answer(
            &t.engine.deploy.sandbox.store,
            &t.engine.deploy.sandbox.simulation,
            "production",
            service,
            "/healthz",
        );
        versions.push(answer.body["version"].as_str().unwrap_or("none").to_owned());
    }
    versions.sort();
    versions.dedup();
    versions
}

pub async fn start(c: &Client<'_>, version: &str, strategy: Value) -> i64 {
    let (status, body) = c
        .call(
            Method::POST,
            &format!("{APP}/deployments"),
            Some(json!({"version": version, "strategy": strategy, "schemaVersion": "42"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().expect("an id")
}

pub fn stage(d: &Value) -> String {
    d["stage"]["stage"].as_str().unwrap_or("").to_owned()
}

pub fn outcome(d: &Value) -> Option<String> {
    (stage(d) == "done").then(|| d["stage"]["step"].as_str().unwrap_or("").to_owned())
}

/// Waits until `version` alone answers requests to `service`: a Service's endpoints follow its
/// selector within a controller tick, as a real cluster's do.
pub async fn served_only(t: &TestApp, service: &str, version: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while served_by(t, service, 50).await != [version] {
        assert!(
            Instant::now() < deadline,
            "{what}: {version} never served all traffic"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
