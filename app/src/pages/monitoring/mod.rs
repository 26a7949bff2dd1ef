//! The Monitoring page: per environment and app, live charts of request rate, error rate,
//! latency, CPU, memory, conversion and saved queries, split by version; where the metrics
//! come from; the alerts received and raised; and the alert rules that roll a bad deployment
//! back by themselves.

mod rules;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use varai_domain::Role;

use crate::charts::live::LiveCharts;
use crate::components::{ErrorNote, Timestamp};
use varai_core::error::AppError;
use varai_core::flags::Environment;
use varai_core::monitor::{AlertRecord, AlertRuleRecord, MetricsSource, SavedQuery, TimeRange};

/// The page's frame: where we are and where the metrics come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitoringFrame {
    pub environments: Vec<Environment>,
    pub env: String,
    pub apps: Vec<String>,
    pub app: Option<String>,
    pub source: MetricsSource,
    pub role: Role,
}

/// What changes by itself: rules' states, alerts, saved queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitoringNow {
    pub rules: Vec<AlertRuleRecord>,
    pub alerts: Vec<AlertRecord>,
    pub queries: Vec<SavedQuery>,
}

#[leptos::server(prefix = "/rpc", endpoint = "monitoring/frame")]
pub async fn load_monitoring(
    env: Option<String>,
    app: Option<String>,
) -> Result<MonitoringFrame, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let environments = varai_core::flags::list_environments(&services, &who).await?;
    let env = varai_core::flags::pick_environment(&environments, env.as_deref())
        .ok_or_else(|| AppError::NotFound("environment".into()))?;
    let apps: Vec<String> = varai_core::deploy::list_apps(&services, &who, &env)
        .await?
        .into_iter()
        .map(|a| a.app.name)
        .collect();
    let app = app
        .filter(|a| apps.contains(a))
        .or_else(|| apps.first().cloned());
    let source = varai_core::monitor::metrics_source(&services, &who, &env).await?;
    Ok(MonitoringFrame {
        environments,
        env,
        apps,
        app,
        source,
        role: who.role,
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "monitoring/lists")]
pub async fn read_monitoring_now(env: String) -> Result<MonitoringNow, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    Ok(MonitoringNow {
        rules: varai_core::monitor::list_rules(&services, &who, &env).await?,
        alerts: varai_core::monitor::list_alerts(&services, &who, &env).await?,
        queries: varai_core::monitor::list_queries(&services, &who, &env).await?,
    })
}

#[component]
pub fn MonitoringPage() -> impl IntoView {
    let query = use_query_map();
    let env = move || query.with(|q| q.get("env"));
    let app = move || query.with(|q| q.get("app"));
    let range = Signal::derive(move || {
        query.with(|q| {
            q.get("range")
                .and_then(|r| TimeRange::from_key(&r))
                .unwrap_or_default()
        })
    });
    let frame = Resource::new(
        move || (env(), app()),
        |(env, app)| load_monitoring(env, app),
    );
    view! {
        <Title text="Monitoring"/>
        <h1>"Monitoring"</h1>
        <p class="lede">"What each version of an app is doing to errors, latency, resources and conversion, live; and the alerts that roll a bad release back by themselves."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match frame.await {
                    Ok(frame) => view! { <Frame frame range/> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn href(env: &str, app: Option<&str>, range: TimeRange) -> String {
    match app {
        Some(a) => format!("/monitoring?env={env}&app={a}&range={}", range.key()),
        None => format!("/monitoring?env={env}&range={}", range.key()),
    }
}

#[component]
fn SourceNote(source: MetricsSource) -> impl IntoView {
    let origin = match source.origin.as_str() {
        "environment" => "this environment's Prometheus",
        "server" => "the server's Prometheus",
        _ => "no Prometheus",
    };
    if source.healthy {
        let url = source.url.clone().unwrap_or_default();
        view! {
            <p class="source-note" data-testid="metrics-source">
                <span class="status on">"● answering"</span>" Metrics from "{origin}" at "<code>{url}</code>
                {format!(", scraped every {} s.", source.scrape_seconds)}
            </p>
        }
        .into_any()
    } else {
        view! {
            <div class="notice error" role="alert" data-testid="metrics-source">
                <strong>"No metrics"</strong>
                <span>{format!("{}. Charts stay empty and analysis reports Error, pausing deployments that use it.", source.message)}</span>
            </div>
        }
        .into_any()
    }
}

#[component]
fn Frame(frame: MonitoringFrame, range: Signal<TimeRange>) -> impl IntoView {
    let env = frame.env.clone();
    let app = frame.app.clone();
    let tabs = frame
        .environments
        .iter()
        .map(|e| {
            let current = e.key == frame.env;
            view! { <a class="tab" href=href(&e.key, None, range.get_untracked())
            aria-current=current.then_some("page")>{e.name.clone()}</a> }
        })
        .collect_view();
    let app_links = frame
        .apps
        .iter()
        .map(|a| {
            let current = Some(a) == frame.app.as_ref();
            view! { <a class="chip" href=href(&frame.env, Some(a), range.get_untracked())
            aria-current=current.then_some("page")>{a.clone()}</a> }
        })
        .collect_view();
    let (env_r, app_r) = (env.clone(), app.clone());
    let ranges = move || {
        TimeRange::ALL
            .into_iter()
            .map(|r| {
                let current = r == range.get();
                view! { <a class="chip" href=href(&env_r, app_r.as_deref(), r)
                aria-current=current.then_some("page")>{r.key()}</a> }
            })
            .collect_view()
    };
    let every = frame.source.scrape_seconds;
    let charts = app
        .clone()
        .map(|a| view! { <LiveCharts env=env.clone() app=a range every/> }.into_any());
    view! {
        <nav class="tabs" aria-label="Environment">{tabs}</nav>
        <div class="toolbar">
            <nav class="chips" aria-label="App">{app_links}</nav>
            <nav class="chips" aria-label="Time range">{ranges}</nav>
        </div>
        <SourceNote source=frame.source/>
        {charts.unwrap_or_else(|| view! { <p class="notice info">"No app in this environment yet."</p> }.into_any())}
        <rules::Lists env=frame.env.clone() apps=frame.apps.clone() role=frame.role/>
    }
}

/// The alerts received and raised, newest first.
#[component]
pub fn AlertList(alerts: Vec<AlertRecord>) -> impl IntoView {
    if alerts.is_empty() {
        return view! { <p class="muted">"No alert yet. Alertmanager posts to /hooks/alertmanager; rules below raise their own."</p> }.into_any();
    }
    let rows = alerts
        .into_iter()
        .map(|a| {
            let labels = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
            let notes = a.annotations.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
            let status = if a.status == "firing" { "status alert" } else { "status on" };
            view! {
                <tr data-testid="alert-row">
                    <td><Timestamp ms=a.received_at/></td>
                    <td><strong>{a.name.clone()}</strong><br/><span class="small muted">{if a.source == "rule" { "rule" } else { "Alertmanager" }}</span></td>
                    <td><span class=status>{if a.status == "firing" { "▲ firing" } else { "✓ resolved" }}</span></td>
                    <td><code class="small">{labels}</code><br/><span class="small">{notes}</span></td>
                    <td>{a.action.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table compact" aria-label="Alerts">
            <thead><tr><th scope="col">"Received"</th><th scope="col">"Alert"</th><th scope="col">"Status"</th>
                <th scope="col">"Labels and annotations"</th><th scope="col">"What was done"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
