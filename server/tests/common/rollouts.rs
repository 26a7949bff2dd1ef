//! Helpers for tests that plan and run rollouts over the REST API against the sandbox's demo
//! app (storefront, v1 running) and a release flag.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

use super::Client;

/// Creates the boolean flag `new-checkout`, off in production.
pub async fn release_flag(c: &Client<'_>) {
    let flag = json!({"key": "new-checkout", "name": "New checkout", "valueType": "boolean",
        "variants": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "environments": {"production": {"enabled": false, "defaultVariant": "on", "offVariant": "off"}}});
    let (status, body) = c.call(Method::POST, "/api/v1/flags", Some(flag)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A short plan: Preparation, one audience phase (internal staff and half the traffic) with
/// `gates`, the full rollout.
pub fn canary_plan(gates: Value) -> Value {
    json!({"phases": [
        {"name": "Preparation", "kind": "preparation"},
        {"name": "Canary", "kind": "exposure", "gates": gates,
         "audience": {"segments": ["internal"], "usersPercent": 10, "trafficPercent": 50}},
        {"name": "Full Rollout", "kind": "full"},
    ]})
}

/// Plans and starts a rollout of storefront `version` (with the flag) in production.
pub async fn start_rollout(c: &Client<'_>, version: &str, plan: Value) -> i64 {
    let body = json!({"title": format!("storefront {version}"),
        "release": {"app": "storefront", "version": version, "flags": ["new-checkout"]},
        "plan": plan, "start": true});
    let (status, r) = c
        .call(
            Method::POST,
            "/api/v1/environments/production/rollouts",
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    r["id"].as_i64().expect("an id")
}

/// Polls the rollout until `done` holds, failing after `seconds` with its last state.
pub async fn wait_rollout(
    c: &Client<'_>,
    id: i64,
    what: &str,
    seconds: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let (status, body) = c
            .call(Method::GET, &format!("/api/v1/rollouts/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for the rollout to be over and returns it with its gates and timeline.
pub async fn finished(c: &Client<'_>, id: i64, seconds: u64) -> Value {
    wait_rollout(c, id, "the rollout to end", seconds, |v| {
        matches!(
            v["rollout"]["status"].as_str(),
            Some("succeeded" | "rolledBack" | "aborted" | "failed")
        )
    })
    .await
}

/// The rollout's gate results of one kind.
pub fn gates_of<'a>(view: &'a Value, kind: &str) -> Vec<&'a Value> {
    view["gates"]
        .as_array()
        .map(|g| g.iter().filter(|x| x["kind"] == kind).collect())
        .unwrap_or_default()
}

/// The rollout's timeline as text.
pub fn timeline(view: &Value) -> String {
    view["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["message"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The flag's targeting in production.
pub async fn flag_targeting(c: &Client<'_>) -> Value {
    let (status, f) = c
        .call(Method::GET, "/api/v1/flags/new-checkout", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{f}");
    f["environments"]["production"].clone()
}
