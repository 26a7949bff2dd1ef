//! The API document states the constraints the server enforces, and a well-formed request that
//! names something missing is answered as such (404 in the path, 409 in the body), never 400.
//! `scripts/api-contract.sh` fuzzes the whole document; these pin what it found.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{Backend, Client, TestApp, body_json, get};
use serde_json::{Value, json};

async fn document(t: &TestApp) -> Value {
    let res = t
        .send(
            get("/api/v1/openapi.json")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    body_json(res).await
}

#[tokio::test]
async fn the_document_states_the_constraints_the_server_enforces() {
    let t = TestApp::new(Backend::Sqlite).await;
    let doc = document(&t).await;
    let schemas = &doc["components"]["schemas"];
    let user = &schemas["NewUserRequest"]["properties"];
    assert_eq!(user["username"]["pattern"], "^[A-Za-z0-9._@-]{3,64}$");
    assert_eq!(user["password"]["minLength"], 12);
    assert_eq!(user["role"]["$ref"], "#/components/schemas/RoleName");
    assert_eq!(
        schemas["RoleName"]["enum"],
        json!([
            "viewer",
            "developer",
            "product-manager",
            "operator",
            "admin"
        ])
    );
    // A policy cannot name viewer; changing a user needs something to change.
    assert_eq!(
        schemas["ChangerRoleName"]["enum"],
        json!(["developer", "product-manager", "operator", "admin"])
    );
    assert_eq!(schemas["UpdateUserRequest"]["minProperties"], 1);
    assert!(schemas["UpdateUserRequest"]["maxProperties"].is_null());
    assert_eq!(
        schemas["ReasonBody"]["properties"]["reason"]["maxLength"],
        500
    );
    assert_eq!(
        schemas["NewWorkload"]["properties"]["replicas"]["maximum"],
        100
    );
    let params = |path: &str| doc["paths"][path]["get"]["parameters"].clone();
    let find = |params: Value, name: &str| {
        params
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name).cloned())
            .unwrap_or(Value::Null)
    };
    let range = find(
        params("/api/v1/environments/{env}/apps/{app}/metrics"),
        "range",
    );
    assert_eq!(range["schema"]["pattern"], "^(5m|15m|1h|6h)$");
    let timeout = find(params("/api/v1/rollouts/{id}/wait"), "timeoutSeconds");
    assert_eq!(
        (&timeout["schema"]["minimum"], &timeout["schema"]["maximum"]),
        (&json!(1), &json!(3600))
    );
    let limit = find(params("/api/v1/audit"), "limit");
    assert_eq!(limit["schema"]["maximum"], 200);
}

#[tokio::test]
async fn a_missing_environment_is_not_found_in_the_path_and_a_conflict_in_the_body() {
    let t = TestApp::new(Backend::Sqlite).await;
    let admin = Client::new(&t, "admin").await;
    let (status, body) = admin
        .call(
            Method::POST,
            "/api/v1/flags",
            Some(json!({"key": "f", "name": "F", "valueType": "boolean",
                "variants": [{"name": "on", "value": true}, {"name": "off", "value": false}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = admin
        .call(
            Method::POST,
            "/api/v1/flags/f/environments/nowhere/toggle",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = admin
        .call(
            Method::POST,
            "/api/v1/sdk-keys",
            Some(json!({"environment": "nowhere", "name": "ci"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::CONFLICT, Some("environment")),
        "{body}"
    );
}

#[tokio::test]
async fn an_integral_float_is_read_as_the_integer_it_equals() {
    let t = TestApp::new(Backend::Sqlite).await;
    let admin = Client::new(&t, "admin").await;
    let (_, envs) = admin.call(Method::GET, "/api/v1/environments", None).await;
    let staging = envs
        .as_array()
        .and_then(|es| es.iter().find(|e| e["key"] == "staging"))
        .cloned()
        .expect("staging");
    let version = staging["version"].as_i64().expect("version") as f64;
    let (status, body) = admin
        .call(
            Method::PATCH,
            "/api/v1/environments/staging",
            Some(json!({"name": "Staging EU", "version": version})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Staging EU");
}
