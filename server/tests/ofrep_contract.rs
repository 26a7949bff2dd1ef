//! OFREP requests the specification's document describes, refused where it says a value cannot
//! be what was sent: the bulk evaluation's re-fetch metadata and a non-string targeting key.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::ofrep::{live_sdk_key, ofrep};
use common::{Backend, Client, TestApp, body_json};

async fn bulk(t: &TestApp, sdk: &str, query: &str) -> (StatusCode, serde_json::Value) {
    let req = Request::post(format!("/ofrep/v1/evaluate/flags{query}"))
        .header("content-type", "application/json")
        .header("x-api-key", sdk)
        .body(Body::from(r#"{"context": {"targetingKey": "u-1"}}"#))
        .expect("request");
    let res = t.send(req).await;
    let status = res.status();
    (status, body_json(res).await)
}

#[tokio::test]
async fn refetch_metadata_and_the_targeting_key_are_checked() {
    let t = TestApp::new(Backend::Sqlite).await;
    let sdk = live_sdk_key(&t, &Client::new(&t, "admin").await, "staging").await;
    for good in [
        "?flagConfigLastModified=1764547200",
        // The specification sets no maximum: a huge integer is still Unix seconds.
        "?flagConfigLastModified=10063891004949686772254461919232",
        "?flagConfigLastModified=2025-12-01T00%3A00%3A00Z&flagConfigEtag=550e8400",
    ] {
        assert_eq!(bulk(&t, &sdk, good).await.0, StatusCode::OK, "{good}");
    }
    let long_etag = format!("?flagConfigEtag={}", "e".repeat(257));
    for bad in [
        "?flagConfigLastModified=yesterday",
        "?flagConfigLastModified=-5",
        long_etag.as_str(),
    ] {
        let (status, body) = bulk(&t, &sdk, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["errorDetails"]
                .as_str()
                .unwrap_or("")
                .contains("flagConfig"),
            "{body}"
        );
    }
    for key in ["null", "42", "{\"id\": 1}"] {
        let ctx = format!(r#"{{"context": {{"targetingKey": {key}}}}}"#);
        let (status, body) = ofrep(&t, None, &sdk, &ctx).await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_CONTEXT")),
            "{key}: {body}"
        );
    }
}
