//! Random Unleash client API documents and contexts for the differential tests: strategies of
//! every built-in kind, constraints with every operator (inverted, case-insensitive), segments,
//! feature and strategy variants with weights, stickiness, payloads and overrides, and
//! dependencies. Values come from small pools so that constraints, overrides and variant names
//! meet often (the same name at feature and strategy level with other payloads included).
//!
//! What is left out keeps both engines deterministic and inside what Unleash's server stores:
//! a variant is never bucketed by a field the context may lack or by `random` (Unleash picks
//! at random then), a random rollout is 0 % or 100 %, weights never all add up to 0 (Unleash's
//! engine divides by the total), and constraint values are of their operator's kind, as
//! Unleash's server requires (one rare unreadable number tests the toggle Unleash turns off).

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{Map, Value, json};

use crate::caller::USERS;

const FIELDS: &[&str] = &[
    "userId",
    "sessionId",
    "environment",
    "appName",
    "currentTime",
    "remoteAddress",
    "tenant",
    "plan",
    "age",
    "version",
    "email",
    "signup",
    "absent",
];
const WORDS: &[&str] = &[
    "u1",
    "u2",
    "u7",
    "s3",
    "acme",
    "ACME",
    "glo",
    "Init",
    "Pro",
    "pro",
    "free",
    "production",
    "web",
    "ios",
    "@example.com",
    "example",
    ".org",
    "42",
    "18",
    "1.2.3",
    "",
];

fn constraint() -> impl Strategy<Value = Value> {
    let list = prop::collection::vec(select(WORDS), 0..4).prop_map(|v| json!(v));
    let ordinal = prop_oneof![
        3 => (select(&["NUM_EQ", "NUM_GT", "NUM_GTE", "NUM_LT", "NUM_LTE"][..]),
            select(&["18", "42", "3.5", "-1", "0", "1e2", "100", "0.3"][..]).prop_map(Some)),
        3 => (select(&["DATE_AFTER", "DATE_BEFORE"][..]),
            select(&["2024-03-01T00:00:00Z", "2025-01-01T00:00:00.000Z", "2024-06-01T00:00:00+02:00"][..]).prop_map(Some)),
        3 => (select(&["SEMVER_EQ", "SEMVER_GT", "SEMVER_GTE", "SEMVER_LT", "SEMVER_LTE"][..]),
            select(&["1.2.3", "2.0.0", "2.0.0-alpha", "10.0.0", "v1.0.0", "2.0.0+5"][..]).prop_map(Some)),
        // Patterns within what a constraint here may hold (see the README), and one that is
        // not a pattern at all; a missing one is the empty pattern.
        3 => (Just("REGEX"), prop::option::weighted(0.9, select(
            &["^u1", "example\\.com$", "^(acme|globex)$", "[0-9]+", "(", "^u[0-9]{1,2}$", "^\\w+@"][..]))),
        1 => (select(&["NUM_GT", "DATE_AFTER"][..]), Just(Some("soon"))),
    ]
    .prop_map(|(op, v)| (op, json!([]), v));
    let listed = prop_oneof![
        (
            select(
                &[
                    "IN",
                    "NOT_IN",
                    "STR_STARTS_WITH",
                    "STR_ENDS_WITH",
                    "STR_CONTAINS"
                ][..]
            ),
            list
        ),
        (
            Just("IN_CIDR"),
            subsequence(
                &[
                    "10.0.0.0/8",
                    "192.168.1.0/24",
                    "2001:db8::/32",
                    "10.0.0.5",
                    "bad"
                ][..],
                0..3
            )
            .prop_map(|v| json!(v))
        ),
    ]
    .prop_map(|(op, values)| (op, values, None));
    let kind = prop_oneof![8 => listed, 8 => ordinal, 1 => Just(("STR_FUZZY", json!(["a"]), None))];
    (select(FIELDS), kind, any::<bool>(), any::<bool>()).prop_map(
        |(field, (op, values, value), inverted, case_insensitive)| {
            let mut c = json!({"contextName": field, "operator": op, "values": values,
                "inverted": inverted, "caseInsensitive": case_insensitive});
            if let Some(v) = value {
                c["value"] = json!(v);
            }
            c
        },
    )
}

const VARIANTS: &[&str] = &["control", "blue", "green", "orange"];
const PAYLOADS: &[(&str, &str)] = &[
    ("string", "hello"),
    ("string", "bonjour"),
    ("json", "{\"size\":3}"),
    ("json", "{\"size\":5}"),
    ("number", "7"),
];

/// A list of variants with distinct names and a positive total weight.
fn variants(max: usize) -> impl Strategy<Value = Vec<Value>> {
    let one = (0..=1000i64, prop::option::of(select(PAYLOADS)));
    (
        subsequence(VARIANTS, 0..=max),
        prop::collection::vec(one, max),
    )
        .prop_map(|(names, details)| {
            let mut out: Vec<Value> = names
                .iter()
                .zip(details)
                .map(|(name, (weight, payload))| {
                    let mut v = json!({"name": name, "weight": weight, "weightType": "variable"});
                    if let Some((kind, value)) = payload {
                        v["payload"] = json!({"type": kind, "value": value});
                    }
                    v
                })
                .collect();
            if let Some(first) = out.first_mut()
                && first["weight"] == json!(0)
            {
                first["weight"] = json!(500);
            }
            out
        })
}

fn group() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.7,
        select(&["g1", "g2", "checkout"][..]).prop_map(str::to_owned),
    )
}

/// A built-in strategy's name and parameters.
fn kind() -> impl Strategy<Value = (&'static str, Map<String, Value>)> {
    let params = |pairs: Vec<(&str, Option<String>)>| -> Map<String, Value> {
        pairs
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), Value::String(v?))))
            .collect()
    };
    // Now and then a rollout over 100 %, which Unleash's engine cannot compile.
    let percent =
        || prop_oneof![40 => 0..=100u32, 1 => Just(150u32)].prop_map(|p| Some(p.to_string()));
    prop_oneof![
        1 => Just(("default", Map::new())),
        1 => subsequence(USERS, 0..4).prop_map(move |ids| ("userWithId", params(vec![("userIds", Some(ids.join(", ")))]))),
        1 => (select(&["gradualRolloutUserId", "gradualRolloutSessionId"][..]), percent(), group())
            .prop_map(move |(name, p, g)| (name, params(vec![("percentage", p), ("groupId", g)]))),
        1 => select(&["0", "100"][..]).prop_map(move |p| ("gradualRolloutRandom", params(vec![("percentage", Some(p.to_owned()))]))),
        3 => (percent(), select(&["default", "userId", "sessionId", "tenant"][..]), group())
            .prop_map(move |(p, st, g)| ("flexibleRollout", params(vec![("rollout", p), ("stickiness", Some(st.to_owned())), ("groupId", g)]))),
        1 => select(&["0", "100"][..]).prop_map(move |p| ("flexibleRollout", params(vec![("rollout", Some(p.to_owned())), ("stickiness", Some("random".to_owned())), ("groupId", Some("g1".to_owned()))]))),
        1 => subsequence(&["10.0.0.0/8", "192.168.1.20", "2001:db8::/32"][..], 0..3)
            .prop_map(move |ips| ("remoteAddress", params(vec![("IPs", Some(ips.join(", ")))]))),
        1 => Just(("applicationHostname", params(vec![("hostNames", Some("web-1,web-2".to_owned()))]))),
    ]
}

fn strategy() -> impl Strategy<Value = Value> {
    let segments = prop_oneof![9 => subsequence(&[1, 2, 3][..], 0..3), 1 => Just(vec![9])];
    (
        kind(),
        prop::collection::vec(constraint(), 0..2),
        segments,
        variants(3),
    )
        .prop_map(
            |((name, mut parameters), constraints, segments, variants)| {
                // A strategy buckets its variants by its stickiness: never by chance.
                if !variants.is_empty() && parameters.get("stickiness") == Some(&json!("random")) {
                    parameters.insert("stickiness".into(), json!("default"));
                }
                json!({"name": name, "parameters": parameters, "constraints": constraints,
                "segments": segments, "variants": variants})
            },
        )
}

/// A feature's variants: their stickiness (on the first) and overrides on some.
fn feature_variants() -> impl Strategy<Value = Vec<Value>> {
    let stickiness = select(&[None, Some("default"), Some("sessionId"), Some("tenant")][..]);
    let override_ = prop::option::weighted(
        0.3,
        (
            select(&["userId", "tenant", "appName"][..]),
            subsequence(&["u1", "u2", "acme", "web", "Initech"][..], 1..3),
        ),
    );
    (variants(4), stickiness, prop::collection::vec(override_, 4)).prop_map(
        |(mut list, st, overrides)| {
            for (v, o) in list.iter_mut().zip(overrides) {
                if let Some((field, values)) = o {
                    v["overrides"] = json!([{"contextName": field, "values": values}]);
                }
            }
            if let (Some(first), Some(st)) = (list.first_mut(), st) {
                first["stickiness"] = json!(st);
            }
            list
        },
    )
}

fn feature() -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.85),
        prop::collection::vec(strategy(), 0..4),
        feature_variants(),
    )
        .prop_map(|(enabled, strategies, variants)| {
            json!({"type": "release", "project": "default", "impressionData": false,
                "enabled": enabled, "strategies": strategies, "variants": variants})
        })
}

/// A dependency on toggle `parent` (an index, or one the document lacks).
fn dependency() -> impl Strategy<Value = (usize, Option<bool>, Vec<&'static str>)> {
    (
        0..8usize,
        select(&[None, Some(true), Some(false)][..]),
        subsequence(&["control", "blue", "green", "disabled"][..], 0..3),
    )
}

fn segment(id: u32) -> impl Strategy<Value = Value> {
    prop::collection::vec(constraint(), 0..2)
        .prop_map(move |constraints| json!({"id": id, "name": format!("segment {id}"), "constraints": constraints}))
}

/// A document of 1 to 8 toggles named `t0`, `t1`, …
pub fn document() -> impl Strategy<Value = Value> {
    let features = prop::collection::vec(
        (
            feature(),
            prop::collection::vec(prop::option::weighted(0.2, dependency()), 2),
        ),
        1..8,
    );
    (features, segment(1), segment(2), segment(3)).prop_map(|(features, s1, s2, s3)| {
        let n = features.len();
        let mut list: Vec<Value> = Vec::with_capacity(n);
        let mut parents = Vec::new();
        for (i, (mut f, deps)) in features.into_iter().enumerate() {
            f["name"] = json!(format!("t{i}"));
            let deps: Vec<Value> = deps
                .into_iter()
                .flatten()
                .map(|(parent, enabled, variants)| {
                    // One parent in eight is a toggle the document lacks.
                    let name = if parent < n {
                        format!("t{parent}")
                    } else {
                        "ghost".to_owned()
                    };
                    parents.push(name.clone());
                    let mut d = json!({"feature": name});
                    if let Some(e) = enabled {
                        d["enabled"] = json!(e);
                    }
                    // Unleash's server lists variants only for a parent that must be on.
                    if enabled != Some(false) && !variants.is_empty() {
                        d["variants"] = json!(variants);
                    }
                    d
                })
                .collect();
            f["dependencies"] = json!(deps);
            list.push(f);
        }
        // Unleash's server gives every flexible rollout its group id; its engine would bucket a
        // parent without one by the name of the child that asks (see the README).
        for f in &mut list {
            let name = f["name"].clone();
            if parents.iter().any(|p| name == json!(p)) {
                for s in f["strategies"].as_array_mut().into_iter().flatten() {
                    if s["name"] == json!("flexibleRollout")
                        && s["parameters"].get("groupId").is_none()
                    {
                        s["parameters"]["groupId"] = name.clone();
                    }
                }
            }
        }
        json!({"version": 2, "features": list, "segments": [s1, s2, s3]})
    })
}
