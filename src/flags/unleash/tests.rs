//! What a hostile Unleash document cannot do to the import: panic it, or make it build or
//! judge something far larger than the document.

use serde_json::json;

use super::read_document;
use crate::flags::model::Serve;

#[test]
fn a_date_with_other_letters_in_its_zone_is_judged_without_a_panic() {
    for value in [
        "2024-01-01T00:00:00+0é00",
        "2024-01-01T00:00:00+00é0",
        "2024-01-01T00:00:0é",
    ] {
        let doc = json!({"version": 2, "features": [{"name": "t", "enabled": true, "strategies": [
            {"name": "default", "constraints": [
                {"contextName": "signup", "operator": "DATE_AFTER", "value": value}]}]}]});
        let import = read_document(&doc.to_string()).expect("document reads");
        assert_eq!(
            import.flags[0].1.rules[0].rollout, 0,
            "{value}: off, as in Unleash"
        );
        assert!(
            import
                .warnings
                .iter()
                .any(|w| w.contains("not a number, date or version")),
            "{:?}",
            import.warnings
        );
    }
}

#[test]
fn a_segment_named_over_and_over_is_read_and_judged_once() {
    let constraints: Vec<_> = (0..1_000)
        .map(
            |i| json!({"contextName": "tenant", "operator": "NOT_IN", "values": [format!("t{i}")]}),
        )
        .collect();
    let doc = json!({"version": 2,
        "segments": [{"id": 1, "name": "big", "constraints": constraints}],
        "features": [{"name": "t", "enabled": true, "strategies": [
            {"name": "default", "segments": vec![1; 200_000]}]}]});
    let import = read_document(&doc.to_string()).expect("document reads");
    assert_eq!(import.flags[0].1.rules[0].segments, ["unleash-segment-1"]);
}

#[test]
fn payloads_a_flag_would_repeat_in_every_rule_are_bounded() {
    let big = "x".repeat(400 * 1024);
    let feature = |name: &str, strategies: usize| {
        json!({"name": name, "enabled": true,
            "strategies": vec![json!({"name": "default"}); strategies],
            "variants": [{"name": "a", "weight": 1, "payload": {"type": "string", "value": big}}]})
    };
    let doc =
        json!({"version": 2, "features": [feature("two-rules", 1), feature("three-rules", 2)]});
    let import = read_document(&doc.to_string()).expect("document reads");
    assert_eq!(import.flags.len(), 1);
    assert_eq!(import.flags[0].0.key, "two-rules");
    assert!(
        import.skipped[0].starts_with("three-rules: its rules would carry 1200 KB"),
        "{:?}",
        import.skipped
    );
    let Serve::Split(split) = &import.flags[0].1.rules[0].serve else {
        panic!("the feature's variants are a split");
    };
    assert_eq!(split.variants[0].payload, None, "the variant's own payload");
}
