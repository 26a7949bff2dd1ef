//! Monitoring against a real Prometheus (Debian package) scraping the sandbox every second
//! and a real Alertmanager: charts per version, analysis verdicts for a good and a bad
//! version, Prometheus stopping mid-analysis, alert rules and Alertmanager's webhook rolling
//! a deployment back.

mod common;

use axum::http::{Method, StatusCode};
use common::deployments::{APP, app_ready, outcome, served_by, stage, start, wait_within};
use common::observe::{alertmanager, prometheus_scraping};
use common::{Backend, Client, TestApp};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use varai_domain::sandbox::Behaviour;
use varai_server::monitor::ServerPrometheus;

/// The app with its own Prometheus scraping it; v2 answers no errors, so verdicts on it are
/// certain.
async fn observed() -> (TestApp, common::AbortOnDrop, common::observe::Scraped) {
    let t = TestApp::new(Backend::Sqlite).await;
    let (addr, server) = t.serve();
    let scraped = prometheus_scraping(addr).await;
    t.engine
        .monitor
        .set_server_prometheus(ServerPrometheus::Own(scraped.prometheus.url.clone()));
    let good = Behaviour {
        error_rate: 0.0,
        ..varai_domain::sandbox::seeded_behaviour("v2")
    };
    t.engine
        .deploy
        .sandbox
        .simulation
        .set_behaviour("production", "storefront", "v2", good);
    (t, server, scraped)
}

fn timeline(body: &Value) -> Vec<String> {
    body["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["message"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn runs(c: &Client<'_>, id: i64) -> Value {
    let (status, body) = c
        .call(
            Method::GET,
            &format!("/api/v1/deployments/{id}/analysis-runs"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Waits for deployment `id` to end, and checks nobody but the product rolled it back.
async fn rolled_back_by_itself(c: &Client<'_>, id: i64, what: &str) -> Value {
    let done = wait_within(c, id, what, 40, |d| outcome(d).is_some()).await;
    assert_eq!(outcome(&done["deployment"]).as_deref(), Some("rolledBack"));
    done
}

/// A chart series' latest value (0 without points).
fn last_rate(series: &Value) -> f64 {
    series["points"]
        .as_array()
        .and_then(|p| p.last())
        .and_then(|p| p[1].as_f64())
        .unwrap_or(0.0)
}

/// The charts: every metric in order, request rates for both versions, latency percentiles
/// per version, and no error.
fn every_metric_is_charted_per_version(charts: &Value) {
    let keys: Vec<&str> = charts["charts"]
        .as_array()
        .expect("charts")
        .iter()
        .filter_map(|c| c["key"].as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "requests",
            "errors",
            "latency",
            "cpu",
            "memory",
            "conversion"
        ]
    );
    let requests = &charts["charts"][0];
    assert_eq!(requests["unit"], "req/s");
    for series in requests["series"].as_array().expect("series") {
        let rate = last_rate(series);
        assert!(
            rate > 0.5,
            "{} serves traffic: {rate} req/s",
            series["label"]
        );
    }
    let latency: Vec<&str> = charts["charts"][2]["series"]
        .as_array()
        .expect("latency series")
        .iter()
        .filter_map(|s| s["label"].as_str())
        .collect();
    for expected in ["v1 p50", "v1 p95", "v1 p99", "v2 p50", "v2 p95", "v2 p99"] {
        assert!(
            latency.contains(&expected),
            "{expected} missing from {latency:?}"
        );
    }
    assert!(
        charts["charts"][1]["error"].is_null(),
        "{}",
        charts["charts"][1]
    );
}

#[tokio::test]
async fn charts_split_each_metric_by_version_and_update_from_where_they_left_off() {
    let (t, _server, _prom) = observed().await;
    let ops = Client::new(&t, "operator").await;
    app_ready(&ops, "v1").await;
    let steps = json!({"type": "canary", "steps": [{"setWeight": 50}, {"pause": {}}]});
    let id = start(&ops, "v2", steps).await;
    wait_within(&ops, id, "the pause", 20, |d| {
        d["waiting"] == "paused until someone promotes"
    })
    .await;
    // Both versions need a few scrapes of traffic: a rate is low while its window fills.
    let deadline = Instant::now() + Duration::from_secs(30);
    let charts = loop {
        let (status, body) = ops
            .call(Method::GET, &format!("{APP}/metrics?range=5m"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let requests = &body["charts"][0];
        let versions: Vec<&str> = requests["series"]
            .as_array()
            .map(|s| s.iter().filter_map(|x| x["version"].as_str()).collect())
            .unwrap_or_default();
        let all_flowing = requests["series"]
            .as_array()
            .is_some_and(|s| s.iter().all(|x| last_rate(x) > 0.5));
        if versions == ["v1", "v2"] && all_flowing {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "no per-version request rates: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    every_metric_is_charted_per_version(&charts);

    // A live update asks only for what came after the last point.
    let end = charts["end"].as_f64().expect("end");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (_, update) = ops
        .call(
            Method::GET,
            &format!("{APP}/metrics?range=5m&since={end}"),
            None,
        )
        .await;
    assert!(update["start"].as_f64() > Some(end), "{update}");
    let newest = update["charts"][0]["series"][0]["points"]
        .as_array()
        .expect("points");
    assert!(
        !newest.is_empty() && newest.len() <= 5,
        "only the new points: {newest:?}"
    );
    assert!(newest.iter().all(|p| p[0].as_f64() > Some(end)));

    // Saved queries join the charts; bad PromQL shows Prometheus' own message.
    let (status, _) = ops
        .call(
            Method::POST,
            "/api/v1/environments/production/queries",
            Some(
                json!({"name": "Broken", "query": "sum(rate(http_requests_total[1m]", "unit": "x"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, with_saved) = ops.call(Method::GET, &format!("{APP}/metrics"), None).await;
    let broken = with_saved["charts"]
        .as_array()
        .and_then(|c| c.iter().find(|x| x["title"] == "Broken"))
        .expect("the saved query's chart")
        .clone();
    let message = broken["error"].as_str().unwrap_or_default();
    assert!(message.contains("parse error"), "{broken}");

    let (_, source) = ops
        .call(
            Method::GET,
            "/api/v1/environments/production/prometheus",
            None,
        )
        .await;
    assert_eq!(source["healthy"], true, "{source}");
    assert_eq!(source["origin"], "server");
}

#[tokio::test]
async fn a_good_canary_passes_its_analysis_step_and_moves_on() {
    let (t, _server, _prom) = observed().await;
    let ops = Client::new(&t, "operator").await;
    app_ready(&ops, "v1").await;
    let steps = json!({"type": "canary", "steps": [{"setWeight": 50},
        {"analysis": {"templates": ["error-rate", "latency-p95"]}}, {"pause": {}}]});
    let id = start(&ops, "v2", steps).await;
    let passed = wait_within(&ops, id, "the analysis to pass", 40, |d| {
        d["stage"] == json!({"stage": "step", "step": 2})
    })
    .await;
    let runs = runs(&ops, id).await;
    assert_eq!(runs[0]["phase"], "successful", "{runs:#}");
    for metric in runs[0]["metrics"].as_array().expect("metrics") {
        let values: Vec<f64> = metric["measurements"]
            .as_array()
            .expect("measurements")
            .iter()
            .filter_map(|m| m["value"].as_f64())
            .collect();
        assert!(values.len() >= 5, "{metric:#}");
        let limit = if metric["unit"] == "ms" { 300.0 } else { 1.0 };
        assert!(values.iter().all(|v| *v < limit), "{metric:#}");
    }
    assert!(
        timeline(&passed)
            .iter()
            .any(|m| m.starts_with("Analysis of step 2 #")),
        "{:#?}",
        timeline(&passed)
    );
}

#[tokio::test]
async fn a_bad_canary_fails_its_background_analysis_and_is_rolled_back_by_itself() {
    let (t, _server, _prom) = observed().await;
    let ops = Client::new(&t, "operator").await;
    app_ready(&ops, "v1").await;
    let (status, body) = ops
        .call(
            Method::POST,
            &format!("{APP}/deployments"),
            Some(json!({"version": "v3", "analysis": ["error-rate"],
                        "strategy": {"type": "canary", "steps": [{"setWeight": 50}, {"pause": {}}]}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().expect("id");
    let done = rolled_back_by_itself(&ops, id, "the automated rollback").await;
    let why = timeline(&done)
        .into_iter()
        .find(|m| m.contains("automated rollback"))
        .expect("the rollback says why");
    for part in [
        "by analysis",
        "background analysis",
        "error-rate/error-rate",
        "result < 1",
        "%",
    ] {
        assert!(why.contains(part), "{part} missing from: {why}");
    }
    app_ready(&ops, "v1").await;
    assert_eq!(served_by(&t, "storefront", 100).await, ["v1"]);
    let runs = runs(&ops, id).await;
    assert_eq!(runs[0]["phase"], "failed", "{runs:#}");
}

#[tokio::test]
async fn prometheus_stopping_mid_analysis_pauses_the_deployment_and_never_passes_it() {
    let (t, _server, _prom) = observed().await;
    let (addr, _server2) = t.serve();
    let second = prometheus_scraping(addr).await;
    let admin = Client::new(&t, "admin").await;
    // Behind basic auth, as a hosted Prometheus is: the credentials are used, never shown.
    let with_credentials = second
        .prometheus
        .url
        .replacen("://", "://grafana:s3cret@", 1);
    let (status, body) = admin
        .call(
            Method::PUT,
            "/api/v1/environments/production/prometheus",
            Some(json!({"url": with_credentials})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["origin"], "environment");
    let viewer = Client::new(&t, "viewer").await;
    let (_, shown) = viewer
        .call(
            Method::GET,
            "/api/v1/environments/production/prometheus",
            None,
        )
        .await;
    assert!(
        shown["url"].as_str().is_some_and(|u| u.contains("://***@")),
        "{shown}"
    );
    let (_, audit) = admin.call(Method::GET, "/api/v1/audit", None).await;
    for seen in [&body, &shown, &audit] {
        assert!(!seen.to_string().contains("s3cret"), "{seen}");
    }
    let (status, body) = admin
        .call(
            Method::PUT,
            "/api/v1/environments/production/prometheus",
            Some(json!({"url": "http://127.0.0.1:9"})),
        )
        .await;
    // A well-formed URL whose Prometheus does not answer: 409 naming the field, not a 5xx.
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::CONFLICT, Some("url")),
        "{body}"
    );

    let ops = Client::new(&t, "operator").await;
    app_ready(&ops, "v1").await;
    let steps = json!({"type": "canary", "steps": [{"setWeight": 50},
        {"analysis": {"templates": ["error-rate"]}}, {"pause": {}}]});
    let id = start(&ops, "v2", steps).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while runs(&ops, id).await[0]["metrics"][0]["measurements"]
        .as_array()
        .is_none_or(|m| m.is_empty())
    {
        assert!(Instant::now() < deadline, "no first measurement");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.prometheus.stop();
    let paused = wait_within(&ops, id, "the pause", 40, |d| d["paused"] == true).await;
    assert_eq!(stage(&paused["deployment"]), "step");
    assert_eq!(
        paused["deployment"]["stage"]["step"], 1,
        "still at the analysis step"
    );
    let runs = runs(&ops, id).await;
    assert_eq!(runs[0]["phase"], "error", "{runs:#}");
    let why = timeline(&paused)
        .into_iter()
        .find(|m| m.starts_with("Paused by analysis"))
        .expect("the pause says why");
    assert!(why.contains("unreachable"), "{why}");
    assert!(!why.contains("s3cret"), "{why}");
}

#[tokio::test]
async fn an_alert_rule_rolls_back_a_bad_canary_without_alertmanager() {
    let (t, _server, _prom) = observed().await;
    let ops = Client::new(&t, "operator").await;
    let rule = json!({"name": "canary-errors", "app": "storefront", "forSeconds": 0, "condition": "result > 5",
        "query": "100 * (sum(rate(http_requests_total{namespace=\"{{namespace}}\",app=\"{{app}}\",version=\"{{version}}\",code=~\"5..\"}[30s])) or vector(0)) / sum(rate(http_requests_total{namespace=\"{{namespace}}\",app=\"{{app}}\",version=\"{{version}}\"}[30s]))"});
    let (status, body) = ops
        .call(
            Method::POST,
            "/api/v1/environments/production/alert-rules",
            Some(rule),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app_ready(&ops, "v1").await;
    let id = start(
        &ops,
        "v3",
        json!({"type": "canary", "steps": [{"setWeight": 50}, {"pause": {}}]}),
    )
    .await;
    let done = rolled_back_by_itself(&ops, id, "the rule's rollback").await;
    assert!(
        timeline(&done)
            .iter()
            .any(|m| m.contains("alert rule canary-errors firing") && m.contains("result > 5")),
        "{:#?}",
        timeline(&done)
    );
    let (_, alerts) = ops
        .call(Method::GET, "/api/v1/environments/production/alerts", None)
        .await;
    assert_eq!(alerts[0]["source"], "rule", "{alerts:#}");
    assert!(
        alerts[0]["action"]
            .as_str()
            .unwrap_or("")
            .starts_with("rolled back deployment")
    );
}

#[tokio::test]
async fn alertmanager_posts_a_firing_alert_and_the_deployment_is_rolled_back() {
    let t = TestApp::new(Backend::Sqlite).await;
    let (addr, _server) = t.serve();
    let token = t.token("operator").await;
    let am = alertmanager(&format!("http://{addr}/hooks/alertmanager"), &token).await;
    let ops = Client::new(&t, "operator").await;
    app_ready(&ops, "v1").await;
    let id = start(
        &ops,
        "v2",
        json!({"type": "canary", "steps": [{"setWeight": 50}, {"pause": {}}]}),
    )
    .await;
    wait_within(&ops, id, "the pause", 20, |d| {
        d["waiting"] == "paused until someone promotes"
    })
    .await;
    am.fire(
        json!({"alertname": "CheckoutErrors", "app": "storefront", "namespace": "production", "severity": "page"}),
        json!({"summary": "checkout answers 5xx"}),
    )
    .await;
    let done = rolled_back_by_itself(&ops, id, "Alertmanager's rollback").await;
    assert!(
        timeline(&done)
            .iter()
            .any(|m| m.contains("Alertmanager alert CheckoutErrors firing")
                && m.contains("severity=page")
                && m.contains("summary=checkout answers 5xx")),
        "{:#?}",
        timeline(&done)
    );
    let (_, alerts) = ops
        .call(Method::GET, "/api/v1/environments/production/alerts", None)
        .await;
    assert_eq!(alerts[0]["name"], "CheckoutErrors", "{alerts:#}");
    assert_eq!(alerts[0]["environment"], "production");
    assert!(
        alerts[0]["action"]
            .as_str()
            .unwrap_or("")
            .starts_with("rolled back deployment")
    );
}
