//! Rollouts over the REST API on SQLite and PostgreSQL: plans refused by field, a second
//! rollout of the same app or flag refused, the commands (pause, resume, skip with a reason,
//! abort) with their audit events, a scheduled start, the wait a CI pipeline uses, and a
//! restart of the controller in the middle of a phase.

mod common;

use axum::http::{Method, StatusCode};
use common::deployments::{app_ready, served_only};
use common::rollouts::{
    canary_plan, finished, flag_targeting, gates_of, release_flag, start_rollout, timeline,
    wait_rollout,
};
use common::{Backend, Client, TestApp};
use serde_json::{Value, json};

fn field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

fn approval() -> Value {
    json!({"type": "approval", "role": "operator"})
}

async fn create(c: &Client<'_>, body: Value) -> (StatusCode, Value) {
    c.call(
        Method::POST,
        "/api/v1/environments/production/rollouts",
        Some(body),
    )
    .await
}

/// Plans out of order, unknown templates, titles, flags, apps and segments are refused,
/// each naming the field as the planning form labels it.
async fn bad_plans_are_refused_by_field(pm: &Client<'_>, release: &Value) {
    let mut out_of_order = canary_plan(json!([]));
    out_of_order["phases"]
        .as_array_mut()
        .expect("phases")
        .swap(1, 2);
    // Malformed (400); naming what does not exist (409); parts that contradict each other
    // (422).
    let cases = [
        (
            json!({"title": "t", "release": release, "plan": out_of_order}),
            "phases[2].kind",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "t", "release": release, "template": "nope"}),
            "template",
            StatusCode::CONFLICT,
        ),
        (
            json!({"title": " ", "release": release}),
            "title",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"title": "t", "release": {"flags": ["missing"]},
                   "plan": {"phases": [{"name": "Everyone", "kind": "full"}]}}),
            "release.flags[0]",
            StatusCode::CONFLICT,
        ),
        (
            json!({"title": "t", "release": {"app": "storefront"}}),
            "release.version",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "t", "release": {"app": "nope", "version": "v2"}}),
            "release.app",
            StatusCode::CONFLICT,
        ),
    ];
    for (body, expected, status) in cases {
        let (s, answer) = create(pm, body).await;
        assert_eq!((s, field(&answer)), (status, expected), "{answer}");
    }
    let mut unknown_segment = canary_plan(json!([]));
    unknown_segment["phases"][1]["audience"]["segments"] = json!(["internal", "martians"]);
    let (s, answer) = create(
        pm,
        json!({"title": "t", "release": release, "plan": unknown_segment}),
    )
    .await;
    assert_eq!(
        (s, field(&answer)),
        (StatusCode::CONFLICT, "phases[1].audience.segments[1]"),
        "{answer}"
    );
}

async fn plans_are_checked_and_a_second_rollout_of_the_same_app_or_flag_is_refused(
    backend: Backend,
) {
    let t = TestApp::new(backend).await;
    let pm = Client::new(&t, "product-manager").await;
    let dev = Client::new(&t, "developer").await;
    app_ready(&pm, "v1").await;
    release_flag(&pm).await;
    let release = json!({"app": "storefront", "version": "v2", "flags": ["new-checkout"]});

    let (s, body) = create(&dev, json!({"title": "t", "release": release})).await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "developers do not plan rollouts: {body}"
    );
    bad_plans_are_refused_by_field(&pm, &release).await;

    let first = start_rollout(&pm, "v2", canary_plan(json!([approval()]))).await;
    let (s, answer) = create(
        &pm,
        json!({"title": "again", "release": release, "start": true}),
    )
    .await;
    assert_eq!(
        (s, field(&answer)),
        (StatusCode::CONFLICT, "release.app"),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("rollout #{first}")),
        "{answer}"
    );
    let flags_only = json!({"title": "flag", "release": {"flags": ["new-checkout"]},
        "plan": {"phases": [{"name": "Everyone", "kind": "full"}]}, "start": true});
    let (s, answer) = create(&pm, flags_only.clone()).await;
    assert_eq!(
        (s, field(&answer)),
        (StatusCode::CONFLICT, "release.flags"),
        "{answer}"
    );
    let (s, drafts) = pm
        .call(Method::GET, "/api/v1/rollouts?active=true", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        drafts
            .as_array()
            .map(|d| d.iter().filter(|r| r["status"] == "draft").count()),
        Some(2),
        "the refused ones stay as drafts, nothing lost: {drafts}"
    );

    // Once the first ends, the flag is free again.
    let ops = Client::new(&t, "operator").await;
    let (s, body) = ops
        .call(
            Method::POST,
            &format!("/api/v1/rollouts/{first}/abort"),
            Some(json!({"reason": "replanning"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "aborted");
    served_only(&t, "storefront", "v1", "after the abort").await;
    let (s, answer) = create(&pm, flags_only).await;
    assert_eq!(s, StatusCode::CREATED, "{answer}");
    let done = finished(&pm, answer["id"].as_i64().unwrap_or(0), 20).await;
    assert_eq!(done["rollout"]["status"], "succeeded", "{done:#}");
    let flag = flag_targeting(&pm).await;
    assert_eq!(flag["enabled"], true);
    assert_eq!(flag["rules"][0]["rollout"], 100, "{flag}");
}

async fn operators_pause_resume_and_skip_with_a_reason_and_everything_is_audited(backend: Backend) {
    let t = TestApp::new(backend).await;
    let pm = Client::new(&t, "product-manager").await;
    let ops = Client::new(&t, "operator").await;
    app_ready(&ops, "v1").await;
    release_flag(&ops).await;
    let id = start_rollout(&pm, "v2", canary_plan(json!([approval()]))).await;
    wait_rollout(&pm, id, "the canary's approval", 20, |v| {
        gates_of(v, "approval")
            .first()
            .is_some_and(|g| g["status"] == "running")
    })
    .await;
    let flag = flag_targeting(&ops).await;
    assert_eq!(flag["enabled"], true, "{flag}");
    assert_eq!(flag["rules"][0]["segments"], json!(["internal"]));
    assert_eq!(flag["rules"][1]["rollout"], 10);
    assert_eq!(
        flag["defaultVariant"], "off",
        "everyone else still gets off: {flag}"
    );

    let path = |c: &str| format!("/api/v1/rollouts/{id}/{c}");
    let (s, _) = pm.call(Method::POST, &path("pause"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "pausing is for operators");
    let (s, body) = ops.call(Method::POST, &path("pause"), None).await;
    assert_eq!(
        (s, body["paused"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{body}"
    );
    let (s, _) = ops.call(Method::POST, &path("pause"), None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, body) = ops.call(Method::POST, &path("resume"), None).await;
    assert_eq!(
        (s, body["paused"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{body}"
    );
    let (s, body) = ops
        .call(Method::POST, &path("skip"), Some(json!({"reason": ""})))
        .await;
    assert_eq!((s, field(&body)), (StatusCode::BAD_REQUEST, "reason"));
    let (s, body) = ops
        .call(
            Method::POST,
            &path("skip"),
            Some(json!({"reason": "approved in the change meeting"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let done = finished(&pm, id, 30).await;
    assert_eq!(done["rollout"]["status"], "succeeded", "{done:#}");
    let text = timeline(&done);
    assert!(
        text.contains("Canary skipped by token:test-operator: approved in the change meeting"),
        "{text}"
    );
    app_ready(&ops, "v2").await;

    let admin = Client::new(&t, "admin").await;
    let (_, audit) = admin
        .call(Method::GET, "/api/v1/audit?limit=200", None)
        .await;
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["action"].as_str()).collect())
        .unwrap_or_default();
    for action in [
        "rollout.create",
        "rollout.start",
        "rollout.pause",
        "rollout.resume",
        "rollout.skip",
        "flag.update",
        "deployment.start",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}

async fn a_scheduled_rollout_starts_at_its_time_and_ci_waits_for_its_outcome(backend: Backend) {
    let t = TestApp::new(backend).await;
    let pm = Client::new(&t, "product-manager").await;
    app_ready(&pm, "v1").await;
    release_flag(&pm).await;
    let at = varai_core::clock::now_ms() + 1500;
    let body = json!({"title": "tonight", "release": {"app": "storefront", "version": "v2", "flags": []},
        "plan": canary_plan(json!([])), "start": true, "startAt": at});
    let (s, r) = create(&pm, body).await;
    assert_eq!(
        (s, r["status"].as_str()),
        (StatusCode::CREATED, Some("scheduled")),
        "{r}"
    );
    let id = r["id"].as_i64().unwrap_or(0);
    let (s, r) = pm
        .call(
            Method::GET,
            &format!("/api/v1/rollouts/{id}/wait?timeoutSeconds=40"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["status"], "succeeded", "{r}");
    assert!(r["startedAt"].as_i64().is_some());
    let (_, view) = pm
        .call(Method::GET, &format!("/api/v1/rollouts/{id}"), None)
        .await;
    let first_move = view["events"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|x| x["message"] == "Started at its scheduled time")
        })
        .and_then(|x| x["at"].as_i64())
        .unwrap_or(0);
    assert!(
        first_move >= at,
        "started at {first_move}, scheduled for {at}"
    );
    let (s, body) = pm
        .call(
            Method::GET,
            &format!("/api/v1/rollouts/{id}/wait?timeoutSeconds=0"),
            None,
        )
        .await;
    assert_eq!(
        (s, field(&body)),
        (StatusCode::BAD_REQUEST, "timeoutSeconds")
    );
}

async fn a_restart_in_the_middle_of_a_phase_resumes_the_rollout_where_it_was(backend: Backend) {
    let mut t = TestApp::new(backend).await;
    let pm = Client::new(&t, "product-manager").await;
    app_ready(&pm, "v1").await;
    release_flag(&pm).await;
    let load = json!({"type": "loadTest", "rate": 10, "concurrency": 5, "durationSeconds": 2,
        "maxErrorPercent": 50.0, "maxP95Ms": 5000});
    let id = start_rollout(&pm, "v2", canary_plan(json!([load]))).await;
    wait_rollout(&pm, id, "the load test to run", 20, |v| {
        gates_of(v, "loadTest")
            .first()
            .is_some_and(|g| g["status"] == "running")
    })
    .await;
    drop(pm);
    t.restart_rollouts().await;
    let pm = Client::new(&t, "product-manager").await;
    let done = finished(&pm, id, 40).await;
    assert_eq!(done["rollout"]["status"], "succeeded", "{done:#}");
    let text = timeline(&done);
    assert_eq!(
        text.matches("Canary: audience in place").count(),
        1,
        "the audience was not put in place twice: {text}"
    );
    let g = gates_of(&done, "loadTest");
    assert_eq!(g.len(), 1, "one result for the gate: {g:?}");
    assert_eq!(g[0]["status"], "passed");
    app_ready(&pm, "v2").await;
}

async fn a_firing_alert_rolls_the_rollout_back_with_its_flag(backend: Backend) {
    let t = TestApp::new(backend).await;
    let pm = Client::new(&t, "product-manager").await;
    app_ready(&pm, "v1").await;
    release_flag(&pm).await;
    let before = flag_targeting(&pm).await;
    let id = start_rollout(&pm, "v2", canary_plan(json!([approval()]))).await;
    wait_rollout(&pm, id, "the canary's approval", 20, |v| {
        gates_of(v, "approval")
            .first()
            .is_some_and(|g| g["status"] == "running")
    })
    .await;
    assert_eq!(flag_targeting(&pm).await["enabled"], true);
    let labels =
        json!({"alertname": "CheckoutErrors", "app": "storefront", "environment": "production"});
    let payload = json!({"version": "4", "groupKey": "{}:{alertname=\"CheckoutErrors\"}", "status": "firing",
        "receiver": "varai", "groupLabels": {}, "commonLabels": labels, "commonAnnotations": {},
        "externalURL": "http://am", "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": labels, "annotations": {"summary": "checkout errors above 5%"},
                    "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prom", "fingerprint": "abc"}]});
    let ops = Client::new(&t, "operator").await;
    let (s, body) = ops
        .call(Method::POST, "/hooks/alertmanager", Some(payload))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let done = finished(&pm, id, 20).await;
    assert_eq!(done["rollout"]["status"], "rolledBack", "{done:#}");
    let reason = done["rollout"]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("CheckoutErrors"),
        "the alert is named: {reason}"
    );
    served_only(&t, "storefront", "v1", "after the alert").await;
    assert_eq!(flag_targeting(&pm).await, before, "the flag is as it was");
}

async fn preparation_stops_before_changing_anything_when_prometheus_is_missing(backend: Backend) {
    let t = TestApp::new(backend).await;
    let pm = Client::new(&t, "product-manager").await;
    app_ready(&pm, "v1").await;
    release_flag(&pm).await;
    let before = flag_targeting(&pm).await;
    let analysis = json!({"type": "analysis", "templates": ["error-rate"]});
    let id = start_rollout(&pm, "v2", canary_plan(json!([analysis]))).await;
    let stuck = wait_rollout(&pm, id, "Preparation's check", 20, |v| {
        v["rollout"]["lastError"].as_str().is_some()
    })
    .await;
    let error = stuck["rollout"]["lastError"].as_str().unwrap_or("");
    assert!(
        error.contains("Preparation") && error.contains("Prometheus"),
        "{error}"
    );
    assert_eq!(stuck["rollout"]["status"], "running");
    assert!(
        stuck["rollout"]["deploymentId"].is_null(),
        "no deployment started"
    );
    assert_eq!(flag_targeting(&pm).await, before, "the flag untouched");
    app_ready(&pm, "v1").await;
    let (s, doc) = pm.call(Method::GET, "/api/v1/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        "/api/v1/environments/{env}/rollouts",
        "/api/v1/rollouts/{id}/approve",
        "/api/v1/rollouts/{id}/wait",
        "/api/v1/plan-templates/{name}",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} is in the OpenAPI document"
        );
    }
}

on_both_backends!(
    preparation_stops_before_changing_anything_when_prometheus_is_missing,
    a_firing_alert_rolls_the_rollout_back_with_its_flag,
    plans_are_checked_and_a_second_rollout_of_the_same_app_or_flag_is_refused,
    operators_pause_resume_and_skip_with_a_reason_and_everything_is_audited,
    a_scheduled_rollout_starts_at_its_time_and_ci_waits_for_its_outcome,
    a_restart_in_the_middle_of_a_phase_resumes_the_rollout_where_it_was,
);
