//! The [`Monitor`] port (Prometheus, analysis, alerts) and the role rules in front of it, which
//! the dashboard's server functions and the REST API both call.

use async_trait::async_trait;
use varai_domain::Role;
use varai_domain::analysis::{AlertRule, AnalysisTemplate, Condition};

use super::{Actor, AppState, Principal};
use crate::error::{AppError, Result};
use crate::models::{
    AlertRecord, AlertRuleRecord, AnalysisRunRecord, ChartSet, MetricsSource, NewAlertRule,
    NewSavedQuery, SavedQuery, TemplateRecord, TimeRange, WebhookReceipt,
};

#[async_trait]
pub trait Monitor: Send + Sync + 'static {
    async fn source(&self, environment: &str) -> Result<MetricsSource>;
    async fn set_source(
        &self,
        actor: &Actor,
        environment: &str,
        url: Option<String>,
    ) -> Result<MetricsSource>;
    /// Charts for `app`; with `since`, only the points after it (a live update).
    async fn charts(
        &self,
        environment: &str,
        app: &str,
        range: TimeRange,
        since: Option<f64>,
    ) -> Result<ChartSet>;
    async fn templates(&self) -> Result<Vec<TemplateRecord>>;
    /// Creates the template, or replaces the one with its name.
    async fn save_template(&self, actor: &Actor, t: AnalysisTemplate) -> Result<TemplateRecord>;
    async fn delete_template(&self, actor: &Actor, name: &str) -> Result<()>;
    async fn runs(&self, deployment: i64) -> Result<Vec<AnalysisRunRecord>>;
    async fn rules(&self, environment: &str) -> Result<Vec<AlertRuleRecord>>;
    async fn save_rule(&self, actor: &Actor, rule: AlertRule) -> Result<AlertRuleRecord>;
    async fn delete_rule(&self, actor: &Actor, environment: &str, name: &str) -> Result<()>;
    async fn alerts(&self, environment: &str) -> Result<Vec<AlertRecord>>;
    async fn queries(&self, environment: &str) -> Result<Vec<SavedQuery>>;
    async fn save_query(
        &self,
        actor: &Actor,
        environment: &str,
        q: NewSavedQuery,
    ) -> Result<SavedQuery>;
    async fn delete_query(&self, actor: &Actor, environment: &str, id: i64) -> Result<()>;
    /// An Alertmanager webhook notification (payload version 4).
    async fn receive_alerts(&self, actor: &Actor, payload: &[u8]) -> Result<WebhookReceipt>;
}

pub async fn metrics_source(
    state: &AppState,
    who: &Principal,
    environment: &str,
) -> Result<MetricsSource> {
    who.require(Role::Viewer)?;
    state.monitor.source(environment).await
}

/// Points an environment at a Prometheus (`None`: the server's own). Admins only.
pub async fn set_metrics_source(
    state: &AppState,
    who: &Principal,
    environment: &str,
    url: Option<String>,
) -> Result<MetricsSource> {
    who.require(Role::Admin)?;
    let url = url
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty());
    if let Some(u) = &url {
        let ok = u.starts_with("http://")
            && u.len() <= 500
            && !u.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(AppError::Invalid {
                field: "url".into(),
                message: format!(
                    "'{u}' is not an http:// URL of a Prometheus (reach an https one through a local proxy)"
                ),
            });
        }
    }
    state.monitor.set_source(&who.actor, environment, url).await
}

pub async fn charts(
    state: &AppState,
    who: &Principal,
    environment: &str,
    app: &str,
    range: TimeRange,
    since: Option<f64>,
) -> Result<ChartSet> {
    who.require(Role::Viewer)?;
    state.monitor.charts(environment, app, range, since).await
}

pub async fn list_templates(state: &AppState, who: &Principal) -> Result<Vec<TemplateRecord>> {
    who.require(Role::Viewer)?;
    state.monitor.templates().await
}

pub async fn save_template(
    state: &AppState,
    who: &Principal,
    template: AnalysisTemplate,
) -> Result<TemplateRecord> {
    who.require(Role::Operator)?;
    template.check()?;
    state.monitor.save_template(&who.actor, template).await
}

pub async fn delete_template(state: &AppState, who: &Principal, name: &str) -> Result<()> {
    who.require(Role::Operator)?;
    state.monitor.delete_template(&who.actor, name).await
}

pub async fn analysis_runs(
    state: &AppState,
    who: &Principal,
    deployment: i64,
) -> Result<Vec<AnalysisRunRecord>> {
    who.require(Role::Viewer)?;
    state.monitor.runs(deployment).await
}

pub async fn list_rules(
    state: &AppState,
    who: &Principal,
    environment: &str,
) -> Result<Vec<AlertRuleRecord>> {
    who.require(Role::Viewer)?;
    state.monitor.rules(environment).await
}

pub async fn save_rule(
    state: &AppState,
    who: &Principal,
    environment: &str,
    rule: NewAlertRule,
) -> Result<AlertRuleRecord> {
    who.require(Role::Operator)?;
    let rule = AlertRule {
        name: rule.name.trim().to_owned(),
        environment: environment.to_owned(),
        app: rule.app.trim().to_owned(),
        query: rule.query.trim().to_owned(),
        condition: Condition::parse("condition", &rule.condition)?,
        for_seconds: rule.for_seconds,
    };
    rule.check()?;
    state.monitor.save_rule(&who.actor, rule).await
}

pub async fn delete_rule(
    state: &AppState,
    who: &Principal,
    environment: &str,
    name: &str,
) -> Result<()> {
    who.require(Role::Operator)?;
    state
        .monitor
        .delete_rule(&who.actor, environment, name)
        .await
}

pub async fn list_alerts(
    state: &AppState,
    who: &Principal,
    environment: &str,
) -> Result<Vec<AlertRecord>> {
    who.require(Role::Viewer)?;
    state.monitor.alerts(environment).await
}

pub async fn list_queries(
    state: &AppState,
    who: &Principal,
    environment: &str,
) -> Result<Vec<SavedQuery>> {
    who.require(Role::Viewer)?;
    state.monitor.queries(environment).await
}

pub async fn save_query(
    state: &AppState,
    who: &Principal,
    environment: &str,
    q: NewSavedQuery,
) -> Result<SavedQuery> {
    who.require(Role::Developer)?;
    let q = NewSavedQuery {
        name: q.name.trim().to_owned(),
        query: q.query.trim().to_owned(),
        unit: q.unit.trim().to_owned(),
    };
    if q.name.is_empty() || q.name.chars().count() > 60 {
        return Err(AppError::Invalid {
            field: "name".into(),
            message: "name the query in 1 to 60 characters".into(),
        });
    }
    if q.query.is_empty() || q.query.len() > 4000 {
        return Err(AppError::Invalid {
            field: "query".into(),
            message: "write a PromQL query (at most 4000 characters)".into(),
        });
    }
    varai_domain::analysis::render(&q.query, &Default::default())?;
    if q.unit.chars().count() > 12 {
        return Err(AppError::Invalid {
            field: "unit".into(),
            message: "keep the unit to 12 characters".into(),
        });
    }
    state.monitor.save_query(&who.actor, environment, q).await
}

pub async fn delete_query(
    state: &AppState,
    who: &Principal,
    environment: &str,
    id: i64,
) -> Result<()> {
    who.require(Role::Developer)?;
    state
        .monitor
        .delete_query(&who.actor, environment, id)
        .await
}

/// The Alertmanager webhook: an API token of an operator or admin.
pub async fn receive_alerts(
    state: &AppState,
    who: &Principal,
    payload: &[u8],
) -> Result<WebhookReceipt> {
    who.require(Role::Operator)?;
    state.monitor.receive_alerts(&who.actor, payload).await
}
