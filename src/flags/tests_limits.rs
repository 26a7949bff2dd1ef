//! The limits that keep one evaluation cheap whatever a flag's author or a caller sends:
//! prerequisites (how many, how deep, each evaluated once), patterns and context values.

use serde_json::json;

use super::constraint::{MAX_CONTEXT_VALUE_CHARS, MAX_PATTERN_CHARS};
use super::context::Context;
use super::evaluate::FlagSet;
use super::model::*;
use super::operator::Operator;
use super::tests::{attrs, boolean_flag, c, holds, on_with, single};
use super::validate::check_targeting;

fn requiring(parents: &[String]) -> Targeting {
    let mut t = on_with(vec![]);
    t.default_variant = "on".into();
    t.prerequisites = parents
        .iter()
        .map(|p| Prerequisite {
            flag: p.clone(),
            enabled: true,
            variants: vec![],
        })
        .collect();
    t
}

/// `levels` levels of `width` flags; each flag requires every flag of the level below it.
fn lattice(levels: usize, width: usize) -> FlagSet {
    let name = |level: usize, i: usize| format!("l{level}-{i}");
    let flags = (0..levels).flat_map(|level| {
        (0..width).map(move |i| {
            let below: Vec<String> = if level + 1 < levels {
                (0..width).map(|j| name(level + 1, j)).collect()
            } else {
                vec![]
            };
            (boolean_flag(&name(level, i)), requiring(&below))
        })
    });
    FlagSet::build(flags.collect::<Vec<_>>(), [])
}

#[test]
fn every_flag_is_evaluated_at_most_once_however_prerequisites_fan_out() {
    // Ten prerequisites on each of eight levels: walking every branch is 10^7 evaluations.
    let set = lattice(8, 10);
    let ctx = Context::anonymous(0, 0);
    let evaluator = set.evaluator(ctx);
    let top = set.get("l0-0").expect("flag exists");
    let e = evaluator.evaluate(top);
    assert!(e.on, "every prerequisite holds: {e:?}");
    assert!(
        evaluator.decisions() <= 80,
        "{} evaluations for 80 flags",
        evaluator.decisions()
    );
    // A whole bulk request still evaluates each flag once.
    let evaluator = set.evaluator(ctx);
    assert!(set.flags().all(|f| evaluator.evaluate(f).on));
    assert_eq!(evaluator.decisions(), 80);
}

#[test]
fn a_chain_longer_than_eight_prerequisites_or_a_stored_cycle_never_holds() {
    let chain = |len: usize| {
        let flags: Vec<_> = (0..=len)
            .map(|i| {
                let below = if i < len {
                    vec![format!("f{}", i + 1)]
                } else {
                    vec![]
                };
                (boolean_flag(&format!("f{i}")), requiring(&below))
            })
            .collect();
        FlagSet::build(flags, [])
    };
    let ctx = Context::anonymous(0, 0);
    let eight = chain(8);
    assert!(eight.evaluate("f0", &ctx).is_some_and(|e| e.on));
    let nine = chain(9);
    let e = nine.evaluate("f0", &ctx).expect("flag exists");
    assert_eq!((e.on, e.prerequisite_failed), (false, Some("f1")));
    assert!(nine.evaluate("f1", &ctx).is_some_and(|e| e.on));

    // Cycles are refused on save; one stored anyway neither holds nor recurses forever.
    let cycle = FlagSet::build(
        [
            (boolean_flag("a"), requiring(&["b".into()])),
            (boolean_flag("b"), requiring(&["a".into()])),
        ],
        [],
    );
    let e = cycle.evaluate("a", &ctx).expect("flag exists");
    assert_eq!((e.on, e.prerequisite_failed), (false, Some("b")));
}

#[test]
fn a_flag_takes_at_most_ten_prerequisites_and_none_twice() {
    let spec = boolean_flag("child");
    let names: Vec<String> = (0..11).map(|i| format!("p{i}")).collect();
    let exists = |_: &str| Some(vec!["on".to_string(), "off".to_string()]);
    let err = check_targeting(&spec, &requiring(&names), |_| true, exists).unwrap_err();
    assert_eq!(err.field, "prerequisites");
    assert!(err.message.contains("at most 10"), "{}", err.message);
    assert!(check_targeting(&spec, &requiring(&names[..10]), |_| true, exists).is_ok());

    let twice = requiring(&["p0".into(), "p1".into(), "p0".into()]);
    let err = check_targeting(&spec, &twice, |_| true, exists).unwrap_err();
    assert_eq!(err.field, "prerequisites[2].flag");
    assert!(
        err.message.contains("already a prerequisite"),
        "{}",
        err.message
    );
}

#[test]
fn patterns_that_cannot_match_quickly_are_refused_on_save_and_never_match_when_stored() {
    let field = "rules[0].constraints[0]";
    for hostile in [
        "(?:.{0,200}){200}x",
        ".{0,5000}x",
        "((((((((((((a))))))))))))",
    ] {
        let re = single("email", Operator::Regex, hostile);
        let err = re.compile(field).unwrap_err();
        assert_eq!(err.field, "rules[0].constraints[0].value", "{hostile}");
        assert!(
            err.message.contains("too much"),
            "{hostile}: {}",
            err.message
        );
        assert!(!holds(&re, json!({"email": "x"})), "{hostile}");
    }
    let long = "a".repeat(MAX_PATTERN_CHARS + 1);
    let err = single("email", Operator::Regex, &long)
        .compile(field)
        .unwrap_err();
    assert!(err.message.contains("at most 200"), "{}", err.message);

    // What people really write still compiles and matches.
    for (pattern, value) in [
        (
            r"^[\w.+-]+@(corp|example)\.com$",
            "ann.lee+beta@example.com",
        ),
        (
            r"^Mozilla/5\.0 .*(Firefox|Chrome)/1[0-9]{2}",
            "Mozilla/5.0 (X11) Chrome/140",
        ),
        (r"^[a-z]{2}-[A-Z]{2}$", "de-CH"),
        (r"^\d{3}-\d{4}$", "555-0100"),
    ] {
        let re = single("v", Operator::Regex, pattern);
        assert!(re.compile(field).is_ok(), "{pattern}");
        assert!(holds(&re, json!({ "v": value })), "{pattern}");
    }
}

#[test]
fn a_context_value_longer_than_the_cap_is_not_read_and_is_reported() {
    let ends = c("email", Operator::StrEndsWith, &["@example.com"]);
    let at_cap = format!("{}@example.com", "a".repeat(MAX_CONTEXT_VALUE_CHARS - 12));
    assert!(holds(&ends, json!({ "email": at_cap })));
    let over = format!("a{at_cap}");
    assert!(!holds(&ends, json!({ "email": over })));
    // Not read means no constraint on it holds, inverted or not.
    let mut not_in = c("email", Operator::In, &["x"]);
    not_in.inverted = true;
    assert!(!holds(&not_in, json!({ "email": over })));
    // Characters count, not bytes: 1,024 two-byte characters are read.
    let wide = "é".repeat(MAX_CONTEXT_VALUE_CHARS);
    assert!(holds(
        &c("name", Operator::In, &[&wide]),
        json!({ "name": wide })
    ));

    let a = attrs(json!({"email": over, "plan": "pro", "properties": {"bio": "b".repeat(2000)}}));
    let mut unread = Context::new(&a, 0, 0).unread_fields();
    unread.sort_unstable();
    assert_eq!(unread, ["bio", "email"]);
    let short = attrs(json!({"email": "a@example.com"}));
    assert!(Context::new(&short, 0, 0).unread_fields().is_empty());
}

#[test]
fn a_flag_or_a_segment_holds_at_most_five_patterns() {
    let spec = boolean_flag("f");
    let pattern = |i: usize| single("email", Operator::Regex, &format!("^user{i}@"));
    let mut t = on_with(vec![]);
    t.rules = (0..6)
        .map(|i| super::tests::rule(&[], vec![pattern(i)], 100, "on"))
        .collect();
    let none = |_: &str| None;
    let err = check_targeting(&spec, &t, |_| true, none).unwrap_err();
    assert_eq!(err.field, "rules");
    assert!(err.message.contains("at most 5 REGEX"), "{}", err.message);
    t.rules.pop();
    assert!(check_targeting(&spec, &t, |_| true, none).is_ok());

    let mut segment = Segment {
        key: "staff".into(),
        name: "Staff".into(),
        description: String::new(),
        constraints: (0..6).map(pattern).collect(),
        included: vec![],
        excluded: vec![],
    };
    let err = super::validate::check_segment(&segment).unwrap_err();
    assert_eq!(err.field, "constraints");
    segment.constraints.pop();
    assert!(super::validate::check_segment(&segment).is_ok());
}

#[test]
fn the_cost_of_an_evaluation_counts_patterns_segments_and_prerequisites() {
    let pattern = single("email", Operator::Regex, "@example\\.com$");
    let mut with_pattern = on_with(vec![super::tests::rule(
        &["staff"],
        vec![pattern.clone()],
        100,
        "on",
    )]);
    with_pattern.default_variant = "on".into();
    let segment = Segment {
        key: "staff".into(),
        name: "Staff".into(),
        description: String::new(),
        constraints: vec![pattern, c("country", Operator::In, &["NO"])],
        included: vec![],
        excluded: vec![],
    };
    let set = FlagSet::build(
        vec![
            (boolean_flag("plain"), on_with(vec![])),
            (boolean_flag("matcher"), with_pattern),
            (boolean_flag("top"), requiring(&["matcher".into()])),
        ],
        [&segment],
    );
    let cost = |key: &str| set.get(key).map(|f| f.cost()).unwrap_or_default();
    assert_eq!(cost("plain"), 1);
    // One rule: a pattern of its own, and a segment with a pattern and a list.
    assert_eq!(cost("matcher"), 1 + 100 + 100 + 1);
    // A flag costs what its prerequisites cost too.
    assert_eq!(cost("top"), 1 + cost("matcher"));
    // A bulk evaluation evaluates each flag once.
    assert_eq!(set.cost(), 1 + cost("matcher") + 1);
}
