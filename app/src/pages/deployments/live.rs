//! What an app runs now and where its deployment is: replicas per version with which one users
//! reach, the strategy's steps with the current one marked, what it waits for, errors from the
//! cluster, the operator's buttons, and the timeline.

use leptos::prelude::*;
use varai_domain::deploy::{CanaryStep, Stage, Strategy};

use super::{Actions, AppNow};
use crate::components::{ActionResult, Timestamp};
use varai_core::deploy::{Control, DeploymentRecord, VersionLive};
use varai_core::timeline::TimelineEvent;

#[component]
pub fn AppNowView(now: AppNow, can_operate: bool, actions: Actions) -> impl IntoView {
    view! {
        {now.cluster_error.map(|e| view! {
            <div class="notice error" role="alert"><strong>"The cluster did not answer"</strong><span>{e}</span></div>
        })}
        <Versions versions=now.versions/>
        {now.deployment.map(|d| view! { <Progress d can_operate actions/> })}
        <super::analysis::AnalysisRuns runs=now.runs/>
        <Timeline events=now.events/>
    }
}

#[component]
fn Versions(versions: Vec<VersionLive>) -> impl IntoView {
    let rows = versions
        .into_iter()
        .map(|v| {
            let share = (v.ready * 100).checked_div(v.desired).unwrap_or(0).min(100);
            let label = format!("{} of {} replicas ready", v.ready, v.desired);
            view! {
                <tr data-testid=format!("version-{}", v.workload)>
                    <th scope="row"><span class=format!("badge workload-{}", v.workload)>{v.workload.clone()}</span></th>
                    <td><code>{v.deployment.clone()}</code></td>
                    <td><strong class="version">{v.version.clone()}</strong></td>
                    <td>
                        <div class="meter" role="meter" aria-label=label.clone()
                            aria-valuemin="0" aria-valuemax=v.desired aria-valuenow=v.ready>
                            <span class="meter-fill" style=format!("width: {share}%")></span>
                        </div>
                        <span class="small">{format!("{}/{} ready", v.ready, v.desired)}</span>
                    </td>
                    <td>{if v.serving {
                        view! { <span class="status on">"● serving"</span> }.into_any()
                    } else {
                        view! { <span class="status off">"○ not serving"</span> }.into_any()
                    }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table compact versions" aria-label="Versions running">
            <thead><tr>
                <th scope="col">"Workload"</th><th scope="col">"Deployment"</th><th scope="col">"Version"</th>
                <th scope="col">"Replicas"</th><th scope="col">"Users"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn strategy_summary(s: &Strategy) -> String {
    match s {
        Strategy::Canary { steps } => format!("Canary, {} steps", steps.len()),
        Strategy::BlueGreen {
            auto_promotion_seconds,
            scale_down_delay_seconds,
        } => match auto_promotion_seconds {
            Some(a) => format!(
                "Blue-Green, promotes itself after {a} s, keeps the old version {scale_down_delay_seconds} s"
            ),
            None => format!(
                "Blue-Green, promoted by a person, keeps the old version {scale_down_delay_seconds} s"
            ),
        },
        Strategy::Rolling {
            max_surge,
            max_unavailable,
        } => format!("Rolling, maxSurge {max_surge}, maxUnavailable {max_unavailable}"),
        Strategy::Recreate => "Recreate (downtime)".into(),
    }
}

#[component]
fn Steps(steps: Vec<CanaryStep>, stage: Stage) -> impl IntoView {
    let current = match stage {
        Stage::Step(i) => Some(i),
        _ => None,
    };
    let passed = |i: usize| match stage {
        Stage::Step(c) => i < c,
        Stage::Prepare => false,
        _ => true,
    };
    let items = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (mark, class) = if current == Some(i) {
                ("▶", "step current")
            } else if passed(i) {
                ("✓", "step done")
            } else {
                ("○", "step")
            };
            view! {
                <li class=class aria-current=(current == Some(i)).then_some("step")>
                    <span aria-hidden="true">{mark}</span>" "{s.describe()}
                </li>
            }
        })
        .collect_view();
    view! { <ol class="steps" aria-label="Canary steps">{items}</ol> }
}

#[component]
fn Progress(d: DeploymentRecord, can_operate: bool, actions: Actions) -> impl IntoView {
    let running = d.in_progress();
    let title = if running {
        format!("Deploying {} → {}", d.previous_version, d.version)
    } else {
        format!(
            "Last deployment: {} → {} · {}",
            d.previous_version, d.version, d.stage_label
        )
    };
    let steps = match &d.strategy {
        Strategy::Canary { steps } if running => {
            Some(view! { <Steps steps=steps.clone() stage=d.stage/> })
        }
        _ => None,
    };
    let promotable = matches!(
        d.strategy,
        Strategy::Canary { .. } | Strategy::BlueGreen { .. }
    );
    let id = d.id;
    let button = move |control: Control, class: &'static str| {
        view! {
            <button type="button" class=format!("button small {class}")
                on:click=move |_| { actions.control.dispatch(super::ControlDeployment { id, control }); }>
                {control.label()}
            </button>
        }
    };
    let controls = (running && can_operate).then(|| {
        view! {
            <div class="button-row" role="group" aria-label="Deployment controls">
                {promotable.then(|| button(Control::Promote, "primary"))}
                {if d.paused { button(Control::Resume, "") } else { button(Control::Pause, "") }}
                {promotable.then(|| button(Control::Abort, "danger"))}
            </div>
            <ActionResult value=actions.control.value() success="Done."/>
        }
    });
    view! {
        <div class=if running { "deployment running" } else { "deployment" } data-testid="deployment">
            <h3>{title}</h3>
            <p class="small muted">
                {format!("#{} · {} · started by {} at ", d.id, strategy_summary(&d.strategy), d.started_by)}
                <Timestamp ms=d.started_at/>
                {d.schema_version.clone().map(|s| format!(" · schema {s}"))}
            </p>
            {running.then(|| view! {
                <p class="stage" data-testid="stage"><strong>{d.stage_label.clone()}</strong>
                    {d.paused.then_some(" · paused")}</p>
            })}
            {d.waiting.clone().map(|w| view! { <p class="waiting" data-testid="waiting">{w}</p> })}
            {d.last_error.clone().map(|e| view! {
                <div class="notice error" role="alert">
                    <strong>{format!("The cluster refused a step (attempt {}); retrying", d.attempts)}</strong>
                    <span>{e}</span>
                </div>
            })}
            {steps}
            {controls}
        </div>
    }
}

#[component]
fn Timeline(events: Vec<TimelineEvent>) -> impl IntoView {
    if events.is_empty() {
        return None;
    }
    let items = events
        .into_iter()
        .rev()
        .take(12)
        .map(|e| {
            view! {
                <li class=format!("event {}", e.level.key())>
                    <Timestamp ms=e.at/>" · "<span class="small muted">{e.actor.clone()}</span>
                    <div>{e.message.clone()}</div>
                </li>
            }
        })
        .collect_view();
    Some(view! {
        <details class="timeline" open>
            <summary>"Timeline"</summary>
            <ol class="events" data-testid="timeline">{items}</ol>
        </details>
    })
}
