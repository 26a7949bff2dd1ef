//! The product's own alert rules: a saved query with a threshold and a `for` duration, as in
//! Prometheus' alerting rules, so automated rollback works without Alertmanager.

use serde::{Deserialize, Serialize};

use super::condition::Condition;
use super::run::Reading;
use super::template::{PLACEHOLDERS, render};
use crate::InvalidInput;
use crate::deploy::names::check_object_name;

/// A rule watching one app in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRule {
    pub name: String,
    pub environment: String,
    pub app: String,
    /// PromQL; may use the analysis placeholders. One using `{{version}}` or `{{stable}}`
    /// is evaluated only while a deployment is in progress.
    pub query: String,
    /// The rule fires while this holds.
    pub condition: Condition,
    /// Seconds the condition must hold before the rule fires.
    #[serde(default)]
    pub for_seconds: u32,
}

impl AlertRule {
    pub fn check(&self) -> Result<(), InvalidInput> {
        check_object_name("name", &self.name)?;
        check_object_name("app", &self.app)?;
        if self.query.trim().is_empty() || self.query.len() > 4000 {
            return Err(InvalidInput::new(
                "query",
                "write a PromQL query (at most 4000 characters)",
            ));
        }
        render(&self.query, &Default::default()).map_err(|e| {
            InvalidInput::new(
                "query",
                format!("{} (placeholders: {})", e.message, PLACEHOLDERS.join(", ")),
            )
        })?;
        if self.for_seconds > 86_400 {
            return Err(InvalidInput::new("forSeconds", "at most a day (86400 s)"));
        }
        Ok(())
    }
}

/// Where a rule is (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", tag = "state", content = "since")]
pub enum AlertState {
    #[default]
    Inactive,
    /// The condition holds, not yet for long enough.
    Pending(i64),
    Firing(i64),
}

impl AlertState {
    pub fn label(self) -> &'static str {
        match self {
            AlertState::Inactive => "Inactive",
            AlertState::Pending(_) => "Pending",
            AlertState::Firing(_) => "Firing",
        }
    }
}

/// The rule's state after observing `seen` at `now`. A failed query or missing data leaves a
/// firing rule firing (the problem may be what stops the data) and resets a pending one.
pub fn next_alert_state(
    rule: &AlertRule,
    state: AlertState,
    seen: &Reading,
    now: i64,
) -> AlertState {
    let holds = match seen {
        Reading::Value(v) => rule.condition.holds(*v),
        Reading::NoData(_) | Reading::Failed(_) => {
            return match state {
                AlertState::Firing(_) => state,
                _ => AlertState::Inactive,
            };
        }
    };
    match (holds, state) {
        (false, _) => AlertState::Inactive,
        (true, AlertState::Firing(_)) => state,
        (true, _) => {
            let since = since_or(state, now);
            if now - since >= i64::from(rule.for_seconds) * 1000 {
                AlertState::Firing(now)
            } else {
                AlertState::Pending(since)
            }
        }
    }
}

fn since_or(state: AlertState, now: i64) -> i64 {
    match state {
        AlertState::Pending(since) => since,
        _ => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(for_seconds: u32) -> AlertRule {
        AlertRule {
            name: "errors".into(),
            environment: "staging".into(),
            app: "storefront".into(),
            query: "up".into(),
            condition: Condition::parse("c", "result > 5").unwrap(),
            for_seconds,
        }
    }

    #[test]
    fn a_rule_fires_once_its_condition_held_for_its_duration() {
        let r = rule(3);
        let s = next_alert_state(&r, AlertState::Inactive, &Reading::Value(9.0), 1_000);
        assert_eq!(s, AlertState::Pending(1_000));
        let s = next_alert_state(&r, s, &Reading::Value(9.0), 3_000);
        assert_eq!(s, AlertState::Pending(1_000));
        let s = next_alert_state(&r, s, &Reading::Value(9.0), 4_000);
        assert_eq!(s, AlertState::Firing(4_000));
        let s = next_alert_state(&r, s, &Reading::Value(1.0), 5_000);
        assert_eq!(s, AlertState::Inactive);
    }

    #[test]
    fn a_rule_without_a_duration_fires_at_once() {
        let s = next_alert_state(&rule(0), AlertState::Inactive, &Reading::Value(6.0), 7);
        assert_eq!(s, AlertState::Firing(7));
    }

    #[test]
    fn missing_data_resets_a_pending_rule_but_not_a_firing_one() {
        let r = rule(3);
        let gone = Reading::Failed("down".into());
        assert_eq!(
            next_alert_state(&r, AlertState::Pending(1), &gone, 9),
            AlertState::Inactive
        );
        assert_eq!(
            next_alert_state(&r, AlertState::Firing(1), &gone, 9),
            AlertState::Firing(1)
        );
    }

    #[test]
    fn rules_name_their_bad_fields() {
        let mut r = rule(0);
        r.query = "rate(x{a=\"{{pod}}\"}[1m])".into();
        assert_eq!(r.check().unwrap_err().field, "query");
        let mut r = rule(0);
        r.app = "Store Front".into();
        assert_eq!(r.check().unwrap_err().field, "app");
    }
}
