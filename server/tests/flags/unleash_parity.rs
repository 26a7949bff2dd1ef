//! The differential test against Unleash's engine, through a running server: random Unleash
//! documents imported over REST, every toggle evaluated over OFREP for random callers, each
//! answer the same as `unleash-yggdrasil`'s (enabled, variant, payload).

use axum::http::{Method, StatusCode};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use crate::caller::{Caller, caller};
use crate::common::ofrep::{live_sdk_key, ofrep};
use crate::common::{Backend, Client, TestApp};
use crate::compare::{Answer, Engines};
use crate::generate::document;
use crate::on_both_backends;

/// Documents in the sample, and callers asking about every toggle of each.
const DOCUMENTS: usize = 4;
const CALLERS: usize = 25;

/// `doc` with its toggles and segments renamed apart (`d{n}-t0`, segment `n*10 + id`), so
/// several generated documents can be imported as one.
fn renamed(doc: &Value, n: usize) -> (Vec<Value>, Vec<Value>) {
    let toggle = |name: &Value| json!(format!("d{n}-{}", name.as_str().unwrap_or_default()));
    let segment = |id: &Value| json!(n as i64 * 10 + id.as_i64().unwrap_or_default());
    let mut features = doc["features"].as_array().cloned().unwrap_or_default();
    for f in &mut features {
        f["name"] = toggle(&f["name"]);
        for d in f["dependencies"].as_array_mut().into_iter().flatten() {
            d["feature"] = toggle(&d["feature"]);
        }
        for s in f["strategies"].as_array_mut().into_iter().flatten() {
            for id in s["segments"].as_array_mut().into_iter().flatten() {
                *id = segment(id);
            }
        }
    }
    let mut segments = doc["segments"].as_array().cloned().unwrap_or_default();
    for s in &mut segments {
        s["id"] = segment(&s["id"]);
    }
    (features, segments)
}

/// The two toggles Unleash's engine and the old import disagreed on: a strategy without
/// variants before one with some, and a variant name reused with another payload.
fn the_two_cases() -> Vec<Value> {
    let everyone = json!({"name": "default", "parameters": {}});
    let control = |payload: &str| json!([{"name": "control", "weight": 1000, "payload": {"type": "string", "value": payload}}]);
    vec![
        json!({"name": "strategy-order", "enabled": true,
            "strategies": [everyone, {"name": "default", "parameters": {}, "variants": control("strategy")}],
            "variants": [{"name": "blue", "weight": 1000}]}),
        json!({"name": "payload-reused", "enabled": true,
            "strategies": [{"name": "default", "parameters": {}, "variants": control("strategy"),
                "constraints": [{"contextName": "tenant", "operator": "IN", "values": ["acme"]}]},
                everyone],
            "variants": control("feature")}),
    ]
}

/// Our answer, as an OFREP client reads it from one flag of a bulk evaluation.
fn answer(flag: &Value) -> Answer {
    let metadata = &flag["metadata"];
    Answer {
        enabled: flag["value"] == json!(true),
        variant: flag["variant"].as_str().unwrap_or_default().to_owned(),
        payload: metadata["payloadType"].as_str().map(|kind| {
            format!(
                "{kind}:{}",
                metadata["payloadValue"].as_str().unwrap_or_default()
            )
        }),
    }
}

async fn ofrep_answers_for_imported_unleash_documents_are_unleashs(backend: Backend) {
    let mut runner = TestRunner::deterministic();
    let (mut features, mut segments) = (Vec::new(), Vec::new());
    for n in 0..DOCUMENTS {
        let doc = document()
            .new_tree(&mut runner)
            .expect("a document")
            .current();
        let (f, s) = renamed(&doc, n);
        features.extend(f);
        segments.extend(s);
    }
    features.extend(the_two_cases());
    let doc = json!({"version": 2, "features": features, "segments": segments});
    let engines = Engines::load(&doc).expect("both engines read the sample");
    let t = TestApp::new(backend).await;
    let admin = Client::new(&t, "admin").await;
    let sdk = live_sdk_key(&t, &admin, "production").await;
    let (status, report) = admin
        .call(
            Method::POST,
            "/api/v1/import/unleash?environment=production",
            Some(doc.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let created = report["created"].as_array().map_or(0, Vec::len);
    assert_eq!(
        created,
        engines.toggles().len(),
        "every toggle is created: {report}"
    );

    let mut evaluations = 0;
    for _ in 0..CALLERS {
        // OFREP reads the environment evaluated in when the caller sends none; Unleash's SDKs
        // always send theirs.
        let person = Caller {
            environment: Some("production".into()),
            ..caller().new_tree(&mut runner).expect("a caller").current()
        };
        let body = json!({"context": person.ofrep()}).to_string();
        let mut flags = Value::Null;
        // The import reaches the evaluation cache within a second.
        for _ in 0..50 {
            let (_, answers) = ofrep(&t, None, &sdk, &body).await;
            flags = answers["flags"].clone();
            if flags.as_array().map_or(0, Vec::len) == created {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        for flag in flags.as_array().into_iter().flatten() {
            let key = flag["key"].as_str().unwrap_or_default();
            // Our domain and Unleash's engine agree (the domain test shows it at scale), and
            // the server's answer is theirs.
            let agreed = engines
                .agreed(key, &person)
                .unwrap_or_else(|why| panic!("{why}"));
            assert_eq!(
                answer(flag),
                agreed,
                "OFREP and Unleash's engine disagree on {key} for {person:#?} in\n{doc:#}"
            );
            evaluations += 1;
        }
    }
    assert_eq!(evaluations, CALLERS * created, "every toggle was answered");
}

on_both_backends!(ofrep_answers_for_imported_unleash_documents_are_unleashs);
