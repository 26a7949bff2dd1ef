//! Alertmanager's webhook (payload version 4) and automated rollback on an alert. A firing
//! alert whose labels name an app (`app`) and an environment (`environment`, or the
//! environment's `namespace`) with a deployment in progress aborts it and rolls back to its
//! snapshot; every alert is recorded with what was done about it.

use serde::Deserialize;
use std::collections::BTreeMap;
use varai_core::accounts::Principal;
use varai_core::clock::now_ms;
use varai_core::deploy::RollbackRequest;
use varai_core::error::{AppError, Result};
use varai_core::monitor::WebhookReceipt;

use super::MonitorService;
use crate::storage::NewAlert;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    version: String,
    #[serde(default)]
    status: String,
    alerts: Vec<Alert>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Alert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn describe(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl MonitorService {
    /// The environment an alert's labels point at: `environment`, else the one whose
    /// namespace is `namespace`.
    async fn environment_of(&self, labels: &BTreeMap<String, String>) -> Option<String> {
        let envs = self.store.environments().await.ok()?;
        if let Some(e) = labels.get("environment")
            && envs.iter().any(|x| &x.key == e)
        {
            return Some(e.clone());
        }
        let ns = labels.get("namespace")?;
        for env in envs {
            if let Ok((_, namespace)) = self.store.cluster_binding(&env.key).await
                && &namespace == ns
            {
                return Some(env.key);
            }
        }
        None
    }

    /// Rolls back `app`'s deployment in progress, if there is one; says what happened.
    pub async fn roll_back_for(
        &self,
        who: &Principal,
        environment: &str,
        app: &str,
        reason: &str,
    ) -> String {
        let _exclusive = self.deploy.lock_app(environment, app).await;
        let record = match self.store.app_named(environment, app).await {
            Ok(a) => a,
            Err(_) => return format!("{environment} has no app '{app}': recorded only"),
        };
        let current = match self.store.in_progress_of(record.id).await {
            Ok(Some(d)) => d,
            Ok(None) => return format!("{app} has no deployment in progress: recorded only"),
            Err(e) => return format!("could not read {app}'s deployments: {e}"),
        };
        let request = RollbackRequest {
            snapshot_id: current.snapshot_id,
            reason: format!("automated rollback: {reason}"),
        };
        match self
            .deploy
            .rollback_held(who, environment, app, request)
            .await
        {
            Ok(r) => format!(
                "rolled back deployment #{} ({} → {}) to snapshot #{} in {} ms",
                current.id, current.previous_version, current.version, r.snapshot_id, r.duration_ms
            ),
            Err(e) => format!("rolling back deployment #{} failed: {e}", current.id),
        }
    }
}

/// Handles one webhook notification.
pub async fn receive(
    monitor: &MonitorService,
    who: &Principal,
    payload: &[u8],
) -> Result<WebhookReceipt> {
    let actor = &who.actor;
    let n: Notification = serde_json::from_slice(payload)
        .map_err(|e| invalid("body", format!("not an Alertmanager webhook payload: {e}")))?;
    if n.version != "4" {
        return Err(invalid(
            "version",
            format!(
                "payload version '{}' is not supported; Alertmanager sends version 4",
                n.version
            ),
        ));
    }
    if n.alerts.is_empty() {
        return Err(invalid(
            "alerts",
            format!("the {} notification holds no alerts", n.status),
        ));
    }
    // Refuse the whole notification before acting on any of it.
    if let Some(bad) = n
        .alerts
        .iter()
        .find(|a| a.status != "firing" && a.status != "resolved")
    {
        return Err(invalid(
            "alerts.status",
            format!("'{}' is neither firing nor resolved", bad.status),
        ));
    }
    let mut actions = Vec::new();
    for a in &n.alerts {
        let name = a
            .labels
            .get("alertname")
            .cloned()
            .unwrap_or_else(|| "unnamed".into());
        let environment = monitor.environment_of(&a.labels).await;
        let app = a.labels.get("app").cloned();
        let action = match (a.status.as_str(), &environment, &app) {
            ("firing", Some(env), Some(app)) => {
                let mut reason = format!("Alertmanager alert {name} firing ({})", describe(&a.labels));
                if !a.annotations.is_empty() {
                    reason.push_str(&format!("; {}", describe(&a.annotations)));
                }
                monitor.roll_back_for(who, env, app, &reason).await
            }
            ("firing", _, _) => "names no known app and environment (labels app and environment or namespace): recorded only".to_owned(),
            _ => "resolved: recorded".to_owned(),
        };
        let starts_at = a
            .starts_at
            .as_deref()
            .and_then(varai_domain::clock::parse_rfc3339);
        let alert = NewAlert {
            source: "alertmanager",
            name: &name,
            status: &a.status,
            environment: environment.as_deref(),
            app: app.as_deref(),
            labels: &a.labels,
            annotations: &a.annotations,
            starts_at,
            action: &action,
        };
        monitor.store.insert_alert(actor, alert, now_ms()).await?;
        actions.push(format!("{name} ({}): {action}", a.status));
    }
    Ok(WebhookReceipt {
        received: n.alerts.len(),
        actions,
    })
}
