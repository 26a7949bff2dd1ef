//! Differential test against Unleash's own engine (`unleash-yggdrasil`): random Unleash
//! documents are imported into our flag set and loaded into Unleash's engine, and every toggle
//! is evaluated for random callers by both. They must agree on whether the toggle is enabled,
//! the variant and its payload, every time. A disagreement fails with the smallest document and
//! caller proptest can shrink it to.

#[path = "unleash_parity/caller.rs"]
mod caller;
#[path = "unleash_parity/compare.rs"]
mod compare;
#[path = "unleash_parity/generate.rs"]
mod generate;

use caller::{Caller, caller};
use compare::{Answer, Engines};
use generate::document;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};
use serde_json::{Value, json};
use std::cell::Cell;

/// Evaluations each run makes at least.
const EVALUATIONS: usize = 100_000;

#[test]
fn imported_toggles_evaluate_as_unleashs_engine_evaluates_them() {
    let (documents, callers, evaluations) = (Cell::new(0), Cell::new(0), Cell::new(0));
    // How often the answers were of each interesting kind, so the generator is known to reach
    // them: enabled, serving a variant, serving a payload.
    let (enabled, with_variant, with_payload) = (Cell::new(0), Cell::new(0), Cell::new(0));
    let case = (document(), prop::collection::vec(caller(), 1..48));
    while evaluations.get() < EVALUATIONS {
        let mut runner = TestRunner::new(Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        });
        let outcome = runner.run(&case, |(doc, people)| {
            let engines = Engines::load(&doc).map_err(TestCaseError::fail)?;
            for person in &people {
                for name in engines.toggles() {
                    let answer = engines.agreed(name, person).map_err(TestCaseError::fail)?;
                    let count = |c: &Cell<usize>, yes: bool| c.set(c.get() + usize::from(yes));
                    count(&enabled, answer.enabled);
                    count(&with_variant, answer.variant != "disabled");
                    count(&with_payload, answer.payload.is_some());
                }
            }
            documents.set(documents.get() + 1);
            callers.set(callers.get() + people.len());
            evaluations.set(evaluations.get() + people.len() * engines.toggles().len());
            Ok(())
        });
        if let Err(TestError::Fail(why, (doc, people))) = outcome {
            panic!(
                "our import and Unleash's engine disagree: {why}\n\nthe smallest document:\n{}\n\ncallers:\n{people:#?}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            );
        } else if let Err(e) = outcome {
            panic!("{e}");
        }
    }
    let share = |c: &Cell<usize>| c.get() * 100 / evaluations.get();
    println!(
        "{} documents, {} callers, {} evaluations, 0 disagreements; enabled in {} %, a variant in {} %, a payload in {} %",
        documents.get(),
        callers.get(),
        evaluations.get(),
        share(&enabled),
        share(&with_variant),
        share(&with_payload)
    );
    for (what, c) in [
        ("enabled", &enabled),
        ("a variant", &with_variant),
        ("a payload", &with_payload),
    ] {
        assert!(
            share(c) >= 5,
            "only {} % of the answers had {what}: the documents test too little",
            share(c)
        );
    }
}

fn person(user: Option<&str>, tenant: &str) -> Caller {
    Caller {
        user_id: user.map(str::to_owned),
        session_id: "s1".into(),
        environment: None,
        app_name: None,
        current_time: "2024-06-01T00:00:00Z".into(),
        remote_address: None,
        properties: [("tenant".to_owned(), tenant.to_owned())].into(),
    }
}

/// Both engines' answer for `toggle` and `person`, once they are known to agree.
fn agreed(doc: &Value, toggle: &str, person: &Caller) -> Answer {
    let engines = Engines::load(doc).expect("both engines load the document");
    engines
        .agreed(toggle, person)
        .unwrap_or_else(|why| panic!("{why}"))
}

#[test]
fn a_strategy_without_variants_listed_first_serves_the_features_variants() {
    // Both strategies match everyone; the first has no variants, so Unleash serves the
    // feature's `blue`, never the second strategy's `control`.
    let doc = json!({"version": 2, "features": [{
        "name": "checkout", "enabled": true,
        "strategies": [
            {"name": "flexibleRollout", "parameters": {"rollout": "100", "stickiness": "default", "groupId": "checkout"}},
            {"name": "default", "parameters": {}, "variants": [{"name": "control", "weight": 1000}]}
        ],
        "variants": [{"name": "blue", "weight": 1000}]
    }, {
        "name": "no-feature-variants", "enabled": true,
        "strategies": [
            {"name": "default", "parameters": {}},
            {"name": "default", "parameters": {}, "variants": [{"name": "control", "weight": 1000}]}
        ]
    }]});
    let anyone = person(Some("u1"), "acme");
    let a = agreed(&doc, "checkout", &anyone);
    assert_eq!((a.enabled, a.variant.as_str()), (true, "blue"));
    let b = agreed(&doc, "no-feature-variants", &anyone);
    assert_eq!((b.enabled, b.variant.as_str()), (true, "disabled"));
}

#[test]
fn a_variant_name_reused_with_another_payload_serves_the_payload_of_the_rule_that_chose_it() {
    // `control` is a feature variant with one payload and a strategy variant with another:
    // tenant acme gets the strategy's, everyone else the feature's.
    let doc = json!({"version": 2, "features": [{
        "name": "banner", "enabled": true,
        "strategies": [
            {"name": "default", "parameters": {},
             "constraints": [{"contextName": "tenant", "operator": "IN", "values": ["acme"]}],
             "variants": [{"name": "control", "weight": 1000, "payload": {"type": "string", "value": "from the strategy"}}]},
            {"name": "default", "parameters": {}}
        ],
        "variants": [{"name": "control", "weight": 1000, "payload": {"type": "string", "value": "from the feature"}}]
    }]});
    let from_strategy = agreed(&doc, "banner", &person(Some("u1"), "acme"));
    assert_eq!(from_strategy.variant, "control");
    assert_eq!(
        from_strategy.payload.as_deref(),
        Some("string:from the strategy")
    );
    let from_feature = agreed(&doc, "banner", &person(Some("u1"), "globex"));
    assert_eq!(
        from_feature.payload.as_deref(),
        Some("string:from the feature")
    );
    let import = varai_domain::flags::unleash::read_document(&doc.to_string()).expect("reads");
    assert!(
        import.notes.is_empty(),
        "nothing is lost: {:?}",
        import.notes
    );
}
