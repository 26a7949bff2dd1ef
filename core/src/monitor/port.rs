//! The [`Monitor`] port: Prometheus per environment, charts, analysis templates and runs,
//! alert rules, alerts and saved queries, which the server implements.

use async_trait::async_trait;
use varai_domain::analysis::{AlertRule, AnalysisTemplate};

use super::{
    AlertRecord, AlertRuleRecord, AnalysisRunRecord, ChartSet, MetricsSource, NewSavedQuery,
    SavedQuery, TemplateRecord, TimeRange, WebhookReceipt,
};
use crate::accounts::Principal;
use crate::error::Result;

#[async_trait]
pub trait Monitor: Send + Sync + 'static {
    async fn source(&self, environment: &str) -> Result<MetricsSource>;
    async fn set_source(
        &self,
        who: &Principal,
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
    async fn save_template(&self, who: &Principal, t: AnalysisTemplate) -> Result<TemplateRecord>;
    async fn delete_template(&self, who: &Principal, name: &str) -> Result<()>;
    async fn runs(&self, deployment: i64) -> Result<Vec<AnalysisRunRecord>>;
    async fn rules(&self, environment: &str) -> Result<Vec<AlertRuleRecord>>;
    async fn save_rule(&self, who: &Principal, rule: AlertRule) -> Result<AlertRuleRecord>;
    async fn delete_rule(&self, who: &Principal, environment: &str, name: &str) -> Result<()>;
    async fn alerts(&self, environment: &str) -> Result<Vec<AlertRecord>>;
    async fn queries(&self, environment: &str) -> Result<Vec<SavedQuery>>;
    async fn save_query(
        &self,
        who: &Principal,
        environment: &str,
        q: NewSavedQuery,
    ) -> Result<SavedQuery>;
    async fn delete_query(&self, who: &Principal, environment: &str, id: i64) -> Result<()>;
    /// An Alertmanager webhook notification (payload version 4).
    async fn receive_alerts(&self, who: &Principal, payload: &[u8]) -> Result<WebhookReceipt>;
}
