//! The product's own alert rules, evaluated at the scrape interval. A rule that starts firing
//! is recorded as an alert and rolls back its app's deployment in progress, as an
//! Alertmanager alert would.

use std::collections::BTreeMap;
use varai_core::accounts::Principal;
use varai_core::clock::now_ms;
use varai_core::monitor::AlertRuleRecord;
use varai_domain::analysis::{AlertState, Args, Reading, next_alert_state, uses_versions};

use super::MonitorService;
use crate::error::{Context, Error, Result};
use crate::storage::{NewAlert, rule_of};

fn rule_actor(rule: &AlertRuleRecord) -> Principal {
    Principal::automation(format!("alert-rule:{}", rule.name))
}

impl MonitorService {
    /// Evaluates every rule whose last evaluation is a scrape interval old.
    pub async fn evaluate_rules(&self) {
        let now = now_ms();
        let rules = match self.store.rules(None).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the alert rules");
                return;
            }
        };
        let every = i64::from(self.scrape_seconds.max(1)) * 1000;
        for rule in rules {
            if rule.evaluated_at.is_some_and(|at| now - at < every) {
                continue;
            }
            if let Err(e) = self.evaluate(&rule, now).await {
                tracing::warn!(rule = rule.name, error = %e.chain(), "alert rule not evaluated");
            }
        }
    }

    async fn evaluate(&self, record: &AlertRuleRecord, now: i64) -> Result<()> {
        let Some(rule) = rule_of(record) else {
            return Err(Error::Unfinished(format!(
                "its condition '{}' does not parse",
                record.condition
            )));
        };
        let app = self
            .store
            .app_named(&rule.environment, &rule.app)
            .await
            .doing("reading the rule's app")?;
        let in_progress = self
            .store
            .in_progress_of(app.id)
            .await
            .doing("reading the app's deployment")?;
        let (_, namespace) = self
            .store
            .cluster_binding(&rule.environment)
            .await
            .doing("reading the environment's cluster")?;
        let args = Args {
            app: rule.app.clone(),
            version: in_progress
                .as_ref()
                .map(|d| d.version.clone())
                .unwrap_or_default(),
            stable: in_progress
                .as_ref()
                .map(|d| d.previous_version.clone())
                .unwrap_or_default(),
            namespace,
            environment: rule.environment.clone(),
        };
        let seen = if uses_versions(&rule.query) && in_progress.is_none() {
            Reading::NoData("measures a deployment's versions; none is in progress".into())
        } else {
            let prom = self.prometheus_for(&rule.environment).await;
            super::observe_with(&prom, &rule.query, &args).await
        };
        let next = next_alert_state(&rule, record.state, &seen, now);
        let (value, error) = match &seen {
            Reading::Value(v) => (Some(*v), None),
            Reading::NoData(why) | Reading::Failed(why) => (None, Some(why.as_str())),
        };
        self.store
            .set_rule_state(record.id, next, value, error, now)
            .await
            .doing("saving the rule's state")?;
        let newly_firing =
            matches!(next, AlertState::Firing(_)) && !matches!(record.state, AlertState::Firing(_));
        if newly_firing {
            self.fire(record, value.unwrap_or(f64::NAN)).await?;
        }
        Ok(())
    }

    async fn fire(&self, rule: &AlertRuleRecord, value: f64) -> Result<()> {
        let actor = rule_actor(rule);
        let reason = format!(
            "alert rule {} firing: {} measured {} against {} (held for {} s)",
            rule.name,
            rule.query,
            (value * 1000.0).round() / 1000.0,
            rule.condition,
            rule.for_seconds
        );
        let action = self
            .roll_back_for(&actor, &rule.environment, &rule.app, &reason)
            .await;
        let labels = BTreeMap::from([
            ("alertname".to_owned(), rule.name.clone()),
            ("app".to_owned(), rule.app.clone()),
            ("environment".to_owned(), rule.environment.clone()),
        ]);
        let annotations = BTreeMap::from([
            ("query".to_owned(), rule.query.clone()),
            ("condition".to_owned(), rule.condition.clone()),
            ("value".to_owned(), value.to_string()),
        ]);
        let alert = NewAlert {
            source: "rule",
            name: &rule.name,
            status: "firing",
            environment: Some(&rule.environment),
            app: Some(&rule.app),
            labels: &labels,
            annotations: &annotations,
            starts_at: Some(now_ms()),
            action: &action,
        };
        self.store
            .insert_alert(&actor.actor, alert, now_ms())
            .await
            .doing("recording the alert")?;
        Ok(())
    }
}
