//! The monitoring REST API and the Alertmanager webhook on SQLite and PostgreSQL: analysis
//! templates, alert rules, saved queries and Prometheus settings with their refusals and
//! roles; webhook payloads refused when malformed or unauthenticated; and analysis reporting
//! Error, pausing the deployment, when there is no Prometheus at all.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::deployments::{APP, app_ready, wait_within};
use common::{Backend, Client, TestApp, body_json};
use serde_json::{Value, json};

fn field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

/// A template with a bad interval, query or condition, or saved under another name, is
/// refused naming the field.
async fn bad_templates_are_refused_by_field(ops: &Client<'_>, quick: &Value) {
    let mut bad = quick.clone();
    bad["metrics"][0]["interval"] = json!(0);
    let (status, body) = ops
        .call(Method::PUT, "/api/v1/analysis-templates/quick", Some(bad))
        .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::BAD_REQUEST, "metrics[0].interval"),
        "{body}"
    );
    let mut bad = quick.clone();
    bad["metrics"][0]["query"] = json!("up{job=\"{{job}}\"}");
    let (status, body) = ops
        .call(Method::PUT, "/api/v1/analysis-templates/quick", Some(bad))
        .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "metrics[0].query"),
        "a placeholder outside the five is a rule the document states in words: {body}"
    );
    let mut bad = quick.clone();
    bad["metrics"][0]["successCondition"] = json!("result about 1");
    let (status, body) = ops
        .call(Method::PUT, "/api/v1/analysis-templates/quick", Some(bad))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("comparison"),
        "{body}"
    );
    let (status, body) = ops
        .call(
            Method::PUT,
            "/api/v1/analysis-templates/other",
            Some(quick.clone()),
        )
        .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "name"),
        "the body's name contradicts the path's: {body}"
    );
}

async fn templates_are_seeded_edited_and_checked(backend: Backend) {
    let t = TestApp::new(backend).await;
    let ops = Client::new(&t, "operator").await;
    let dev = Client::new(&t, "developer").await;
    let (status, list) = dev
        .call(Method::GET, "/api/v1/analysis-templates", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list
        .as_array()
        .expect("templates")
        .iter()
        .filter_map(|t| t["template"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "conversion-vs-stable",
            "error-rate",
            "error-rate-vs-stable",
            "latency-p95"
        ]
    );

    let quick = json!({"name": "quick", "description": "one fast look",
        "metrics": [{"name": "up", "query": "vector(1)", "interval": 1, "count": 1, "successCondition": "result == 1"}]});
    let (status, _) = dev
        .call(
            Method::PUT,
            "/api/v1/analysis-templates/quick",
            Some(quick.clone()),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "developers read templates; operators edit them"
    );
    let (status, saved) = ops
        .call(
            Method::PUT,
            "/api/v1/analysis-templates/quick",
            Some(quick.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["template"]["metrics"][0]["consecutiveErrorLimit"], 4);

    bad_templates_are_refused_by_field(&ops, &quick).await;

    // A deployment naming a template that does not exist is refused by field, as a clash with
    // what is stored (409).
    app_ready(&ops, "v1").await;
    let (status, body) = ops
        .call(
            Method::POST,
            &format!("{APP}/deployments"),
            Some(json!({"version": "v2", "analysis": ["nope"],
            "strategy": {"type": "canary", "steps": [{"setWeight": 50}]}})),
        )
        .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::CONFLICT, "analysis[0]"),
        "{body}"
    );
    let (status, body) = ops
        .call(Method::POST, &format!("{APP}/deployments"), Some(json!({"version": "v2",
            "strategy": {"type": "canary", "steps": [{"setWeight": 50}, {"analysis": {"templates": ["error-rate", "gone"]}}]}})))
        .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::CONFLICT, "steps[1].analysis.templates"),
        "{body}"
    );

    let (status, _) = ops
        .call(Method::DELETE, "/api/v1/analysis-templates/quick", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = ops
        .call(Method::DELETE, "/api/v1/analysis-templates/quick", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) = Client::new(&t, "admin")
        .await
        .call(Method::GET, "/api/v1/audit?limit=10", None)
        .await;
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"analysis_template.save")
            && actions.contains(&"analysis_template.delete"),
        "{actions:?}"
    );
}

async fn rules_queries_and_prometheus_settings_name_their_problems(backend: Backend) {
    let t = TestApp::new(backend).await;
    let ops = Client::new(&t, "operator").await;
    let rules = "/api/v1/environments/production/alert-rules";
    let rule = json!({"name": "errors", "app": "storefront", "query": "vector(1)", "condition": "result > 5", "forSeconds": 30});
    let mut bad = rule.clone();
    bad["condition"] = json!("more than 5");
    let (status, body) = ops.call(Method::POST, rules, Some(bad)).await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::BAD_REQUEST, "condition"),
        "{body}"
    );
    let mut bad = rule.clone();
    bad["app"] = json!("billing");
    // A well-formed name of an app the environment does not have: a conflict, naming it.
    let (status, body) = ops.call(Method::POST, rules, Some(bad)).await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::CONFLICT, "app"),
        "{body}"
    );
    let (status, body) = Client::new(&t, "developer")
        .await
        .call(Method::POST, rules, Some(rule.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = ops.call(Method::POST, rules, Some(rule)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["state"]["state"], "inactive");
    let (_, list) = ops.call(Method::GET, rules, None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let (status, _) = ops
        .call(Method::DELETE, &format!("{rules}/errors"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let queries = "/api/v1/environments/production/queries";
    let q = json!({"name": "Orders per second", "query": "sum(rate(checkout_conversions_total[1m]))", "unit": "orders/s"});
    let (status, saved) = ops.call(Method::POST, queries, Some(q.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    let (status, body) = ops.call(Method::POST, queries, Some(q)).await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::CONFLICT, "name"),
        "{body}"
    );
    let (status, body) = ops
        .call(
            Method::POST,
            queries,
            Some(json!({"name": "", "query": "up"})),
        )
        .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::BAD_REQUEST, "name"),
        "{body}"
    );
    let (status, _) = ops
        .call(Method::DELETE, &format!("{queries}/{}", saved["id"]), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let source = "/api/v1/environments/production/prometheus";
    let (_, none) = ops.call(Method::GET, source, None).await;
    assert_eq!(none["healthy"], false);
    assert_eq!(none["origin"], "none");
    assert!(
        none["message"]
            .as_str()
            .unwrap_or("")
            .contains("no Prometheus"),
        "{none}"
    );
    let (status, _) = ops
        .call(
            Method::PUT,
            source,
            Some(json!({"url": "http://127.0.0.1:9090"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins only");
    let admin = Client::new(&t, "admin").await;
    let (status, body) = admin
        .call(
            Method::PUT,
            source,
            Some(json!({"url": "ftp://prometheus"})),
        )
        .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::BAD_REQUEST, "url"),
        "{body}"
    );
    let (status, body) = admin
        .call(
            Method::PUT,
            source,
            Some(json!({"url": "http://127.0.0.1:9"})),
        )
        .await;
    // A well-formed URL whose Prometheus does not answer: 409 naming the field, not a 5xx.
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::CONFLICT, Some("url")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("keeps the Prometheus it had"),
        "{body}"
    );
}

async fn post_hook(t: &TestApp, path: &str, auth: Option<&str>, body: &str) -> (StatusCode, Value) {
    let mut req = Request::post(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, format!("Bearer {a}"));
    }
    let res = t
        .send(req.body(Body::from(body.to_owned())).expect("request"))
        .await;
    let status = res.status();
    (status, body_json(res).await)
}

fn notification(status: &str, labels: Value) -> String {
    json!({"version": "4", "groupKey": "{}:{alertname=\"X\"}", "status": status, "receiver": "varai",
        "groupLabels": {}, "commonLabels": labels, "commonAnnotations": {}, "externalURL": "http://am",
        "truncatedAlerts": 0,
        "alerts": [{"status": status, "labels": labels, "annotations": {"summary": "s"},
                    "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prom", "fingerprint": "abc"}]})
    .to_string()
}

async fn the_webhook_refuses_malformed_and_unauthenticated_payloads(backend: Backend) {
    let t = TestApp::new(backend).await;
    let hook = "/hooks/alertmanager";
    let labels = json!({"alertname": "X", "app": "storefront", "environment": "production"});
    let good = notification("resolved", labels.clone());
    let (status, _) = post_hook(&t, hook, None, &good).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post_hook(&t, hook, Some("not-a-token"), &good).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let viewer = t.token("viewer").await;
    let (status, _) = post_hook(&t, hook, Some(&viewer), &good).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a viewer's token cannot roll back"
    );
    let token = t.token("operator").await;
    let (status, body) =
        post_hook(&t, hook, Some(&token), "{\"version\": \"4\", \"alerts\": [").await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::BAD_REQUEST, "body"),
        "{body}"
    );
    let old = good.replace("\"version\":\"4\"", "\"version\":\"3\"");
    let (status, body) = post_hook(&t, hook, Some(&token), &old).await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::BAD_REQUEST, "version"),
        "{body}"
    );
    let odd = notification("pending", labels.clone());
    let (status, body) = post_hook(&t, hook, Some(&token), &odd).await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::BAD_REQUEST, "alerts.status"),
        "{body}"
    );
    let (status, body) = post_hook(&t, &format!("{hook}?token={token}"), None, &good).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a token in the URL works too: {body}"
    );
    assert_eq!(body["actions"][0], "X (resolved): resolved: recorded");
    let stray = notification("firing", json!({"alertname": "Y", "app": "billing"}));
    let (status, body) = post_hook(&t, hook, Some(&token), &stray).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["actions"][0]
            .as_str()
            .unwrap_or("")
            .contains("recorded only"),
        "{body}"
    );
    let ops = Client::new(&t, "operator").await;
    let (_, alerts) = ops
        .call(Method::GET, "/api/v1/environments/production/alerts", None)
        .await;
    let names: Vec<&str> = alerts
        .as_array()
        .expect("alerts")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["Y", "X"], "both recorded, newest first");
}

async fn without_prometheus_analysis_reports_error_and_pauses(backend: Backend) {
    let t = TestApp::new(backend).await;
    let ops = Client::new(&t, "operator").await;
    let quick = json!({"name": "quick", "metrics": [{"name": "up", "query": "vector(1)", "interval": 1, "count": 3,
        "consecutiveErrorLimit": 0, "successCondition": "result == 1"}]});
    let (status, _) = ops
        .call(Method::PUT, "/api/v1/analysis-templates/quick", Some(quick))
        .await;
    assert_eq!(status, StatusCode::OK);
    app_ready(&ops, "v1").await;
    let (status, body) = ops
        .call(Method::POST, &format!("{APP}/deployments"), Some(json!({"version": "v2",
            "strategy": {"type": "canary", "steps": [{"setWeight": 50}, {"analysis": {"templates": ["quick"]}}, {"pause": {}}]}})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().expect("id");
    let paused = wait_within(&ops, id, "the pause", 20, |d| d["paused"] == true).await;
    assert_eq!(
        paused["deployment"]["stage"]["step"], 1,
        "not past the analysis step"
    );
    let (_, runs) = ops
        .call(
            Method::GET,
            &format!("/api/v1/deployments/{id}/analysis-runs"),
            None,
        )
        .await;
    assert_eq!(runs[0]["phase"], "error", "{runs:#}");
    let m = &runs[0]["metrics"][0]["measurements"][0];
    assert_eq!(m["phase"], "error");
    assert!(
        m["message"]
            .as_str()
            .unwrap_or("")
            .contains("no Prometheus in this test"),
        "{m}"
    );
}

on_both_backends!(
    templates_are_seeded_edited_and_checked,
    rules_queries_and_prometheus_settings_name_their_problems,
    the_webhook_refuses_malformed_and_unauthenticated_payloads,
    without_prometheus_analysis_reports_error_and_pauses,
);
