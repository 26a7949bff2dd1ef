//! Flags end to end over HTTP: the REST API that manages them and the OFREP endpoints
//! applications evaluate them through, on SQLite and PostgreSQL.

#[path = "../../tests/unleash_parity/caller.rs"]
mod caller;
mod common;
#[path = "../../tests/unleash_parity/compare.rs"]
mod compare;
#[path = "../../tests/unleash_parity/generate.rs"]
mod generate;
#[path = "flags/unleash.rs"]
mod unleash;
#[path = "flags/unleash_parity.rs"]
mod unleash_parity;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::ofrep::{ofrep, sdk_key};
use common::{Backend, Client, TestApp, body_json};
use serde_json::{Value, json};
use std::time::Duration;
use varai_domain::flags::murmur::normalized_hash;

/// Polls OFREP until `check` holds, for at most one second (the promise to users).
pub(crate) async fn within_a_second(
    t: &TestApp,
    key: &str,
    sdk: &str,
    ctx: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let start = std::time::Instant::now();
    loop {
        let (_, body) = ofrep(t, Some(key), sdk, ctx).await;
        if check(&body) {
            return body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "not served within a second: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn boolean_flag(key: &str) -> Value {
    json!({
        "key": key, "name": "New checkout", "description": "The one-page checkout",
        "tags": ["checkout", "web"], "owner": "payments",
        "valueType": "boolean",
        "variants": [{"name": "on", "value": true}, {"name": "off", "value": false}]
    })
}

async fn a_developer_targets_beta_testers_and_applications_see_it(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let dev = Client::new(&t, "developer").await;
    // Staging: production is protected, and developers change it through change requests.
    let sdk = sdk_key(&admin, "staging").await;

    let (status, flag) = dev
        .call(
            Method::POST,
            "/api/v1/flags",
            Some(boolean_flag("new-checkout")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{flag}");
    let body = r#"{"context": {"targetingKey": "u-1", "cohort": "beta"}}"#;
    let off = within_a_second(&t, "new-checkout", &sdk, body, |b| {
        b["reason"] == "DISABLED"
    })
    .await;
    assert_eq!(off["value"], false);

    // Beta Testers at 30%, then on in staging.
    let mut update = boolean_flag("new-checkout");
    update["version"] = flag["version"].clone();
    update["environments"] = json!({"staging": {
        "enabled": false, "defaultVariant": "off", "offVariant": "off",
        "rules": [{"segments": ["beta-testers"], "rollout": 30, "serve": {"variant": "on"}}]
    }});
    let (status, saved) = dev
        .call(Method::PUT, "/api/v1/flags/new-checkout", Some(update))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (status, _) = dev
        .call(
            Method::POST,
            "/api/v1/flags/new-checkout/environments/staging/toggle",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    within_a_second(&t, "new-checkout", &sdk, body, |b| {
        b["reason"] != "DISABLED"
    })
    .await;

    let mut inside = 0;
    for i in 0..200 {
        let user = format!("user-{i}");
        let ctx = json!({"context": {"targetingKey": user, "cohort": "beta"}}).to_string();
        let (status, e) = ofrep(&t, Some("new-checkout"), &sdk, &ctx).await;
        assert_eq!(status, StatusCode::OK);
        let expected = normalized_hash("new-checkout", &user, 0, 100) <= 30;
        assert_eq!(e["value"], expected, "{user}: {e}");
        if expected {
            inside += 1;
            assert_eq!(
                (e["reason"].as_str(), e["variant"].as_str()),
                (Some("SPLIT"), Some("on"))
            );
            assert_eq!(e["metadata"]["rule"], 1);
        }
        // Someone outside the segment never gets it.
        let ctx = json!({"context": {"targetingKey": user, "cohort": "ga"}}).to_string();
        assert_eq!(
            ofrep(&t, Some("new-checkout"), &sdk, &ctx).await.1["value"],
            false
        );
    }
    assert!(
        (40..=80).contains(&inside),
        "{inside} of 200 inside a 30% rollout"
    );

    // The change is in the flag's history with before and after.
    let (_, history) = dev
        .call(Method::GET, "/api/v1/flags/new-checkout/history", None)
        .await;
    let actions: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["flag.toggle", "flag.update", "flag.create"]);
    let toggle = &history["events"][0];
    let before: Value = serde_json::from_str(toggle["before"].as_str().unwrap()).unwrap();
    let after: Value = serde_json::from_str(toggle["after"].as_str().unwrap()).unwrap();
    assert_eq!(before["environments"]["staging"]["enabled"], false);
    assert_eq!(after["environments"]["staging"]["enabled"], true);
}

async fn ofrep_answers_bad_requests_with_the_specs_error_codes(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let sdk = sdk_key(&admin, "staging").await;
    admin
        .call(Method::POST, "/api/v1/flags", Some(boolean_flag("f")))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let (status, e) = ofrep(&t, Some("f"), "varai_sdk_wrong", r#"{"context": {}}"#).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(e["errorDetails"].as_str().unwrap().contains("not valid"));

    let (status, e) = ofrep(
        &t,
        Some("nope"),
        &sdk,
        r#"{"context": {"targetingKey": "u"}}"#,
    )
    .await;
    assert_eq!(
        (status, e["errorCode"].as_str(), e["key"].as_str()),
        (StatusCode::NOT_FOUND, Some("FLAG_NOT_FOUND"), Some("nope"))
    );

    let (status, e) = ofrep(&t, Some("f"), &sdk, r#"{"context": "#).await;
    assert_eq!(
        (status, e["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("PARSE_ERROR"))
    );
    assert!(
        e["errorDetails"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let (status, e) = ofrep(&t, Some("f"), &sdk, r#"{"context": [1]}"#).await;
    assert_eq!(
        (status, e["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_CONTEXT"))
    );
    let (status, e) = ofrep(&t, Some("f"), &sdk, r#"{"context": {"targetingKey": 7}}"#).await;
    assert_eq!(
        (status, e["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_CONTEXT"))
    );
    let (status, e) = ofrep(&t, Some("f"), &sdk, r#"{}"#).await;
    assert_eq!(
        (status, e["errorCode"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_CONTEXT"))
    );

    let huge = format!(r#"{{"context": {{"blob": "{}"}}}}"#, "x".repeat(100_000));
    let (status, e) = ofrep(&t, Some("f"), &sdk, &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert!(e["errorDetails"].as_str().unwrap().contains("larger than"));

    // No targetingKey is an anonymous user, not an error.
    let (status, e) = ofrep(&t, Some("f"), &sdk, r#"{"context": {}}"#).await;
    assert_eq!(
        (status, e["value"].clone(), e["reason"].as_str()),
        (StatusCode::OK, json!(false), Some("DISABLED"))
    );
}

async fn bulk_evaluation_answers_304_until_the_configuration_changes(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let sdk = sdk_key(&admin, "development").await;
    for key in ["a", "b"] {
        admin
            .call(Method::POST, "/api/v1/flags", Some(boolean_flag(key)))
            .await;
    }
    let bulk = |etag: Option<String>| {
        let mut req = Request::post("/ofrep/v1/evaluate/flags")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {sdk}"));
        if let Some(e) = etag {
            req = req.header(header::IF_NONE_MATCH, e);
        }
        req.body(Body::from(r#"{"context": {"targetingKey": "u-7"}}"#))
            .expect("request")
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let res = t.send(bulk(None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
    let json = body_json(res).await;
    let keys: Vec<&str> = json["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["a", "b"]);
    assert_eq!(
        t.send(bulk(Some(etag.clone()))).await.status(),
        StatusCode::NOT_MODIFIED
    );

    admin
        .call(
            Method::POST,
            "/api/v1/flags/a/environments/development/toggle",
            Some(json!({"enabled": true})),
        )
        .await;
    let start = std::time::Instant::now();
    loop {
        let res = t.send(bulk(Some(etag.clone()))).await;
        if res.status() == StatusCode::OK {
            assert_ne!(res.headers()[header::ETAG].to_str().unwrap(), etag);
            assert_eq!(body_json(res).await["flags"][0]["value"], true);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the change was not served within a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn saving_refuses_bad_targeting_stale_versions_and_the_wrong_role(backend: Backend) {
    let t = TestApp::new(backend).await;
    let dev = Client::new(&t, "developer").await;
    let viewer = Client::new(&t, "viewer").await;
    let (status, e) = viewer
        .call(Method::POST, "/api/v1/flags", Some(boolean_flag("x")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");

    let mut bad_key = boolean_flag("has space");
    let (status, e) = dev
        .call(Method::POST, "/api/v1/flags", Some(bad_key.clone()))
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("key")),
        "a created flag's key is a key (the document admits an imported toggle's name)"
    );
    bad_key["key"] = json!("ok");
    bad_key["variants"][0]["value"] = json!("yes");
    let (status, e) = dev.call(Method::POST, "/api/v1/flags", Some(bad_key)).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("variants[0].value")),
        "a value that is not of the flag's type contradicts valueType"
    );

    let (_, flag) = dev
        .call(Method::POST, "/api/v1/flags", Some(boolean_flag("f")))
        .await;
    let rule = |constraint: Value, rollout: u32| {
        let mut u = boolean_flag("f");
        u["version"] = flag["version"].clone();
        u["environments"] = json!({"staging": {"enabled": true, "defaultVariant": "off", "offVariant": "off",
            "rules": [{"constraints": [constraint], "rollout": rollout, "serve": {"variant": "on"}}]}});
        u
    };
    let regex = json!({"contextName": "email", "operator": "REGEX", "value": "([a-z"});
    let (status, e) = dev
        .call(Method::PUT, "/api/v1/flags/f", Some(rule(regex, 50)))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "unprocessable");
    assert_eq!(
        e["error"]["field"],
        "environments.staging.rules[0].constraints[0].value"
    );
    assert!(
        e["error"]["message"].as_str().unwrap().contains("'([a-z'"),
        "{e}"
    );
    let fine =
        json!({"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@example.com"]});
    let (status, e) = dev
        .call(
            Method::PUT,
            "/api/v1/flags/f",
            Some(rule(fine.clone(), 150)),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("environments.staging.rules[0].rollout")
        )
    );
    let (status, _) = dev
        .call(Method::PUT, "/api/v1/flags/f", Some(rule(fine.clone(), 40)))
        .await;
    assert_eq!(status, StatusCode::OK);
    // The same version again: someone else's change would be overwritten.
    let (status, e) = dev
        .call(Method::PUT, "/api/v1/flags/f", Some(rule(fine, 60)))
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (StatusCode::CONFLICT, Some("version"))
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("changed by token:test-developer"),
        "{e}"
    );
    let (_, now) = dev.call(Method::GET, "/api/v1/flags/f", None).await;
    assert_eq!(now["environments"]["staging"]["rules"][0]["rollout"], 40);

    let (status, e) = dev
        .call(Method::POST, "/api/v1/flags", Some(json!({"key": 1})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{e}"
    );
}

async fn removals_are_refused_while_something_uses_them(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let (_, envs) = admin.call(Method::GET, "/api/v1/environments", None).await;
    let keys: Vec<&str> = envs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["development", "staging", "production"]);
    let (_, segments) = admin.call(Method::GET, "/api/v1/segments", None).await;
    let names: Vec<&str> = segments
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Internal",
            "Alpha Testers",
            "Beta Testers",
            "Low Risk",
            "Medium Risk",
            "High Risk",
            "All"
        ]
    );

    let (status, _) = admin
        .call(
            Method::POST,
            "/api/v1/environments",
            Some(json!({"key": "qa", "name": "QA"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    sdk_key(&admin, "qa").await;
    let (_, flag) = admin
        .call(Method::POST, "/api/v1/flags", Some(boolean_flag("f")))
        .await;
    let mut u = boolean_flag("f");
    u["version"] = flag["version"].clone();
    u["environments"] = json!({"qa": {"enabled": true, "defaultVariant": "on", "offVariant": "off",
        "rules": [{"segments": ["internal"], "serve": {"variant": "on"}}]}});
    admin.call(Method::PUT, "/api/v1/flags/f", Some(u)).await;

    let (status, e) = admin
        .call(Method::DELETE, "/api/v1/environments/qa", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("f (on, 1 rules)") && message.contains("SDK keys web"),
        "{message}"
    );

    let (status, e) = admin
        .call(Method::DELETE, "/api/v1/segments/internal", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("f (qa)"),
        "{e}"
    );
    let (_, detail) = admin
        .call(Method::GET, "/api/v1/segments/internal", None)
        .await;
    assert_eq!(detail["used_by"], json!(["f (qa)"]));

    let (status, _) = admin
        .call(Method::DELETE, "/api/v1/segments/all", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, renamed) = admin
        .call(
            Method::PATCH,
            "/api/v1/environments/qa",
            Some(json!({"name": "Quality", "version": 1})),
        )
        .await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (StatusCode::OK, Some("Quality"))
    );
}

async fn a_revoked_sdk_key_stops_working(backend: Backend) {
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    admin
        .call(Method::POST, "/api/v1/flags", Some(boolean_flag("f")))
        .await;
    let sdk = sdk_key(&admin, "production").await;
    within_a_second(&t, "f", &sdk, r#"{"context": {}}"#, |b| b["key"] == "f").await;
    let (_, keys) = admin.call(Method::GET, "/api/v1/sdk-keys", None).await;
    let id = keys[0]["id"].as_i64().unwrap();
    assert!(
        !keys.to_string().contains(&sdk),
        "the secret is never listed"
    );
    let (status, _) = admin
        .call(Method::DELETE, &format!("/api/v1/sdk-keys/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    within_a_second(&t, "f", &sdk, r#"{"context": {}}"#, |b| {
        b["errorCode"] == "GENERAL"
    })
    .await;
}

async fn an_archived_flag_is_no_longer_served_until_restored(backend: Backend) {
    let t = TestApp::new(backend).await;
    let dev = Client::new(&t, "developer").await;
    let admin = Client::new(&t, "admin").await;
    let sdk = sdk_key(&admin, "production").await;
    dev.call(Method::POST, "/api/v1/flags", Some(boolean_flag("old")))
        .await;
    within_a_second(&t, "old", &sdk, r#"{"context": {}}"#, |b| {
        b["key"] == "old" && b.get("errorCode").is_none()
    })
    .await;
    let (status, archived) = dev
        .call(Method::POST, "/api/v1/flags/old/archive", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(archived["archivedAt"].is_i64(), "{archived}");
    within_a_second(&t, "old", &sdk, r#"{"context": {}}"#, |b| {
        b["errorCode"] == "FLAG_NOT_FOUND"
    })
    .await;
    let (_, listed) = dev.call(Method::GET, "/api/v1/flags", None).await;
    assert_eq!(listed, json!([]));
    let (_, listed) = dev
        .call(Method::GET, "/api/v1/flags?archived=true", None)
        .await;
    assert_eq!(listed[0]["key"], "old");
    dev.call(Method::POST, "/api/v1/flags/old/restore", None)
        .await;
    within_a_second(&t, "old", &sdk, r#"{"context": {}}"#, |b| {
        b.get("errorCode").is_none()
    })
    .await;
    let (_, history) = dev
        .call(Method::GET, "/api/v1/flags/old/history", None)
        .await;
    assert_eq!(history["events"][0]["action"], "flag.restore");
    assert_eq!(history["events"][1]["action"], "flag.archive");
}

on_both_backends!(
    an_archived_flag_is_no_longer_served_until_restored,
    a_developer_targets_beta_testers_and_applications_see_it,
    ofrep_answers_bad_requests_with_the_specs_error_codes,
    bulk_evaluation_answers_304_until_the_configuration_changes,
    saving_refuses_bad_targeting_stale_versions_and_the_wrong_role,
    removals_are_refused_while_something_uses_them,
    a_revoked_sdk_key_stops_working,
);

/// A second replica on the same PostgreSQL database learns of a change made through the first
/// within a second, through LISTEN/NOTIFY.
#[tokio::test]
async fn another_replica_serves_a_change_within_a_second() {
    use std::sync::Arc;
    use varai_domain::flags::Context;
    use varai_server::flags::FlagCache;
    use varai_server::storage::{CHANGE_CHANNEL, SqlxStore};

    let t = TestApp::new(Backend::Postgres).await;
    let url = common::postgres_url(t.db.pg_name().expect("a PostgreSQL test database"));
    let replica = SqlxStore::connect(&url)
        .await
        .expect("second replica connects");
    let cache = FlagCache::load(Arc::new(replica.clone()))
        .await
        .expect("cache loads");
    let _watch = cache.watch(Arc::clone(replica.config_changed()));
    let _listen =
        FlagCache::listen_postgres(url, CHANGE_CHANNEL, Arc::clone(replica.config_changed()));
    // Let the listener subscribe before the change is made.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let admin = Client::new(&t, "admin").await;
    admin
        .call(Method::POST, "/api/v1/flags", Some(boolean_flag("shared")))
        .await;
    admin
        .call(
            Method::POST,
            "/api/v1/flags/shared/environments/staging/toggle",
            Some(json!({"enabled": true})),
        )
        .await;
    let start = std::time::Instant::now();
    let served_on = || {
        let snapshot = cache.snapshot();
        let env = snapshot.environment("staging").expect("staging");
        env.flags
            .evaluate("shared", &Context::anonymous(0, 0))
            .is_some_and(|e| e.on)
    };
    while !served_on() {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the replica did not see the change within a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
