//! Behaviour of flag evaluation as a user of the product sees it.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::context::Context;
use super::evaluate::{FlagSet, Reason};
use super::model::*;
use super::murmur::normalized_hash;
use super::unleash::read_document;
use super::validate::{check_segment, check_targeting, prerequisite_cycle};
use super::{constraint::Constraint, operator::Operator};

pub(super) fn attrs(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

pub(super) fn boolean_flag(key: &str) -> FlagSpec {
    FlagSpec {
        key: key.into(),
        name: key.into(),
        description: String::new(),
        tags: vec![],
        owner: String::new(),
        value_type: ValueType::Boolean,
        variants: vec![
            Variant {
                name: "on".into(),
                value: json!(true),
                payload: None,
            },
            Variant {
                name: "off".into(),
                value: json!(false),
                payload: None,
            },
        ],
        kind: FlagKind::Standard,
    }
}

pub(super) fn on_with(rules: Vec<Rule>) -> Targeting {
    Targeting {
        enabled: true,
        rules,
        default_variant: "off".into(),
        off_variant: "off".into(),
        prerequisites: vec![],
    }
}

pub(super) fn rule(
    segments: &[&str],
    constraints: Vec<Constraint>,
    rollout: u32,
    serve: &str,
) -> Rule {
    Rule {
        description: String::new(),
        segments: segments.iter().map(|s| s.to_string()).collect(),
        constraints,
        rollout,
        stickiness: "default".into(),
        group_id: None,
        serve: Serve::Variant(serve.into()),
    }
}

pub(super) fn c(field: &str, op: Operator, values: &[&str]) -> Constraint {
    Constraint {
        context_name: field.into(),
        operator: op,
        values: values.iter().map(|s| s.to_string()).collect(),
        value: None,
        inverted: false,
        case_insensitive: false,
    }
}

pub(super) fn single(field: &str, op: Operator, value: &str) -> Constraint {
    Constraint {
        value: Some(value.into()),
        ..c(field, op, &[])
    }
}

fn beta() -> Segment {
    Segment {
        key: "beta-testers".into(),
        name: "Beta Testers".into(),
        description: String::new(),
        constraints: vec![c("cohort", Operator::In, &["alpha", "beta"])],
        included: vec![],
        excluded: vec![],
    }
}

pub(super) fn holds(constraint: &Constraint, context: Value) -> bool {
    let a = attrs(context);
    constraint
        .compile_lenient()
        .matches(&Context::new(&a, 1_800_000_000_000, 0))
}

#[test]
fn an_off_flag_serves_its_off_variant_with_reason_disabled() {
    let mut t = on_with(vec![rule(&[], vec![], 100, "on")]);
    t.enabled = false;
    let set = FlagSet::build([(boolean_flag("f"), t)], []);
    let e = set
        .evaluate("f", &Context::anonymous(0, 0))
        .expect("flag exists");
    assert_eq!(
        (e.value, e.variant, e.reason),
        (&json!(false), "off", Reason::Disabled)
    );
}

#[test]
fn an_on_flag_without_rules_serves_its_default_statically() {
    let mut t = on_with(vec![]);
    t.default_variant = "on".into();
    let set = FlagSet::build([(boolean_flag("f"), t)], []);
    let e = set
        .evaluate("f", &Context::anonymous(0, 0))
        .expect("flag exists");
    assert_eq!((e.value, e.reason), (&json!(true), Reason::Static));
    assert!(set.evaluate("missing", &Context::anonymous(0, 0)).is_none());
}

#[test]
fn a_segment_rule_serves_its_variant_to_members_only() {
    let set = FlagSet::build(
        [(
            boolean_flag("f"),
            on_with(vec![rule(&["beta-testers"], vec![], 100, "on")]),
        )],
        [&beta()],
    );
    let member = attrs(json!({"targetingKey": "u1", "cohort": "beta"}));
    let e = set
        .evaluate("f", &Context::new(&member, 0, 0))
        .expect("flag exists");
    assert_eq!(
        (e.value, e.reason, e.rule),
        (&json!(true), Reason::TargetingMatch, Some(0))
    );
    let other = attrs(json!({"targetingKey": "u1", "cohort": "ga"}));
    let e = set
        .evaluate("f", &Context::new(&other, 0, 0))
        .expect("flag exists");
    assert_eq!((e.value, e.rule), (&json!(false), None));
}

#[test]
fn a_rule_on_a_missing_segment_matches_nobody() {
    let set = FlagSet::build(
        [(
            boolean_flag("f"),
            on_with(vec![rule(&["gone"], vec![], 100, "on")]),
        )],
        [],
    );
    let e = set
        .evaluate("f", &Context::anonymous(0, 0))
        .expect("flag exists");
    assert_eq!(e.value, &json!(false));
}

#[test]
fn a_partial_rollout_takes_exactly_the_users_whose_bucket_is_inside_it() {
    let set = FlagSet::build(
        [(
            boolean_flag("checkout"),
            on_with(vec![rule(&[], vec![], 30, "on")]),
        )],
        [],
    );
    for i in 0..500 {
        let id = format!("user-{i}");
        let a = attrs(json!({"targetingKey": id}));
        let e = set
            .evaluate("checkout", &Context::new(&a, 0, 0))
            .expect("flag exists");
        let inside = normalized_hash("checkout", &id, 0, 100) <= 30;
        assert_eq!(e.value == &json!(true), inside, "{id}");
        if inside {
            assert_eq!(e.reason, Reason::Split);
        }
    }
}

#[test]
fn rollout_is_uniform_within_one_percent_over_100_000_ids() {
    for p in [1u32, 10, 30, 50, 75, 99] {
        let inside = (0..100_000)
            .filter(|i| normalized_hash("uniformity", &i.to_string(), 0, 100) <= p)
            .count();
        let share = inside as f64 / 1000.0;
        assert!((share - f64::from(p)).abs() <= 1.0, "{p}%: {share}%");
    }
}

proptest! {
    #[test]
    fn zero_percent_matches_nobody_and_a_hundred_everybody(id in "\\PC{1,40}", group in "[a-z.]{1,20}", random in any::<u32>()) {
        let spec = boolean_flag(&group);
        let set = FlagSet::build([
            (spec.clone(), on_with(vec![rule(&[], vec![], 0, "on")])),
        ], []);
        let a = attrs(json!({"targetingKey": id}));
        let ctx = Context::new(&a, 0, random);
        prop_assert_eq!(set.evaluate(&group, &ctx).map(|e| e.value.clone()), Some(json!(false)));
        let set = FlagSet::build([(spec, on_with(vec![rule(&[], vec![], 100, "on")]))], []);
        prop_assert_eq!(set.evaluate(&group, &ctx).map(|e| e.value.clone()), Some(json!(true)));
    }

    #[test]
    fn bucketing_is_stable_and_grows_with_the_percentage(id in "[a-zA-Z0-9-]{1,30}", p in 0u32..100) {
        let b = normalized_hash("g", &id, 0, 100);
        prop_assert_eq!(b, normalized_hash("g", &id, 0, 100));
        prop_assert!((1..=100).contains(&b));
        // Inside at p% means inside at every larger percentage.
        if b <= p { prop_assert!(b <= p + 1); }
    }
}

#[test]
fn weighted_variants_pick_as_unleash_does() {
    let mut spec = boolean_flag("f");
    spec.value_type = ValueType::String;
    spec.variants = vec![
        Variant {
            name: "variantNameA".into(),
            value: json!("A"),
            payload: None,
        },
        Variant {
            name: "variantNameB".into(),
            value: json!("B"),
            payload: None,
        },
    ];
    let mut r = rule(&[], vec![], 100, "variantNameA");
    r.group_id = Some("a".into());
    r.serve = Serve::Split(Split {
        variants: vec![
            WeightedVariant {
                variant: "variantNameA".into(),
                weight: 1,
                payload: None,
            },
            WeightedVariant {
                variant: "variantNameB".into(),
                weight: 1,
                payload: None,
            },
        ],
        stickiness: "default".into(),
        group_id: None,
        overrides: vec![],
    });
    let mut t = on_with(vec![r]);
    t.default_variant = "variantNameA".into();
    t.off_variant = "variantNameA".into();
    let set = FlagSet::build([(spec, t)], []);
    for (user, expected) in [("5", "variantNameA"), ("0", "variantNameB")] {
        let a = attrs(json!({"targetingKey": user}));
        let e = set
            .evaluate("f", &Context::new(&a, 0, 0))
            .expect("flag exists");
        assert_eq!(
            (e.variant, e.reason),
            (expected, Reason::Split),
            "user {user}"
        );
    }
}

#[test]
fn string_operators_honour_case_insensitivity_and_inversion() {
    let mut ends = c("email", Operator::StrEndsWith, &["@varai.io"]);
    assert!(holds(&ends, json!({"email": "ann@varai.io"})));
    assert!(!holds(&ends, json!({"email": "ann@VARAI.IO"})));
    ends.case_insensitive = true;
    assert!(holds(&ends, json!({"email": "ann@VARAI.IO"})));
    ends.inverted = true;
    assert!(!holds(&ends, json!({"email": "ann@varai.io"})));
    assert!(holds(
        &c("plan", Operator::StrStartsWith, &["pro"]),
        json!({"plan": "pro-annual"})
    ));
    assert!(holds(
        &c("plan", Operator::StrContains, &["ann"]),
        json!({"plan": "pro-annual"})
    ));
}

#[test]
fn in_and_not_in_treat_a_missing_field_as_unleash_does() {
    assert!(!holds(&c("country", Operator::In, &["NO"]), json!({})));
    assert!(holds(&c("country", Operator::NotIn, &["NO"]), json!({})));
    assert!(holds(
        &c("country", Operator::In, &["NO", "SE"]),
        json!({"country": "SE"})
    ));
    assert!(!holds(
        &c("country", Operator::NotIn, &["NO", "SE"]),
        json!({"country": "SE"})
    ));
}

#[test]
fn numbers_compare_numerically_and_unreadable_values_never_match() {
    assert!(holds(
        &single("riskScore", Operator::NumLt, "30"),
        json!({"riskScore": 12})
    ));
    assert!(holds(
        &single("riskScore", Operator::NumEq, "12"),
        json!({"riskScore": "12.0"})
    ));
    assert!(holds(
        &single("riskScore", Operator::NumGte, "70"),
        json!({"riskScore": 70})
    ));
    assert!(!holds(
        &single("riskScore", Operator::NumGt, "70"),
        json!({"riskScore": 70})
    ));
    assert!(!holds(
        &single("riskScore", Operator::NumLte, "5"),
        json!({"riskScore": "high"})
    ));
    // A stored value that is not a number makes the constraint false, never an error.
    assert!(!holds(
        &single("riskScore", Operator::NumLt, "abc"),
        json!({"riskScore": 1})
    ));
    let err = single("riskScore", Operator::NumLt, "abc")
        .compile("constraints[0]")
        .unwrap_err();
    assert_eq!(err.field, "constraints[0].value");
    assert!(
        err.message.contains("'abc' is not a number"),
        "{}",
        err.message
    );
}

#[test]
fn dates_compare_with_current_time_defaulting_to_now() {
    let after = single("currentTime", Operator::DateAfter, "2026-01-01T00:00:00Z");
    // now = 2027-01-15
    assert!(holds(&after, json!({})));
    assert!(!holds(
        &after,
        json!({"currentTime": "2025-12-31T23:59:59Z"})
    ));
    let before = single(
        "signedUp",
        Operator::DateBefore,
        "2026-06-01T00:00:00+02:00",
    );
    assert!(holds(&before, json!({"signedUp": "2026-05-31T21:59:59Z"})));
    assert!(!holds(&before, json!({"signedUp": "2026-05-31T22:00:00Z"})));
    assert!(!holds(&before, json!({"signedUp": "yesterday"})));
}

#[test]
fn semantic_versions_order_prereleases_before_releases() {
    let lt = single("appVersion", Operator::SemverLt, "2.0.0");
    assert!(holds(&lt, json!({"appVersion": "2.0.0-rc.1"})));
    assert!(holds(&lt, json!({"appVersion": "1.10.3"})));
    assert!(!holds(&lt, json!({"appVersion": "2.0.0"})));
    assert!(!holds(&lt, json!({"appVersion": "not-a-version"})));
    assert!(holds(
        &single("appVersion", Operator::SemverGte, "2.0.0-alpha.1"),
        json!({"appVersion": "2.0.0-beta"})
    ));
    assert!(holds(
        &single("appVersion", Operator::SemverEq, "1.2.3"),
        json!({"appVersion": "1.2.3"})
    ));
    assert!(holds(
        &single("appVersion", Operator::SemverGt, "1.2.3"),
        json!({"appVersion": "1.2.4"})
    ));
    assert!(holds(
        &single("appVersion", Operator::SemverLte, "1.2.3"),
        json!({"appVersion": "1.2.3"})
    ));
    assert!(
        single("appVersion", Operator::SemverLt, "v2")
            .compile("c")
            .is_err()
    );
}

#[test]
fn regex_and_cidr_match_and_bad_patterns_are_refused_on_save() {
    let mut re = single("userAgent", Operator::Regex, "^Mozilla/5\\.0 .*Firefox");
    assert!(holds(
        &re,
        json!({"userAgent": "Mozilla/5.0 (X11) Firefox/140"})
    ));
    assert!(!holds(
        &re,
        json!({"userAgent": "mozilla/5.0 (X11) firefox/140"})
    ));
    re.case_insensitive = true;
    assert!(holds(
        &re,
        json!({"userAgent": "mozilla/5.0 (X11) firefox/140"})
    ));
    let bad = single("userAgent", Operator::Regex, "([a-z");
    let err = bad.compile("rules[0].constraints[0]").unwrap_err();
    assert!(
        err.message
            .contains("'([a-z' is not a valid regular expression"),
        "{}",
        err.message
    );
    assert!(!holds(&bad, json!({"userAgent": "abc"})));

    let cidr = c(
        "remoteAddress",
        Operator::InCidr,
        &["10.0.0.0/8", "2001:db8::/32", "192.168.1.7"],
    );
    assert!(holds(&cidr, json!({"remoteAddress": "10.20.30.40"})));
    assert!(holds(&cidr, json!({"remoteAddress": "2001:db8::1"})));
    assert!(holds(&cidr, json!({"remoteAddress": "192.168.1.7"})));
    assert!(!holds(&cidr, json!({"remoteAddress": "192.168.1.8"})));
    assert!(!holds(&cidr, json!({"remoteAddress": "not-an-ip"})));
    let err = c("remoteAddress", Operator::InCidr, &["10.0.0.0/33"])
        .compile("c")
        .unwrap_err();
    assert!(err.message.contains("'10.0.0.0/33'"), "{}", err.message);
}

#[test]
fn segment_lists_override_constraints() {
    let mut s = beta();
    s.included = vec!["vip".into()];
    s.excluded = vec!["banned".into()];
    let set = FlagSet::build(
        [(
            boolean_flag("f"),
            on_with(vec![rule(&["beta-testers"], vec![], 100, "on")]),
        )],
        [&s],
    );
    let eval = |ctx: Value| {
        let a = attrs(ctx);
        set.evaluate("f", &Context::new(&a, 0, 0))
            .map(|e| e.value.clone())
    };
    assert_eq!(eval(json!({"targetingKey": "vip"})), Some(json!(true)));
    assert_eq!(
        eval(json!({"targetingKey": "banned", "cohort": "beta"})),
        Some(json!(false))
    );
    assert_eq!(
        eval(json!({"targetingKey": "x", "cohort": "alpha"})),
        Some(json!(true))
    );
}

#[test]
fn a_segment_with_no_constraints_matches_everyone_unless_it_lists_users() {
    let mut all = beta();
    all.key = "all".into();
    all.constraints.clear();
    let mut listed = all.clone();
    listed.key = "listed".into();
    listed.included = vec!["u1".into()];
    let set = FlagSet::build(
        [
            (
                boolean_flag("a"),
                on_with(vec![rule(&["all"], vec![], 100, "on")]),
            ),
            (
                boolean_flag("b"),
                on_with(vec![rule(&["listed"], vec![], 100, "on")]),
            ),
        ],
        [&all, &listed],
    );
    let a = attrs(json!({"targetingKey": "u2"}));
    let ctx = Context::new(&a, 0, 0);
    assert_eq!(
        set.evaluate("a", &ctx).map(|e| e.on && e.rule == Some(0)),
        Some(true)
    );
    assert_eq!(set.evaluate("b", &ctx).map(|e| e.rule), Some(None));
}

#[test]
fn prerequisites_gate_a_flag_on_another_flags_variant() {
    let mut child = on_with(vec![]);
    child.default_variant = "on".into();
    child.prerequisites = vec![Prerequisite {
        flag: "parent".into(),
        enabled: true,
        variants: vec!["on".into()],
    }];
    let parent_on = on_with(vec![rule(
        &[],
        vec![c("plan", Operator::In, &["pro"])],
        100,
        "on",
    )]);
    let set = FlagSet::build(
        [
            (boolean_flag("parent"), parent_on),
            (boolean_flag("child"), child),
        ],
        [],
    );
    let pro = attrs(json!({"plan": "pro"}));
    let e = set
        .evaluate("child", &Context::new(&pro, 0, 0))
        .expect("flag exists");
    assert_eq!(e.value, &json!(true));
    let free = attrs(json!({"plan": "free"}));
    let e = set
        .evaluate("child", &Context::new(&free, 0, 0))
        .expect("flag exists");
    assert_eq!(
        (e.value, e.reason, e.prerequisite_failed),
        (&json!(false), Reason::Disabled, Some("parent"))
    );
}

#[test]
fn saving_refuses_out_of_range_percentages_and_unknown_names() {
    let spec = boolean_flag("f");
    let t = on_with(vec![rule(&[], vec![], 150, "on")]);
    let err = check_targeting(&spec, &t, |_| true, |_| None).unwrap_err();
    assert_eq!(err.field, "rules[0].rollout");
    assert!(err.message.contains("150"));
    let t = on_with(vec![rule(&["nope"], vec![], 10, "on")]);
    let err = check_targeting(&spec, &t, |_| false, |_| None).unwrap_err();
    assert_eq!(
        (err.field.as_str(), err.message.as_str()),
        ("rules[0].segments[0]", "there is no segment 'nope'")
    );
    let t = on_with(vec![rule(&[], vec![], 10, "maybe")]);
    let err = check_targeting(&spec, &t, |_| true, |_| None).unwrap_err();
    assert_eq!(err.field, "rules[0].serve.variant");
    let mut s = beta();
    s.constraints = vec![single("riskScore", Operator::NumGt, "lots")];
    let err = check_segment(&s).unwrap_err();
    assert_eq!(err.field, "constraints[0].value");
}

#[test]
fn a_prerequisite_cycle_is_found() {
    let edges = |k: &str| match k {
        "a" => vec!["b".to_string()],
        "b" => vec!["c".to_string()],
        "c" => vec!["a".to_string()],
        _ => vec![],
    };
    assert_eq!(
        prerequisite_cycle("a", edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(prerequisite_cycle("d", edges), None);
}

const UNLEASH: &str = r#"{
  "version": 2,
  "segments": [
    {"id": 1, "constraints": [{"contextName": "version", "operator": "SEMVER_EQ", "value": "1.2.2"}]},
    {"id": 4, "name": "pie lovers", "constraints": [{"contextName": "customName", "operator": "STR_CONTAINS", "values": ["Pi"]}]},
    {"id": 5, "constraints": [{"contextName": "slicesLeft", "operator": "NUM_LTE", "value": "4"}]}
  ],
  "features": [
    {"name": "F9.withSeveralConstraintsAndSegments", "enabled": true, "strategies": [
      {"name": "default", "parameters": {}, "segments": [1, 4, 5], "constraints": [
        {"contextName": "customNumber", "operator": "NUM_LT", "value": "10"},
        {"contextName": "version", "operator": "SEMVER_LT", "value": "3.2.2"}
      ]}]},
    {"name": "strategy.variants", "enabled": true, "strategies": [
      {"name": "flexibleRollout", "parameters": {"rollout": "100", "stickiness": "default", "groupId": "a"},
       "variants": [
         {"name": "variantNameA", "weight": 1, "stickiness": "default", "payload": {"type": "string", "value": "variantValueA"}},
         {"name": "variantNameB", "weight": 1, "stickiness": "default", "payload": {"type": "string", "value": "variantValueB"}}
       ]}]},
    {"name": "feature.variants", "enabled": true, "strategies": [],
     "variants": [
       {"name": "blue", "weight": 500, "stickiness": "default", "payload": {"type": "json", "value": "{\"c\":1}"},
        "overrides": [{"contextName": "userId", "values": ["vip"]}]},
       {"name": "red", "weight": 500, "stickiness": "default"}
     ]},
    {"name": "no.variants", "enabled": true, "strategies": [{"name": "userWithId", "parameters": {"userIds": "a, b"}}]},
    {"name": "parent.disabled", "enabled": false, "strategies": []},
    {"name": "child.of.disabled", "enabled": true, "strategies": [], "dependencies": [{"feature": "parent.disabled", "enabled": false}]},
    {"name": "child.of.missing", "enabled": true, "strategies": [], "dependencies": [{"feature": "nowhere"}]},
    {"name": "custom", "enabled": true, "strategies": [{"name": "myStrategy", "parameters": {}}]},
    {"name": "ünïcode ✓", "enabled": true, "strategies": [{"name": "remoteAddress", "parameters": {"IPs": "10.0.0.0/8, 192.168.0.1"}}]}
  ]
}"#;

/// The imported set, and its notes and warnings together.
fn import_set() -> (FlagSet, Vec<String>) {
    let import = read_document(UNLEASH).expect("document reads");
    (
        FlagSet::build(import.flags, import.segments.iter()),
        [import.notes, import.warnings].concat(),
    )
}

fn eval_import(set: &FlagSet, key: &str, ctx: Value) -> (Value, String) {
    let a = attrs(ctx);
    let e = set
        .evaluate(key, &Context::new(&a, 0, 0))
        .expect("flag imported");
    (e.value.clone(), e.variant.to_owned())
}

#[test]
fn imported_segments_and_constraints_evaluate_as_unleash_does() {
    let (set, _) = import_set();
    let ctx =
        json!({"version": "1.2.2", "customNumber": "3.14", "customName": "Pie", "slicesLeft": "4"});
    assert_eq!(
        eval_import(&set, "F9.withSeveralConstraintsAndSegments", ctx).0,
        json!(true)
    );
    let ctx =
        json!({"version": "1.2.2", "customNumber": "3.14", "customName": "Pie", "slicesLeft": "5"});
    assert_eq!(
        eval_import(&set, "F9.withSeveralConstraintsAndSegments", ctx).0,
        json!(false)
    );
}

#[test]
fn imported_variants_carry_their_payload_and_disabled_means_none() {
    let (set, _) = import_set();
    assert_eq!(
        eval_import(&set, "strategy.variants", json!({"userId": "5"})),
        (json!(true), "variantNameA".into())
    );
    assert_eq!(
        eval_import(&set, "strategy.variants", json!({"userId": "0"})),
        (json!(true), "variantNameB".into())
    );
    let a = attrs(json!({"targetingKey": "vip"}));
    let e = set
        .evaluate("feature.variants", &Context::new(&a, 0, 0))
        .expect("imported");
    assert_eq!(e.variant, "blue");
    assert_eq!(
        e.payload.map(|p| (p.kind.as_str(), p.value.as_str())),
        Some(("json", "{\"c\":1}"))
    );
    assert_eq!(
        eval_import(&set, "no.variants", json!({"targetingKey": "b"})),
        (json!(true), "disabled".into())
    );
    assert_eq!(
        eval_import(&set, "no.variants", json!({"targetingKey": "c"})),
        (json!(false), "disabled".into())
    );
    assert_eq!(
        eval_import(&set, "ünïcode ✓", json!({"remoteAddress": "10.1.2.3"})).0,
        json!(true)
    );
    assert_eq!(
        eval_import(&set, "ünïcode ✓", json!({"remoteAddress": "11.1.2.3"})).0,
        json!(false)
    );
}

#[test]
fn imported_dependencies_hold_as_in_unleash_and_what_cannot_be_represented_is_listed() {
    let (set, notes) = import_set();
    assert_eq!(
        eval_import(&set, "child.of.disabled", json!({})).0,
        json!(true)
    );
    assert_eq!(
        eval_import(&set, "child.of.missing", json!({})).0,
        json!(false)
    );
    assert_eq!(eval_import(&set, "custom", json!({})).0, json!(false));
    assert!(
        notes
            .iter()
            .any(|n| n.contains("custom strategy 'myStrategy'")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("'nowhere'")), "{notes:?}");
}

#[test]
fn a_document_of_another_version_or_shape_is_refused_with_a_reason() {
    let err = read_document(r#"{"version": 3, "features": []}"#).unwrap_err();
    assert_eq!(err.field, "version");
    let err = read_document(r#"{"features": 1}"#).unwrap_err();
    assert_eq!(err.field, "document");
    assert!(err.message.contains("invalid type"), "{}", err.message);
}

#[test]
fn whole_numbers_written_as_floats_are_read_as_integers_and_a_bad_one_is_named_by_path() {
    let doc = r#"{"version": 2.0, "segments": [{"id": 7.0, "constraints": []}],
        "features": [{"name": "f", "enabled": true,
          "strategies": [{"name": "default", "segments": [7.0]}],
          "variants": [{"name": "a", "weight": 1000.0}]}]}"#;
    let import = read_document(doc).expect("document reads");
    assert_eq!(import.segments[0].key, "unleash-segment-7");
    assert_eq!(import.flags[0].1.rules[0].segments, ["unleash-segment-7"]);
    let doc = r#"{"version": 2, "features": [{"name": "f", "strategies": [{"name": "default", "segments": [7.5]}]}]}"#;
    let err = read_document(doc).unwrap_err();
    assert!(
        err.message
            .contains("features[0].strategies[0].segments[0]"),
        "{}",
        err.message
    );
}

#[test]
fn a_feature_bringing_more_than_a_flag_holds_is_skipped_before_it_is_built() {
    let strategies: Vec<Value> = (0..201).map(|_| json!({"name": "default"})).collect();
    let variants: Vec<Value> = (0..1_001)
        .map(|i| json!({"name": format!("v{i}")}))
        .collect();
    let doc = json!({"version": 2, "features": [
        {"name": "many-strategies", "strategies": strategies},
        {"name": "many-variants", "strategies": [], "variants": variants},
        {"name": "n".repeat(401), "strategies": []},
        {"name": "fine", "strategies": []}]});
    let import = read_document(&doc.to_string()).expect("document reads");
    assert_eq!(import.flags.len(), 1);
    assert_eq!(import.flags[0].0.key, "fine");
    assert!(
        import.skipped[0].starts_with("many-strategies: 201 strategies"),
        "{:?}",
        import.skipped
    );
    assert!(
        import.skipped[1].starts_with("many-variants: 1001 variants"),
        "{:?}",
        import.skipped
    );
    assert!(
        import.skipped[2].contains("a name of 401 characters"),
        "{:?}",
        import.skipped
    );
}

#[test]
fn huge_imported_weights_do_not_overflow() {
    let doc = r#"{"version": 1, "features": [{"name": "w", "enabled": true, "strategies": [],
        "variants": [{"name": "a", "weight": 4294967295}, {"name": "b", "weight": 4294967295}]}]}"#;
    let import = read_document(doc).expect("document reads");
    let set = FlagSet::build(import.flags, import.segments.iter());
    for id in ["1", "2", "3"] {
        let (value, variant) = eval_import(&set, "w", json!({"targetingKey": id}));
        assert_eq!(value, json!(true));
        assert!(variant == "a" || variant == "b", "{variant}");
    }
}

#[test]
fn an_imported_toggle_starts_off_with_the_disabled_variant_in_other_environments() {
    let import = read_document(UNLEASH).expect("document reads");
    let (spec, _) = import
        .flags
        .iter()
        .find(|(s, _)| s.key == "feature.variants")
        .expect("imported");
    let t = Targeting::initial(spec);
    assert_eq!(
        (
            t.enabled,
            t.default_variant.as_str(),
            t.off_variant.as_str()
        ),
        (false, "disabled", "disabled")
    );
}
