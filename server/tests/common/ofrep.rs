//! OFREP as applications call it, and the SDK keys they call it with.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use super::{Client, TestApp, body_text};

/// Sends `body` to OFREP with the SDK key `sdk`: one flag (`key`) or all of them.
pub async fn ofrep(t: &TestApp, key: Option<&str>, sdk: &str, body: &str) -> (StatusCode, Value) {
    let path = match key {
        Some(k) => format!("/ofrep/v1/evaluate/flags/{k}"),
        None => "/ofrep/v1/evaluate/flags".into(),
    };
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-api-key", sdk)
        .body(Body::from(body.to_owned()))
        .expect("request");
    let res = t.send(req).await;
    let status = res.status();
    let text = body_text(res).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A new SDK key of `env`, made by `admin`.
pub async fn sdk_key(admin: &Client<'_>, env: &str) -> String {
    let (status, created) = admin
        .call(
            Method::POST,
            "/api/v1/sdk-keys",
            Some(json!({"environment": env, "name": "web"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["secret"].as_str().expect("secret").to_owned()
}

/// A new SDK key of `env`, once the evaluation cache has learnt it (within two seconds).
pub async fn live_sdk_key(t: &TestApp, admin: &Client<'_>, env: &str) -> String {
    let sdk = sdk_key(admin, env).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while ofrep(t, None, &sdk, r#"{"context": {}}"#).await.0 == StatusCode::UNAUTHORIZED {
        assert!(
            std::time::Instant::now() < deadline,
            "the SDK key was never accepted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    sdk
}
