use super::*;
use crate::deploy::canary::{CanaryStep, Pause};

/// A toy cluster that carries out actions, with pods becoming ready one per tick.
#[derive(Debug, Clone)]
struct Toy {
    seen: Observed,
}

impl Toy {
    fn new(version: &str, desired: u32) -> Toy {
        Toy {
            seen: Observed {
                primary: Some(Workload {
                    version: version.into(),
                    replicas: desired,
                    ready: desired,
                    rolled_out: true,
                    stalled: false,
                }),
                ..Observed::default()
            },
        }
    }

    fn apply(&mut self, actions: &[Action]) {
        for a in actions {
            match a {
                Action::Primary {
                    version,
                    replicas,
                    rollout,
                } => {
                    let w = self.seen.primary.get_or_insert_with(Workload::default);
                    if w.version != *version {
                        // A rolling update keeps the old pods serving; a recreate does not.
                        if *rollout == Rollout::Recreate {
                            w.ready = 0;
                        }
                        w.rolled_out = false;
                    }
                    w.version = version.clone();
                    w.replicas = *replicas;
                }
                Action::ScalePrimary(n) => {
                    if let Some(w) = &mut self.seen.primary {
                        w.replicas = *n;
                        w.ready = w.ready.min(*n);
                    }
                }
                Action::Secondary { version, replicas } => {
                    let w = self.seen.secondary.get_or_insert_with(Workload::default);
                    w.version = version.clone();
                    w.replicas = *replicas;
                    w.ready = w.ready.min(*replicas);
                }
                Action::RemoveSecondary => self.seen.secondary = None,
                Action::Active(v) => self.seen.active_version = v.clone(),
                Action::Preview(_) => self.seen.preview_service = true,
                Action::RemovePreview => self.seen.preview_service = false,
            }
        }
    }

    fn tick(&mut self) {
        for w in [&mut self.seen.primary, &mut self.seen.secondary]
            .into_iter()
            .flatten()
        {
            if w.ready < w.replicas {
                w.ready += 1;
            }
            w.rolled_out = w.ready == w.replicas;
        }
    }

    fn ready_serving(&self) -> u32 {
        let p = self.seen.primary.as_ref().map_or(0, |w| w.ready);
        let s = self.seen.secondary.as_ref().map_or(0, |w| w.ready);
        match &self.seen.active_version {
            None => p + s,
            Some(v) => [&self.seen.primary, &self.seen.secondary]
                .into_iter()
                .flatten()
                .filter(|w| &w.version == v)
                .map(|w| w.ready)
                .sum(),
        }
    }
}

fn plan(strategy: Strategy) -> DeploySpec {
    DeploySpec {
        strategy,
        version: "v2".into(),
        previous_version: "v1".into(),
        desired: 4,
    }
}

/// Runs a deployment to its end; `promote_at` asks for promotion at that tick. Returns the
/// outcome, the stages passed and the fewest ready pods serving at any point.
fn run(
    plan: &DeploySpec,
    promote_at: Option<usize>,
    crash_every: Option<usize>,
) -> (Stage, Vec<Stage>, u32) {
    let mut toy = Toy::new("v1", plan.desired);
    let mut p = Progress {
        stage: Stage::first(&plan.strategy),
        since_ms: 0,
        promote: false,
        analysis: None,
    };
    let mut stages = vec![p.stage];
    let mut fewest = u32::MAX;
    for t in 0..2000usize {
        let now = i64::try_from(t).unwrap() * 1000;
        if promote_at == Some(t) {
            p.promote = true;
        }
        let d = decide(plan, &p, &toy.seen, now);
        toy.apply(&d.actions);
        // A crash right after acting and before saving: the next run decides again.
        if crash_every.is_some_and(|n| t % n == 0) {
            let again = decide(plan, &p, &toy.seen, now);
            toy.apply(&again.actions);
        }
        if let Some(next) = d.next {
            p = Progress {
                stage: next,
                since_ms: now,
                promote: p.promote,
                analysis: None,
            };
            stages.push(next);
        }
        toy.tick();
        fewest = fewest.min(toy.ready_serving());
        if p.stage.is_done() {
            return (p.stage, stages, fewest);
        }
    }
    panic!("did not finish: {p:?} {:?}", toy.seen);
}

fn canary() -> Strategy {
    Strategy::Canary {
        steps: vec![
            CanaryStep::SetWeight(25),
            CanaryStep::Pause(Pause { duration: Some(5) }),
            CanaryStep::SetWeight(50),
            CanaryStep::Pause(Pause { duration: None }),
        ],
    }
}

#[test]
fn a_canary_walks_its_steps_waits_for_promotion_and_never_drops_capacity() {
    let (end, stages, fewest) = run(&plan(canary()), Some(60), None);
    assert_eq!(end, Stage::Done(Outcome::Succeeded));
    assert_eq!(
        stages,
        [
            Stage::Prepare,
            Stage::Step(0),
            Stage::Step(1),
            Stage::Step(2),
            Stage::Step(3),
            Stage::Promote,
            Stage::Cleanup,
            Stage::Done(Outcome::Succeeded)
        ]
    );
    assert!(fewest >= 4, "ready pods fell to {fewest}");
}

#[test]
fn an_indefinite_pause_holds_until_promoted() {
    let p = plan(canary());
    let progress = Progress {
        stage: Stage::Step(3),
        since_ms: 0,
        promote: false,
        analysis: None,
    };
    let mut toy = Toy::new("v1", 4);
    toy.apply(&[Action::Secondary {
        version: "v2".into(),
        replicas: 2,
    }]);
    let d = decide(&p, &progress, &toy.seen, 1_000_000_000);
    assert_eq!(d.next, None);
    assert_eq!(d.waiting.as_deref(), Some("paused until someone promotes"));
}

#[test]
fn blue_green_switches_only_when_the_preview_is_ready_and_keeps_the_old_version_for_the_delay() {
    let strategy = Strategy::BlueGreen {
        auto_promotion_seconds: Some(3),
        scale_down_delay_seconds: 30,
    };
    let (end, stages, fewest) = run(&plan(strategy), None, None);
    assert_eq!(end, Stage::Done(Outcome::Succeeded));
    assert_eq!(
        stages,
        [
            Stage::Prepare,
            Stage::AwaitPreview,
            Stage::AwaitPromotion,
            Stage::ScaleDownDelay,
            Stage::Promote,
            Stage::Cleanup,
            Stage::Done(Outcome::Succeeded)
        ]
    );
    assert!(fewest >= 4, "ready pods serving fell to {fewest}");

    // During the delay the old version still runs at full size.
    let p = plan(Strategy::BlueGreen {
        auto_promotion_seconds: None,
        scale_down_delay_seconds: 30,
    });
    let mut toy = Toy::new("v1", 4);
    toy.apply(&[Action::Active(Some("v2".into()))]);
    let d = decide(
        &p,
        &Progress {
            stage: Stage::ScaleDownDelay,
            since_ms: 0,
            promote: true,
            analysis: None,
        },
        &toy.seen,
        10_000,
    );
    assert_eq!(d.next, None);
    assert!(d.waiting.unwrap().contains("20 s more"));
    assert!(
        !d.actions
            .iter()
            .any(|a| matches!(a, Action::Primary { .. } | Action::ScalePrimary(_)))
    );
}

#[test]
fn rolling_and_recreate_update_the_primary_in_place() {
    for strategy in [
        Strategy::Rolling {
            max_surge: IntOrPercent::Count(1),
            max_unavailable: IntOrPercent::Count(0),
        },
        Strategy::Recreate,
    ] {
        let (end, stages, _) = run(&plan(strategy.clone()), None, None);
        assert_eq!(end, Stage::Done(Outcome::Succeeded), "{strategy:?}");
        assert_eq!(
            stages,
            [Stage::Promote, Stage::Done(Outcome::Succeeded)],
            "{strategy:?}"
        );
    }
    let d = decide(
        &plan(Strategy::Recreate),
        &Progress {
            stage: Stage::Promote,
            since_ms: 0,
            promote: false,
            analysis: None,
        },
        &Toy::new("v1", 4).seen,
        0,
    );
    assert_eq!(d.actions[0], Action::Active(None));
    assert!(matches!(
        d.actions[1],
        Action::Primary {
            rollout: Rollout::Recreate,
            ..
        }
    ));
}

#[test]
fn deciding_twice_after_a_crash_changes_nothing() {
    for strategy in [
        canary(),
        Strategy::BlueGreen {
            auto_promotion_seconds: Some(0),
            scale_down_delay_seconds: 2,
        },
        Strategy::Recreate,
    ] {
        let once = run(&plan(strategy.clone()), Some(40), None);
        let twice = run(&plan(strategy.clone()), Some(40), Some(1));
        assert_eq!(once.0, twice.0, "{strategy:?}");
        assert_eq!(once.1, twice.1, "{strategy:?}");
    }
}

#[test]
fn abort_removes_the_new_version_and_restores_the_primary() {
    let p = plan(canary());
    let mut toy = Toy::new("v1", 4);
    toy.apply(&[
        Action::Secondary {
            version: "v2".into(),
            replicas: 2,
        },
        Action::ScalePrimary(2),
    ]);
    let progress = Progress {
        stage: Stage::Aborting,
        since_ms: 0,
        promote: false,
        analysis: None,
    };
    let d = decide(&p, &progress, &toy.seen, 0);
    toy.apply(&d.actions);
    assert_eq!(d.next, None, "waits until the canary is really gone");
    let d = decide(&p, &progress, &toy.seen, 0);
    assert_eq!(d.next, Some(Stage::Done(Outcome::Aborted)));
    assert_eq!(toy.seen.primary.unwrap().replicas, 4);
}

#[test]
fn a_stalled_new_version_fails_the_deployment() {
    let mut toy = Toy::new("v1", 4);
    toy.seen.secondary = Some(Workload {
        version: "v2".into(),
        replicas: 1,
        ready: 0,
        rolled_out: false,
        stalled: true,
    });
    let d = decide(
        &plan(canary()),
        &Progress {
            stage: Stage::Step(0),
            since_ms: 0,
            promote: false,
            analysis: None,
        },
        &toy.seen,
        0,
    );
    assert_eq!(d.next, Some(Stage::Done(Outcome::Failed)));
    assert!(d.waiting.unwrap().contains("no progress"));
}

#[test]
fn stages_are_stored_as_tagged_json() {
    assert_eq!(
        serde_json::to_string(&Stage::Step(2)).unwrap(),
        r#"{"stage":"step","step":2}"#
    );
    let done: Stage = serde_json::from_str(r#"{"stage":"done","step":"rolledBack"}"#).unwrap();
    assert_eq!(done, Stage::Done(Outcome::RolledBack));
    assert_eq!(
        Stage::Step(0).describe(&canary()),
        "Step 1 of 4: Set weight 25%"
    );
}

#[test]
fn an_analysis_step_moves_on_only_when_its_run_is_successful() {
    let p = plan(Strategy::Canary {
        steps: vec![
            CanaryStep::SetWeight(50),
            CanaryStep::Analysis {
                templates: vec!["error-rate".into()],
            },
        ],
    });
    let toy = Toy::new("v1", 4);
    let at = |analysis| Progress {
        stage: Stage::Step(1),
        since_ms: 0,
        promote: false,
        analysis,
    };
    for waiting in [
        None,
        Some(AnalysisPhase::Pending),
        Some(AnalysisPhase::Running),
        Some(AnalysisPhase::Inconclusive),
        Some(AnalysisPhase::Error),
        Some(AnalysisPhase::Failed),
    ] {
        let d = decide(&p, &at(waiting), &toy.seen, 0);
        assert_eq!(d.next, None, "{waiting:?} must not pass the step");
        assert!(d.waiting.unwrap().contains("error-rate"));
    }
    let d = decide(&p, &at(Some(AnalysisPhase::Successful)), &toy.seen, 0);
    assert_eq!(d.next, Some(Stage::Step(2)));
}

#[test]
fn a_waiting_deployment_says_when_to_look_again() {
    let p = plan(canary());
    let at = |stage, since_ms| Progress {
        stage,
        since_ms,
        promote: false,
        analysis: None,
    };
    let mut toy = Toy::new("v1", 4);
    toy.apply(&[Action::Secondary {
        version: "v2".into(),
        replicas: 2,
    }]);
    // Held until a person promotes: nothing but a command can move it.
    let held = decide(&p, &at(Stage::Step(3), 0), &toy.seen, 1_000_000_000);
    assert_eq!(held.recheck, Recheck::OnEvent);
    // Pods still starting for a weight: the cluster converges, so soon.
    let fresh = Toy::new("v1", 4);
    let weight = decide(&p, &at(Stage::Step(0), 0), &fresh.seen, 1_000);
    assert_eq!(weight.next, None);
    assert_eq!(weight.recheck, Recheck::Soon);
    // A timed pause ends at a known instant.
    let timed = plan(Strategy::Canary {
        steps: vec![CanaryStep::Pause(Pause { duration: Some(30) })],
    });
    let d = decide(&timed, &at(Stage::Step(0), 5_000), &toy.seen, 10_000);
    assert_eq!(d.next, None);
    assert_eq!(d.recheck, Recheck::At(35_000));
    // Blue-Green's scale-down delay too.
    let bg = plan(Strategy::BlueGreen {
        auto_promotion_seconds: None,
        scale_down_delay_seconds: 30,
    });
    let mut toy = Toy::new("v1", 4);
    toy.apply(&[Action::Active(Some("v2".into()))]);
    let d = decide(&bg, &at(Stage::ScaleDownDelay, 1_000), &toy.seen, 2_000);
    assert_eq!(d.recheck, Recheck::At(31_000));
}
