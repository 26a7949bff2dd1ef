//! The default plan run in the sandbox against a real Prometheus, with short bake times and
//! quick analysis templates: from Planning to Monitoring with the approvals given through the
//! API; and the same plan with the version turning bad in Beta, rolled back by itself with
//! the flag and the deployment as they were.

mod common;

use axum::http::{Method, StatusCode};
use common::deployments::{app_ready, served_only};
use common::observe::prometheus_scraping;
use common::rollouts::{finished, flag_targeting, gates_of, release_flag, timeline, wait_rollout};
use common::{AbortOnDrop, Backend, Client, TestApp};
use serde_json::{Value, json};
use varai_domain::sandbox::{Behaviour, seeded_behaviour};
use varai_server::monitor::ServerPrometheus;

/// Both versions answer without errors and convert every checkout visit, so the analysis
/// verdicts on a good release are certain.
fn steady(version: &str) -> Behaviour {
    Behaviour {
        error_rate: 0.0,
        conversion_rate: 1.0,
        ..seeded_behaviour(version)
    }
}

async fn observed() -> (TestApp, AbortOnDrop, common::observe::Scraped) {
    let t = TestApp::new(Backend::Sqlite).await;
    let (addr, server) = t.serve();
    let scraped = prometheus_scraping(addr).await;
    t.engine
        .monitor
        .set_server_prometheus(ServerPrometheus::Own(scraped.prometheus.url.clone()));
    let sim = &t.engine.deploy.sandbox.simulation;
    for v in ["v1", "v2"] {
        sim.set_behaviour("production", "storefront", v, steady(v));
    }
    sim.set_rate("production", "storefront", 100.0);
    (t, server, scraped)
}

/// The seeded analysis templates measured every second, twice.
async fn quick_templates(ops: &Client<'_>) {
    let (_, list) = ops
        .call(Method::GET, "/api/v1/analysis-templates", None)
        .await;
    for record in list.as_array().cloned().unwrap_or_default() {
        let mut t = record["template"].clone();
        for m in t["metrics"].as_array_mut().into_iter().flatten() {
            m["interval"] = json!(1);
            m["count"] = json!(2);
        }
        let name = t["name"].as_str().unwrap_or("").to_owned();
        let (s, body) = ops
            .call(
                Method::PUT,
                &format!("/api/v1/analysis-templates/{name}"),
                Some(t),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
}

/// The default template with bake times of (almost) nothing and a two-second load test.
async fn short_default_plan(c: &Client<'_>) -> Value {
    let (_, templates) = c.call(Method::GET, "/api/v1/plan-templates", None).await;
    let mut plan = templates
        .as_array()
        .and_then(|t| t.iter().find(|x| x["name"] == "default"))
        .map(|t| t["plan"].clone())
        .expect("the default template is seeded");
    for phase in plan["phases"].as_array_mut().into_iter().flatten() {
        phase["bakeSeconds"] = json!(if phase["kind"] == "monitoring" { 1 } else { 0 });
        for step in phase
            .get_mut("steps")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            step["bakeSeconds"] = json!(0);
        }
        for gate in phase
            .get_mut("gates")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if gate["type"] == "loadTest" {
                gate["durationSeconds"] = json!(2);
                gate["rate"] = json!(20);
            }
        }
    }
    plan
}

async fn start_default(pm: &Client<'_>) -> i64 {
    let plan = short_default_plan(pm).await;
    let body = json!({"title": "storefront v2 with the new checkout",
        "release": {"app": "storefront", "version": "v2", "flags": ["new-checkout"]},
        "template": "default", "plan": plan, "start": true});
    let (s, r) = pm
        .call(
            Method::POST,
            "/api/v1/environments/production/rollouts",
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    r["id"].as_i64().expect("an id")
}

fn at_phase(v: &Value, phase: u64) -> bool {
    v["rollout"]["position"]["phase"].as_u64() == Some(phase)
}

async fn approve_when_asked(c: &Client<'_>, id: i64, phase: u64, comment: &str) {
    wait_rollout(c, id, "an approval to be asked", 90, |v| {
        at_phase(v, phase)
            && gates_of(v, "approval")
                .iter()
                .any(|g| g["phase"] == phase && g["status"] == "running")
    })
    .await;
    let (s, body) = c
        .call(
            Method::POST,
            &format!("/api/v1/rollouts/{id}/approve"),
            Some(json!({"comment": comment})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_default_plan_runs_from_planning_to_monitoring_with_approvals_through_the_api() {
    let (t, _server, _prom) = observed().await;
    let ops = Client::new(&t, "operator").await;
    let pm = Client::new(&t, "product-manager").await;
    app_ready(&ops, "v1").await;
    release_flag(&ops).await;
    quick_templates(&ops).await;
    let id = start_default(&pm).await;

    // Planning: four eyes, so the product manager who started it cannot approve it.
    wait_rollout(&pm, id, "Planning's approval", 20, |v| {
        !gates_of(v, "approval").is_empty()
    })
    .await;
    let path = format!("/api/v1/rollouts/{id}/approve");
    let (s, _) = pm
        .call(Method::POST, &path, Some(json!({"comment": "mine"})))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    approve_when_asked(&ops, id, 0, "plan reviewed").await;
    // Beta asks the product manager.
    approve_when_asked(&pm, id, 4, "beta feedback is good").await;

    let done = finished(&pm, id, 180).await;
    assert_eq!(done["rollout"]["status"], "succeeded", "{done:#}");
    let text = timeline(&done);
    let order = [
        "Planning: approved by",
        "Preparation passed; entering Internal Testing",
        "Internal Testing: audience in place — segments internal; 5% of traffic",
        "Alpha: audience in place — segments internal, alpha-testers; 5% of traffic",
        "Beta: approved by",
        "Gradual Rollout 5%: audience in place",
        "Gradual Rollout 50%: audience in place — segments internal, alpha-testers, beta-testers; 50% of users; 50% of traffic",
        "Full Rollout: everyone has the release",
        "Monitoring passed; the rollout is complete",
    ];
    let mut from = 0;
    for line in order {
        let at = text[from..]
            .find(line)
            .unwrap_or_else(|| panic!("'{line}' missing or out of order in:\n{text}"));
        from += at;
    }
    let gates = done["gates"].as_array().cloned().unwrap_or_default();
    assert!(gates.len() >= 12, "{gates:?}");
    assert!(
        gates.iter().all(|g| g["status"] == "passed"),
        "every gate passed: {gates:#?}"
    );
    let analysis = gates_of(&done, "analysis");
    assert!(analysis[0]["evidence"]["measurements"][0]["value"].is_number());
    app_ready(&ops, "v2").await;
    let flag = flag_targeting(&ops).await;
    assert_eq!(
        flag["rules"][0]["description"],
        format!("rollout #{id}: everyone")
    );
    assert_eq!(flag["rules"][0]["rollout"], 100);
}

#[tokio::test]
async fn a_version_turning_bad_in_beta_is_rolled_back_with_its_flag_and_deployment() {
    let (t, _server, _prom) = observed().await;
    let ops = Client::new(&t, "operator").await;
    let pm = Client::new(&t, "product-manager").await;
    app_ready(&ops, "v1").await;
    release_flag(&ops).await;
    quick_templates(&ops).await;
    let flag_before = flag_targeting(&ops).await;
    let id = start_default(&pm).await;
    approve_when_asked(&ops, id, 0, "plan reviewed").await;
    wait_rollout(&pm, id, "Beta", 120, |v| at_phase(v, 4)).await;
    let bad = Behaviour {
        error_rate: 0.5,
        ..steady("v2")
    };
    t.engine
        .deploy
        .sandbox
        .simulation
        .set_behaviour("production", "storefront", "v2", bad);

    let done = finished(&pm, id, 60).await;
    assert_eq!(done["rollout"]["status"], "rolledBack", "{done:#}");
    assert!(at_phase(&done, 4), "it stopped in Beta: {done:#}");
    let reason = done["rollout"]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("failed"), "{reason}");
    // The Beta gates still running stop with the rollout, without a verdict.
    let after = wait_rollout(&pm, id, "Beta's gates to stop", 10, |v| {
        v["gates"]
            .as_array()
            .is_some_and(|g| g.iter().all(|g| g["status"] != "running"))
    })
    .await;
    let beta: Vec<&Value> = after["gates"]
        .as_array()
        .map(|g| g.iter().filter(|g| g["phase"] == 4).collect())
        .unwrap_or_default();
    assert!(beta.iter().any(|g| g["status"] == "failed"), "{beta:#?}");
    assert!(
        gates_of(&after, "approval")
            .iter()
            .any(|g| g["phase"] == 4 && g["status"] == "inconclusive"),
        "nobody approved Beta: the product rolled back by itself"
    );
    served_only(&t, "storefront", "v1", "after the rollback").await;
    app_ready(&ops, "v1").await;
    assert_eq!(
        flag_targeting(&ops).await,
        flag_before,
        "the flag is exactly as it was"
    );
    let deployment = done["rollout"]["deploymentId"]
        .as_i64()
        .expect("a deployment");
    let (_, d) = ops
        .call(
            Method::GET,
            &format!("/api/v1/deployments/{deployment}"),
            None,
        )
        .await;
    assert_eq!(d["deployment"]["stage"]["step"], "rolledBack", "{d:#}");
}

#[tokio::test]
async fn a_template_is_changed_by_its_owner_or_by_its_minimum_role_and_above() {
    let t = TestApp::new(Backend::Sqlite).await;
    let lee = Client::of(&t, "product-manager", "lee").await;
    let max = Client::of(&t, "product-manager", "max").await;
    let path = "/api/v1/plan-templates/lee-plan";
    let plan = json!({"phases": [{"name": "Full Rollout", "kind": "full"}]});
    let save = |min_role: Option<&str>| {
        let mut body = json!({"description": "quick", "plan": plan.clone()});
        if let Some(r) = min_role {
            body["minRole"] = json!(r);
        }
        body
    };
    let (s, body) = lee.call(Method::PUT, path, Some(save(None))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        (body["owner"].as_str(), body["minRole"].as_str()),
        (Some("lee"), Some("product-manager"))
    );
    // Another product manager may change it while its minimum role is theirs…
    let (s, body) = max.call(Method::PUT, path, Some(save(None))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // …but not decide who else may.
    let (s, _) = max
        .call(Method::PUT, path, Some(save(Some("operator"))))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) = lee
        .call(Method::PUT, path, Some(save(Some("operator"))))
        .await;
    assert_eq!(
        (s, body["minRole"].as_str()),
        (StatusCode::OK, Some("operator")),
        "{body}"
    );
    let (s, _) = max.call(Method::PUT, path, Some(save(None))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "now it takes an operator");
    let (s, _) = max.call(Method::DELETE, path, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let ops = Client::of(&t, "operator", "ned").await;
    let (s, body) = ops.call(Method::PUT, path, Some(save(None))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body["owner"], "lee",
        "saving does not take the template over"
    );
    let (s, _) = lee.call(Method::DELETE, path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "its owner may delete it");
}
