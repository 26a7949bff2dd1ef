//! What the Overview shows of rollouts: those in progress in each environment with their
//! phase and health, the approvals waiting for the person looking, and the latest rollbacks
//! with why.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::StatusBadge;
use crate::components::Timestamp;
use varai_core::error::AppError;
use varai_core::rollouts::{RolloutRecord, RolloutStatus};

/// A rollout in progress, as the Overview lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InProgress {
    pub rollout: RolloutRecord,
    /// "healthy", or what is wrong, in words.
    pub health: String,
    pub healthy: bool,
}

/// An approval the caller may give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyApproval {
    pub rollout: i64,
    pub title: String,
    pub environment: String,
    pub gate: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutsOverview {
    pub in_progress: Vec<InProgress>,
    pub approvals: Vec<MyApproval>,
    pub rollbacks: Vec<RolloutRecord>,
}

#[leptos::server(prefix = "/rpc", endpoint = "rollouts/overview")]
pub async fn load_rollouts_overview() -> Result<RolloutsOverview, AppError> {
    use varai_core::rollouts::{RolloutFilter, get_rollout, list_rollouts};
    use varai_domain::plan::GateStatus;
    let (services, who) = crate::server::signed_in().await?;
    let all = list_rollouts(&services, &who, RolloutFilter::default()).await?;
    let mut in_progress = Vec::new();
    let mut approvals = Vec::new();
    for r in all
        .iter()
        .filter(|r| matches!(r.status, RolloutStatus::Running | RolloutStatus::Scheduled))
    {
        let view = get_rollout(&services, &who, r.id).await?;
        let failing = view
            .gates
            .iter()
            .any(|g| matches!(g.status, GateStatus::Failed | GateStatus::Inconclusive));
        let (healthy, health) = match (&r.last_error, r.paused, failing) {
            (Some(e), _, _) => (false, format!("retrying: {e}")),
            (None, true, _) => (false, r.waiting.clone().unwrap_or_else(|| "paused".into())),
            (None, false, true) => (false, "a gate has no verdict or failed".into()),
            _ => (true, "healthy".into()),
        };
        if let Some(ask) = super::approval_waiting(&view, &who.actor.name, who.role)
            .filter(|a| a.refusal.is_none())
        {
            approvals.push(MyApproval {
                rollout: r.id,
                title: r.title.clone(),
                environment: r.environment.clone(),
                gate: ask.gate,
            });
        }
        in_progress.push(InProgress {
            rollout: r.clone(),
            health,
            healthy,
        });
    }
    let rollbacks = all
        .into_iter()
        .filter(|r| {
            matches!(
                r.status,
                RolloutStatus::RolledBack | RolloutStatus::Aborted | RolloutStatus::Failed
            )
        })
        .take(5)
        .collect();
    Ok(RolloutsOverview {
        in_progress,
        approvals,
        rollbacks,
    })
}

/// The three rollout cards of the Overview.
#[component]
pub fn RolloutCards(o: RolloutsOverview) -> impl IntoView {
    let mut envs: Vec<String> = o
        .in_progress
        .iter()
        .map(|p| p.rollout.environment.clone())
        .collect();
    envs.dedup();
    let by_env = envs
        .into_iter()
        .map(|env| {
            let rows = o
                .in_progress
                .iter()
                .filter(|p| p.rollout.environment == env)
                .map(|p| {
                    let r = &p.rollout;
                    let phase = if r.status == RolloutStatus::Scheduled { "scheduled".to_owned() } else { r.stop_label.clone() };
                    view! {
                        <li>
                            <a href=format!("/rollouts/{}", r.id)>{format!("#{} {}", r.id, r.title)}</a>
                            " " <StatusBadge status=r.status paused=r.paused/>
                            <span class="small">{format!(" · {phase} · ")}</span>
                            <span class=if p.healthy { "health ok" } else { "health bad" }>
                                {if p.healthy { "✓ ".to_owned() } else { "⚠ ".to_owned() }}{p.health.clone()}
                            </span>
                        </li>
                    }
                })
                .collect_view();
            view! { <h3 class="small-head">{env}</h3><ul class="events">{rows}</ul> }
        })
        .collect_view();
    let approvals = o
        .approvals
        .iter()
        .map(|a| view! {
            <li><a href=format!("/rollouts/{}", a.rollout)>{format!("#{} {}", a.rollout, a.title)}</a>
                <span class="small">{format!(" · {} · {}", a.environment, a.gate)}</span></li>
        })
        .collect_view();
    let rollbacks = o
        .rollbacks
        .iter()
        .map(|r| {
            view! {
                <li>
                    <a href=format!("/rollouts/{}", r.id)>{format!("#{} {}", r.id, r.title)}</a> " "
                    <StatusBadge status=r.status paused=false/>
                    {r.finished_at.map(|at| view! { " " <Timestamp ms=at/> })}
                    <p class="small">{r.reason.clone().unwrap_or_default()}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="inprogress-h" data-testid="overview-rollouts">
            <h2 id="inprogress-h">"Rollouts in progress"</h2>
            {if o.in_progress.is_empty() { Some(view! { <p class="muted">"None right now."</p> }) } else { None }}
            {by_env}
            <p><a href="/rollouts">"All rollouts →"</a></p>
        </section>
        <section class="card" aria-labelledby="approvals-h" data-testid="overview-approvals">
            <h2 id="approvals-h">"Approvals waiting for you"</h2>
            {if o.approvals.is_empty() { Some(view! { <p class="muted">"Nothing waits for you."</p> }) } else { None }}
            <ul class="events">{approvals}</ul>
        </section>
        <section class="card" aria-labelledby="rollbacks-h" data-testid="overview-rollbacks">
            <h2 id="rollbacks-h">"Recent rollbacks"</h2>
            {if o.rollbacks.is_empty() { Some(view! { <p class="muted">"No rollout has been rolled back or aborted."</p> }) } else { None }}
            <ul class="events">{rollbacks}</ul>
        </section>
    }
}
