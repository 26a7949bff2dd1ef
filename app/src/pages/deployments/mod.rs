//! The Deployments page: per environment, each app with the versions it runs (ready / desired,
//! which one users reach), the deployment in progress with its step and timeline, updating
//! every second; a "Deploy version" form; Promote, Pause, Resume and Abort for operators; and
//! a one-click Rollback that first says exactly what it will change.

mod analysis;
mod deploy_form;
mod live;
mod register;
mod rollback;

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use varai_domain::Role;

use crate::components::ErrorNote;
use varai_core::deploy::{
    AppRecord, Control, DeployRequest, DeploymentRecord, NewApp, RollbackRecord, RollbackRequest,
    SnapshotRecord, VersionLive,
};
use varai_core::error::AppError;
use varai_core::flags::Environment;
use varai_core::timeline::TimelineEvent;

/// The apps of one environment, for the page's frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentsFrame {
    pub environments: Vec<Environment>,
    /// The caller's role, deciding which forms and buttons to show.
    pub role: Role,
    pub env: String,
    /// Each app with the versions the sandbox knows for it (offered by the form).
    pub apps: Vec<(AppRecord, Vec<String>)>,
}

/// What one app's panel shows, refreshed every second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppNow {
    pub versions: Vec<VersionLive>,
    pub cluster_error: Option<String>,
    /// The deployment in progress, or else the latest one.
    pub deployment: Option<DeploymentRecord>,
    pub events: Vec<TimelineEvent>,
    /// The deployment's analysis runs, newest first.
    pub runs: Vec<varai_core::monitor::AnalysisRunRecord>,
}

#[leptos::server(prefix = "/rpc", endpoint = "deployments/frame")]
pub async fn load_frame(env: Option<String>) -> Result<DeploymentsFrame, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let environments = varai_core::flags::list_environments(&services, &who).await?;
    let env = varai_core::flags::pick_environment(&environments, env.as_deref())
        .ok_or_else(|| AppError::NotFound("environment".into()))?;
    let apps = varai_core::deploy::list_apps(&services, &who, &env)
        .await?
        .into_iter()
        .map(|a| (a.app, a.known_versions))
        .collect();
    Ok(DeploymentsFrame {
        environments,
        role: who.role,
        env,
        apps,
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "deployments/app")]
pub async fn read_app_now(env: String, app: String) -> Result<AppNow, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let live = varai_core::deploy::get_app(&services, &who, &env, &app).await?;
    let deployment = match live.deployment {
        Some(d) => Some(d),
        None => varai_core::deploy::deployment_history(&services, &who, &env, &app)
            .await?
            .into_iter()
            .next(),
    };
    let (events, runs) = match &deployment {
        Some(d) => (
            varai_core::deploy::get_deployment(&services, &who, d.id)
                .await?
                .1,
            varai_core::monitor::analysis_runs(&services, &who, d.id).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    Ok(AppNow {
        versions: live.versions,
        cluster_error: live.cluster_error,
        deployment,
        events,
        runs,
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "deployments/register", input = Json)]
pub async fn register_app(env: String, app: NewApp) -> Result<AppRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::deploy::register_app(&services, &who, &env, app).await
}

#[leptos::server(prefix = "/rpc", endpoint = "deployments/start", input = Json)]
pub async fn start_deployment(
    env: String,
    app: String,
    request: DeployRequest,
) -> Result<DeploymentRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::deploy::start_deployment(&services, &who, &env, &app, request).await
}

#[leptos::server(prefix = "/rpc", endpoint = "deployments/control", input = Json)]
pub async fn control_deployment(id: i64, control: Control) -> Result<DeploymentRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::deploy::control_deployment(&services, &who, id, control).await
}

#[leptos::server(prefix = "/rpc", endpoint = "deployments/snapshots")]
pub async fn app_snapshots(env: String, app: String) -> Result<Vec<SnapshotRecord>, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::deploy::list_snapshots(&services, &who, &env, &app).await
}

#[leptos::server(prefix = "/rpc", endpoint = "deployments/rollback", input = Json)]
pub async fn roll_back(
    env: String,
    app: String,
    request: RollbackRequest,
) -> Result<RollbackRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::deploy::roll_back(&services, &who, &env, &app, request).await
}

/// A signal that counts seconds in the browser (it stays at 0 while rendering on the server).
pub fn every_second() -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || set_tick.update(|t| *t += 1),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    tick
}

/// The actions every panel shares, so that any of them refreshes the page at once.
#[derive(Clone, Copy)]
pub struct Actions {
    pub register: ServerAction<RegisterApp>,
    pub start: ServerAction<StartDeployment>,
    pub control: ServerAction<ControlDeployment>,
    pub rollback: ServerAction<RollBack>,
}

impl Actions {
    /// Changes whenever any of them completes.
    pub fn version(&self) -> (usize, usize, usize) {
        (
            self.start.version().get(),
            self.control.version().get(),
            self.rollback.version().get(),
        )
    }
}

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let query = use_query_map();
    let env = move || query.with(|q| q.get("env"));
    let actions = Actions {
        register: ServerAction::<RegisterApp>::new(),
        start: ServerAction::<StartDeployment>::new(),
        control: ServerAction::<ControlDeployment>::new(),
        rollback: ServerAction::<RollBack>::new(),
    };
    let frame = Resource::new(
        move || (env(), actions.start.version().get()),
        |(env, _)| load_frame(env),
    );
    view! {
        <Title text="Deployments"/>
        <h1>"Deployments"</h1>
        <p class="lede">
            "Ship a new version of an app as a Canary, Blue-Green, Rolling or Recreate deployment, "
            "watch it live, and put the previous state back with one click."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading apps…"</p> }>
            {move || Suspend::new(async move {
                match frame.await {
                    Ok(frame) => view! { <Frame frame actions/> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Frame(frame: DeploymentsFrame, actions: Actions) -> impl IntoView {
    let tabs = frame
        .environments
        .iter()
        .map(|e| {
            let current = e.key == frame.env;
            view! {
                <a class="tab" href=format!("/deployments?env={}", e.key)
                    aria-current=if current { Some("page") } else { None }>{e.name.clone()}</a>
            }
        })
        .collect_view();
    let empty = frame.apps.is_empty();
    let can_deploy = frame.role.allows(Role::Developer);
    let can_operate = frame.role.allows(Role::Operator);
    let panels = frame
        .apps
        .into_iter()
        .map(|(app, versions)| {
            view! { <AppPanel env=frame.env.clone() app versions can_deploy can_operate actions/> }
        })
        .collect_view();
    view! {
        <nav class="tabs" aria-label="Environment">{tabs}</nav>
        {empty.then(|| view! {
            <p class="notice info">{format!(
                "No app is registered in this environment yet. Register one through the REST API: POST /api/v1/environments/{}/apps",
                frame.env
            )}</p>
        })}
        {panels}
        {can_operate.then(|| view! { <register::RegisterForm env=frame.env.clone() action=actions.register/> })}
    }
}

#[component]
fn AppPanel(
    env: String,
    app: AppRecord,
    versions: Vec<String>,
    can_deploy: bool,
    can_operate: bool,
    actions: Actions,
) -> impl IntoView {
    let heading = format!("app-{}", app.name);
    let heading_ref = heading.clone();
    let tick = every_second();
    let (env_key, app_name) = (env.clone(), app.name.clone());
    // Read in the browser only, every second: the page's frame comes from the server, the
    // live state follows it (a plain signal, so hydration has nothing to wait for).
    let now = RwSignal::new(None::<Result<AppNow, AppError>>);
    Effect::new(move |_| {
        let _ = (tick.get(), actions.version());
        let (env, app) = (env_key.clone(), app_name.clone());
        leptos::task::spawn_local(async move {
            let fresh = read_app_now(env, app).await;
            // The panel may have been replaced while the answer was on its way.
            if !now.is_disposed() {
                now.set(Some(fresh));
            }
        });
    });
    let details = format!(
        "Deployment {} · Service {} · container {} · image {}",
        app.deployment, app.service, app.container, app.image
    );
    view! {
        <section class="card app-panel" aria-labelledby=heading_ref data-testid=format!("app-{}", app.name)>
            <header class="page-head">
                <div>
                    <h2 id=heading>{app.name.clone()}</h2>
                    <p class="hint">{details}</p>
                </div>
            </header>
            {move || match now.get() {
                None => view! { <p class="muted">"Reading the cluster…"</p> }.into_any(),
                Some(Ok(now)) => view! { <live::AppNowView now can_operate actions/> }.into_any(),
                Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            }}
            <details class="charts-fold" open>
                <summary>"Metrics by version (last 5 minutes, live)"</summary>
                <crate::charts::live::LiveCharts env=env.clone() app=app.name.clone()
                    range=Signal::stored(varai_core::monitor::TimeRange::M5) only=vec!["requests", "errors", "latency"]/>
            </details>
            <div class="grid two">
                {can_deploy.then(|| view! {
                    <deploy_form::DeployForm env=env.clone() app=app.name.clone() versions=versions.clone() action=actions.start/>
                })}
                {can_operate.then(|| view! {
                    <rollback::RollbackForm env=env.clone() app=app.name.clone() action=actions.rollback/>
                })}
            </div>
        </section>
    }
}
