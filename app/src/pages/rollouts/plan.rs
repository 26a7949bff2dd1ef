//! The planning form: what is released (an app's new version, flags, or both) in which
//! environment, from which template; the phases edited in place; every check the server runs
//! shown next to its field as you type; the estimated timeline; then save as a draft or submit
//! (the rollout starts, and its Planning phase waits for approval before anything changes).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use varai_domain::clock::parse_rfc3339;
use varai_domain::plan::{Plan, Release, default_plan};

use super::draft::{Draft, FieldNote};
use super::estimate::EstimateView;
use super::phases_edit::{Choices, PhasesEditor};
use super::{PlanChoices, SaveRollout, load_plan_choices};
use crate::components::ErrorNote;
use varai_core::rollouts::NewRollout;

#[component]
pub fn PlanningPage() -> impl IntoView {
    let query = use_query_map();
    let params = use_params_map();
    let env = move || query.with(|q| q.get("env"));
    let draft = move || {
        params
            .with(|p| p.get("id"))
            .and_then(|id| id.parse::<i64>().ok())
    };
    let choices = Resource::new(
        move || (env(), draft()),
        |(env, draft)| load_plan_choices(env, draft),
    );
    view! {
        <Title text="Plan a rollout"/>
        <h1>{move || if draft().is_some() { "Edit draft rollout" } else { "Plan a rollout" }}</h1>
        <p class="lede">"Choose what to release and to whom, phase by phase, with the checks that must pass before each step. Nothing changes until the plan is submitted and approved."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok(c) => view! { <PlanForm c/> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `2026-11-27T09:30` typed as UTC, in milliseconds.
fn start_at_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    (!t.is_empty())
        .then(|| parse_rfc3339(&format!("{t}:00Z")))
        .flatten()
}

#[component]
fn PlanForm(c: PlanChoices) -> impl IntoView {
    let draft_id = c.draft.as_ref().map(|d| d.id);
    let initial_plan = c
        .draft
        .as_ref()
        .map(|d| d.plan.clone())
        .or_else(|| {
            c.templates
                .iter()
                .find(|t| t.name == "default")
                .map(|t| t.plan.clone())
        })
        .unwrap_or_else(default_plan);
    let initial_release = c
        .draft
        .as_ref()
        .map(|d| d.release.clone())
        .unwrap_or_else(|| Release {
            app: c.apps.first().map(|(a, _)| a.clone()),
            version: None,
            flags: Vec::new(),
        });
    let d = Draft::new(initial_plan, initial_release);
    let title = RwSignal::new(
        c.draft
            .as_ref()
            .map(|d| d.title.clone())
            .unwrap_or_default(),
    );
    let template = RwSignal::new(
        c.draft
            .as_ref()
            .and_then(|d| d.template.clone())
            .or_else(|| Some("default".to_owned())),
    );
    let start_at = RwSignal::new(
        c.draft
            .as_ref()
            .and_then(|d| d.start_at)
            .map(|ms| {
                varai_domain::clock::format_rfc3339(ms)
                    .chars()
                    .take(16)
                    .collect::<String>()
            })
            .unwrap_or_default(),
    );
    let choices = Choices {
        segments: StoredValue::new(c.segments.clone()),
        analysis: StoredValue::new(c.analysis.clone()),
    };
    let templates = StoredValue::new(c.templates.clone());
    let problem = d.problem();
    let save = ServerAction::<SaveRollout>::new();
    let navigate = use_navigate();
    let env = c.env.clone();
    Effect::new(move |_| {
        if let Some(Ok(r)) = save.value().get() {
            navigate(&format!("/rollouts/{}", r.id), Default::default());
        }
    });
    let send = move |start: bool| {
        if problem.get_untracked().is_some() {
            return;
        }
        let rollout = NewRollout {
            title: title.get_untracked(),
            release: d.release.get_untracked(),
            template: template.get_untracked(),
            plan: Some(d.plan()),
            start,
            start_at: start_at_ms(&start_at.get_untracked()),
        };
        save.dispatch(SaveRollout {
            env: env.clone(),
            id: draft_id,
            rollout,
        });
    };
    let send_draft = send.clone();
    let scheduled = move || start_at_ms(&start_at.get()).is_some();
    let bad_time =
        move || !start_at.get().trim().is_empty() && start_at_ms(&start_at.get()).is_none();
    view! {
        <form class="plan-form stack" novalidate on:submit=|ev| ev.prevent_default() data-testid="plan-form">
            <div class="grid two">
                <ReleaseSection c=c.clone() d title template templates/>
                <EstimateView d analysis=choices.analysis/>
            </div>
            <section class="card stack" aria-labelledby="phases-h">
                <h2 id="phases-h">"Phases"</h2>
                <p class="hint">"The order is Planning, Preparation, audiences and Gradual steps, Full rollout, Monitoring. Shares of users and traffic only grow; each phase's segments keep the release in later phases."</p>
                <PhasesEditor d problem choices/>
                <SaveAsTemplate d/>
            </section>
            <section class="card submit-bar" aria-labelledby="submit-h">
                <h2 id="submit-h" class="visually-hidden">"Save or submit"</h2>
                <div class="field start-at">
                    <label for="start-at">"Start at (UTC, optional)"</label>
                    <input id="start-at" type="datetime-local" prop:value=move || start_at.get()
                        on:input=move |ev| start_at.set(event_target_value(&ev))/>
                    {move || bad_time().then(|| view! { <p class="field-error" role="alert">"a date and time like 2026-12-01T09:30"</p> })}
                </div>
                {move || match problem.get() {
                    Some(p) => view! { <p class="plan-check bad" role="status" data-testid="plan-problem">{format!("⚠ Fix before submitting — {}: {}", p.field, p.message)}</p> }.into_any(),
                    None => view! { <p class="plan-check ok" role="status" data-testid="plan-ok">"✓ The plan passes every check."</p> }.into_any(),
                }}
                <div class="button-row">
                    <button type="button" class="button" disabled=move || save.pending().get() on:click=move |_| send_draft(false)>"Save draft"</button>
                    <button type="button" class="button primary" disabled=move || save.pending().get() || problem.get().is_some() || bad_time()
                        on:click=move |_| send(true)>{move || if scheduled() { "Submit and schedule" } else { "Submit and start" }}</button>
                </div>
                <p class="hint submit-hint">"Submitting starts the plan: its Planning phase waits for approval before anything changes. A draft can be edited later."</p>
                {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <div class="submit-error"><ErrorNote error=e/></div> })}
            </section>
        </form>
    }
}

#[component]
fn ReleaseSection(
    c: PlanChoices,
    d: Draft,
    title: RwSignal<String>,
    template: RwSignal<Option<String>>,
    templates: StoredValue<Vec<varai_core::rollouts::PlanTemplate>>,
) -> impl IntoView {
    let problem = d.problem();
    let navigate = use_navigate();
    let release = d.release;
    let versions = c.apps.clone();
    let known = move || {
        let app = release.with(|r| r.app.clone());
        versions
            .iter()
            .find(|(a, _)| Some(a) == app.as_ref())
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let flag_boxes = c
        .flags
        .iter()
        .map(|(key, name)| {
            let box_id = format!("release-flag-{key}");
            let k = key.clone();
            let checked = release.with_untracked(|r| r.flags.contains(key));
            view! {
                <span class="check">
                    <input id=box_id.clone() type="checkbox" checked=checked on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        let k = k.clone();
                        release.update(|r| { r.flags.retain(|f| *f != k); if on { r.flags.push(k) } });
                    }/>
                    <label for=box_id>{format!("{name} ({key})")}</label>
                </span>
            }
        })
        .collect_view();
    let env_now = c.env.clone();
    let draft = c.draft.is_some();
    view! {
        <section class="card stack" aria-labelledby="release-h">
            <h2 id="release-h">"Release"</h2>
            <div class="form-grid">
                <div class="field wide">
                    <label for="rollout-title">"Title"</label>
                    <input id="rollout-title" type="text" placeholder="Checkout v2 for everyone" prop:value=move || title.get()
                        on:input=move |ev| title.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="rollout-env">"Environment"</label>
                    <select id="rollout-env" disabled=draft on:change=move |ev| navigate(&format!("/rollouts/new?env={}", event_target_value(&ev)), Default::default())>
                        {c.environments.iter().map(|e| view! { <option value=e.key.clone() selected=e.key == env_now>{e.name.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="rollout-template">"Copy the plan from"</label>
                    <select id="rollout-template" on:change=move |ev| {
                        let name = event_target_value(&ev);
                        if let Some(t) = templates.get_value().into_iter().find(|t| t.name == name) {
                            template.set(Some(name));
                            d.reshape(move |p: &mut Plan| *p = t.plan);
                        }
                    }>
                        {templates.get_value().into_iter().map(|t| {
                            let selected = template.get_untracked().as_deref() == Some(t.name.as_str());
                            view! { <option value=t.name.clone() selected=selected>{t.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                    <p class="hint">{move || {
                        let name = template.get();
                        templates.get_value().into_iter().find(|t| Some(&t.name) == name.as_ref()).map(|t| t.description).unwrap_or_default()
                    }}</p>
                    <p class="hint" data-testid="template-owner">{move || {
                        let name = template.get();
                        templates.get_value().into_iter().find(|t| Some(&t.name) == name.as_ref()).map(|t| format!(
                            "Owned by {}; others need the {} role to change it.",
                            t.owner,
                            t.min_role.label().to_lowercase()
                        )).unwrap_or_default()
                    }}</p>
                </div>
                <div class="field">
                    <label for="release-app">"App"</label>
                    <select id="release-app" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        release.update(|r| { r.app = Some(v.clone()).filter(|v| !v.is_empty()); if r.app.is_none() { r.version = None } })
                    }>
                        <option value="" selected=release.with_untracked(|r| r.app.is_none())>"None: flags only"</option>
                        {c.apps.iter().map(|(a, _)| {
                            let selected = release.with_untracked(|r| r.app.as_deref() == Some(a.as_str()));
                            view! { <option value=a.clone() selected=selected>{a.clone()}</option> }
                        }).collect_view()}
                    </select>
                    <FieldNote field="release.app" problem/>
                </div>
                <div class="field">
                    <label for="release-version">"New version"</label>
                    <input id="release-version" type="text" list="release-versions" placeholder="v2"
                        disabled=move || release.with(|r| r.app.is_none())
                        prop:value=move || release.with(|r| r.version.clone().unwrap_or_default())
                        on:input=move |ev| { let v = event_target_value(&ev); release.update(|r| r.version = Some(v.trim().to_owned()).filter(|v| !v.is_empty())) }/>
                    <datalist id="release-versions">{move || known().into_iter().map(|v| view! { <option value=v/> }).collect_view()}</datalist>
                    <FieldNote field="release.version" problem/>
                </div>
                <fieldset class="field wide checks">
                    <legend>"Flags released with it (switched on for each phase's audience)"</legend>
                    {flag_boxes}
                    <FieldNote field="release.flags" problem/>
                    <FieldNote field="release" problem/>
                </fieldset>
            </div>
        </section>
    }
}

/// Saves the plan as edited as a team template, for later rollouts to copy.
#[component]
fn SaveAsTemplate(d: Draft) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let min_role = RwSignal::new(None::<varai_domain::Role>);
    let save = ServerAction::<super::SaveAsTemplate>::new();
    let send = move |_| {
        save.dispatch(super::SaveAsTemplate {
            name: name.get_untracked(),
            template: varai_core::rollouts::NewPlanTemplate {
                description: description.get_untracked(),
                plan: d.plan(),
                min_role: min_role.get_untracked(),
            },
        });
    };
    view! {
        <div class="inline-form card-inset save-template">
            <div class="field">
                <label for="template-save-name">"Save this plan as a template"</label>
                <input id="template-save-name" type="text" placeholder="mobile-release" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </div>
            <div class="field grow">
                <label for="template-save-description">"Description"</label>
                <input id="template-save-description" type="text" prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="template-save-role">"Others who may change it"</label>
                <select id="template-save-role" on:change=move |ev| {
                    min_role.set(event_target_value(&ev).parse().ok())
                }>
                    <option value="" selected=true>"As before (new: product managers and above)"</option>
                    {[varai_domain::Role::ProductManager, varai_domain::Role::Operator, varai_domain::Role::Admin]
                        .into_iter()
                        .map(|r| view! { <option value=r.as_str()>{format!("{}s and above", r.label())}</option> })
                        .collect_view()}
                </select>
            </div>
            <button type="button" class="button small" disabled=move || save.pending().get() on:click=send>"Save template"</button>
            <crate::components::ActionResult value=save.value() success="Template saved: new rollouts can copy it."/>
        </div>
    }
}
