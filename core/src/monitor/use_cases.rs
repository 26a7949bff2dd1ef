//! The [`Monitor`] port (Prometheus, analysis, alerts) and the role rules in front of it, which
//! the dashboard's server functions and the REST API both call.

use varai_domain::Role;
use varai_domain::analysis::{AlertRule, AnalysisTemplate, Condition};

use super::{
    AlertRecord, AlertRuleRecord, AnalysisRunRecord, ChartSet, MetricsSource, NewAlertRule,
    NewSavedQuery, SavedQuery, TemplateRecord, TimeRange, WebhookReceipt,
};
use crate::Services;
use crate::accounts::Principal;
use crate::error::{AppError, Result};

pub async fn metrics_source(
    services: &Services,
    who: &Principal,
    environment: &str,
) -> Result<MetricsSource> {
    who.require(Role::Viewer)?;
    services.monitor.source(environment).await
}

/// Points an environment at a Prometheus (`None`: the server's own). Admins only.
pub async fn set_metrics_source(
    services: &Services,
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
    services.monitor.set_source(who, environment, url).await
}

pub async fn charts(
    services: &Services,
    who: &Principal,
    environment: &str,
    app: &str,
    range: TimeRange,
    since: Option<f64>,
) -> Result<ChartSet> {
    who.require(Role::Viewer)?;
    services
        .monitor
        .charts(environment, app, range, since)
        .await
}

pub async fn list_templates(services: &Services, who: &Principal) -> Result<Vec<TemplateRecord>> {
    who.require(Role::Viewer)?;
    services.monitor.templates().await
}

pub async fn save_template(
    services: &Services,
    who: &Principal,
    template: AnalysisTemplate,
) -> Result<TemplateRecord> {
    who.require(Role::Operator)?;
    template.check()?;
    services.monitor.save_template(who, template).await
}

pub async fn delete_template(services: &Services, who: &Principal, name: &str) -> Result<()> {
    who.require(Role::Operator)?;
    services.monitor.delete_template(who, name).await
}

pub async fn analysis_runs(
    services: &Services,
    who: &Principal,
    deployment: i64,
) -> Result<Vec<AnalysisRunRecord>> {
    who.require(Role::Viewer)?;
    services.monitor.runs(deployment).await
}

pub async fn list_rules(
    services: &Services,
    who: &Principal,
    environment: &str,
) -> Result<Vec<AlertRuleRecord>> {
    who.require(Role::Viewer)?;
    services.monitor.rules(environment).await
}

pub async fn save_rule(
    services: &Services,
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
    services.monitor.save_rule(who, rule).await
}

pub async fn delete_rule(
    services: &Services,
    who: &Principal,
    environment: &str,
    name: &str,
) -> Result<()> {
    who.require(Role::Operator)?;
    services.monitor.delete_rule(who, environment, name).await
}

pub async fn list_alerts(
    services: &Services,
    who: &Principal,
    environment: &str,
) -> Result<Vec<AlertRecord>> {
    who.require(Role::Viewer)?;
    services.monitor.alerts(environment).await
}

pub async fn list_queries(
    services: &Services,
    who: &Principal,
    environment: &str,
) -> Result<Vec<SavedQuery>> {
    who.require(Role::Viewer)?;
    services.monitor.queries(environment).await
}

pub async fn save_query(
    services: &Services,
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
    services.monitor.save_query(who, environment, q).await
}

pub async fn delete_query(
    services: &Services,
    who: &Principal,
    environment: &str,
    id: i64,
) -> Result<()> {
    who.require(Role::Developer)?;
    services.monitor.delete_query(who, environment, id).await
}

/// The Alertmanager webhook: an API token of an operator or admin.
pub async fn receive_alerts(
    services: &Services,
    who: &Principal,
    payload: &[u8],
) -> Result<WebhookReceipt> {
    who.require(Role::Operator)?;
    services.monitor.receive_alerts(who, payload).await
}
