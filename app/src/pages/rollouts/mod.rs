//! Rollouts in the browser: the list per environment, the planning form (`plan`), a rollout's
//! live page (`view`), and what the Overview shows of them (`summary`).

pub mod draft;
pub mod estimate;
pub mod evidence;
pub mod gates_edit;
pub mod phases_edit;
pub mod plan;
pub mod summary;
pub mod view;

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use varai_domain::Role;

use crate::components::{ErrorNote, Timestamp};
use varai_core::error::AppError;
use varai_core::flags::Environment;
use varai_core::rollouts::{
    NewRollout, PlanTemplate, RolloutCommand, RolloutRecord, RolloutStatus, RolloutView,
};

/// Everything the planning form offers to choose from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanChoices {
    pub environments: Vec<Environment>,
    pub env: String,
    pub role: Role,
    /// Each app of the environment with the versions the sandbox knows for it.
    pub apps: Vec<(String, Vec<String>)>,
    /// Live flags' keys and names.
    pub flags: Vec<(String, String)>,
    /// Segments' keys and names.
    pub segments: Vec<(String, String)>,
    pub templates: Vec<PlanTemplate>,
    /// Analysis templates and how long each runs (seconds).
    pub analysis: Vec<(String, u32)>,
    /// The draft being edited, if any.
    pub draft: Option<RolloutRecord>,
}

#[leptos::server(prefix = "/rpc", endpoint = "rollouts/choices")]
pub async fn load_plan_choices(
    env: Option<String>,
    draft: Option<i64>,
) -> Result<PlanChoices, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let draft = match draft {
        Some(id) => Some(
            varai_core::rollouts::get_rollout(&services, &who, id)
                .await?
                .rollout,
        ),
        None => None,
    };
    let environments = varai_core::flags::list_environments(&services, &who).await?;
    let asked = draft.as_ref().map(|d| d.environment.clone()).or(env);
    let env = varai_core::flags::pick_environment(&environments, asked.as_deref())
        .ok_or_else(|| AppError::NotFound("environment".into()))?;
    let apps = varai_core::deploy::list_apps(&services, &who, &env)
        .await?
        .into_iter()
        .map(|a| (a.app.name, a.known_versions))
        .collect();
    let flags = varai_core::flags::list_flags(&services, &who)
        .await?
        .into_iter()
        .filter(|f| f.archived_at.is_none())
        .map(|f| (f.spec.key, f.spec.name))
        .collect();
    let segments = varai_core::flags::list_segments(&services, &who)
        .await?
        .into_iter()
        .map(|s| (s.segment.key, s.segment.name))
        .collect();
    let analysis = varai_core::monitor::list_templates(&services, &who)
        .await?
        .into_iter()
        .map(|t| (t.template.name.clone(), t.template.expected_seconds()))
        .collect();
    Ok(PlanChoices {
        environments,
        env,
        role: who.role,
        apps,
        flags,
        segments,
        templates: varai_core::rollouts::list_plan_templates(&services, &who).await?,
        analysis,
        draft,
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "rollouts/save", input = Json)]
pub async fn save_rollout(
    env: String,
    id: Option<i64>,
    rollout: NewRollout,
) -> Result<RolloutRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    match id {
        Some(id) => varai_core::rollouts::update_rollout(&services, &who, id, rollout).await,
        None => varai_core::rollouts::create_rollout(&services, &who, &env, rollout).await,
    }
}

#[leptos::server(prefix = "/rpc", endpoint = "rollouts/save-template", input = Json)]
pub async fn save_as_template(
    name: String,
    template: varai_core::rollouts::NewPlanTemplate,
) -> Result<PlanTemplate, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::rollouts::save_plan_template(&services, &who, name.trim(), template).await
}

#[leptos::server(prefix = "/rpc", endpoint = "rollouts/list")]
pub async fn list_rollouts(
    env: Option<String>,
) -> Result<(Vec<Environment>, Role, Vec<RolloutRecord>), AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let environments = varai_core::flags::list_environments(&services, &who).await?;
    let filter = varai_core::rollouts::RolloutFilter {
        environment: env,
        active: false,
    };
    let list = varai_core::rollouts::list_rollouts(&services, &who, filter).await?;
    Ok((environments, who.role, list))
}

/// A rollout as its page shows it, with the caller's name and role for the buttons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutNow {
    pub view: RolloutView,
    pub me: String,
    pub role: Role,
}

#[leptos::server(prefix = "/rpc", endpoint = "rollouts/now")]
pub async fn read_rollout_now(id: i64) -> Result<RolloutNow, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    Ok(RolloutNow {
        view: varai_core::rollouts::get_rollout(&services, &who, id).await?,
        me: who.actor.name.clone(),
        role: who.role,
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "rollouts/command", input = Json)]
pub async fn command_rollout(id: i64, command: RolloutCommand) -> Result<RolloutRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::rollouts::command_rollout(&services, &who, id, command).await
}

/// An approval a rollout waits for at its current stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalAsk {
    /// The gate in words.
    pub gate: String,
    /// Why the caller may not give it, if they may not.
    pub refusal: Option<String>,
}

/// The approval the rollout waits for now, if any, and whether `me` with `role` may give it.
pub fn approval_waiting(v: &RolloutView, me: &str, role: Role) -> Option<ApprovalAsk> {
    v.approval_for(&[me], role).map(|(a, refusal)| ApprovalAsk {
        gate: a.describe,
        refusal: refusal.map(|r| r.explain()),
    })
}

/// A status as a badge with words, never colour alone.
#[component]
pub fn StatusBadge(status: RolloutStatus, paused: bool) -> impl IntoView {
    let (class, text) = match (status, paused) {
        (RolloutStatus::Running, true) => ("badge status-paused", "Paused".to_owned()),
        (s, _) => (
            match s {
                RolloutStatus::Running => "badge status-running",
                RolloutStatus::Succeeded => "badge status-succeeded",
                RolloutStatus::RolledBack | RolloutStatus::Failed => "badge status-failed",
                RolloutStatus::Aborted => "badge status-aborted",
                _ => "badge status-draft",
            },
            s.label().to_owned(),
        ),
    };
    view! { <span class=class>{text}</span> }
}

/// What a rollout releases, in words.
pub fn release_text(r: &RolloutRecord) -> String {
    let mut parts = Vec::new();
    if let (Some(app), Some(v)) = (&r.release.app, &r.release.version) {
        parts.push(format!("{app} → {v}"));
    }
    if !r.release.flags.is_empty() {
        parts.push(format!("flags {}", r.release.flags.join(", ")));
    }
    parts.join(" · ")
}

#[component]
pub fn RolloutsPage() -> impl IntoView {
    let query = use_query_map();
    let env = move || query.with(|q| q.get("env"));
    let data = Resource::new(env, list_rollouts);
    view! {
        <Title text="Rollouts"/>
        <header class="page-head">
            <div>
                <h1>"Rollouts"</h1>
                <p class="lede">"Plans carried out phase by phase: from staff to testers to everyone, with checks before each step."</p>
            </div>
            <a class="button primary" href=move || format!("/rollouts/new{}", env().map(|e| format!("?env={e}")).unwrap_or_default())>"Plan a rollout"</a>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Loading rollouts…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((envs, _, list)) => view! { <RolloutTable envs list current=env()/> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RolloutTable(
    envs: Vec<Environment>,
    list: Vec<RolloutRecord>,
    current: Option<String>,
) -> impl IntoView {
    let tabs = std::iter::once(("".to_owned(), "All".to_owned()))
        .chain(envs.into_iter().map(|e| (e.key, e.name)))
        .map(|(key, name)| {
            let here = current.clone().unwrap_or_default() == key;
            let href = if key.is_empty() {
                "/rollouts".to_owned()
            } else {
                format!("/rollouts?env={key}")
            };
            view! { <a class="tab" href=href aria-current=here.then_some("page")>{name}</a> }
        })
        .collect_view();
    let empty = list.is_empty();
    let rows = list
        .into_iter()
        .map(|r| {
            let stop = if r.status.is_over() || r.status == RolloutStatus::Draft { "—".to_owned() } else { r.stop_label.clone() };
            view! {
                <tr>
                    <th scope="row"><a href=format!("/rollouts/{}", r.id)>{format!("#{} {}", r.id, r.title)}</a></th>
                    <td>{r.environment.clone()}</td>
                    <td>{release_text(&r)}</td>
                    <td><StatusBadge status=r.status paused=r.paused/></td>
                    <td>{stop}</td>
                    <td><Timestamp ms=r.created_at/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <nav class="tabs" aria-label="Environment">{tabs}</nav>
        {if empty {
            view! { <p class="notice info">"No rollouts here yet. Plan one to release an app's new version, flags, or both, to a growing audience."</p> }.into_any()
        } else {
            view! {
                <table class="table" aria-label="Rollouts">
                    <thead><tr><th scope="col">"Rollout"</th><th scope="col">"Environment"</th><th scope="col">"Release"</th>
                        <th scope="col">"Status"</th><th scope="col">"Phase"</th><th scope="col">"Planned"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }.into_any()
        }}
    }
}
