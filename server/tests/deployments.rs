//! Deployments end to end over the REST API against the sandbox cluster, through the real
//! `kube` client: each strategy from start to finish, promotion, abort, rollback to a
//! snapshot, the refusals, and what the sandbox's Services answer along the way.

mod common;

use axum::http::{Method, StatusCode};
use common::deployments::{
    APP, app_ready, outcome, served_by, served_only, stage, start, wait_for,
};
use common::{Backend, Client, TestApp};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn a_canary_walks_its_steps_is_promoted_and_the_new_version_serves(backend: Backend) {
    let t = TestApp::new(backend).await;
    let ops = Client::new(&t, "operator").await;
    app_ready(&ops, "v1").await;
    let steps = json!({"type": "canary", "steps": [{"setWeight": 34}, {"pause": {"duration": 1}},
                                                   {"setWeight": 67}, {"pause": {}}]});
    let id = start(&ops, "v2", steps).await;
    let paused = wait_for(&ops, id, "the indefinite pause", |d| {
        d["waiting"] == "paused until someone promotes"
    })
    .await;
    assert_eq!(
        paused["deployment"]["stageLabel"],
        "Step 4 of 4: Pause until promoted"
    );
    let (_, live) = ops.call(Method::GET, APP, None).await;
    let sizes: Vec<(String, String, u64)> = live["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            (
                v["workload"].as_str().unwrap_or("").to_owned(),
                v["version"].as_str().unwrap_or("").to_owned(),
                v["ready"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        [
            ("primary".into(), "v1".into(), 1),
            ("canary".into(), "v2".into(), 3)
        ],
        "67% of 3 replicas is 3 canaries (rounded up); the stable side keeps one more than its share until they are ready"
    );
    assert_eq!(served_by(&t, "storefront", 200).await, ["v1", "v2"]);

    let (status, body) = ops
        .call(
            Method::POST,
            &format!("/api/v1/deployments/{id}/promote"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done = wait_for(&ops, id, "success", |d| outcome(d).is_some()).await;
    assert_eq!(outcome(&done["deployment"]).as_deref(), Some("succeeded"));
    app_ready(&ops, "v2").await;
    assert_eq!(served_by(&t, "storefront", 50).await, ["v2"]);
    let timeline: Vec<&str> = done["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    for expected in [
        "storefront started: v1 → v2 (Canary), snapshot of v1 taken",
        "Step 1 of 4: Set weight 34%",
        "Step 4 of 4: Pause until promoted",
        "Promoted by token:",
        "Promoting: primary takes the new version",
        "Succeeded",
    ] {
        assert!(
            timeline.iter().any(|m| m.starts_with(expected)),
            "{expected} missing from {timeline:#?}"
        );
    }
}

/// The snapshot taken before v2 holds v1's Deployment and Service and the flag's state.
async fn snapshot_holds_v1_with_its_flag_and_objects(ops: &Client<'_>) {
    let (status, snapshots) = ops
        .call(Method::GET, &format!("{APP}/snapshots"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(snapshots[0]["version"], "v1");
    assert_eq!(snapshots[0]["schemaVersion"], "42");
    assert_eq!(snapshots[0]["flags"], json!(["new-checkout: off"]));
    let held: Vec<String> = snapshots[0]["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| {
            format!(
                "{} {}: {}",
                o["kind"].as_str().unwrap_or(""),
                o["name"].as_str().unwrap_or(""),
                o["summary"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        held,
        [
            "Deployment storefront: 3 × registry.sandbox.local/storefront:v1",
            "Service storefront: selects app=storefront"
        ]
    );
}

/// The rollback's answer lists every object it put back, in order.
fn rollback_restored_every_object(rollback: &Value) {
    let results: Vec<(String, String, bool)> = rollback["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                format!(
                    "{} {}",
                    r["kind"].as_str().unwrap_or(""),
                    r["name"].as_str().unwrap_or("")
                ),
                r["message"].as_str().unwrap_or("").to_owned(),
                r["ok"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            (
                "Service storefront".into(),
                "selects app=storefront,version=v1".into(),
                true
            ),
            (
                "Deployment storefront".into(),
                "restored to 3 × registry.sandbox.local/storefront:v1".into(),
                true
            ),
            (
                "Deployment storefront-preview".into(),
                "deleted".into(),
                true
            ),
            ("Service storefront-preview".into(), "deleted".into(), true),
            (
                "Flag new-checkout".into(),
                "switched off again".into(),
                true
            ),
        ]
    );
}

async fn blue_green_switches_on_promotion_and_rolls_back_at_once_within_the_delay(
    backend: Backend,
) {
    let t = TestApp::new(backend).await;
    let ops = Client::new(&t, "operator").await;
    app_ready(&ops, "v1").await;
    let flag = json!({"key": "new-checkout", "name": "New checkout", "valueType": "boolean",
        "variants": [{"name": "on", "value": true}, {"name": "off", "value": false}],
        "environments": {"production": {"enabled": false, "defaultVariant": "on", "offVariant": "off"}}});
    let (status, body) = ops.call(Method::POST, "/api/v1/flags", Some(flag)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = start(
        &ops,
        "v2",
        json!({"type": "blueGreen", "scaleDownDelaySeconds": 30}),
    )
    .await;
    // The release's feature goes on with it.
    let (status, _) = ops
        .call(
            Method::POST,
            "/api/v1/flags/new-checkout/environments/production/toggle",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    wait_for(&ops, id, "the preview", |d| stage(d) == "awaitPromotion").await;
    assert_eq!(
        served_by(&t, "storefront", 50).await,
        ["v1"],
        "users still get v1"
    );
    assert_eq!(served_by(&t, "storefront-preview", 20).await, ["v2"]);

    ops.call(
        Method::POST,
        &format!("/api/v1/deployments/{id}/promote"),
        None,
    )
    .await;
    wait_for(&ops, id, "the switch", |d| stage(d) == "scaleDownDelay").await;
    served_only(&t, "storefront", "v2", "the switch is whole").await;

    snapshot_holds_v1_with_its_flag_and_objects(&ops).await;

    let (status, rollback) = ops
        .call(
            Method::POST,
            &format!("{APP}/rollback"),
            Some(json!({"reason": "checkout errors"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rollback}");
    // The Service's selector is back when the rollback answers.
    served_only(&t, "storefront", "v1", "after the rollback").await;
    rollback_restored_every_object(&rollback);
    let (_, flag) = ops
        .call(Method::GET, "/api/v1/flags/new-checkout", None)
        .await;
    assert_eq!(
        flag["environments"]["production"]["enabled"], false,
        "{flag}"
    );
    let d = wait_for(&ops, id, "the rolled-back deployment", |d| {
        outcome(d).is_some()
    })
    .await;
    assert_eq!(outcome(&d["deployment"]).as_deref(), Some("rolledBack"));
    let last = d["events"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .unwrap_or_default();
    assert!(
        last["message"]
            .as_str()
            .unwrap_or("")
            .ends_with("every object restored): checkout errors"),
        "{last}"
    );
}

async fn rolling_and_recreate_update_the_app_in_place(backend: Backend) {
    let t = TestApp::new(backend).await;
    // Production is protected: an operator deploys there directly.
    let deployer = Client::new(&t, "operator").await;
    app_ready(&deployer, "v1").await;
    let id = start(
        &deployer,
        "v2",
        json!({"type": "rolling", "maxSurge": 1, "maxUnavailable": 0}),
    )
    .await;
    let done = wait_for(&deployer, id, "the rolling update", |d| {
        outcome(d).is_some()
    })
    .await;
    assert_eq!(
        outcome(&done["deployment"]).as_deref(),
        Some("succeeded"),
        "{done:#}"
    );
    app_ready(&deployer, "v2").await;
    let id = start(&deployer, "v3", json!({"type": "recreate"})).await;
    let done = wait_for(&deployer, id, "the recreate", |d| outcome(d).is_some()).await;
    assert_eq!(outcome(&done["deployment"]).as_deref(), Some("succeeded"));
    app_ready(&deployer, "v3").await;
    let (_, history) = deployer
        .call(Method::GET, &format!("{APP}/deployments"), None)
        .await;
    let versions: Vec<&str> = history
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|d| d["version"].as_str())
        .collect();
    assert_eq!(versions, ["v3", "v2"], "newest first");
}

/// Bad deployment requests are refused naming the field at fault; a viewer may not deploy.
async fn bad_requests_are_refused_by_field(dev: &Client<'_>, viewer: &Client<'_>) {
    // Malformed (400), clashing with what runs (409), contradicting itself for this app's
    // replicas (422).
    for (body, field, expected) in [
        (
            json!({"version": "-bad", "strategy": {"type": "recreate"}}),
            "version",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"version": "v1", "strategy": {"type": "recreate"}}),
            "version",
            StatusCode::CONFLICT,
        ),
        (
            json!({"version": "v2", "strategy": {"type": "canary", "steps": [{"setWeight": 150}]}}),
            "steps[0].setWeight",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"version": "v2", "strategy": {"type": "rolling", "maxSurge": 0, "maxUnavailable": "10%"}}),
            "maxUnavailable",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (status, err) = dev
            .call(Method::POST, &format!("{APP}/deployments"), Some(body))
            .await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (expected, Some(field)),
            "{err}"
        );
    }
    let (status, _) = viewer
        .call(
            Method::POST,
            &format!("{APP}/deployments"),
            Some(json!({"version": "v2", "strategy": {"type": "recreate"}})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn refusals_name_the_problem_and_abort_restores_the_old_version(backend: Backend) {
    let t = TestApp::new(backend).await;
    let ops = Client::new(&t, "operator").await;
    // Production is protected: an operator deploys there directly.
    let deployer = Client::of(&t, "operator", "olga").await;
    let viewer = Client::new(&t, "viewer").await;
    app_ready(&ops, "v1").await;

    bad_requests_are_refused_by_field(&deployer, &viewer).await;

    let id = start(
        &deployer,
        "v3",
        json!({"type": "canary", "steps": [{"setWeight": 34}, {"pause": {}}]}),
    )
    .await;
    let (status, err) = deployer
        .call(
            Method::POST,
            &format!("{APP}/deployments"),
            Some(json!({"version": "v2", "strategy": {"type": "recreate"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(&format!(
                "storefront already has a deployment in progress (#{id}, v1 → v3, Canary"
            )),
        "{err}"
    );
    let dev = Client::new(&t, "developer").await;
    let (status, _) = dev
        .call(
            Method::POST,
            &format!("/api/v1/deployments/{id}/promote"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "controls are for operators");
    let (status, _) = ops
        .call(
            Method::POST,
            &format!("/api/v1/deployments/{id}/launch"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    wait_for(&ops, id, "the pause", |d| {
        d["waiting"] == "paused until someone promotes"
    })
    .await;
    assert_eq!(served_by(&t, "storefront", 200).await, ["v1", "v3"]);
    ops.call(
        Method::POST,
        &format!("/api/v1/deployments/{id}/pause"),
        None,
    )
    .await;
    let paused = wait_for(&ops, id, "the operator's pause", |d| {
        d["waiting"] == "paused by an operator; resume to go on"
    })
    .await;
    assert_eq!(paused["deployment"]["paused"], true);
    let (status, err) = ops
        .call(
            Method::POST,
            &format!("/api/v1/deployments/{id}/pause"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    ops.call(
        Method::POST,
        &format!("/api/v1/deployments/{id}/resume"),
        None,
    )
    .await;
    let (status, _) = ops
        .call(
            Method::POST,
            &format!("/api/v1/deployments/{id}/abort"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let done = wait_for(&ops, id, "the abort", |d| outcome(d).is_some()).await;
    assert_eq!(outcome(&done["deployment"]).as_deref(), Some("aborted"));
    app_ready(&ops, "v1").await;
    assert_eq!(served_by(&t, "storefront", 50).await, ["v1"]);
    let (status, err) = ops
        .call(
            Method::POST,
            &format!("/api/v1/deployments/{id}/abort"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("is over (Aborted)"),
        "{err}"
    );

    let (status, err) = ops
        .call(
            Method::POST,
            &format!("{APP}/rollback"),
            Some(json!({"reason": "  "})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reason"))
    );
}

async fn cluster_errors_are_retried_with_back_off_and_shown(backend: Backend) {
    let t = TestApp::new(backend).await;
    // Production is protected: an operator deploys there directly.
    let deployer = Client::new(&t, "operator").await;
    app_ready(&deployer, "v1").await;
    let store = &t.engine.deploy.sandbox.store;
    let kind = varai_server::sandbox::Kind::Deployment;
    let id = start(
        &deployer,
        "v2",
        json!({"type": "rolling", "maxSurge": 1, "maxUnavailable": 0}),
    )
    .await;
    // Someone deletes the Deployment under the controller's feet.
    let manifest = store
        .delete(kind, "production", "storefront")
        .expect("the Deployment was there");
    let failing = wait_for(&deployer, id, "the error to show", |d| {
        d["attempts"].as_u64().unwrap_or(0) >= 2
    })
    .await;
    let error = failing["deployment"]["lastError"].as_str().unwrap_or("");
    assert!(
        error.contains("deployments.apps \"storefront\" not found")
            || error.contains("Deployment \"storefront\" not found"),
        "{error}"
    );
    let logged: Vec<&str> = failing["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["level"] == "error")
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert_eq!(
        logged.len(),
        1,
        "the same error is logged once, not per attempt: {logged:?}"
    );
    assert!(logged[0].contains("retrying with back-off"), "{logged:?}");

    // It comes back; the controller carries on and finishes.
    let mut again = manifest.clone();
    for field in ["uid", "resourceVersion", "creationTimestamp", "generation"] {
        again["metadata"].as_object_mut().map(|m| m.remove(field));
    }
    again.as_object_mut().map(|o| o.remove("status"));
    store
        .create(kind, "production", again, "2026-11-26T00:00:00Z")
        .expect("recreated");
    let done = wait_for(&deployer, id, "the deployment to finish", |d| {
        outcome(d).is_some()
    })
    .await;
    assert_eq!(
        outcome(&done["deployment"]).as_deref(),
        Some("succeeded"),
        "{done:#}"
    );
    assert_eq!(done["deployment"]["lastError"], Value::Null);
    let messages: Vec<&str> = done["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"the cluster answers again"),
        "{messages:?}"
    );
    app_ready(&deployer, "v2").await;
}

async fn an_admin_binds_an_environment_to_a_cluster(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let ops = Client::new(&t, "operator").await;
    const CLUSTER: &str = "/api/v1/environments/staging/cluster";
    let (status, now) = admin.call(Method::GET, CLUSTER, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        now,
        json!({"namespace": "staging"}),
        "the sandbox, one namespace per environment"
    );

    let (status, _) = ops
        .call(Method::PUT, CLUSTER, Some(json!({"namespace": "shop"})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, err) = admin
        .call(Method::PUT, CLUSTER, Some(json!({"namespace": "Shop_1"})))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("namespace"))
    );
    let (status, err) = admin
        .call(
            Method::PUT,
            CLUSTER,
            Some(json!({"context": "no-such-context"})),
        )
        .await;
    // A context the kubeconfig lacks is the request's problem, named by its field.
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (StatusCode::CONFLICT, Some("context")),
        "{err}"
    );
    let message = err["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("'no-such-context'") && message.contains("the binding was not changed"),
        "{message}"
    );

    let (status, bound) = admin
        .call(Method::PUT, CLUSTER, Some(json!({"namespace": "shop"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{bound}");
    assert_eq!(bound["namespace"], "shop");
    // The sandbox seeds the demo app in a namespace it is given.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, apps) = admin
            .call(Method::GET, "/api/v1/environments/staging/apps", None)
            .await;
        if apps[0]["versions"][0]["ready"] == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "storefront never ran in namespace shop: {apps}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        t.engine
            .deploy
            .sandbox
            .store
            .get(
                varai_server::sandbox::Kind::Deployment,
                "shop",
                "storefront"
            )
            .is_ok()
    );
    let (_, audit) = admin.call(Method::GET, "/api/v1/audit", None).await;
    let bind = audit["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "environment.bind_cluster")
        .cloned()
        .unwrap_or_default();
    assert_eq!(bind["target"], "environment:staging", "{audit}");
}

async fn apps_are_registered_from_existing_objects_or_generated(backend: Backend) {
    let t = TestApp::new(backend).await;
    let ops = Client::new(&t, "operator").await;
    let dev = Client::new(&t, "developer").await;
    const APPS: &str = "/api/v1/environments/staging/apps";
    let existing = json!({"name": "shop", "deployment": "storefront", "service": "storefront",
                          "container": "storefront", "image": "registry.sandbox.local/storefront"});
    let (status, _) = dev.call(Method::POST, APPS, Some(existing.clone())).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "registering is for operators"
    );
    // Malformed input is 400; well-formed names the cluster does not hold are 409.
    for (mut body, field, says, expected) in [
        (
            existing.clone(),
            "deployment",
            "no Deployment 'nowhere' in namespace staging",
            StatusCode::CONFLICT,
        ),
        (
            existing.clone(),
            "container",
            "Deployment 'storefront' has no container 'sidecar'",
            StatusCode::CONFLICT,
        ),
        (
            existing.clone(),
            "image",
            "is not an image repository",
            StatusCode::BAD_REQUEST,
        ),
        (
            existing.clone(),
            "name",
            "'Shop' is not a valid name",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        match field {
            "deployment" => body["deployment"] = json!("nowhere"),
            "container" => body["container"] = json!("sidecar"),
            "image" => body["image"] = json!("storefront:v1"),
            _ => body["name"] = json!("Shop"),
        }
        let (status, err) = ops.call(Method::POST, APPS, Some(body)).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (expected, Some(field)),
            "{err}"
        );
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(says),
            "{err}"
        );
    }
    let (status, shop) = ops.call(Method::POST, APPS, Some(existing.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{shop}");
    assert_eq!(shop["deployment"], "storefront");
    let (status, err) = ops.call(Method::POST, APPS, Some(existing)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");

    let generated = json!({"name": "checkout", "image": "registry.example.com/checkout",
        "create": {"version": "1.0.0", "port": 9000, "replicas": 2, "cpu": "50m", "memory": "64Mi"}});
    let (status, body) = ops.call(Method::POST, APPS, Some(generated)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let store = &t.engine.deploy.sandbox.store;
    let d = store
        .get(
            varai_server::sandbox::Kind::Deployment,
            "staging",
            "checkout",
        )
        .expect("the Deployment was generated");
    assert_eq!(
        d["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "varai"
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/checkout:1.0.0"
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"],
        "50m"
    );
    let svc = store
        .get(varai_server::sandbox::Kind::Service, "staging", "checkout")
        .expect("the Service was generated");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 9000);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, app) = ops
            .call(Method::GET, &format!("{APPS}/checkout"), None)
            .await;
        if app["versions"][0]["version"] == "1.0.0" && app["versions"][0]["ready"] == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "checkout never came up: {app}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

on_both_backends!(
    apps_are_registered_from_existing_objects_or_generated,
    an_admin_binds_an_environment_to_a_cluster,
    cluster_errors_are_retried_with_back_off_and_shown,
    a_canary_walks_its_steps_is_promoted_and_the_new_version_serves,
    blue_green_switches_on_promotion_and_rolls_back_at_once_within_the_delay,
    rolling_and_recreate_update_the_app_in_place,
    refusals_name_the_problem_and_abort_restores_the_old_version,
);
