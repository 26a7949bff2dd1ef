//! Each environment's Prometheus, alert rules and their state, and alerts received, in the
//! database.

use sqlx::FromRow;
use std::collections::BTreeMap;
use varai_core::accounts::Actor;
use varai_core::monitor::{AlertRecord, AlertRuleRecord};
use varai_domain::AuditAction;
use varai_domain::analysis::{AlertRule, AlertState, Condition};
use varai_domain::url::redacted;

use super::audit::{NewEvent, commit_with_event, state_json};
use super::{SqlxStore, backend_error};
use crate::error::{Error, Result};

#[derive(FromRow)]
struct RuleRow {
    id: i64,
    environment: String,
    name: String,
    app: String,
    query: String,
    condition: String,
    for_seconds: i64,
    state: String,
    last_value: Option<f64>,
    last_error: Option<String>,
    evaluated_at: Option<i64>,
}

impl From<RuleRow> for AlertRuleRecord {
    fn from(r: RuleRow) -> Self {
        AlertRuleRecord {
            id: r.id,
            environment: r.environment,
            name: r.name,
            app: r.app,
            query: r.query,
            condition: r.condition,
            for_seconds: u32::try_from(r.for_seconds).unwrap_or(0),
            state: serde_json::from_str(&r.state).unwrap_or_default(),
            last_value: r.last_value,
            last_error: r.last_error,
            evaluated_at: r.evaluated_at,
        }
    }
}

/// A stored rule in the domain's terms; `None` when its condition no longer parses.
pub fn rule_of(r: &AlertRuleRecord) -> Option<AlertRule> {
    Some(AlertRule {
        name: r.name.clone(),
        environment: r.environment.clone(),
        app: r.app.clone(),
        query: r.query.clone(),
        condition: Condition::parse("condition", &r.condition).ok()?,
        for_seconds: r.for_seconds,
    })
}

const RULE_SELECT: &str = "SELECT r.id, e.key AS environment, r.name, r.app, r.query, r.condition, \
     r.for_seconds, r.state, r.last_value, r.last_error, r.evaluated_at \
     FROM alert_rules r JOIN environments e ON e.id = r.environment_id";

#[derive(FromRow)]
struct AlertRow {
    id: i64,
    source: String,
    name: String,
    status: String,
    environment: Option<String>,
    app: Option<String>,
    labels: String,
    annotations: String,
    starts_at: Option<i64>,
    received_at: i64,
    action: String,
}

impl From<AlertRow> for AlertRecord {
    fn from(r: AlertRow) -> Self {
        AlertRecord {
            id: r.id,
            source: r.source,
            name: r.name,
            status: r.status,
            environment: r.environment,
            app: r.app,
            labels: serde_json::from_str(&r.labels).unwrap_or_default(),
            annotations: serde_json::from_str(&r.annotations).unwrap_or_default(),
            starts_at: r.starts_at,
            received_at: r.received_at,
            action: r.action,
        }
    }
}

/// An alert to record.
pub struct NewAlert<'a> {
    pub source: &'static str,
    pub name: &'a str,
    pub status: &'a str,
    pub environment: Option<&'a str>,
    pub app: Option<&'a str>,
    pub labels: &'a BTreeMap<String, String>,
    pub annotations: &'a BTreeMap<String, String>,
    pub starts_at: Option<i64>,
    pub action: &'a str,
}

impl SqlxStore {
    pub(crate) async fn prometheus_url(&self, environment: &str) -> Result<Option<String>> {
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT prometheus_url FROM environments WHERE key = $1")
                .bind(environment)
                .fetch_optional(self.pool())
                .await
                .map_err(backend_error("read an environment's Prometheus"))?;
        row.ok_or(Error::NotFound("environment"))
    }

    pub(crate) async fn set_prometheus_url(
        &self,
        actor: &Actor,
        environment: &str,
        url: Option<&str>,
        now: i64,
    ) -> Result<()> {
        let before = self.prometheus_url(environment).await?;
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE environments SET prometheus_url = $1 WHERE key = $2")
            .bind(url)
            .bind(environment)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("set an environment's Prometheus"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::EnvironmentSetPrometheus,
            target: format!("environment:{environment}"),
            before: state_json(&before.as_deref().map(redacted)),
            after: state_json(&url.map(redacted)),
            at: now,
        };
        commit_with_event(tx, event).await
    }

    /// Rules of one environment, or of all (`None`).
    pub(crate) async fn rules(&self, environment: Option<&str>) -> Result<Vec<AlertRuleRecord>> {
        let rows: Vec<RuleRow> = match environment {
            Some(env) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{RULE_SELECT} WHERE e.key = $1 ORDER BY r.name"
                )))
                .bind(env)
                .fetch_all(self.pool())
                .await
            }
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{RULE_SELECT} ORDER BY r.id")))
                    .fetch_all(self.pool())
                    .await
            }
        }
        .map_err(backend_error("list alert rules"))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Creates or replaces the rule named `rule.name` in its environment.
    pub(crate) async fn save_rule(
        &self,
        actor: &Actor,
        rule: &AlertRule,
        now: i64,
    ) -> Result<AlertRuleRecord> {
        let env = self.environment(&rule.environment).await?;
        let before = self
            .rules(Some(&rule.environment))
            .await?
            .into_iter()
            .find(|r| r.name == rule.name);
        let mut tx = self.begin().await?;
        let query = if before.is_some() {
            "UPDATE alert_rules SET app = $3, query = $4, condition = $5, for_seconds = $6, \
             state = '{\"state\":\"inactive\"}', last_value = NULL, last_error = NULL \
             WHERE environment_id = $1 AND name = $2"
        } else {
            "INSERT INTO alert_rules (environment_id, name, app, query, condition, for_seconds, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        };
        sqlx::query(query)
            .bind(env.id)
            .bind(&rule.name)
            .bind(&rule.app)
            .bind(&rule.query)
            .bind(rule.condition.to_string())
            .bind(i64::from(rule.for_seconds))
            .bind(now)
            .bind(&actor.name)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("save an alert rule"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::AlertRuleSave,
            target: format!("alert_rule:{}/{}", rule.environment, rule.name),
            before: before.as_ref().and_then(state_json),
            after: state_json(rule),
            at: now,
        };
        commit_with_event(tx, event).await?;
        self.rules(Some(&rule.environment))
            .await?
            .into_iter()
            .find(|r| r.name == rule.name)
            .ok_or(Error::NotFound("alert rule"))
    }

    pub(crate) async fn delete_rule(
        &self,
        actor: &Actor,
        environment: &str,
        name: &str,
        now: i64,
    ) -> Result<()> {
        let before = self
            .rules(Some(environment))
            .await?
            .into_iter()
            .find(|r| r.name == name)
            .ok_or(Error::NotFound("alert rule"))?;
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM alert_rules WHERE id = $1")
            .bind(before.id)
            .execute(&mut *tx)
            .await
            .map_err(backend_error("delete an alert rule"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::AlertRuleDelete,
            target: format!("alert_rule:{environment}/{name}"),
            before: state_json(&before),
            after: None,
            at: now,
        };
        commit_with_event(tx, event).await
    }

    /// Saves where a rule is after an evaluation.
    pub(crate) async fn set_rule_state(
        &self,
        id: i64,
        state: AlertState,
        value: Option<f64>,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE alert_rules SET state = $2, last_value = $3, last_error = $4, evaluated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(state_json(&state))
        .bind(value)
        .bind(error)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(backend_error("save an alert rule's state"))?;
        Ok(())
    }

    /// Records an alert, audited as received from `actor`.
    pub(crate) async fn insert_alert(
        &self,
        actor: &Actor,
        a: NewAlert<'_>,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO alerts (source, name, status, environment, app, labels, annotations, starts_at, received_at, action) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(a.source)
        .bind(a.name)
        .bind(a.status)
        .bind(a.environment)
        .bind(a.app)
        .bind(state_json(a.labels))
        .bind(state_json(a.annotations))
        .bind(a.starts_at)
        .bind(now)
        .bind(a.action)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend_error("record an alert"))?;
        let event = NewEvent {
            actor,
            action: AuditAction::AlertReceive,
            target: format!("alert:{}", a.name),
            before: None,
            after: state_json(&serde_json::json!({
                "source": a.source, "status": a.status, "labels": a.labels, "action": a.action
            })),
            at: now,
        };
        commit_with_event(tx, event).await?;
        Ok(id)
    }

    /// The latest alerts about an environment (and those matching none), newest first.
    pub(crate) async fn alerts(&self, environment: &str) -> Result<Vec<AlertRecord>> {
        let rows: Vec<AlertRow> = sqlx::query_as(
            "SELECT id, source, name, status, environment, app, labels, annotations, starts_at, received_at, action \
             FROM alerts WHERE environment = $1 OR environment IS NULL ORDER BY id DESC LIMIT 100",
        )
        .bind(environment)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list alerts"))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
