//! Evaluator speed: one flag with 5 rules, segments and 10 constraints; and all 1,000 flags of
//! an environment for one context (a bulk OFREP evaluation). Run with `cargo bench -p varai-domain`.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use varai_domain::flags::{Context, FlagSet, FlagSpec, Segment, Targeting};

fn segments() -> Vec<Segment> {
    serde_json::from_value(json!([
        {"key": "beta-testers", "name": "Beta", "constraints": [{"contextName": "cohort", "operator": "IN", "values": ["alpha", "beta"]}]},
        {"key": "internal", "name": "Internal", "constraints": [{"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@example.com"], "caseInsensitive": true}]},
        {"key": "low-risk", "name": "Low risk", "constraints": [{"contextName": "riskScore", "operator": "NUM_LT", "value": "30"}]}
    ]))
    .expect("segments")
}

/// A flag with 5 rules using segments and 10 constraints in all; the context matches only
/// the last rule, so every rule is evaluated.
fn rich_flag(key: &str) -> (FlagSpec, Targeting) {
    let spec = serde_json::from_value(json!({
        "key": key, "name": key, "valueType": "string",
        "variants": [{"name": "a", "value": "A"}, {"name": "b", "value": "B"}, {"name": "c", "value": "C"}]
    }))
    .expect("spec");
    let targeting = serde_json::from_value(json!({
        "enabled": true, "defaultVariant": "a", "offVariant": "a",
        "rules": [
            {"segments": ["internal"], "constraints": [{"contextName": "country", "operator": "IN", "values": ["NO", "SE", "DK"]}], "serve": {"variant": "b"}},
            {"constraints": [{"contextName": "appVersion", "operator": "SEMVER_LT", "value": "2.0.0"},
                             {"contextName": "plan", "operator": "STR_STARTS_WITH", "values": ["enterprise"]}], "serve": {"variant": "c"}},
            {"segments": ["low-risk"], "constraints": [{"contextName": "signup", "operator": "DATE_BEFORE", "value": "2020-01-01T00:00:00Z"},
                             {"contextName": "remoteAddress", "operator": "IN_CIDR", "values": ["10.0.0.0/8"]}], "serve": {"variant": "b"}},
            {"constraints": [{"contextName": "userAgent", "operator": "REGEX", "value": "^Bot/"},
                             {"contextName": "riskScore", "operator": "NUM_GT", "value": "90"}], "serve": {"variant": "c"}},
            {"segments": ["beta-testers"], "constraints": [{"contextName": "country", "operator": "NOT_IN", "values": ["US"]},
                             {"contextName": "plan", "operator": "STR_CONTAINS", "values": ["pro"]},
                             {"contextName": "appVersion", "operator": "SEMVER_GTE", "value": "2.1.0"}],
             "rollout": 50,
             "serve": {"split": {"variants": [{"variant": "b", "weight": 50}, {"variant": "c", "weight": 50}]}}}
        ]
    }))
    .expect("targeting");
    (spec, targeting)
}

fn context() -> Map<String, Value> {
    json!({"targetingKey": "user-8841", "cohort": "beta", "email": "ann@customer.io", "country": "NO",
           "plan": "pro-annual", "appVersion": "2.3.1", "riskScore": 55, "remoteAddress": "192.168.1.2",
           "userAgent": "Mozilla/5.0", "signup": "2024-03-01T10:00:00Z"})
    .as_object()
    .cloned()
    .unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let segs = segments();
    let attrs = context();
    let ctx = Context::new(&attrs, 1_800_000_000_000, 7);

    let single = FlagSet::build([rich_flag("checkout")], segs.iter());
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one flag, 5 rules, 10 constraints", |b| {
        b.iter(|| black_box(single.evaluate(black_box("checkout"), &ctx)).map(|e| e.variant.len()))
    });
    group.finish();

    let many = FlagSet::build(
        (0..1000).map(|i| rich_flag(&format!("flag-{i}"))),
        segs.iter(),
    );
    let mut group = c.benchmark_group("bulk");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("1,000 flags for one context", |b| {
        b.iter(|| {
            let evaluator = many.evaluator(ctx);
            many.flags()
                .map(|f| evaluator.evaluate(f).variant.len())
                .sum::<usize>()
        })
    });
    group.finish();
    worst(c);
}

/// The slowest pattern found within the limits (a search of 20,000 generated patterns), five
/// times in one flag, against a 1,024-character value that never matches it.
const WORST_PATTERN: &str = "(?:.{2}a(?:a|b|ab|ba){20}(?i:a){0,5})+y";

fn worst(c: &mut Criterion) {
    let spec = serde_json::from_value(json!({
        "key": "worst", "name": "worst", "valueType": "boolean",
        "variants": [{"name": "on", "value": true}, {"name": "off", "value": false}]
    }))
    .expect("spec");
    let rule = |field: &str| json!({"constraints": [{"contextName": field, "operator": "REGEX", "value": WORST_PATTERN}], "serve": {"variant": "on"}});
    let targeting: Targeting = serde_json::from_value(json!({
        "enabled": true, "defaultVariant": "off", "offVariant": "off",
        "rules": [rule("a"), rule("b"), rule("c"), rule("d"), rule("e")]
    }))
    .expect("targeting");
    let set = FlagSet::build([(spec, targeting)], []);
    let long = "ab".repeat(512);
    let attrs = json!({"targetingKey": "u", "a": long, "b": long, "c": long, "d": long, "e": long})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let ctx = Context::new(&attrs, 1_800_000_000_000, 7);
    let mut group = c.benchmark_group("worst");
    group.throughput(Throughput::Elements(1));
    group.bench_function(
        "one flag, 5 costliest patterns, 1,024-character values",
        |b| b.iter(|| black_box(set.evaluate(black_box("worst"), &ctx)).map(|e| e.variant.len())),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
