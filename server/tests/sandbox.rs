//! The sandbox cluster's Kubernetes REST API, as an outside client sees it: paths, verbs, list
//! shapes, selectors, optimistic concurrency and `Status` errors.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;
use varai_server::sandbox::{ObjectStore, api};

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    content_type: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.map_or(Body::empty(), |b| Body::from(b.to_string())))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("the router answers");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const JSON: &str = "application/json";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/prod/deployments";

fn deployment(name: &str, version: &str) -> Value {
    json!({"metadata": {"name": name, "labels": {"app": "storefront", "version": version}},
           "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "storefront"}}}})
}

#[tokio::test]
async fn objects_are_created_listed_by_label_and_field_and_fetched() {
    let app = api::router(Arc::new(ObjectStore::default()));
    let (status, created) = call(
        &app,
        Method::POST,
        DEPLOYMENTS,
        JSON,
        Some(deployment("storefront-v1", "v1")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (created["kind"].as_str(), created["apiVersion"].as_str()),
        (Some("Deployment"), Some("apps/v1"))
    );
    call(
        &app,
        Method::POST,
        DEPLOYMENTS,
        JSON,
        Some(deployment("storefront-v2", "v2")),
    )
    .await;

    let (_, list) = call(
        &app,
        Method::GET,
        &format!("{DEPLOYMENTS}?labelSelector=version%20in%20(v2)"),
        JSON,
        None,
    )
    .await;
    assert_eq!(list["kind"], "DeploymentList");
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["storefront-v2"]);
    assert_eq!(list["metadata"]["resourceVersion"], "2");
    let (_, by_name) = call(
        &app,
        Method::GET,
        "/apis/apps/v1/deployments?fieldSelector=metadata.name%3Dstorefront-v1",
        JSON,
        None,
    )
    .await;
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1);

    let (status, got) = call(
        &app,
        Method::GET,
        &format!("{DEPLOYMENTS}/storefront-v1"),
        JSON,
        None,
    )
    .await;
    assert_eq!(
        (status, got["spec"]["replicas"].clone()),
        (StatusCode::OK, json!(3))
    );
}

#[tokio::test]
async fn a_stale_write_is_a_409_status_and_patches_merge() {
    let app = api::router(Arc::new(ObjectStore::default()));
    let (_, v1) = call(
        &app,
        Method::POST,
        DEPLOYMENTS,
        JSON,
        Some(deployment("d", "v1")),
    )
    .await;
    let (status, patched) = call(
        &app,
        Method::PATCH,
        &format!("{DEPLOYMENTS}/d"),
        "application/merge-patch+json",
        Some(json!({"spec": {"replicas": 5}})),
    )
    .await;
    assert_eq!(
        (status, patched["spec"]["replicas"].clone()),
        (StatusCode::OK, json!(5))
    );
    let mut stale = v1;
    stale["spec"]["replicas"] = json!(1);
    let (status, err) = call(
        &app,
        Method::PUT,
        &format!("{DEPLOYMENTS}/d"),
        JSON,
        Some(stale),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        (
            err["kind"].as_str(),
            err["reason"].as_str(),
            err["code"].as_i64()
        ),
        (Some("Status"), Some("Conflict"), Some(409))
    );

    let (status, with_status) = call(
        &app,
        Method::PATCH,
        &format!("{DEPLOYMENTS}/d/status"),
        "application/merge-patch+json",
        Some(json!({"status": {"readyReplicas": 5}})),
    )
    .await;
    assert_eq!(
        (status, with_status["status"]["readyReplicas"].clone()),
        (StatusCode::OK, json!(5))
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!("{DEPLOYMENTS}/d"),
        "application/json-patch+json",
        Some(json!([])),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn unknown_resources_missing_objects_and_bad_bodies_get_kubernetes_errors() {
    let app = api::router(Arc::new(ObjectStore::default()));
    let (status, err) = call(
        &app,
        Method::GET,
        "/api/v1/namespaces/prod/deployments",
        JSON,
        None,
    )
    .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
    let (status, err) = call(
        &app,
        Method::GET,
        "/api/v1/namespaces/prod/pods/nope",
        JSON,
        None,
    )
    .await;
    assert_eq!(
        (status, err["message"].as_str()),
        (StatusCode::NOT_FOUND, Some("Pod \"nope\" not found"))
    );
    let req = Request::post("/api/v1/namespaces/prod/configmaps")
        .header(header::CONTENT_TYPE, JSON)
        .body(Body::from("{not json"))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("answer");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let (status, err) = call(
        &app,
        Method::GET,
        "/api/v1/namespaces/prod/pods?labelSelector=a%20in%20b",
        JSON,
        None,
    )
    .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BadRequest"))
    );
    call(
        &app,
        Method::POST,
        "/api/v1/namespaces/prod/services",
        JSON,
        Some(json!({"metadata": {"name": "web"}})),
    )
    .await;
    let (status, _) = call(
        &app,
        Method::DELETE,
        "/api/v1/namespaces/prod/services/web",
        JSON,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &app,
        Method::DELETE,
        "/api/v1/namespaces/prod/services/web",
        JSON,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn discovery_lists_the_groups_and_resources_served() {
    let app = api::router(Arc::new(ObjectStore::default()));
    let (_, groups) = call(&app, Method::GET, "/apis", JSON, None).await;
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apps", "batch"]);
    let (_, apps) = call(&app, Method::GET, "/apis/apps/v1", JSON, None).await;
    let resources: Vec<&str> = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        resources,
        [
            "deployments",
            "deployments/status",
            "replicasets",
            "replicasets/status"
        ]
    );
    let (_, core) = call(&app, Method::GET, "/api/v1", JSON, None).await;
    assert!(
        core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "pods")
    );
    let (status, _) = call(&app, Method::GET, "/apis/networking.k8s.io/v1", JSON, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, version) = call(&app, Method::GET, "/version", JSON, None).await;
    assert_eq!(version["major"], "1");
}
