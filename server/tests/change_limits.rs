//! The bounds on change requests, and segments that decide a flag in a protected environment.
//! On SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use common::changes::{ask, flag, switch_on_requested, switched_on};
use common::{Client, TestApp};
use serde_json::json;

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

on_both_backends!(requests_are_bounded_and_segments_deciding_production_are_guarded);
