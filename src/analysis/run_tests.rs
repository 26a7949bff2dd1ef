use super::*;
use crate::analysis::condition::Condition;
use proptest::prelude::*;

fn metric(success: Option<&str>, failure: Option<&str>) -> Metric {
    Metric {
        name: "m".into(),
        query: "up".into(),
        interval: 2,
        initial_delay: 1,
        count: 3,
        success_condition: success.map(|s| Condition::parse("s", s).unwrap()),
        failure_condition: failure.map(|s| Condition::parse("f", s).unwrap()),
        failure_limit: 0,
        inconclusive_limit: 0,
        consecutive_error_limit: 2,
        unit: String::new(),
    }
}

fn taken(phases: &[AnalysisPhase]) -> Vec<Measurement> {
    phases
        .iter()
        .enumerate()
        .map(|(i, p)| Measurement {
            phase: *p,
            value: None,
            message: None,
            at: i as i64 * 1000,
        })
        .collect()
}

use AnalysisPhase::*;

#[test]
fn a_value_meeting_the_success_condition_passes_and_one_missing_it_fails() {
    let m = metric(Some("result < 1"), None);
    assert_eq!(measure(&m, Reading::Value(0.4), 0).phase, Successful);
    let bad = measure(&m, Reading::Value(15.0), 0);
    assert_eq!(bad.phase, Failed);
    assert_eq!(bad.value, Some(15.0));
    assert!(bad.message.unwrap().contains("result < 1"));
}

#[test]
fn with_both_conditions_a_value_between_them_is_inconclusive() {
    let m = metric(Some("result < 1"), Some("result > 5"));
    assert_eq!(measure(&m, Reading::Value(3.0), 0).phase, Inconclusive);
    assert_eq!(measure(&m, Reading::Value(6.0), 0).phase, Failed);
    assert_eq!(measure(&m, Reading::Value(0.5), 0).phase, Successful);
}

#[test]
fn missing_data_and_failed_queries_never_pass() {
    let m = metric(Some("result < 1"), None);
    assert_eq!(
        measure(&m, Reading::NoData("no series".into()), 0).phase,
        Inconclusive
    );
    assert_eq!(measure(&m, Reading::Value(f64::NAN), 0).phase, Inconclusive);
    let e = measure(&m, Reading::Failed("connection refused".into()), 0);
    assert_eq!(e.phase, Error);
    assert_eq!(e.message.as_deref(), Some("connection refused"));
}

#[test]
fn a_step_metric_succeeds_after_count_good_measurements() {
    let m = metric(Some("result < 1"), None);
    assert_eq!(metric_phase(&m, &[], false), Pending);
    assert_eq!(
        metric_phase(&m, &taken(&[Successful, Successful]), false),
        Running
    );
    assert_eq!(
        metric_phase(&m, &taken(&[Successful; 3]), false),
        Successful
    );
    // A background metric keeps measuring.
    assert_eq!(metric_phase(&m, &taken(&[Successful; 3]), true), Running);
    let mut tolerant = m.clone();
    tolerant.inconclusive_limit = 2;
    let gaps = taken(&[Inconclusive, Successful, Inconclusive, Successful]);
    assert_eq!(
        metric_phase(&tolerant, &gaps, false),
        Running,
        "missing data never counts"
    );
}

#[test]
fn limits_are_the_number_tolerated() {
    let mut m = metric(Some("result < 1"), None);
    assert_eq!(
        metric_phase(&m, &taken(&[Successful, Failed]), false),
        Failed
    );
    m.failure_limit = 1;
    assert_eq!(
        metric_phase(&m, &taken(&[Successful, Failed]), false),
        Running
    );
    assert_eq!(metric_phase(&m, &taken(&[Failed, Failed]), false), Failed);
    assert_eq!(
        metric_phase(&m, &taken(&[Inconclusive]), false),
        Inconclusive
    );
}

#[test]
fn errors_end_a_metric_only_when_they_come_in_a_row() {
    let m = metric(Some("result < 1"), None);
    assert_eq!(metric_phase(&m, &taken(&[Error, Error]), false), Running);
    assert_eq!(
        metric_phase(&m, &taken(&[Error, Error, Successful, Error]), false),
        Running
    );
    assert_eq!(
        metric_phase(&m, &taken(&[Error, Error, Error]), false),
        Error
    );
}

#[test]
fn measurements_follow_the_initial_delay_then_the_interval() {
    let m = metric(Some("result < 1"), None);
    assert_eq!(next_measurement_at(&m, &[], 10_000, false), Some(11_000));
    let t = taken(&[Successful]);
    assert_eq!(next_measurement_at(&m, &t, 10_000, false), Some(2_000));
    assert_eq!(next_measurement_at(&m, &taken(&[Failed]), 0, false), None);
}

#[test]
fn a_run_takes_the_worst_of_its_metrics() {
    assert_eq!(run_phase(&[Successful, Failed, Error]), Failed);
    assert_eq!(run_phase(&[Successful, Inconclusive, Error]), Error);
    assert_eq!(run_phase(&[Successful, Running]), Running);
    assert_eq!(run_phase(&[Pending, Pending]), Pending);
    assert_eq!(run_phase(&[Successful, Successful]), Successful);
    assert_eq!(run_phase(&[]), Pending);
}

fn any_phase() -> impl Strategy<Value = AnalysisPhase> {
    prop_oneof![
        Just(Successful),
        Just(Failed),
        Just(Error),
        Just(Inconclusive)
    ]
}

proptest! {
    #[test]
    fn a_metric_never_passes_with_fewer_than_count_real_measurements(
        phases in proptest::collection::vec(any_phase(), 0..12),
        limit in 0u32..3,
    ) {
        let mut m = metric(Some("result < 1"), None);
        m.failure_limit = limit;
        m.inconclusive_limit = limit;
        let t = taken(&phases);
        if metric_phase(&m, &t, false) == Successful {
            let real = phases.iter().filter(|p| matches!(**p, Successful | Failed)).count();
            prop_assert!(real >= m.count as usize);
            let failed = phases.iter().filter(|p| **p == Failed).count();
            prop_assert!(failed <= limit as usize);
        }
        prop_assert_ne!(metric_phase(&m, &t, true), Successful);
    }

    #[test]
    fn only_errors_never_pass_a_run(n in 0usize..10) {
        let m = metric(Some("result < 1"), None);
        let p = metric_phase(&m, &taken(&vec![Error; n]), false);
        prop_assert_ne!(run_phase(&[p]), Successful);
    }
}
