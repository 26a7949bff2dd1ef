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

#[tokio::test]
async fn flag_and_segment_documents_are_described_with_their_bounds() {
    let t = TestApp::new(Backend::Sqlite).await;
    let doc = document(&t).await;
    let schemas = &doc["components"]["schemas"];
    let segment = &schemas["Segment"]["properties"];
    assert_eq!(segment["key"]["pattern"], "^[A-Za-z0-9._-]{1,100}$");
    assert_eq!(segment["name"]["maxLength"], 120);
    assert_eq!(segment["included"]["maxItems"], 10_000);
    assert_eq!(segment["included"]["items"]["pattern"], "[^\\s\\x85]");
    let constraint = &schemas["Constraint"]["properties"];
    assert_eq!(
        constraint["operator"]["$ref"],
        "#/components/schemas/Operator"
    );
    assert_eq!(
        schemas["Operator"]["enum"].as_array().map(Vec::len),
        Some(19)
    );
    let targeting = &schemas["Targeting"]["properties"];
    assert_eq!(targeting["prerequisites"]["maxItems"], 10);
    assert_eq!(targeting["rules"]["maxItems"], 200);
    assert_eq!(schemas["Rule"]["properties"]["rollout"]["maximum"], 100);
    assert_eq!(schemas["FlagSpec"]["properties"]["tags"]["maxItems"], 20);
    assert!(
        schemas["FlagSpec"]["required"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("variants")))
    );
    let create = &doc["paths"]["/api/v1/segments"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Segment"
    );
    let rules = create["responses"]["422"]["description"]
        .as_str()
        .unwrap_or("");
    assert!(
        rules.contains("REGEX"),
        "the rules across fields are listed: {rules}"
    );
    let flags = doc["paths"]["/api/v1/flags"]["post"]["responses"]["422"]["description"]
        .as_str()
        .unwrap_or("");
    assert!(flags.contains("valueType"), "{flags}");
    let serve = &schemas["Serve"]["oneOf"];
    assert_eq!(serve[0]["additionalProperties"], false, "{serve}");
    // serde reads an externally tagged enum only from an object with its one key.
    let step = &schemas["CanaryStep"]["oneOf"];
    assert_eq!(step[0]["required"], json!(["setWeight"]), "{step}");
    assert_eq!(step[0]["additionalProperties"], false, "{step}");
    assert_eq!(step[0]["properties"]["setWeight"]["maximum"], 100, "{step}");
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    let dangling: Vec<&String> = refs
        .iter()
        .filter(|r| {
            let name = r.trim_start_matches("#/components/schemas/");
            schemas.get(name).is_none()
        })
        .collect();
    assert!(
        dangling.is_empty(),
        "every reference resolves: {dangling:?}"
    );
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

async fn a_segment_refusal_says_whether_the_value_or_its_context_is_wrong(backend: Backend) {
    let t = TestApp::new(backend).await;
    let dev = Client::new(&t, "developer").await;
    let segment = |name: &str, constraint: Value| json!({"key": "beta", "name": name, "constraints": [constraint]});
    let number = json!({"contextName": "age", "operator": "NUM_GT", "value": "18"});
    // Blank: the document's pattern says so, 400.
    let (status, e) = dev
        .call(
            Method::POST,
            "/api/v1/segments",
            Some(segment("  ", number.clone())),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("name"))
    );
    // A number operator given words: each field is fine alone, together they are not, 422.
    let words = json!({"contextName": "age", "operator": "NUM_GT", "value": "grown-up"});
    let (status, e) = dev
        .call(
            Method::POST,
            "/api/v1/segments",
            Some(segment("Beta", words)),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "unprocessable");
    assert_eq!(e["error"]["field"], "constraints[0].value");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("a number"),
        "{e}"
    );
    let (status, created) = dev
        .call(
            Method::POST,
            "/api/v1/segments",
            Some(segment("Beta", number.clone())),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // Saving under another path's key contradicts the path, 422.
    let mut moved = segment("Beta", number);
    moved["version"] = created["version"].clone();
    moved["key"] = json!("gamma");
    let (status, e) = dev
        .call(Method::PUT, "/api/v1/segments/beta", Some(moved))
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("key"))
    );
    // A rule naming a segment that does not exist clashes with what is stored, 409.
    let flag = json!({"key": "gated", "name": "Gated", "valueType": "boolean",
        "variants": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "environments": {"staging": {"enabled": true, "defaultVariant": "off", "offVariant": "off",
            "rules": [{"segments": ["nobody"], "serve": {"variant": "on"}}]}}});
    let (status, e) = dev.call(Method::POST, "/api/v1/flags", Some(flag)).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("environments.staging.rules[0].segments[0]")
        )
    );
}

on_both_backends!(a_segment_refusal_says_whether_the_value_or_its_context_is_wrong);
