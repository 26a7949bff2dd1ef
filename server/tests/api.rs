//! The REST API as CI and scripts use it: bearer tokens with roles, the JSON error format
//! naming the field at fault, and the OpenAPI document.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Backend, TestApp, body_json, body_text, get, with_json};

const PASSWORD: &str = "a-long-enough-password";

async fn the_api_serves_tokens_by_role_with_json_errors(backend: Backend) {
    let t = TestApp::new(backend).await;
    let anonymous = t
        .send(get("/api/v1/users").body(Body::empty()).unwrap())
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_json(anonymous).await["error"]["code"],
        "unauthenticated"
    );

    let bogus = t
        .get_with("/api/v1/me", header::AUTHORIZATION, "Bearer varai_nope")
        .await;
    assert_eq!(bogus.status(), StatusCode::UNAUTHORIZED);

    let dev = t.token("developer").await;
    let res = t
        .get_with(
            "/api/v1/users",
            header::AUTHORIZATION,
            format!("Bearer {dev}"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let json = body_json(res).await;
    assert_eq!(json["error"]["code"], "forbidden");
    assert!(json["error"]["message"].as_str().unwrap().contains("admin"));

    let admin = format!("Bearer {}", t.token("admin").await);
    let create = |body: serde_json::Value| {
        with_json(
            Request::post("/api/v1/users").header(header::AUTHORIZATION, &admin),
            body,
        )
    };
    let res = t
        .send(create(
            serde_json::json!({"username": "erin", "password": PASSWORD, "role": "operator"}),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let erin = body_json(res).await;
    assert_eq!(erin["role"], "operator");

    let res = t
        .send(create(
            serde_json::json!({"username": "erin", "password": PASSWORD, "role": "operator"}),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(body_json(res).await["error"]["field"], "username");

    let res = t
        .send(create(
            serde_json::json!({"username": "frank", "password": "short", "role": "operator"}),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(res).await["error"]["field"], "password");

    let res = t
        .send(create(
            serde_json::json!({"username": "frank", "password": PASSWORD, "role": "root"}),
        ))
        .await;
    let json = body_json(res).await;
    assert_eq!(json["error"]["field"], "role");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'root'")
    );

    let res = t
        .send(create(serde_json::json!({"username": "frank"})))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        body_json(res).await["error"]["message"]
            .as_str()
            .unwrap()
            .contains("password")
    );

    let patch = with_json(
        Request::patch(format!("/api/v1/users/{}", erin["id"]))
            .header(header::AUTHORIZATION, &admin),
        serde_json::json!({"disabled": true}),
    );
    let res = t.send(patch).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_json(res).await["disabled"], true);

    let audit = t
        .get_with("/api/v1/audit?limit=2", header::AUTHORIZATION, &admin)
        .await;
    let json = body_json(audit).await;
    assert_eq!(json["events"][0]["action"], "user.disable");
    assert_eq!(json["events"][0]["actor"], "token:test-admin");
    assert_eq!(json["events"][1]["action"], "user.create");
    assert!(json["next_before"].is_i64());
}

async fn tokens_are_created_shown_once_and_revoked(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = format!("Bearer {}", t.token("admin").await);
    let res = t
        .send(with_json(
            Request::post("/api/v1/tokens").header(header::AUTHORIZATION, &admin),
            serde_json::json!({"name": "deploy", "role": "operator"}),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created = body_json(res).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    let me = t
        .get_with(
            "/api/v1/me",
            header::AUTHORIZATION,
            format!("Bearer {secret}"),
        )
        .await;
    assert_eq!(body_json(me).await["role"], "operator");
    let list = t
        .get_with("/api/v1/tokens", header::AUTHORIZATION, &admin)
        .await;
    let text = body_text(list).await;
    assert!(!text.contains(&secret), "the secret is never listed");
    let revoke = Request::delete(format!("/api/v1/tokens/{}", created["token"]["id"]))
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::AUTHORIZATION, &admin)
        .body(Body::empty())
        .unwrap();
    let res = t.send(revoke).await;
    assert!(body_json(res).await["revoked_at"].is_i64());
    let me = t
        .get_with(
            "/api/v1/me",
            header::AUTHORIZATION,
            format!("Bearer {secret}"),
        )
        .await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

on_both_backends!(
    the_api_serves_tokens_by_role_with_json_errors,
    tokens_are_created_shown_once_and_revoked
);

#[tokio::test]
async fn bad_json_and_bad_paths_name_the_problem() {
    let t = TestApp::new(Backend::Sqlite).await;
    let admin = format!("Bearer {}", t.token("admin").await);
    let req = Request::post("/api/v1/users")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::AUTHORIZATION, &admin)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let res = t.send(req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(res).await["error"]["field"], "body");
    let res = t
        .send(with_json(
            Request::patch("/api/v1/users/abc").header(header::AUTHORIZATION, &admin),
            serde_json::json!({"role": "viewer"}),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body_json(res).await["error"]["field"], "path");
    let res = t
        .send(with_json(
            Request::patch("/api/v1/users/9999").header(header::AUTHORIZATION, &admin),
            serde_json::json!({"role": "viewer"}),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = t
        .get_with("/api/v1/nothing-here", header::AUTHORIZATION, &admin)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(res).await["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let t = TestApp::new(Backend::Sqlite).await;
    let res = t
        .send(get("/api/v1/openapi.json").body(Body::empty()).unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc = body_json(res).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
        "/api/v1/audit",
        "/api/v1/me",
        "/api/v1/environments",
        "/api/v1/segments/{key}",
        "/api/v1/flags",
        "/api/v1/flags/{key}",
        "/api/v1/flags/{key}/environments/{env}/toggle",
        "/api/v1/sdk-keys",
        "/api/v1/import/unleash",
        "/api/v1/environments/{env}/cluster",
        "/api/v1/environments/{env}/apps",
        "/api/v1/environments/{env}/apps/{app}",
        "/api/v1/environments/{env}/apps/{app}/deployments",
        "/api/v1/environments/{env}/apps/{app}/snapshots",
        "/api/v1/environments/{env}/apps/{app}/rollback",
        "/api/v1/deployments/{id}",
        "/api/v1/deployments/{id}/{control}",
        "/api/v1/sandbox",
        "/api/v1/sandbox/profiles",
        "/api/v1/sandbox/rates",
    ] {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Every operation states the errors a client must expect, each with the error document;
    // query parameters are declared where they are sent.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            for status in ["401", "403"] {
                let schema = &op["responses"][status]["content"]["application/json"]["schema"];
                assert_eq!(
                    schema["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
            if path.contains('{') {
                assert!(op["responses"]["404"].is_object(), "{method} {path} 404");
            }
            if method != "get" {
                assert!(op["responses"]["409"].is_object(), "{method} {path} 409");
            }
        }
    }
    for (path, name) in [
        ("/api/v1/flags", "tag"),
        ("/api/v1/flags/{key}/history", "before"),
        ("/api/v1/import/unleash", "environment"),
    ] {
        let method = if path.ends_with("unleash") {
            "post"
        } else {
            "get"
        };
        let params = doc["paths"][path][method]["parameters"]
            .as_array()
            .expect("parameters");
        let param = params
            .iter()
            .find(|p| p["name"] == name)
            .expect("the parameter");
        assert_eq!(param["in"], "query", "{path} {name}");
    }
}
