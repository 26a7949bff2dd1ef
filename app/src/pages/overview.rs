//! The overview: who you are, what your role lets you do, and the latest changes.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use varai_domain::Role;

use crate::components::{ErrorNote, RoleBadge, Timestamp};
use crate::me::use_me;
use varai_core::accounts::AuditEvent;
use varai_core::changes::ChangeRequest;
use varai_core::error::AppError;

/// What the overview shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Overview {
    pub recent: Vec<AuditEvent>,
    /// Live (not archived) flags.
    pub flags: usize,
    /// Each environment's name and how many flags are on there.
    pub flags_on: Vec<(String, usize)>,
    /// Which database holds the state: "SQLite" or "PostgreSQL".
    pub storage: String,
    pub version: String,
    /// Open change requests this caller may approve.
    pub awaiting: Vec<ChangeRequest>,
}

#[leptos::server(prefix = "/rpc", endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let page = varai_core::accounts::list_audit(&services, &who, None, None, Some(8)).await?;
    let flags: Vec<_> = varai_core::flags::list_flags(&services, &who)
        .await?
        .into_iter()
        .filter(|f| f.archived_at.is_none())
        .collect();
    let flags_on = varai_core::flags::list_environments(&services, &who)
        .await?
        .into_iter()
        .map(|e| {
            let on = flags.iter().filter(|f| f.targeting(&e.key).enabled).count();
            (e.name, on)
        })
        .collect();
    let awaiting = varai_core::changes::awaiting_review(&services, &who).await?;
    Ok(Overview {
        awaiting,
        recent: page.events,
        flags: flags.len(),
        flags_on,
        storage: services.storage.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

/// What each role adds to the one below it.
fn role_powers(role: Role) -> &'static str {
    match role {
        Role::Viewer => "See rollouts, flags, metrics and the audit log.",
        Role::Developer => "Create, target and toggle feature flags; edit segments.",
        Role::ProductManager => "Plan rollouts and approve phases.",
        Role::Operator => "Pause, promote, abort and roll back deployments.",
        Role::Admin => "Manage users, roles, API tokens, environments, SDK keys and imports.",
    }
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let me = use_me();
    let overview = Resource::new(|| (), |_| get_overview());
    let rollouts = Resource::new(
        || (),
        |_| super::rollouts::summary::load_rollouts_overview(),
    );
    view! {
        <Title text="Overview"/>
        <h1>"Overview"</h1>
        <div class="grid three">
            <Transition fallback=|| view! { <p class="muted">"Loading rollouts…"</p> }>
                {move || Suspend::new(async move {
                    match rollouts.await {
                        Ok(o) => view! { <super::rollouts::summary::RolloutCards o/> }.into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
        <div class="grid two">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    me.await.ok().map(|me| {
                        let powers = Role::ALL
                            .into_iter()
                            .filter(|r| me.role.allows(*r))
                            .map(|r| view! { <li>{role_powers(r)}</li> })
                            .collect_view();
                        view! {
                            <section class="card" aria-labelledby="you-title">
                                <h2 id="you-title">{format!("Signed in as {}", me.name)}</h2>
                                <p>"Your role: " <RoleBadge role=me.role/></p>
                                <ul class="checklist">{powers}</ul>
                            </section>
                        }
                    })
                })}
            </Suspense>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(o) => view! {
                            <AwaitingReview requests=o.awaiting.clone()/>
                            <FlagSummary flags=o.flags flags_on=o.flags_on.clone()/>
                            <RecentChanges o/>
                        }
                        .into_any(),
                        Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// The change requests waiting for this caller's review; nothing when there are none.
#[component]
fn AwaitingReview(requests: Vec<ChangeRequest>) -> impl IntoView {
    (!requests.is_empty()).then(|| {
        let count = requests.len();
        let items = requests
            .into_iter()
            .map(|r| {
                view! {
                    <li>
                        <a href=format!("/changes#change-{}", r.id)>{r.title}</a>
                        <span class="muted">{format!(" — {} in {}, asked by {} ", r.change.subject(), r.environment, r.created_by)}</span>
                        <Timestamp ms=r.created_at/>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="card attention" aria-labelledby="awaiting-title">
                <h2 id="awaiting-title">{format!("{count} change request{} waiting for your review", if count == 1 { "" } else { "s" })}</h2>
                <ul class="events">{items}</ul>
                <p><a href="/changes">"Review them →"</a></p>
            </section>
        }
    })
}

#[component]
fn FlagSummary(flags: usize, flags_on: Vec<(String, usize)>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="flags-title">
            <h2 id="flags-title">"Feature flags"</h2>
            <p>{format!("{flags} live flags")}</p>
            <dl class="result">
                {flags_on
                    .into_iter()
                    .map(|(env, on)| view! { <dt>{env}</dt><dd>{format!("{on} on")}</dd> })
                    .collect_view()}
            </dl>
            <p><a href="/flags">"Open the flags →"</a></p>
        </section>
    }
}

#[component]
fn RecentChanges(o: Overview) -> impl IntoView {
    let items = o
        .recent
        .into_iter()
        .map(|e| {
            view! {
                <li>
                    <Timestamp ms=e.at/> " — " <strong>{e.actor}</strong> " "
                    <code>{e.action}</code> " " {e.target}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="recent-title">
            <h2 id="recent-title">"Recent changes"</h2>
            <ul class="events">{items}</ul>
            <p><a href="/audit">"Open the audit log →"</a></p>
            <p class="muted small">
                "VARAi Rollout " {o.version} " · state stored in " {o.storage}
            </p>
        </section>
    }
}
