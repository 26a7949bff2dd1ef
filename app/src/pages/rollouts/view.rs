//! A rollout's page, live: where it is on the timeline of phases, each gate's result with its
//! evidence, who has the release now, the charts of the versions involved, the buttons the
//! caller may use (approve, advance, pause, resume, skip, abort, roll back), and the log.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use varai_domain::Role;
use varai_domain::plan::{Gate, GateStatus, Position, Stop, stop_index, stops};

use super::evidence::Evidence;
use super::{CommandRollout, RolloutNow, StatusBadge, read_rollout_now, release_text};
use crate::components::{ErrorNote, Timestamp};
use crate::pages::deployments::every_second;
use varai_core::error::AppError;
use varai_core::rollouts::{GateResult, RolloutCommand, RolloutRecord, RolloutStatus};

#[component]
pub fn RolloutPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .with(|p| p.get("id"))
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let first = Resource::new(id, read_rollout_now);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the rollout…"</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(now) => view! { <Live now/> }.into_any(),
                    Err(e) => view! { <Title text="Rollout"/><h1>"Rollout"</h1><ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The parts of the page that change, each redrawn only when its own data does: typing a
/// comment, an open evidence panel and the charts survive the updates every second.
#[component]
fn Live(now: RolloutNow) -> impl IntoView {
    let id = now.view.rollout.id;
    let first = now.view.rollout.clone();
    let state = RwSignal::new(now);
    let failure = RwSignal::new(None::<AppError>);
    let act = ServerAction::<CommandRollout>::new();
    let note = RwSignal::new(String::new());
    let tick = every_second();
    Effect::new(move |_| {
        let _ = (tick.get(), act.version().get());
        leptos::task::spawn_local(async move {
            let fresh = read_rollout_now(id).await;
            if state.is_disposed() || failure.is_disposed() {
                return;
            }
            match fresh {
                Ok(fresh) => {
                    failure.set(None);
                    state.set(fresh);
                }
                Err(e) => failure.set(Some(e)),
            }
        });
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = act.value().get() {
            note.set(String::new());
        }
    });
    let record = Memo::new(move |_| state.with(|s| s.view.rollout.clone()));
    let plan_state = Memo::new(move |_| {
        state.with(|s| {
            let r = &s.view.rollout;
            (
                r.plan.clone(),
                r.position,
                r.status,
                r.paused,
                s.view.gates.clone(),
            )
        })
    });
    let controls = Memo::new(move |_| {
        state.with(|s| {
            let r = &s.view.rollout;
            let ask = super::approval_waiting(&s.view, &s.me, s.role);
            let advance = r
                .waiting
                .as_deref()
                .is_some_and(|w| w.contains("waiting for someone to advance"));
            ControlState {
                id: r.id,
                status: r.status,
                paused: r.paused,
                role: s.role,
                ask,
                advance,
            }
        })
    });
    let events = Memo::new(move |_| state.with(|s| s.view.events.clone()));
    let charts = first.release.app.clone().map(|app| {
        view! {
            <section class="card" aria-labelledby="charts-h">
                <h2 id="charts-h">"Metrics by version (last 5 minutes, live)"</h2>
                <crate::charts::live::LiveCharts env=first.environment.clone() app=app
                    range=Signal::stored(varai_core::monitor::TimeRange::M5) only=vec!["requests", "errors", "latency"]/>
            </section>
        }
    });
    view! {
        <Title text=format!("Rollout #{} {}", first.id, first.title)/>
        {move || view! { <Head r=record.get()/> }}
        {move || failure.get().map(|e| view! { <ErrorNote error=e/> })}
        <div class="grid two">
            {move || view! { <Exposed r=record.get()/> }}
            {move || view! { <Controls c=controls.get() act note/> }}
        </div>
        {move || {
            let (plan, position, status, paused, gates) = plan_state.get();
            let r = RolloutRecord { plan, position, status, paused, ..record.get_untracked() };
            view! { <PhaseTimeline r gates/> }
        }}
        {charts}
        <section class="card" aria-labelledby="log-h">
            <h2 id="log-h">"Timeline"</h2>
            <ul class="events" data-testid="rollout-events">
                {move || events.get().into_iter().rev().map(|e| view! {
                    <li class=format!("level-{}", e.level.key())><Timestamp ms=e.at/> " — " <strong>{e.actor}</strong> " " {e.message}</li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The title, status, what it releases, and what it waits for or how it ended.
#[component]
fn Head(r: RolloutRecord) -> impl IntoView {
    let started = match (&r.started_by, r.started_at) {
        (Some(who), Some(at)) => {
            view! { " · started by " {who.clone()} " at " <Timestamp ms=at/> }.into_any()
        }
        _ => view! { " · planned by " {r.created_by.clone()} }.into_any(),
    };
    let ended = r.status.is_over().then(|| {
        let class = if r.status == RolloutStatus::Succeeded { "notice success" } else { "notice error" };
        view! { <div class=class role="status" data-testid="rollout-outcome"><strong>{r.status.label()}</strong><span>{r.reason.clone().unwrap_or_else(|| "every phase passed".into())}</span></div> }
    });
    let waiting = (!r.status.is_over())
        .then(|| r.waiting.clone())
        .flatten()
        .map(|w| view! { <div class="notice info" role="status" data-testid="rollout-waiting">{w}</div> });
    let error = r.last_error.clone().map(|e| view! { <div class="notice error" role="alert"><strong>"Retrying"</strong><span>{e}</span></div> });
    view! {
        <header class="page-head">
            <div>
                <h1>{format!("#{} {}", r.id, r.title)} " " <StatusBadge status=r.status paused=r.paused/></h1>
                <p class="hint">{format!("{} · {}", r.environment, release_text(&r))}{started}</p>
            </div>
            <a class="button ghost" href="/rollouts">"All rollouts"</a>
        </header>
        {ended}{waiting}{error}
    }
}

/// What decides which buttons the caller sees.
#[derive(Debug, Clone, PartialEq)]
struct ControlState {
    id: i64,
    status: RolloutStatus,
    paused: bool,
    role: Role,
    ask: Option<super::ApprovalAsk>,
    advance: bool,
}

#[component]
fn Exposed(r: RolloutRecord) -> impl IntoView {
    let e = r.exposure.clone();
    let meter = |label: &'static str, value: u32| {
        view! {
            <dt>{label}</dt>
            <dd>
                <div class="meter" role="meter" aria-label=label aria-valuemin="0" aria-valuemax="100" aria-valuenow=value>
                    <span class="meter-fill" style=format!("width: {value}%")></span>
                </div>
                <span class="small">{format!("{value}%")}</span>
            </dd>
        }
    };
    let segments = if e.segments.is_empty() {
        "none".to_owned()
    } else {
        e.segments.join(", ")
    };
    view! {
        <section class="card" aria-labelledby="exposed-h" data-testid="exposed">
            <h2 id="exposed-h">"Who has the release now"</h2>
            <p class="small">{format!("Current phase: {}", if r.status == RolloutStatus::Running { r.stop_label.clone() } else { r.status.label().to_owned() })}</p>
            <dl class="result">
                <dt>"Segments"</dt><dd>{segments}</dd>
                {meter("Users (flags)", e.users_percent)}
                {meter("Traffic (canary)", e.traffic_percent)}
            </dl>
        </section>
    }
}

/// The latest result of each gate at a stop.
fn results_at(gates: &[GateResult], at: Position) -> Vec<&GateResult> {
    let mut latest: Vec<&GateResult> = Vec::new();
    for g in gates
        .iter()
        .filter(|g| g.phase == at.phase && g.step == at.step)
    {
        latest.retain(|x| x.gate != g.gate);
        latest.push(g);
    }
    latest.sort_by_key(|g| g.gate);
    latest
}

fn stop_state(r: &RolloutRecord, k: usize, current: Option<usize>) -> (&'static str, &'static str) {
    let here = current.unwrap_or(0);
    match r.status {
        RolloutStatus::Draft | RolloutStatus::Scheduled => ("upcoming", "○ not started"),
        RolloutStatus::Succeeded => ("done", "✓ passed"),
        RolloutStatus::Running if k == here && r.paused => ("current", "❚❚ paused here"),
        RolloutStatus::Running if k == here => ("current", "● in progress"),
        _ if k < here => ("done", "✓ passed"),
        _ if k == here => ("stopped", "✗ stopped here"),
        _ => ("upcoming", "○ not reached"),
    }
}

#[component]
fn PhaseTimeline(r: RolloutRecord, gates: Vec<GateResult>) -> impl IntoView {
    let all = stops(&r.plan);
    let current = stop_index(&all, r.position);
    let items = all
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let (class, state) = stop_state(&r, k, current);
            let results = results_at(&gates, s.position);
            view! {
                <li class=format!("stop stop-{class}") aria-current=(class == "current").then_some("step") data-testid=format!("stop-{k}")>
                    <div class="stop-head">
                        <strong>{s.label()}</strong>
                        <span class="stop-state">{state}</span>
                    </div>
                    <p class="small">{audience_text(s)}</p>
                    <GateList planned=s.gates.iter().map(|g| (*g).clone()).collect() results=results.into_iter().cloned().collect()/>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="phases-h">
            <h2 id="phases-h">"Phases"</h2>
            <ol class="stops" data-testid="phase-timeline">{items}</ol>
        </section>
    }
}

fn audience_text(s: &Stop<'_>) -> String {
    let e = &s.exposure;
    let bake = if s.bake_seconds > 0 {
        format!(
            " · bakes {}",
            super::draft::duration_text(u64::from(s.bake_seconds))
        )
    } else {
        String::new()
    };
    if e.full {
        return format!("Everyone{bake}");
    }
    if !s.exposes() {
        return format!("{}{bake}", s.phase.kind.label());
    }
    let segments = if e.segments.is_empty() {
        "no segment".to_owned()
    } else {
        e.segments.join(", ")
    };
    format!(
        "{segments} · {}% of users · {}% of traffic{bake}",
        e.users_percent, e.traffic_percent
    )
}

#[component]
fn GateList(planned: Vec<Gate>, results: Vec<GateResult>) -> impl IntoView {
    if planned.is_empty() {
        return view! { <p class="small muted">"No gates"</p> }.into_any();
    }
    let items = planned
        .into_iter()
        .enumerate()
        .map(|(i, gate)| {
            let result = results.iter().find(|g| g.gate == i).cloned();
            let approval = matches!(gate, Gate::Approval { .. });
            let (class, badge) = match result.as_ref().map(|g| g.status) {
                Some(GateStatus::Passed) => ("gate-passed", "✓ passed"),
                Some(GateStatus::Failed) => ("gate-failed", "✗ failed"),
                Some(GateStatus::Inconclusive) => ("gate-inconclusive", "? no verdict"),
                Some(GateStatus::Running) if approval => ("gate-running", "… waiting for approval"),
                Some(GateStatus::Running) => ("gate-running", "… running"),
                None => ("gate-pending", "○ not run yet"),
            };
            view! {
                <li class=format!("gate {class}")>
                    <span class="gate-badge">{badge}</span>
                    <span class="gate-name">{gate.describe()}</span>
                    {result.map(|g| view! { <p class="small gate-summary">{g.summary.clone()}</p><Evidence g/> })}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="gates">{items}</ul> }.into_any()
}

#[component]
fn Controls(
    c: ControlState,
    act: ServerAction<CommandRollout>,
    note: RwSignal<String>,
) -> impl IntoView {
    let id = c.id;
    let send = move |command: RolloutCommand| {
        act.dispatch(CommandRollout { id, command });
    };
    let running = c.status == RolloutStatus::Running;
    let operator = c.role.allows(Role::Operator);
    let planner = c.role.allows(Role::ProductManager);
    let can_approve = c.ask.as_ref().is_some_and(|a| a.refusal.is_none());
    let approval_note = c.ask.and_then(|a| a.refusal);
    let can_advance = running && planner && c.advance;
    let draft = c.status == RolloutStatus::Draft;
    let button = move |label: &'static str,
                       class: &'static str,
                       make: fn(String) -> RolloutCommand| {
        view! {
            <button type="button" class=format!("button {class}") disabled=move || act.pending().get()
                on:click=move |_| send(make(note.get_untracked()))>{label}</button>
        }
    };
    let nothing = !(can_approve || can_advance || (running && operator) || (draft && planner));
    view! {
        <section class="card stack" aria-labelledby="controls-h" data-testid="rollout-controls">
            <h2 id="controls-h">"Actions"</h2>
            {approval_note.map(|n| view! { <p class="notice info">{n}</p> })}
            {(can_approve || (running && operator)).then(|| view! {
                <div class="field">
                    <label for="rollout-note">"Comment or reason (needed to approve, skip, abort or roll back)"</label>
                    <textarea id="rollout-note" rows="2" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </div>
            })}
            <div class="button-row">
                {can_approve.then(|| button("Approve", "primary", |comment| RolloutCommand::Approve { comment }))}
                {can_advance.then(|| button("Advance", "primary", |_| RolloutCommand::Advance))}
                {(running && operator && !c.paused).then(|| button("Pause", "", |_| RolloutCommand::Pause))}
                {(running && operator && c.paused).then(|| button("Resume", "primary", |_| RolloutCommand::Resume))}
                {(running && operator).then(|| button("Skip phase", "", |reason| RolloutCommand::Skip { reason }))}
                {(running && operator).then(|| button("Abort", "danger", |reason| RolloutCommand::Abort { reason }))}
                {(running && operator).then(|| button("Roll back", "danger", |reason| RolloutCommand::RollBack { reason }))}
                {(draft && planner).then(|| button("Submit and start", "primary", |_| RolloutCommand::Start))}
                {(draft && planner).then(|| view! { <a class="button" href=format!("/rollouts/{id}/edit")>"Edit draft"</a> })}
            </div>
            {nothing.then(|| view! { <p class="muted small">{if c.status.is_over() { "The rollout is over." } else { "Nothing for you to do here now." }}</p> })}
            {move || act.value().get().and_then(|v| v.err()).map(|e| view! { <ErrorNote error=e/> })}
        </section>
    }
}
