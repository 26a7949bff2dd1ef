//! Helpers for the tests of protected environments: a flag, a request to switch it on in
//! production, and a reviewer's decision, over the REST API.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::Client;

pub fn flag(key: &str) -> Value {
    json!({
        "key": key, "name": "New checkout", "valueType": "boolean",
        "variants": [{"name": "on", "value": true}, {"name": "off", "value": false}]
    })
}

/// The flag as a save would send it, switched on in production.
pub async fn switched_on(c: &Client<'_>, key: &str) -> Value {
    let (status, f) = c
        .call(Method::GET, &format!("/api/v1/flags/{key}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{f}");
    let production = json!({"enabled": true, "defaultVariant": "on", "offVariant": "off"});
    json!({
        "kind": "flag", "flag": key, "spec": flag(key),
        "environments": {"production": production}, "version": f["version"]
    })
}

pub async fn ask(c: &Client<'_>, change: Value) -> (StatusCode, Value) {
    let body = json!({"environment": "production", "title": "Open checkout to everyone", "change": change});
    c.call(Method::POST, "/api/v1/change-requests", Some(body))
        .await
}

pub async fn decide(c: &Client<'_>, id: i64, decision: &str) -> (StatusCode, Value) {
    let path = format!("/api/v1/change-requests/{id}/decision");
    let body = json!({"decision": decision, "comment": "looked at the numbers"});
    c.call(Method::POST, &path, Some(body)).await
}

/// A new flag `checkout` that `dev` asks to switch on in production; the request's id.
pub async fn switch_on_requested(admin: &Client<'_>, dev: &Client<'_>) -> i64 {
    let (status, _) = admin
        .call(Method::POST, "/api/v1/flags", Some(flag("checkout")))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, request) = ask(dev, switched_on(dev, "checkout").await).await;
    request["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("an id: {request}"))
}

pub async fn production_on(c: &Client<'_>, key: &str) -> bool {
    let (_, f) = c
        .call(Method::GET, &format!("/api/v1/flags/{key}"), None)
        .await;
    f["environments"]["production"]["enabled"] == true
}
