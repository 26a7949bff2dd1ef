//! Importing an Unleash export: toggles evaluate as Unleash evaluates them, and what the
//! document brings is held to the bounds the API states.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use super::within_a_second;
use crate::common::ofrep::{ofrep, sdk_key};
use crate::common::{Backend, Client, TestApp, body_json};
use crate::on_both_backends;

async fn an_unleash_export_imports_and_evaluates_as_unleash_would(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let sdk = sdk_key(&admin, "production").await;
    let document = json!({"version": 2, "segments": [{"id": 3, "name": "dach", "constraints": [
      {"contextName": "country", "operator": "IN", "values": ["DE", "AT", "CH"]}]}],
    "features": [
      {"name": "Bücher/ünïcode", "enabled": true, "strategies": [
          {"name": "flexibleRollout", "parameters": {"rollout": "100", "stickiness": "default", "groupId": "g"}, "segments": [3]}],
       "variants": [{"name": "blue", "weight": 1000, "stickiness": "default", "payload": {"type": "json", "value": "{\"c\":1}"}}]},
      {"name": "custom", "enabled": true, "strategies": [{"name": "byTenant", "parameters": {}}]}
    ]});
    let req = Request::post("/api/v1/import/unleash?environment=production")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::AUTHORIZATION, &admin.auth)
        .body(Body::from(document.to_string()))
        .expect("request");
    let res = t.send(req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let report = body_json(res).await;
    assert_eq!(report["created"], json!(["Bücher/ünïcode", "custom"]));
    assert!(
        report["notes"][0]
            .as_str()
            .unwrap()
            .contains("custom strategy 'byTenant'"),
        "{report}"
    );

    let body = r#"{"context": {"targetingKey": "u1", "country": "AT"}}"#;
    let e = within_a_second(&t, "B%C3%BCcher%2F%C3%BCn%C3%AFcode", &sdk, body, |b| {
        b["value"] == true
    })
    .await;
    assert_eq!(
        (e["key"].as_str(), e["variant"].as_str()),
        (Some("Bücher/ünïcode"), Some("blue"))
    );
    assert_eq!(
        (
            e["metadata"]["payloadType"].as_str(),
            e["metadata"]["payloadValue"].as_str()
        ),
        (Some("json"), Some("{\"c\":1}"))
    );
    let (_, e) = ofrep(
        &t,
        Some("B%C3%BCcher%2F%C3%BCn%C3%AFcode"),
        &sdk,
        r#"{"context": {"country": "FR"}}"#,
    )
    .await;
    assert_eq!(
        (e["value"].clone(), e["variant"].as_str()),
        (json!(false), Some("disabled"))
    );
    let (_, e) = ofrep(&t, Some("custom"), &sdk, body).await;
    assert_eq!(e["value"], false);

    let (status, e) = admin
        .call(
            Method::POST,
            "/api/v1/import/unleash?environment=production",
            Some(json!({"version": 9, "features": []})),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("version"))
    );
    let dev = Client::new(&t, "developer").await;
    let (status, _) = dev
        .call(
            Method::POST,
            "/api/v1/import/unleash?environment=production",
            Some(document),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn an_unleash_document_is_held_to_the_bounds_the_api_states(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let long_name = "ü".repeat(300);
    let document = json!({"version": 2,
    "segments": [
      {"id": 1, "name": "first", "constraints": []},
      {"id": 1, "name": long_name, "constraints": [
        {"contextName": "country", "operator": "IN", "values": ["DE"]}]}],
    "features": [
      {"name": "twice", "enabled": false, "strategies": []},
      {"name": "blank-field", "enabled": true, "strategies": [{"name": "default",
        "constraints": [{"contextName": " ", "operator": "IN", "values": ["x"]}]}]},
      {"name": "twice", "enabled": true, "strategies": [{"name": "default", "segments": [1]}]},
      {"name": "lenient", "enabled": true, "strategies": [{"name": "default",
        "constraints": [{"contextName": "n", "operator": "NUM_EQ", "value": "abc"}],
        "variants": [{"name": "a", "weight": 0}]}]},
      {"name": "child", "enabled": true, "strategies": [],
       "dependencies": [{"feature": "blank-field"}]}
    ]});
    let (status, report) = admin
        .call(
            Method::POST,
            "/api/v1/import/unleash?environment=staging",
            Some(document),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    // Kept as Unleash keeps them: a value that does not parse (never matches) and weights
    // that add up to 0 (no variant).
    assert_eq!(report["created"], json!(["twice", "lenient"]), "{report}");
    let notes = report["warnings"].to_string();
    assert!(
        notes.contains("feature twice appears more than once; like Unleash, the last one is used")
            && notes.contains("segment 1 appears more than once"),
        "{report}"
    );
    assert_eq!(
        report["skipped"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
    assert!(
        report["skipped"][0]
            .as_str()
            .is_some_and(|s| { s.starts_with("blank-field: rules[0].constraints[0].contextName") }),
        "{report}"
    );
    assert!(
        report["skipped"][1].as_str().is_some_and(|s| {
            s.starts_with("child: prerequisites[0].flag") && s.contains("blank-field")
        }),
        "a flag whose prerequisite was skipped is skipped too: {report}"
    );
    let (_, flag) = admin.call(Method::GET, "/api/v1/flags/twice", None).await;
    assert_eq!(
        flag["environments"]["staging"]["enabled"],
        json!(true),
        "the last 'twice' is the one imported: {flag}"
    );
    let (_, segment) = admin
        .call(Method::GET, "/api/v1/segments/unleash-segment-1", None)
        .await;
    let name = segment["segment"]["name"].as_str().unwrap_or_default();
    assert_eq!(
        (name.chars().count(), name.ends_with('…')),
        (120, true),
        "the last segment 1, its name shortened to fit: {segment}"
    );
}

on_both_backends!(
    an_unleash_export_imports_and_evaluates_as_unleash_would,
    an_unleash_document_is_held_to_the_bounds_the_api_states,
);
