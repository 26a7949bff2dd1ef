//! Targeting per environment: on/off, default and off variants, ordered rules (segments,
//! constraints, rollout, stickiness, a variant or a weighted split) and prerequisites.

use leptos::prelude::*;
use std::collections::BTreeMap;
use varai_domain::flags::{FlagSpec, Rule, Segment, Serve, Split, Targeting, WeightedVariant};

use super::prerequisites::Prerequisites;
use crate::editors::ConstraintsEditor;
use varai_core::flags::{Environment, FlagRecord};

pub(super) type Envs = RwSignal<BTreeMap<String, Targeting>>;

/// Changes the targeting of `env` in place.
pub(super) fn edit(targeting: Envs, env: &str, f: impl FnOnce(&mut Targeting)) {
    targeting.update(|all| {
        if let Some(t) = all.get_mut(env) {
            f(t)
        }
    });
}

fn variant_options(
    spec: RwSignal<FlagSpec>,
    selected: impl Fn() -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        spec.with(|s| {
            s.variants
                .iter()
                .map(|v| v.name.clone())
                .collect::<Vec<_>>()
        })
        .into_iter()
        .map(|name| {
            let (n, label) = (name.clone(), name.clone());
            view! { <option value=name selected=move || selected() == n>{label}</option> }
        })
        .collect_view()
    }
}

#[component]
pub fn TargetingEditor(
    spec: RwSignal<FlagSpec>,
    targeting: Envs,
    envs: Vec<Environment>,
    segments: Vec<Segment>,
    others: Vec<FlagRecord>,
) -> impl IntoView {
    let first = envs.first().map(|e| e.key.clone()).unwrap_or_default();
    let current = RwSignal::new(first);
    let segments = StoredValue::new(segments);
    let others = StoredValue::new(others);
    let tabs = envs
        .iter()
        .map(|e| {
            let key = e.key.clone();
            let (k2, k3, id) = (key.clone(), key.clone(), format!("tab-{key}"));
            let on = move || targeting.with(|t| t.get(&k2).is_some_and(|t| t.enabled));
            view! {
                <button type="button" role="tab" class="tab" id=id
                    aria-selected=move || (current.get() == key).to_string()
                    on:click=move |_| current.set(k3.clone())>
                    {e.name.clone()} " " <span class="small">{move || if on() { "● on" } else { "○ off" }}</span>
                </button>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="targeting-title">
            <h2 id="targeting-title">"Targeting"</h2>
            <div role="tablist" class="tabs" aria-label="Environment">{tabs}</div>
            {move || {
                let env = current.get();
                view! { <EnvTargeting env spec targeting segments=segments.get_value() others=others.get_value()/> }
            }}
        </section>
    }
}

#[component]
fn EnvTargeting(
    env: String,
    spec: RwSignal<FlagSpec>,
    targeting: Envs,
    segments: Vec<Segment>,
    others: Vec<FlagRecord>,
) -> impl IntoView {
    let env = StoredValue::new(env);
    let t = move || {
        targeting
            .with(|all| all.get(&env.get_value()).cloned())
            .unwrap_or_else(|| Targeting::initial(&spec.get()))
    };
    let segments = StoredValue::new(segments);
    let rules = move || {
        (0..t().rules.len())
            .map(|i| view! { <RuleEditor env=env.get_value() index=i spec targeting segments=segments.get_value()/> })
            .collect_view()
    };
    let add_rule = move |_| {
        let first = spec.with(|s| {
            s.variants
                .first()
                .map(|v| v.name.clone())
                .unwrap_or_default()
        });
        edit(targeting, &env.get_value(), |t| {
            t.rules.push(Rule {
                description: String::new(),
                segments: Vec::new(),
                constraints: Vec::new(),
                rollout: 100,
                stickiness: "default".into(),
                group_id: None,
                serve: Serve::Variant(first),
            })
        })
    };
    view! {
        <div role="tabpanel" aria-labelledby=move || format!("tab-{}", env.get_value())>
            <div class="form-grid">
                <label class="check big">
                    <input type="checkbox" prop:checked=move || t().enabled
                        on:change=move |ev| { let on = event_target_checked(&ev); edit(targeting, &env.get_value(), |t| t.enabled = on) }/>
                    " Serve targeting in this environment (flag on)"
                </label>
                <div class="field">
                    <label for="default-variant">"When on and no rule matches, serve"</label>
                    <select id="default-variant" on:change=move |ev| { let v = event_target_value(&ev); edit(targeting, &env.get_value(), |t| t.default_variant = v) }>
                        {variant_options(spec, move || t().default_variant)}
                    </select>
                </div>
                <div class="field">
                    <label for="off-variant">"When off, serve"</label>
                    <select id="off-variant" on:change=move |ev| { let v = event_target_value(&ev); edit(targeting, &env.get_value(), |t| t.off_variant = v) }>
                        {variant_options(spec, move || t().off_variant)}
                    </select>
                </div>
            </div>
            <h3>"Rules " <span class="muted small">"(first match wins)"</span></h3>
            {move || (t().rules.is_empty()).then(|| view! { <p class="muted">"No rules: when on, everyone gets the default variant."</p> })}
            <ol class="rules">{rules}</ol>
            <button type="button" class="button small" on:click=add_rule>"+ Add rule"</button>
            <Prerequisites env=env.get_value() targeting others/>
        </div>
    }
}

#[component]
fn RuleEditor(
    env: String,
    index: usize,
    spec: RwSignal<FlagSpec>,
    targeting: Envs,
    segments: Vec<Segment>,
) -> impl IntoView {
    let env = StoredValue::new(env);
    let i = index;
    let rule = move || {
        targeting.with(|all| {
            all.get(&env.get_value())
                .and_then(|t| t.rules.get(i).cloned())
        })
    };
    let change = move |f: Box<dyn FnOnce(&mut Rule)>| {
        edit(targeting, &env.get_value(), |t| {
            if let Some(r) = t.rules.get_mut(i) {
                f(r)
            }
        })
    };
    let count =
        move || targeting.with(|all| all.get(&env.get_value()).map_or(0, |t| t.rules.len()));
    let shift = move |to: usize| {
        edit(targeting, &env.get_value(), |t| {
            if to < t.rules.len() {
                t.rules.swap(i, to)
            }
        })
    };
    let id = move |what: &str| format!("{}-r{i}-{what}", env.get_value());
    let segment_boxes = segments
        .into_iter()
        .map(|s| {
            let key = s.key.clone();
            let k2 = key.clone();
            view! {
                <label class="check">
                    <input type="checkbox" prop:checked=move || rule().is_some_and(|r| r.segments.contains(&k2))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            let key = key.clone();
                            change(Box::new(move |r| { r.segments.retain(|k| *k != key); if on { r.segments.push(key) } }))
                        }/>
                    " " {s.name.clone()}
                </label>
            }
        })
        .collect_view();
    let rollout = move || rule().map_or(100, |r| r.rollout);
    view! {
        <li class="rule card inner" aria-label=format!("Rule {}", i + 1)>
            <div class="rule-head">
                <strong>{format!("Rule {}", i + 1)}</strong>
                <div class="button-row">
                    <button type="button" class="button small" disabled=move || i == 0 aria-label=format!("Move rule {} up", i + 1) on:click=move |_| shift(i.wrapping_sub(1))>"↑"</button>
                    <button type="button" class="button small" disabled=move || { i + 1 >= count() } aria-label=format!("Move rule {} down", i + 1) on:click=move |_| shift(i + 1)>"↓"</button>
                    <button type="button" class="button small danger" aria-label=format!("Remove rule {}", i + 1)
                        on:click=move |_| edit(targeting, &env.get_value(), |t| { if i < t.rules.len() { t.rules.remove(i); } })>"Remove"</button>
                </div>
            </div>
            <div class="field">
                <label for=id("desc")>"Description"</label>
                <input id=id("desc") type="text" placeholder="What this rule is for" prop:value=move || rule().map(|r| r.description).unwrap_or_default()
                    on:change=move |ev| { let v = event_target_value(&ev); change(Box::new(move |r| r.description = v)) }/>
            </div>
            <fieldset class="segments"><legend>"Segments (all must match)"</legend>{segment_boxes}</fieldset>
            <fieldset><legend>"Constraints (all must hold)"</legend>
                <ConstraintsEditor id_prefix=id("c")
                    value=Signal::derive(move || rule().map(|r| r.constraints).unwrap_or_default())
                    on_change=Callback::new(move |list| change(Box::new(move |r| r.constraints = list)))/>
            </fieldset>
            <div class="form-grid">
                <div class="field grow">
                    <label for=id("rollout")>"Rollout: " <output for=id("rollout")>{move || format!("{}% of matching users", rollout())}</output></label>
                    <input id=id("rollout") type="range" min="0" max="100" step="1" prop:value=move || rollout().to_string()
                        on:input=move |ev| { let v = event_target_value(&ev).parse().unwrap_or(100); change(Box::new(move |r| r.rollout = v)) }/>
                </div>
                <div class="field">
                    <label for=id("stick")>"Stickiness"</label>
                    <input id=id("stick") type="text" list="stickiness" prop:value=move || rule().map(|r| r.stickiness).unwrap_or_default()
                        on:change=move |ev| { let v = event_target_value(&ev).trim().to_owned(); change(Box::new(move |r| r.stickiness = if v.is_empty() { "default".into() } else { v })) }/>
                    <datalist id="stickiness"><option value="default"></option><option value="userId"></option><option value="sessionId"></option><option value="random"></option></datalist>
                </div>
                <div class="field">
                    <label for=id("group")>"Group id"</label>
                    <input id=id("group") type="text" placeholder=move || spec.with(|s| s.key.clone())
                        prop:value=move || rule().and_then(|r| r.group_id).unwrap_or_default()
                        on:change=move |ev| { let v = event_target_value(&ev).trim().to_owned(); change(Box::new(move |r| r.group_id = (!v.is_empty()).then_some(v))) }/>
                </div>
            </div>
            <ServeEditor rule=Signal::derive(move || rule().map(|r| r.serve)) spec id_prefix=id("serve")
                on_change=Callback::new(move |serve| change(Box::new(move |r| r.serve = serve)))/>
        </li>
    }
}

#[component]
fn ServeEditor(
    rule: Signal<Option<Serve>>,
    spec: RwSignal<FlagSpec>,
    #[prop(into)] id_prefix: String,
    on_change: Callback<Serve>,
) -> impl IntoView {
    let is_split = move || matches!(rule.get(), Some(Serve::Split(_)));
    let names = move || {
        spec.with(|s| {
            s.variants
                .iter()
                .map(|v| v.name.clone())
                .collect::<Vec<_>>()
        })
    };
    let fixed = move || match rule.get() {
        Some(Serve::Variant(v)) => v,
        _ => String::new(),
    };
    let weight_of = move |name: &str| match rule.get() {
        Some(Serve::Split(s)) => s
            .variants
            .iter()
            .find(|w| w.variant == name)
            .map_or(0, |w| w.weight),
        _ => 0,
    };
    // A split may serve a variant with a payload of its own (an imported Unleash strategy's).
    let payload_of = move |name: &str| match rule.get() {
        Some(Serve::Split(s)) => s
            .variants
            .iter()
            .find(|w| w.variant == name)
            .and_then(|w| w.payload.clone())
            .map(|p| format!("serves payload ({}) {}", p.kind, p.value)),
        _ => None,
    };
    let to_split = move || {
        Serve::Split(Split {
            variants: names()
                .into_iter()
                .map(|variant| WeightedVariant {
                    variant,
                    weight: 50,
                    payload: None,
                })
                .collect(),
            stickiness: "default".into(),
            group_id: None,
            overrides: Vec::new(),
        })
    };
    let set_weight = move |name: String, weight: u32| {
        if let Some(Serve::Split(mut s)) = rule.get_untracked() {
            match s.variants.iter_mut().find(|w| w.variant == name) {
                Some(w) => w.weight = weight,
                None => s.variants.push(WeightedVariant {
                    variant: name,
                    weight,
                    payload: None,
                }),
            }
            on_change.run(Serve::Split(s));
        }
    };
    let radio = format!("{id_prefix}-kind");
    let select_id = format!("{id_prefix}-variant");
    view! {
        <fieldset><legend>"Serve"</legend>
            <div class="button-row">
                <label class="check"><input type="radio" name=radio.clone() prop:checked=move || !is_split()
                    on:change=move |_| on_change.run(Serve::Variant(names().first().cloned().unwrap_or_default()))/>" One variant"</label>
                <label class="check"><input type="radio" name=radio prop:checked=is_split
                    on:change=move |_| on_change.run(to_split())/>" Split by weight"</label>
            </div>
            {move || if is_split() {
                names().into_iter().map(|name| {
                    let (n, m) = (name.clone(), name.clone());
                    let input_id = format!("{id_prefix}-w-{name}");
                    view! {
                        <div class="inline-form">
                            <label for=input_id.clone()>{format!("Weight of {name}")}</label>
                            <input id=input_id type="number" min="0" max="100000" class="narrow" prop:value=move || weight_of(&n).to_string()
                                on:change=move |ev| set_weight(name.clone(), event_target_value(&ev).parse().unwrap_or(0))/>
                            {move || payload_of(&m).map(|p| view! { <span class="small muted">{p}</span> })}
                        </div>
                    }
                }).collect_view().into_any()
            } else {
                view! {
                    <label class="visually-hidden" for=select_id.clone()>"Variant served"</label>
                    <select id=select_id.clone() class="serve-select" on:change=move |ev| on_change.run(Serve::Variant(event_target_value(&ev)))>
                        {move || names().into_iter().map(|n| { let (m, label) = (n.clone(), n.clone()); view! { <option value=n selected=move || fixed() == m>{label}</option> } }).collect_view()}
                    </select>
                }.into_any()
            }}
        </fieldset>
    }
}
