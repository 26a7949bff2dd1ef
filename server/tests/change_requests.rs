//! Protected environments: below the direct role, production changes only through a change
//! request that another person approves; an approval applies the change in the same
//! transaction and both are audited. On SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use common::changes::{ask, decide, flag, production_on, switch_on_requested, switched_on};
use common::deployments::{APP, app_ready, wait_for};
use common::{Client, TestApp};
use serde_json::json;

async fn a_developer_changes_production_only_through_an_approved_request(backend: common::Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let dev = Client::of(&t, "developer", "dana").await;
    let (status, _) = admin
        .call(Method::POST, "/api/v1/flags", Some(flag("checkout")))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Direct changes to production are refused, saying what to do instead; staging is open.
    let toggle = |env: &str| format!("/api/v1/flags/checkout/environments/{env}/toggle");
    let (status, body) = dev
        .call(
            Method::POST,
            &toggle("production"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "protected");
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("Production is protected") && message.contains("change request"),
        "{message}"
    );
    let (status, _) = dev
        .call(
            Method::POST,
            &toggle("staging"),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let change = switched_on(&dev, "checkout").await;
    let mut save = change["spec"].clone();
    save["environments"] = change["environments"].clone();
    save["version"] = change["version"].clone();
    let (status, body) = dev
        .call(Method::PUT, "/api/v1/flags/checkout", Some(save))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // A request waits, with the diff a reviewer reads.
    let (status, request) = ask(&dev, change).await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(request["state"], "open");
    let id = request["id"].as_i64().expect("an id");
    let (before, after) = (
        request["before"].as_str().unwrap_or(""),
        request["after"].as_str().unwrap_or(""),
    );
    assert!(
        before.contains("\"enabled\": false") && after.contains("\"enabled\": true"),
        "{before}\n{after}"
    );
    assert!(
        !production_on(&admin, "checkout").await,
        "nothing changed before the review"
    );

    // Neither the requester, nor a token of the same person, nor a viewer approves it.
    let (status, body) = decide(&dev, id, "approve").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a developer is below the approver role: {body}"
    );
    let own_operator = Client::of(&t, "operator", "dana").await;
    let (status, body) = decide(&own_operator, id, "approve").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("another person"),
        "{body}"
    );
    let viewer = Client::new(&t, "viewer").await;
    assert_eq!(
        decide(&viewer, id, "approve").await.0,
        StatusCode::FORBIDDEN
    );

    // Another operator approves: applied at once, audited, and only once.
    let operator = Client::of(&t, "operator", "olga").await;
    let (status, decided) = decide(&operator, id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["state"], "applied");
    assert_eq!(decided["decidedBy"], "token:olga-operator");
    assert!(
        decided["outcome"]
            .as_str()
            .unwrap_or("")
            .contains("version"),
        "{decided}"
    );
    assert!(production_on(&admin, "checkout").await);
    let (status, _) = decide(&operator, id, "approve").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a decided request is not decided again"
    );
    let (_, audit) = admin
        .call(Method::GET, "/api/v1/audit?limit=10", None)
        .await;
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "change_request.create",
        "change_request.approve",
        "flag.update",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    let (_, open) = admin
        .call(Method::GET, "/api/v1/change-requests?state=open", None)
        .await;
    assert_eq!(open.as_array().map(Vec::len), Some(0), "{open}");
}

async fn a_request_made_against_an_older_flag_is_not_applied(backend: common::Backend) {
    let t = TestApp::new(backend).await;
    let (admin, dev) = (
        Client::new(&t, "admin").await,
        Client::new(&t, "developer").await,
    );
    let id = switch_on_requested(&admin, &dev).await;
    // Someone changes the flag after the request was made: the reviewed diff no longer holds.
    let staging = "/api/v1/flags/checkout/environments/staging/toggle";
    admin
        .call(Method::POST, staging, Some(json!({"enabled": true})))
        .await;
    let operator = Client::new(&t, "operator").await;
    let (status, body) = decide(&operator, id, "approve").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["field"], "version");
    assert!(!production_on(&admin, "checkout").await);
    let (_, still) = admin
        .call(Method::GET, &format!("/api/v1/change-requests/{id}"), None)
        .await;
    assert_eq!(
        still["state"], "open",
        "a failed approval leaves the request open"
    );
    // It is rejected instead, and then cannot be withdrawn or approved.
    let (status, rejected) = decide(&operator, id, "reject").await;
    assert_eq!(status, StatusCode::OK, "{rejected}");
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(rejected["comment"], "looked at the numbers");
    assert_eq!(decide(&dev, id, "withdraw").await.0, StatusCode::CONFLICT);
}

async fn two_reviewers_at_once_apply_a_request_once(backend: common::Backend) {
    let t = TestApp::new(backend).await;
    let (admin, dev) = (
        Client::new(&t, "admin").await,
        Client::new(&t, "developer").await,
    );
    let id = switch_on_requested(&admin, &dev).await;
    let (first, second) = (
        Client::of(&t, "operator", "olga").await,
        Client::of(&t, "admin", "ada").await,
    );
    let (a, b) = tokio::join!(decide(&first, id, "approve"), decide(&second, id, "reject"));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        a.1,
        b.1
    );
    let (_, f) = admin
        .call(Method::GET, "/api/v1/flags/checkout", None)
        .await;
    let applied = a.0 == StatusCode::OK;
    assert_eq!(
        f["version"],
        if applied { 2 } else { 1 },
        "the flag changed only if approved: {f}"
    );
    assert_eq!(production_on(&admin, "checkout").await, applied);
}

async fn a_deployment_request_starts_the_deployment_when_approved(backend: common::Backend) {
    let t = TestApp::new(backend).await;
    let dev = Client::new(&t, "developer").await;
    let operator = Client::new(&t, "operator").await;
    app_ready(&operator, "v1").await;
    let deploy = json!({"version": "v2", "strategy": {"type": "recreate"}});
    let (status, body) = dev
        .call(
            Method::POST,
            &format!("{APP}/deployments"),
            Some(deploy.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "protected");
    let change = json!({"kind": "deploy", "app": "storefront", "request": deploy});
    let (status, request) = ask(&dev, change).await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert!(
        request["before"].as_str().unwrap_or("").contains("v1"),
        "{request}"
    );
    assert!(
        request["after"].as_str().unwrap_or("").contains("v2"),
        "{request}"
    );
    let id = request["id"].as_i64().expect("an id");
    let (status, decided) = decide(&operator, id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    let outcome = decided["outcome"].as_str().unwrap_or("");
    let deployment: i64 = outcome
        .trim_start_matches("deployment #")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the outcome names the deployment: {outcome}"));
    let d = wait_for(&operator, deployment, "the approved deployment", |d| {
        d["version"] == "v2"
    })
    .await;
    assert_eq!(
        d["deployment"]["startedBy"], "token:test-operator",
        "the approver starts it: {d}"
    );
}

async fn only_an_admin_sets_protection_and_it_takes_effect(backend: common::Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let operator = Client::new(&t, "operator").await;
    let (_, envs) = admin.call(Method::GET, "/api/v1/environments", None).await;
    let staging = envs
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["key"] == "staging")
        .cloned()
        .expect("staging");
    let production = envs
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["key"] == "production")
        .cloned()
        .expect("production");
    assert_eq!(
        production["protection"]["protected"], true,
        "production is protected by default"
    );
    assert_eq!(staging["protection"]["protected"], false);
    let policy =
        json!({"protected": true, "directRole": "admin", "approverRole": "product-manager"});
    let path = "/api/v1/environments/staging/protection";
    let body = json!({"protection": policy, "version": staging["version"]});
    assert_eq!(
        operator.call(Method::PUT, path, Some(body.clone())).await.0,
        StatusCode::FORBIDDEN
    );
    let viewers = json!({"protection": {"protected": true, "directRole": "viewer", "approverRole": "operator"}, "version": staging["version"]});
    let (status, refused) = admin.call(Method::PUT, path, Some(viewers)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"]["field"], "directRole");
    let (status, saved) = admin.call(Method::PUT, path, Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["protection"]["directRole"], "admin");
    assert_eq!(
        admin.call(Method::PUT, path, Some(body)).await.0,
        StatusCode::CONFLICT,
        "stale version"
    );
    // Now an operator goes through a request in staging too.
    admin
        .call(Method::POST, "/api/v1/flags", Some(flag("checkout")))
        .await;
    let toggle = "/api/v1/flags/checkout/environments/staging/toggle";
    let (status, body) = operator
        .call(Method::POST, toggle, Some(json!({"enabled": true})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Staging is protected"),
        "{body}"
    );
    let (_, audit) = admin.call(Method::GET, "/api/v1/audit?limit=5", None).await;
    assert!(audit.to_string().contains("environment.protect"), "{audit}");
}

on_both_backends!(
    a_developer_changes_production_only_through_an_approved_request,
    a_request_made_against_an_older_flag_is_not_applied,
    two_reviewers_at_once_apply_a_request_once,
    a_deployment_request_starts_the_deployment_when_approved,
    only_an_admin_sets_protection_and_it_takes_effect,
);
