//! Each verification gate against the sandbox, passing and failing: a health check, a smoke
//! test, an integration test Job with its logs, the built-in load test, and manual approval
//! with its role and four eyes. A rollout whose gate fails is rolled back: the app runs v1
//! alone again and the flag is as it was.

mod common;

use axum::http::{Method, StatusCode};
use common::deployments::{app_ready, served_only};
use common::rollouts::{
    canary_plan, finished, flag_targeting, gates_of, release_flag, start_rollout, timeline,
    wait_rollout,
};
use common::{Backend, Client, TestApp};
use serde_json::{Value, json};
use varai_server::sandbox::kind::Kind;

async fn ready() -> TestApp {
    let t = TestApp::new(Backend::Sqlite).await;
    let ops = Client::new(&t, "operator").await;
    app_ready(&ops, "v1").await;
    release_flag(&ops).await;
    t
}

/// Runs a canary rollout of `version` whose audience phase has `gate`, to its end.
async fn run_with(t: &TestApp, version: &str, gate: Value) -> Value {
    run_as(t, "product-manager", version, gate).await
}

/// The same, planned and started by someone with `role`.
async fn run_as(t: &TestApp, role: &str, version: &str, gate: Value) -> Value {
    let who = Client::new(t, role).await;
    let id = start_rollout(&who, version, canary_plan(json!([gate]))).await;
    finished(&who, id, 40).await
}

fn status(view: &Value) -> &str {
    view["rollout"]["status"].as_str().unwrap_or("")
}

/// After a failed gate: the rollout rolled back, v1 alone serving, the flag off again.
async fn assert_rolled_back(t: &TestApp, view: &Value, gate_words: &str) {
    assert_eq!(status(view), "rolledBack", "{view:#}");
    let reason = view["rollout"]["reason"].as_str().unwrap_or("");
    assert!(reason.contains(gate_words), "{reason}");
    let ops = Client::new(t, "operator").await;
    served_only(t, "storefront", "v1", "after the rollback").await;
    app_ready(&ops, "v1").await;
    let flag = flag_targeting(&ops).await;
    assert_eq!(flag["enabled"], false, "the flag is off again: {flag}");
    assert_eq!(flag["rules"], json!([]), "{flag}");
}

#[tokio::test]
async fn a_health_check_passes_on_a_healthy_version_and_fails_on_an_erring_one() {
    let t = ready().await;
    let health =
        json!({"type": "healthCheck", "path": "/healthz", "times": 3, "timeoutSeconds": 5});
    let dev = Client::new(&t, "developer").await;
    let erring = json!({"namespace": "production", "app": "storefront", "version": "v3",
        "behaviour": {"errorRate": 1.0, "latencyP50Ms": 20.0, "latencyP99Ms": 40.0, "cpuMillicores": 100.0,
                      "memoryMib": 100.0, "conversionRate": 0.05, "health": "healthy"}});
    let (s, body) = dev
        .call(Method::PUT, "/api/v1/sandbox/profiles", Some(erring))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let bad = run_with(&t, "v3", health.clone()).await;
    assert_rolled_back(&t, &bad, "Health check").await;
    let g = gates_of(&bad, "healthCheck");
    assert_eq!(g[0]["status"], "failed");
    assert!(
        g[0]["summary"]
            .as_str()
            .unwrap_or("")
            .contains("answered 500"),
        "{}",
        g[0]
    );

    let good = run_with(&t, "v2", health).await;
    assert_eq!(status(&good), "succeeded", "{good:#}");
    let g = gates_of(&good, "healthCheck");
    assert_eq!(g.len(), 1);
    assert_eq!(g[0]["status"], "passed");
    assert_eq!(g[0]["evidence"]["inARow"], 3, "{}", g[0]);
    let pods = g[0]["evidence"]["rounds"][0]["answers"]
        .as_array()
        .map(Vec::len);
    assert_eq!(
        pods,
        Some(2),
        "half of three replicas: both canary pods asked"
    );
}

#[tokio::test]
async fn a_smoke_test_checks_status_text_and_json_and_names_what_differed() {
    let t = ready().await;
    let request = |version: &str| {
        json!({"type": "smokeTest", "requests": [
            {"path": "/api/cart", "status": 200, "bodyContains": "ok"},
            {"path": "/", "status": 200, "json": {"pointer": "/version", "equals": version}}]})
    };
    let wrong = run_with(&t, "v2", request("v9")).await;
    assert_rolled_back(&t, &wrong, "Smoke test").await;
    let g = gates_of(&wrong, "smokeTest");
    assert!(
        g[0]["summary"]
            .as_str()
            .unwrap_or("")
            .contains("/version is \"v2\", expected \"v9\""),
        "{}",
        g[0]
    );

    let good = run_with(&t, "v2", request("v2")).await;
    assert_eq!(status(&good), "succeeded", "{good:#}");
    let g = gates_of(&good, "smokeTest");
    assert_eq!(g[0]["evidence"]["requests"][1]["ok"], true, "{}", g[0]);
}

#[tokio::test]
async fn an_integration_test_job_passes_or_fails_with_its_logs_kept() {
    let t = ready().await;
    let job = |script: &str| {
        json!({"type": "integrationTest", "image": "registry.sandbox.local/checkout-tests:1.0",
               "command": ["sh", "-c", script], "timeoutSeconds": 20})
    };
    // Only an operator writes an integration test: it runs any image and command.
    let bad = run_as(&t, "operator", "v2", job("echo payment step broke; exit 3")).await;
    assert_rolled_back(&t, &bad, "Integration test").await;
    let g = gates_of(&bad, "integrationTest");
    let logs = g[0]["evidence"]["logs"].as_str().unwrap_or("");
    assert!(
        logs.contains("payment step broke") && logs.contains("exit status 1"),
        "{logs}"
    );

    let good = run_as(&t, "operator", "v2", job("echo checkout flow ok && exit 0")).await;
    assert_eq!(status(&good), "succeeded", "{good:#}");
    let g = gates_of(&good, "integrationTest");
    let logs = g[0]["evidence"]["logs"].as_str().unwrap_or("");
    assert!(
        logs.contains("checkout flow ok") && logs.contains("exit status 0"),
        "{logs}"
    );
    let selector = varai_domain::deploy::LabelSelector::default();
    let (jobs, _) = t
        .engine
        .deploy
        .sandbox
        .store
        .list(Kind::Job, None, &selector);
    assert!(jobs.is_empty(), "a finished test Job is deleted: {jobs:?}");

    // A product manager may not write one, but may use an operator's saved one unchanged.
    let pm = Client::new(&t, "product-manager").await;
    let plan = canary_plan(json!([job("exit 0")]));
    let draft = |template: Option<&str>| {
        json!({"title": "with tests", "template": template, "plan": plan, "start": false,
               "release": {"app": "storefront", "version": "v3", "flags": ["new-checkout"]}})
    };
    let rollouts = "/api/v1/environments/production/rollouts";
    let (s, body) = pm.call(Method::POST, rollouts, Some(draft(None))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let ops = Client::new(&t, "operator").await;
    let saved = json!({"description": "with the checkout tests", "plan": plan});
    let (s, body) = ops
        .call(
            Method::PUT,
            "/api/v1/plan-templates/checkout-tests",
            Some(saved),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = pm
        .call(Method::POST, rollouts, Some(draft(Some("checkout-tests"))))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_load_test_reports_its_figures_and_fails_over_its_thresholds() {
    let t = ready().await;
    let load = |p95: u32| {
        json!({"type": "loadTest", "rate": 50, "concurrency": 10, "durationSeconds": 2,
               "maxErrorPercent": 5.0, "maxP95Ms": p95})
    };
    let strict = run_with(&t, "v2", load(1)).await;
    assert_rolled_back(&t, &strict, "Load test").await;
    let summary = gates_of(&strict, "loadTest")[0]["summary"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(summary.contains("> 1 ms"), "{summary}");

    let good = run_with(&t, "v2", load(2000)).await;
    assert_eq!(status(&good), "succeeded", "{good:#}");
    let e = &gates_of(&good, "loadTest")[0]["evidence"];
    assert!(e["sent"].as_u64().unwrap_or(0) >= 80, "{e}");
    assert!(e["achievedRate"].as_f64().unwrap_or(0.0) > 30.0, "{e}");
    assert!(
        e["p95Ms"].as_f64().unwrap_or(0.0) > 10.0,
        "latency is measured: {e}"
    );
    assert_eq!(e["series"].as_array().map(Vec::len), Some(2), "{e}");
}

#[tokio::test]
async fn an_approval_needs_its_role_and_four_eyes() {
    let t = ready().await;
    let pm = Client::new(&t, "product-manager").await;
    let approval = json!({"type": "approval", "role": "operator", "fourEyes": true});
    let id = start_rollout(&pm, "v2", canary_plan(json!([approval]))).await;
    wait_rollout(&pm, id, "the approval to be asked", 20, |v| {
        gates_of(v, "approval")
            .first()
            .is_some_and(|g| g["status"] == "running")
    })
    .await;
    let approve = |c: &'static str| json!({"comment": c});
    let path = format!("/api/v1/rollouts/{id}/approve");
    let (s, body) = pm
        .call(Method::POST, &path, Some(approve("looks fine to me")))
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a product manager cannot give an operator's approval: {body}"
    );
    let ops = Client::new(&t, "operator").await;
    let (s, body) = ops
        .call(Method::POST, &path, Some(json!({"comment": "  "})))
        .await;
    assert_eq!(
        (s, body["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("comment"))
    );
    let (s, body) = ops
        .call(Method::POST, &path, Some(approve("canary is healthy")))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let done = finished(&pm, id, 30).await;
    assert_eq!(status(&done), "succeeded", "{done:#}");
    let g = gates_of(&done, "approval");
    assert_eq!(g[0]["evidence"]["comment"], "canary is healthy");
    assert!(
        timeline(&done).contains("approved by token:"),
        "{}",
        timeline(&done)
    );

    // Four eyes: whoever started it cannot approve it, however senior.
    let id = start_rollout(&ops, "v1", canary_plan(json!([approval]))).await;
    wait_rollout(&ops, id, "the approval to be asked", 20, |v| {
        gates_of(v, "approval")
            .first()
            .is_some_and(|g| g["status"] == "running")
    })
    .await;
    let path = format!("/api/v1/rollouts/{id}/approve");
    let (s, body) = ops.call(Method::POST, &path, Some(approve("mine"))).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("four eyes"),
        "{body}"
    );
}

async fn waiting_approval(c: &Client<'_>, id: i64) {
    wait_rollout(c, id, "the approval to be asked", 20, |v| {
        gates_of(v, "approval")
            .first()
            .is_some_and(|g| g["status"] == "running")
    })
    .await;
}

async fn approve(c: &Client<'_>, id: i64) -> (StatusCode, Value) {
    let path = format!("/api/v1/rollouts/{id}/approve");
    c.call(Method::POST, &path, Some(json!({"comment": "ok"})))
        .await
}

async fn skip(c: &Client<'_>, id: i64) -> (StatusCode, Value) {
    let path = format!("/api/v1/rollouts/{id}/skip");
    c.call(Method::POST, &path, Some(json!({"reason": "in a hurry"})))
        .await
}

fn says(body: &Value, words: &str) -> bool {
    body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains(words))
}

#[tokio::test]
async fn four_eyes_excludes_the_template_authors_the_editors_the_starter_and_token_creators() {
    let t = ready().await;
    let approval = json!({"type": "approval", "role": "product-manager", "fourEyes": true});
    // Erin writes a template; Frank plans a rollout from it; Gina edits and starts it through
    // a token she created.
    let erin = Client::of(&t, "product-manager", "erin").await;
    let template =
        json!({"description": "canary with sign-off", "plan": canary_plan(json!([approval]))});
    let (s, body) = erin
        .call(
            Method::PUT,
            "/api/v1/plan-templates/signed-canary",
            Some(template),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let frank = Client::of(&t, "product-manager", "frank").await;
    let draft = json!({"title": "storefront v2", "template": "signed-canary",
        "release": {"app": "storefront", "version": "v2", "flags": ["new-checkout"]}});
    let (s, body) = frank
        .call(
            Method::POST,
            "/api/v1/environments/production/rollouts",
            Some(draft.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().expect("an id");
    let gina = Client::of(&t, "operator", "gina").await;
    let path = format!("/api/v1/rollouts/{id}");
    let (s, body) = gina.call(Method::PUT, &path, Some(draft)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = gina
        .call(Method::POST, &format!("{path}/start"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    waiting_approval(&gina, id).await;

    // None of them may approve, through any of their tokens; nor may Skip pass the approval.
    for (who, role) in [("erin", "admin"), ("frank", "admin"), ("gina", "admin")] {
        let c = Client::of(&t, role, who).await;
        let (s, body) = approve(&c, id).await;
        assert_eq!(s, StatusCode::CONFLICT, "{who}: {body}");
        assert!(says(&body, "four eyes"), "{body}");
        let (s, body) = skip(&c, id).await;
        assert_eq!(s, StatusCode::CONFLICT, "{who} skips: {body}");
        assert!(says(&body, "without its approval"), "{body}");
    }
    // Someone who wrote nothing and holds the role may give it, or skip past it.
    let dev_ops = Client::of(&t, "operator", "hal").await;
    let (s, body) = skip(&dev_ops, id).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "an operator who wrote nothing may skip (and approve): {body}"
    );
    let done = finished(&gina, id, 30).await;
    assert_eq!(status(&done), "succeeded", "{done:#}");
}

#[tokio::test]
async fn skip_never_passes_an_approval_its_caller_could_not_give() {
    let t = ready().await;
    let approval = json!({"type": "approval", "role": "admin"});
    let pm = Client::of(&t, "product-manager", "ivy").await;
    let id = start_rollout(&pm, "v2", canary_plan(json!([approval]))).await;
    waiting_approval(&pm, id).await;
    let ops = Client::of(&t, "operator", "jon").await;
    let (s, body) = skip(&ops, id).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert!(says(&body, "admin or above"), "{body}");
    let admin = Client::of(&t, "admin", "kim").await;
    let (s, body) = approve(&admin, id).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let done = finished(&pm, id, 30).await;
    assert_eq!(status(&done), "succeeded", "{done:#}");
}
