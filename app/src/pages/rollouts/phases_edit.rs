//! Editing a plan's phases in place: name, kind, audience (segments, share of users, share of
//! traffic), bake time, whether it advances by itself, its gates; a Gradual phase's steps
//! added, removed and reordered; phases added, removed and moved.

use leptos::prelude::*;
use varai_domain::InvalidInput;
use varai_domain::plan::{Audience, GradualStep, Phase, PhaseKind, Plan};

use super::draft::{Draft, FieldNote, NumberIn, TextIn};
use super::gates_edit::{GatesAt, GatesEditor};

/// What the phase editors offer to pick from.
#[derive(Clone, Copy)]
pub struct Choices {
    pub segments: StoredValue<Vec<(String, String)>>,
    pub analysis: StoredValue<Vec<(String, u32)>>,
}

fn kind_key(k: PhaseKind) -> &'static str {
    match k {
        PhaseKind::Planning => "planning",
        PhaseKind::Preparation => "preparation",
        PhaseKind::Exposure => "exposure",
        PhaseKind::Gradual => "gradual",
        PhaseKind::Full => "full",
        PhaseKind::Monitoring => "monitoring",
    }
}

fn blank_phase(kind: PhaseKind, n: usize) -> Phase {
    Phase {
        name: format!("{} {n}", kind.label()),
        kind,
        audience: Audience::default(),
        gates: Vec::new(),
        bake_seconds: 0,
        auto_advance: true,
        steps: if kind == PhaseKind::Gradual {
            vec![GradualStep {
                percent: 10,
                bake_seconds: 3600,
                gates: Vec::new(),
            }]
        } else {
            Vec::new()
        },
    }
}

fn set_kind(p: &mut Plan, i: usize, kind: PhaseKind) {
    if let Some(phase) = p.phases.get_mut(i) {
        phase.kind = kind;
        if !kind.has_audience() {
            phase.audience = Audience::default();
        }
        if kind == PhaseKind::Gradual {
            phase.audience.users_percent = None;
            phase.audience.traffic_percent = None;
            if phase.steps.is_empty() {
                phase.steps.push(GradualStep {
                    percent: 10,
                    bake_seconds: 3600,
                    gates: Vec::new(),
                });
            }
        } else {
            phase.steps.clear();
        }
    }
}

/// Every phase, in order, and a way to add one.
#[component]
pub fn PhasesEditor(
    d: Draft,
    problem: Memo<Option<InvalidInput>>,
    choices: Choices,
) -> impl IntoView {
    let add_kind = RwSignal::new(PhaseKind::Exposure);
    view! {
        {move || {
            d.shape.track();
            let n = d.read(|p| p.phases.len());
            (0..n).map(|i| view! { <PhaseEditor d i n problem choices/> }).collect_view()
        }}
        <div class="inline-form card-inset">
            <label for="add-phase-kind">"Add a phase"</label>
            <select id="add-phase-kind" on:change=move |ev| {
                if let Some(k) = PhaseKind::ALL.into_iter().find(|k| kind_key(*k) == event_target_value(&ev)) { add_kind.set(k) }
            }>
                {PhaseKind::ALL.into_iter().map(|k| view! {
                    <option value=kind_key(k) selected=k == PhaseKind::Exposure>{k.label()}</option>
                }).collect_view()}
            </select>
            <button type="button" class="button small" on:click=move |_| {
                let kind = add_kind.get_untracked();
                d.reshape(|p| { let n = p.phases.len() + 1; p.phases.push(blank_phase(kind, n)) })
            }>"Add phase"</button>
        </div>
    }
}

#[component]
fn PhaseEditor(
    d: Draft,
    i: usize,
    n: usize,
    problem: Memo<Option<InvalidInput>>,
    choices: Choices,
) -> impl IntoView {
    let phase = d.read(|p| p.phases[i].clone());
    let f = |name: &str| format!("phases[{i}].{name}");
    let id = |name: &str| format!("phase-{i}-{name}");
    let kind_id = id("kind");
    let auto_id = id("auto");
    let heading = id("title");
    let heading_ref = heading.clone();
    let moving = move |to: usize| move |_| d.reshape(|p| p.phases.swap(i, to));
    view! {
        <section class="phase-edit card-inset" aria-labelledby=heading_ref data-testid=format!("phase-{i}")>
            <header class="phase-edit-head">
                <h3 id=heading>{format!("{}. {}", i + 1, phase.name)}</h3>
                <div class="button-row">
                    <button type="button" class="button small ghost" disabled={i == 0} on:click=moving(i.saturating_sub(1))
                        aria-label=format!("Move {} up", phase.name)>"↑"</button>
                    <button type="button" class="button small ghost" disabled={i + 1 >= n} on:click=moving((i + 1).min(n.saturating_sub(1)))
                        aria-label=format!("Move {} down", phase.name)>"↓"</button>
                    <button type="button" class="button small ghost" on:click=move |_| d.reshape(|p| { if i < p.phases.len() { p.phases.remove(i); } })
                        aria-label=format!("Remove {}", phase.name)>"Remove"</button>
                </div>
            </header>
            <div class="form-grid">
                <TextIn d id=id("name") label="Name" field=f("name") problem
                    get=move |p: &Plan| p.phases.get(i).map(|x| x.name.clone()).unwrap_or_default()
                    set=move |p: &mut Plan, v| if let Some(x) = p.phases.get_mut(i) { x.name = v }/>
                <div class="field">
                    <label for=kind_id.clone()>"Kind"</label>
                    <select id=kind_id on:change=move |ev| {
                        if let Some(k) = PhaseKind::ALL.into_iter().find(|k| kind_key(*k) == event_target_value(&ev)) {
                            d.reshape(|p| set_kind(p, i, k))
                        }
                    }>
                        {PhaseKind::ALL.into_iter().map(|k| view! {
                            <option value=kind_key(k) selected=k == phase.kind>{k.label()}</option>
                        }).collect_view()}
                    </select>
                    <FieldNote field=f("kind") problem/>
                </div>
                <NumberIn d id=id("bake") label="Bake time (s)" field=f("bakeSeconds") problem
                    hint="The least time the phase lasts, even once its gates pass."
                    get=move |p: &Plan| p.phases.get(i).map(|x| x.bake_seconds)
                    set=move |p: &mut Plan, v| if let Some(x) = p.phases.get_mut(i) { x.bake_seconds = v.unwrap_or(0) }/>
                <div class="field checkbox">
                    <input id=auto_id.clone() type="checkbox" checked=phase.auto_advance on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        d.edit(|p| if let Some(x) = p.phases.get_mut(i) { x.auto_advance = on })
                    }/>
                    <label for=auto_id>"Advances by itself once its gates pass"</label>
                </div>
            </div>
            {phase.kind.has_audience().then(|| view! { <AudienceEditor d i kind=phase.kind problem choices/> })}
            {(phase.kind == PhaseKind::Gradual).then(|| view! { <StepsEditor d i steps=phase.steps.len() problem choices/> })}
            <h4 class="small-head">{if phase.kind == PhaseKind::Gradual { "Gates after the last step" } else { "Gates to leave this phase" }}</h4>
            <GatesEditor d at=GatesAt { phase: i, step: None } problem analysis=choices.analysis/>
        </section>
    }
}

#[component]
fn AudienceEditor(
    d: Draft,
    i: usize,
    kind: PhaseKind,
    problem: Memo<Option<InvalidInput>>,
    choices: Choices,
) -> impl IntoView {
    let chosen = d.read(|p| p.phases[i].audience.segments.clone());
    let boxes = choices
        .segments
        .get_value()
        .into_iter()
        .map(|(key, name)| {
            let box_id = format!("phase-{i}-seg-{key}");
            let k = key.clone();
            view! {
                <span class="check">
                    <input id=box_id.clone() type="checkbox" checked=chosen.contains(&key) on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        let k = k.clone();
                        d.edit(|p| if let Some(x) = p.phases.get_mut(i) {
                            x.audience.segments.retain(|s| *s != k);
                            if on { x.audience.segments.push(k) }
                        })
                    }/>
                    <label for=box_id>{name}</label>
                </span>
            }
        })
        .collect_view();
    let f = |name: &str| format!("phases[{i}].audience.{name}");
    view! {
        <div class="form-grid">
            <fieldset class="field wide checks">
                <legend>"Segments who get the release's flags (earlier phases' segments keep it)"</legend>
                {boxes}
                <FieldNote field=format!("phases[{i}].audience") problem/>
            </fieldset>
            {(kind == PhaseKind::Exposure).then(|| view! {
                <NumberIn d id=format!("phase-{i}-users") label="% of all users" field=f("usersPercent") problem optional=true
                    get=move |p: &Plan| p.phases.get(i).and_then(|x| x.audience.users_percent)
                    set=move |p: &mut Plan, v| if let Some(x) = p.phases.get_mut(i) { x.audience.users_percent = v }/>
                <NumberIn d id=format!("phase-{i}-traffic") label="% of traffic to the canary" field=f("trafficPercent") problem optional=true
                    get=move |p: &Plan| p.phases.get(i).and_then(|x| x.audience.traffic_percent)
                    set=move |p: &mut Plan, v| if let Some(x) = p.phases.get_mut(i) { x.audience.traffic_percent = v }/>
            })}
        </div>
    }
}

#[component]
fn StepsEditor(
    d: Draft,
    i: usize,
    steps: usize,
    problem: Memo<Option<InvalidInput>>,
    choices: Choices,
) -> impl IntoView {
    let rows = (0..steps)
        .map(|k| {
            let f = |name: &str| format!("phases[{i}].steps[{k}].{name}");
            let id = |name: &str| format!("phase-{i}-step-{k}-{name}");
            let moving = move |to: usize| move |_| d.reshape(|p| p.phases[i].steps.swap(k, to));
            view! {
                <li class="step-edit" data-testid=format!("phase-{i}-step-{k}")>
                    <div class="phase-edit-head">
                        <strong>{format!("Step {}", k + 1)}</strong>
                        <div class="button-row">
                            <button type="button" class="button small ghost" disabled={k == 0} on:click=moving(k.saturating_sub(1))
                                aria-label=format!("Move step {} up", k + 1)>"↑"</button>
                            <button type="button" class="button small ghost" disabled={k + 1 >= steps} on:click=moving((k + 1).min(steps.saturating_sub(1)))
                                aria-label=format!("Move step {} down", k + 1)>"↓"</button>
                            <button type="button" class="button small ghost" aria-label=format!("Remove step {}", k + 1)
                                on:click=move |_| d.reshape(|p| { let s = &mut p.phases[i].steps; if k < s.len() { s.remove(k); } })>"Remove"</button>
                        </div>
                    </div>
                    <div class="form-grid">
                        <NumberIn d id=id("percent") label="% of users and traffic" field=f("percent") problem
                            get=move |p: &Plan| p.phases.get(i).and_then(|x| x.steps.get(k)).map(|s| s.percent)
                            set=move |p: &mut Plan, v| if let Some(s) = p.phases.get_mut(i).and_then(|x| x.steps.get_mut(k)) { s.percent = v.unwrap_or(0) }/>
                        <NumberIn d id=id("bake") label="Bake time (s)" field=f("bakeSeconds") problem
                            get=move |p: &Plan| p.phases.get(i).and_then(|x| x.steps.get(k)).map(|s| s.bake_seconds)
                            set=move |p: &mut Plan, v| if let Some(s) = p.phases.get_mut(i).and_then(|x| x.steps.get_mut(k)) { s.bake_seconds = v.unwrap_or(0) }/>
                    </div>
                    <GatesEditor d at=GatesAt { phase: i, step: Some(k) } problem analysis=choices.analysis/>
                </li>
            }
        })
        .collect_view();
    view! {
        <h4 class="small-head">"Steps"</h4>
        <FieldNote field=format!("phases[{i}].steps") problem/>
        <ol class="plain steps-edit">{rows}</ol>
        <button type="button" class="button small" on:click=move |_| d.reshape(|p| {
            let s = &mut p.phases[i].steps;
            let next = s.last().map(|l| (l.percent * 2).min(100)).unwrap_or(10);
            s.push(GradualStep { percent: next, bake_seconds: 3600, gates: Vec::new() })
        })>"Add step"</button>
    }
}
