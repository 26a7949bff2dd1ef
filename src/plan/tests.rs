use proptest::prelude::*;

use super::run::{hold_step, stop_index};
use super::*;
use crate::Recheck;
use crate::deploy::CanaryStep;

fn app_release() -> Release {
    Release {
        app: Some("storefront".into()),
        version: Some("v2".into()),
        flags: vec!["new-checkout".into()],
    }
}

fn field_of(plan: &Plan, release: &Release) -> String {
    plan.check(release).expect_err("refused").field
}

#[test]
fn the_default_plan_has_the_eight_phases_in_order_and_is_valid() {
    let plan = default_plan();
    let names: Vec<&str> = plan.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Planning",
            "Preparation",
            "Internal Testing",
            "Alpha",
            "Beta",
            "Gradual Rollout",
            "Full Rollout",
            "Monitoring"
        ]
    );
    assert_eq!(plan.check(&app_release()), Ok(()));
}

#[test]
fn audiences_accumulate_and_gradual_steps_become_stops() {
    let plan = default_plan();
    let stops = stops(&plan);
    let labels: Vec<String> = stops.iter().map(Stop::label).collect();
    assert_eq!(
        labels[5..8],
        [
            "Gradual Rollout 5%",
            "Gradual Rollout 25%",
            "Gradual Rollout 50%"
        ]
    );
    assert_eq!(stops.len(), 10);
    assert_eq!(
        stops[4].exposure.segments,
        ["internal", "alpha-testers", "beta-testers"]
    );
    assert_eq!(stops[6].exposure.users_percent, 25);
    assert_eq!(stops[6].exposure.traffic_percent, 25);
    assert!(stops[8].exposure.full && stops[8].exposure.users_percent == 100);
    assert!(stops[0].exposure.segments.is_empty());
}

#[test]
fn the_canary_holds_once_per_exposing_stop_and_promotes_after_the_last() {
    let plan = default_plan();
    let stops = stops(&plan);
    let steps = canary_steps(&stops);
    // Internal, Alpha, Beta and three Gradual steps.
    assert_eq!(steps.len(), 12);
    assert_eq!(steps[0], CanaryStep::SetWeight(5));
    assert_eq!(steps[10], CanaryStep::SetWeight(50));
    assert_eq!(hold_step(&stops, 2), Some(1));
    assert_eq!(hold_step(&stops, 7), Some(11));
    assert_eq!(hold_step(&stops, 8), None);
    assert_eq!(hold_step(&stops, 1), None);
    let at = stop_index(&stops, Position { phase: 5, step: 1 });
    assert_eq!(at, Some(6));
}

#[test]
fn a_plan_out_of_order_is_refused_by_the_phase_that_breaks_it() {
    let mut plan = default_plan();
    plan.phases.swap(6, 7);
    assert_eq!(field_of(&plan, &app_release()), "phases[7].kind");
    let mut twice = default_plan();
    twice.phases.insert(2, twice.phases[1].clone());
    twice.phases[2].name = "Preparation again".into();
    assert_eq!(field_of(&twice, &app_release()), "phases[2].kind");
}

#[test]
fn shares_that_shrink_are_refused() {
    let mut plan = default_plan();
    plan.phases[4].audience.traffic_percent = Some(2);
    let e = plan.check(&app_release()).expect_err("refused");
    assert_eq!(e.field, "phases[4].audience.trafficPercent");
    assert!(e.message.contains("less traffic"), "{}", e.message);
    let mut steps = default_plan();
    steps.phases[5].steps[1].percent = 5;
    assert_eq!(
        field_of(&steps, &app_release()),
        "phases[5].steps[1].percent"
    );
}

#[test]
fn app_gates_need_an_app_in_the_release() {
    let flags_only = Release {
        app: None,
        version: None,
        flags: vec!["new-checkout".into()],
    };
    assert_eq!(
        field_of(&default_plan(), &flags_only),
        "phases[2].gates[0].type"
    );
    assert!(Release::default().check().is_err());
    assert_eq!(
        Release {
            app: Some("storefront".into()),
            ..Release::default()
        }
        .check()
        .expect_err("no version")
        .field,
        "release.version"
    );
}

#[test]
fn gates_name_their_bad_fields() {
    let bad = [
        (
            Gate::HealthCheck {
                path: "healthz".into(),
                times: 3,
                timeout_seconds: 10,
            },
            "g.path",
        ),
        (
            Gate::LoadTest {
                rate: 0,
                concurrency: 1,
                duration_seconds: 5,
                max_error_percent: 1.0,
                max_p95_ms: 100,
            },
            "g.rate",
        ),
        (
            Gate::Approval {
                role: crate::Role::Viewer,
                four_eyes: false,
            },
            "g.role",
        ),
        (Gate::SmokeTest { requests: vec![] }, "g.requests"),
        (
            Gate::IntegrationTest {
                image: "a b".into(),
                command: vec!["true".into()],
                timeout_seconds: 5,
            },
            "g.image",
        ),
    ];
    for (gate, field) in bad {
        assert_eq!(gate.check("g").expect_err("refused").field, field);
    }
}

fn observation(gates: Vec<GateState>) -> StopObservation {
    StopObservation {
        exposure_applied: true,
        gates,
        advance_requested: false,
    }
}

#[test]
fn a_stop_starts_its_gates_then_bakes_then_advances() {
    let plan = default_plan();
    let stops = stops(&plan);
    let waiting = observation(vec![GateState::Waiting, GateState::Waiting]);
    assert_eq!(
        decide(&stops, 2, 0, &waiting, 10),
        StopDecision::StartGates(vec![0, 1])
    );
    let mut applying = waiting.clone();
    applying.exposure_applied = false;
    assert!(matches!(
        decide(&stops, 2, 0, &applying, 10),
        StopDecision::Wait(_, Recheck::Soon)
    ));
    let passed = observation(vec![GateState::Passed, GateState::Passed]);
    match decide(&stops, 2, 0, &passed, 1000) {
        StopDecision::Wait(why, recheck) => {
            assert!(why.contains("3599 seconds more"), "{why}");
            assert_eq!(
                recheck,
                Recheck::At(3_600_000),
                "looked at again when the bake ends"
            );
        }
        other => panic!("expected to bake, got {other:?}"),
    }
    assert_eq!(
        decide(&stops, 2, 0, &passed, 3_600_000),
        StopDecision::Advance { to: 3 }
    );
}

#[test]
fn a_failed_gate_rolls_back_and_one_without_verdict_pauses() {
    let plan = default_plan();
    let stops = stops(&plan);
    let failed = observation(vec![
        GateState::Passed,
        GateState::Failed("GET / answered 500".into()),
    ]);
    match decide(&stops, 2, 0, &failed, 10) {
        StopDecision::RollBack(why) => assert!(why.contains("Smoke test") && why.contains("500")),
        other => panic!("expected a rollback, got {other:?}"),
    }
    let unknown = observation(vec![GateState::Inconclusive("no Prometheus".into())]);
    assert!(matches!(
        decide(&stops, 3, 0, &unknown, 10),
        StopDecision::Pause(_)
    ));
}

#[test]
fn a_stop_that_does_not_advance_by_itself_waits_for_a_person_and_the_last_completes() {
    let mut plan = default_plan();
    plan.phases[1].auto_advance = false;
    let stops = stops(&plan);
    let none = observation(vec![]);
    assert!(matches!(
        decide(&stops, 1, 0, &none, 10),
        StopDecision::Wait(_, Recheck::OnEvent)
    ));
    let asked = StopObservation {
        advance_requested: true,
        ..none.clone()
    };
    assert_eq!(
        decide(&stops, 1, 0, &asked, 10),
        StopDecision::Advance { to: 2 }
    );
    let last = stops.len() - 1;
    let passed = observation(vec![GateState::Passed, GateState::Passed]);
    assert_eq!(
        decide(&stops, last, 0, &passed, i64::MAX / 2),
        StopDecision::Complete
    );
}

#[test]
fn the_estimate_adds_bake_times_and_names_who_is_waited_for() {
    let plan = default_plan();
    let timeline = estimate(&plan, &|_| 10);
    assert_eq!(timeline[0].waits_for.len(), 1);
    assert_eq!(timeline[2].seconds, 3600);
    assert_eq!(timeline[3].starts_at, 3600);
    let total: u64 = timeline.iter().map(|s| s.seconds).sum();
    assert_eq!(
        total,
        3600 + 4 * 3600 + 24 * 3600 + 3 * 3600 + 3 + 24 * 3600
    );
}

fn kinds() -> impl Strategy<Value = Vec<PhaseKind>> {
    prop::collection::vec(prop::sample::select(PhaseKind::ALL.to_vec()), 1..10)
}

fn plan_of(kinds: &[PhaseKind]) -> Plan {
    Plan {
        phases: kinds
            .iter()
            .enumerate()
            .map(|(i, k)| Phase {
                name: format!("phase {i}"),
                kind: *k,
                audience: Audience::default(),
                gates: vec![],
                bake_seconds: 0,
                auto_advance: true,
                steps: if *k == PhaseKind::Gradual {
                    vec![GradualStep {
                        percent: 100,
                        bake_seconds: 0,
                        gates: vec![],
                    }]
                } else {
                    vec![]
                },
            })
            .collect(),
    }
}

proptest! {
    #[test]
    fn a_plan_is_accepted_exactly_when_its_phases_keep_their_order(kinds in kinds()) {
        let ordered = kinds.windows(2).all(|w| w[0].rank() <= w[1].rank());
        let once = PhaseKind::ALL.iter().filter(|k| !k.repeatable()).all(|k| {
            kinds.iter().filter(|x| *x == k).count() <= 1
        });
        prop_assert_eq!(plan_of(&kinds).check(&app_release()).is_ok(), ordered && once);
    }

    #[test]
    fn shares_are_accepted_exactly_when_they_never_shrink(
        shares in prop::collection::vec((0u32..=100, 0u32..=100), 1..8),
    ) {
        let mut plan = plan_of(&vec![PhaseKind::Exposure; shares.len()]);
        for (p, (u, t)) in plan.phases.iter_mut().zip(&shares) {
            p.audience.users_percent = Some(*u);
            p.audience.traffic_percent = Some(*t);
        }
        let grows = shares.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1);
        prop_assert_eq!(plan.check(&app_release()).is_ok(), grows);
    }

    #[test]
    fn a_valid_plan_never_takes_the_release_from_anyone_on_the_way(
        shares in prop::collection::vec(0u32..=100, 1..6),
        steps in prop::collection::btree_set(1u32..=100, 1..5),
    ) {
        let mut sorted = shares.clone();
        sorted.sort_unstable();
        let mut kinds = vec![PhaseKind::Planning, PhaseKind::Preparation];
        kinds.extend(vec![PhaseKind::Exposure; sorted.len()]);
        kinds.extend([PhaseKind::Gradual, PhaseKind::Full, PhaseKind::Monitoring]);
        let mut plan = plan_of(&kinds);
        for (p, s) in plan.phases[2..].iter_mut().zip(&sorted) {
            p.audience.traffic_percent = Some(*s);
            p.audience.users_percent = Some(*s);
        }
        let floor = *sorted.last().unwrap_or(&0);
        let gradual = &mut plan.phases[2 + sorted.len()];
        gradual.steps = steps
            .iter()
            .filter(|p| **p >= floor)
            .map(|p| GradualStep { percent: *p, bake_seconds: 0, gates: vec![] })
            .collect();
        prop_assume!(!gradual.steps.is_empty());
        prop_assert_eq!(plan.check(&app_release()), Ok(()));
        let all = stops(&plan);
        for w in all.windows(2) {
            prop_assert!(w[0].exposure.users_percent <= w[1].exposure.users_percent);
            prop_assert!(w[0].exposure.traffic_percent <= w[1].exposure.traffic_percent);
        }
        let weights: Vec<u32> = canary_steps(&all)
            .iter()
            .filter_map(|s| match s { CanaryStep::SetWeight(w) => Some(*w), _ => None })
            .collect();
        prop_assert!(weights.windows(2).all(|w| w[0] <= w[1]) && weights.iter().all(|w| *w <= 100));
    }
}

mod audience_rules {
    use super::super::Exposure;
    use super::super::audience::*;
    use crate::flags::{FlagSpec, Serve, Targeting, ValueType, Variant};
    use serde_json::json;

    fn spec() -> FlagSpec {
        FlagSpec {
            key: "new-checkout".into(),
            name: "New checkout".into(),
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
            kind: Default::default(),
        }
    }

    #[test]
    fn an_off_flag_is_switched_on_for_the_audience_only() {
        let before = Targeting::initial(&spec());
        assert!(!before.enabled);
        let exposure = Exposure {
            segments: vec!["internal".into()],
            users_percent: 5,
            traffic_percent: 5,
            full: false,
        };
        let t = exposed_targeting(&spec(), &before, 7, &exposure).expect("exposed");
        assert!(t.enabled);
        assert_eq!(t.default_variant, "off");
        assert_eq!(t.rules.len(), 2);
        assert_eq!(t.rules[0].segments, ["internal"]);
        assert_eq!(t.rules[1].rollout, 5);
        assert!(
            t.rules
                .iter()
                .all(|r| r.serve == Serve::Variant("on".into()))
        );
        assert!(t.rules[0].description.starts_with("rollout #7"));
    }

    #[test]
    fn nobody_exposed_leaves_the_flag_as_it_was_and_everyone_serves_the_release() {
        let before = Targeting::initial(&spec());
        assert_eq!(
            exposed_targeting(&spec(), &before, 1, &Exposure::default()).expect("same"),
            before
        );
        let full = Exposure {
            full: true,
            users_percent: 100,
            ..Exposure::default()
        };
        let t = exposed_targeting(&spec(), &before, 1, &full).expect("full");
        assert_eq!(t.rules.len(), 1);
        assert_eq!(t.rules[0].rollout, 100);
        assert!(t.rules[0].segments.is_empty());
    }
}

#[test]
fn a_stop_whose_gates_run_is_looked_at_again_when_a_verdict_arrives() {
    let plan = default_plan();
    let stops = stops(&plan);
    let running = observation(vec![GateState::Passed, GateState::Running]);
    match decide(&stops, 2, 0, &running, 10) {
        StopDecision::Wait(why, recheck) => {
            assert!(why.starts_with("waiting for"), "{why}");
            assert_eq!(recheck, Recheck::OnEvent);
        }
        other => panic!("expected to wait for the gate, got {other:?}"),
    }
}

#[test]
fn a_stop_takes_at_most_ten_gates_and_a_plan_a_bounded_load() {
    let load = |rate: u32, seconds: u32| Gate::LoadTest {
        rate,
        concurrency: 10,
        duration_seconds: seconds,
        max_error_percent: 1.0,
        max_p95_ms: 500,
    };
    let mut plan = default_plan();
    let beta = plan
        .phases
        .iter()
        .position(|p| p.name == "Beta")
        .expect("a Beta phase");
    plan.phases[beta].gates = (0..11).map(|_| load(1, 1)).collect();
    assert_eq!(
        field_of(&plan, &app_release()),
        format!("phases[{beta}].gates")
    );

    // 100 requests a second for 600 s is 60,000 requests: twice fits the 120,000 budget ...
    plan.phases[beta].gates = vec![load(100, 600), load(100, 600)];
    assert_eq!(plan.check(&app_release()), Ok(()));
    // ... one request more does not.
    plan.phases[beta].gates = vec![load(100, 600), load(100, 600), load(1, 1)];
    let err = plan.check(&app_release()).expect_err("over the budget");
    assert_eq!(
        err.field,
        format!("phases[{beta}].gates[2].durationSeconds")
    );
    assert!(err.message.contains("120001 requests"), "{}", err.message);
}
