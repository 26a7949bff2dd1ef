//! Monitoring: the [`Monitor`] port over Prometheus and the database. It draws the charts,
//! measures analysis runs, evaluates the product's own alert rules, receives Alertmanager's
//! webhook, and rolls back a deployment an alert fires against.

pub mod alerts;
pub mod charts;
pub mod launch;
pub mod own;
pub mod prom;
pub mod rules;
pub mod runner;

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use varai_core::accounts::Principal;
use varai_core::clock::now_ms;
use varai_core::error::{AppError, Result};
use varai_core::monitor::Monitor;
use varai_core::monitor::{
    AlertRecord, AlertRuleRecord, AnalysisRunRecord, ChartSet, MetricsSource, NewSavedQuery,
    SavedQuery, TemplateRecord, TimeRange, WebhookReceipt,
};
use varai_domain::analysis::{AlertRule, AnalysisTemplate};

use crate::deploy::DeployService;
use crate::storage::SqlxStore;
use prom::PromMetrics;

/// The Prometheus environments without their own URL use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerPrometheus {
    /// `--prometheus-url`.
    Configured(String),
    /// The one the server started.
    Own(String),
    /// None, and why.
    Missing(String),
}

/// The server's side of monitoring.
pub struct MonitorService {
    pub store: SqlxStore,
    pub deploy: Arc<DeployService>,
    server_prometheus: RwLock<ServerPrometheus>,
    /// Seconds between scrapes: how often charts update and rules are evaluated.
    pub scrape_seconds: u32,
    clients: Mutex<HashMap<String, PromMetrics>>,
}

impl MonitorService {
    pub fn new(
        store: SqlxStore,
        deploy: Arc<DeployService>,
        server_prometheus: ServerPrometheus,
        scrape_seconds: u32,
    ) -> MonitorService {
        MonitorService {
            store,
            deploy,
            server_prometheus: RwLock::new(server_prometheus),
            scrape_seconds,
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn set_server_prometheus(&self, p: ServerPrometheus) {
        *self
            .server_prometheus
            .write()
            .unwrap_or_else(|e| e.into_inner()) = p;
    }

    fn server_prometheus(&self) -> ServerPrometheus {
        self.server_prometheus
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn client(&self, url: &str) -> std::result::Result<PromMetrics, String> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(url) {
            return Ok(c.clone());
        }
        let c = PromMetrics::new(url)?;
        clients.insert(url.to_owned(), c.clone());
        Ok(c)
    }

    /// The Prometheus `environment` is measured with, and where its URL comes from; or why
    /// there is none.
    pub async fn prometheus_for(
        &self,
        environment: &str,
    ) -> std::result::Result<(PromMetrics, &'static str), String> {
        let own = self
            .store
            .prometheus_url(environment)
            .await
            .map_err(|e| format!("reading {environment}'s Prometheus: {e}"))?;
        let (url, origin) = match (own, self.server_prometheus()) {
            (Some(url), _) => (url, "environment"),
            (None, ServerPrometheus::Configured(url) | ServerPrometheus::Own(url)) => {
                (url, "server")
            }
            (None, ServerPrometheus::Missing(why)) => return Err(why),
        };
        Ok((self.client(&url)?, origin))
    }
}

/// One number from `query` with its placeholders filled in, through `prom` (or why not).
pub async fn observe_with(
    prom: &std::result::Result<(PromMetrics, &'static str), String>,
    query: &str,
    args: &varai_domain::analysis::Args,
) -> varai_domain::analysis::Reading {
    use varai_domain::analysis::Reading;
    match (prom, varai_domain::analysis::render(query, args)) {
        (Err(why), _) => Reading::Failed(format!("no Prometheus: {why}")),
        (_, Err(e)) => Reading::Failed(e.to_string()),
        (Ok((p, _)), Ok(q)) => p.observe(&q).await,
    }
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

#[async_trait]
impl Monitor for MonitorService {
    async fn source(&self, environment: &str) -> Result<MetricsSource> {
        self.store.environment(environment).await?;
        let (url, origin, healthy, message) = match self.prometheus_for(environment).await {
            Ok((p, origin)) => match p.check().await {
                Ok(()) => (
                    Some(p.url().to_owned()),
                    origin,
                    true,
                    "answering".to_owned(),
                ),
                Err(why) => (Some(p.url().to_owned()), origin, false, why),
            },
            Err(why) => (None, "none", false, why),
        };
        Ok(MetricsSource {
            environment: environment.to_owned(),
            url,
            origin: origin.to_owned(),
            healthy,
            message,
            scrape_seconds: self.scrape_seconds,
        })
    }

    async fn set_source(
        &self,
        who: &Principal,
        environment: &str,
        url: Option<String>,
    ) -> Result<MetricsSource> {
        let actor = &who.actor;
        self.store.environment(environment).await?;
        if let Some(u) = &url {
            let p = self.client(u).map_err(|e| invalid("url", e))?;
            // The URL is well formed but names a Prometheus that does not answer: the request
            // clashes with the world as it is (409, naming the field), not a server fault.
            p.check().await.map_err(|why| AppError::Conflict {
                field: "url".into(),
                message: format!("{why}; {environment} keeps the Prometheus it had"),
            })?;
        }
        self.store
            .set_prometheus_url(actor, environment, url.as_deref(), now_ms())
            .await?;
        self.source(environment).await
    }

    async fn charts(
        &self,
        environment: &str,
        app: &str,
        range: TimeRange,
        since: Option<f64>,
    ) -> Result<ChartSet> {
        let app = self.store.app_named(environment, app).await?;
        let (_, namespace) = self.store.cluster_binding(environment).await?;
        let queries = self.store.queries(environment).await?;
        let prom = self.prometheus_for(environment).await.map(|(p, _)| p);
        Ok(charts::build(
            prom,
            &namespace,
            &app.name,
            &queries,
            range,
            since,
            now_ms(),
        )
        .await)
    }

    async fn templates(&self) -> Result<Vec<TemplateRecord>> {
        Ok(self.store.templates().await?)
    }

    async fn save_template(&self, who: &Principal, t: AnalysisTemplate) -> Result<TemplateRecord> {
        let actor = &who.actor;
        Ok(self.store.save_template(actor, &t, now_ms()).await?)
    }

    async fn delete_template(&self, who: &Principal, name: &str) -> Result<()> {
        let actor = &who.actor;
        Ok(self.store.delete_template(actor, name, now_ms()).await?)
    }

    async fn runs(&self, deployment: i64) -> Result<Vec<AnalysisRunRecord>> {
        self.store.deployment_by_id(deployment).await?;
        Ok(self.store.run_records(deployment).await?)
    }

    async fn rules(&self, environment: &str) -> Result<Vec<AlertRuleRecord>> {
        self.store.environment(environment).await?;
        Ok(self.store.rules(Some(environment)).await?)
    }

    async fn save_rule(&self, who: &Principal, rule: AlertRule) -> Result<AlertRuleRecord> {
        let actor = &who.actor;
        self.store.environment(&rule.environment).await?;
        if let Err(AppError::NotFound(_)) = self
            .store
            .app_named(&rule.environment, &rule.app)
            .await
            .map_err(AppError::from)
        {
            return Err(AppError::Conflict {
                field: "app".into(),
                message: format!("{} has no app called '{}'", rule.environment, rule.app),
            });
        }
        Ok(self.store.save_rule(actor, &rule, now_ms()).await?)
    }

    async fn delete_rule(&self, who: &Principal, environment: &str, name: &str) -> Result<()> {
        let actor = &who.actor;
        Ok(self
            .store
            .delete_rule(actor, environment, name, now_ms())
            .await?)
    }

    async fn alerts(&self, environment: &str) -> Result<Vec<AlertRecord>> {
        self.store.environment(environment).await?;
        Ok(self.store.alerts(environment).await?)
    }

    async fn queries(&self, environment: &str) -> Result<Vec<SavedQuery>> {
        self.store.environment(environment).await?;
        Ok(self.store.queries(environment).await?)
    }

    async fn save_query(
        &self,
        who: &Principal,
        environment: &str,
        q: NewSavedQuery,
    ) -> Result<SavedQuery> {
        let actor = &who.actor;
        Ok(self
            .store
            .insert_query(actor, environment, &q, now_ms())
            .await?)
    }

    async fn delete_query(&self, who: &Principal, environment: &str, id: i64) -> Result<()> {
        let actor = &who.actor;
        Ok(self
            .store
            .delete_query(actor, environment, id, now_ms())
            .await?)
    }

    async fn receive_alerts(&self, who: &Principal, payload: &[u8]) -> Result<WebhookReceipt> {
        alerts::receive(self, who, payload).await
    }
}
