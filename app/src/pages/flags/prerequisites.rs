//! A flag's prerequisites in one environment: other flags that must be on (and serving one of
//! the listed variants) first, at most ten.

use leptos::prelude::*;
use varai_core::flags::FlagRecord;
use varai_domain::flags::Prerequisite;
use varai_domain::flags::validate::MAX_PREREQUISITES;

use super::targeting::{Envs, edit};
use crate::editors::split_list;

#[component]
pub(super) fn Prerequisites(
    env: String,
    targeting: Envs,
    others: Vec<FlagRecord>,
) -> impl IntoView {
    let env = StoredValue::new(env);
    let keys: Vec<String> = others.iter().map(|f| f.spec.key.clone()).collect();
    let keys = StoredValue::new(keys);
    let list = move || {
        targeting.with(|all| {
            all.get(&env.get_value())
                .map(|t| t.prerequisites.clone())
                .unwrap_or_default()
        })
    };
    let change = move |i: usize, f: Box<dyn FnOnce(&mut Prerequisite)>| {
        edit(targeting, &env.get_value(), |t| {
            if let Some(p) = t.prerequisites.get_mut(i) {
                f(p)
            }
        })
    };
    let rows = move || {
        (0..list().len()).map(|i| {
            let p = move || list().get(i).cloned();
            let id = format!("{}-p{i}", env.get_value());
            view! {
                <div class="constraint-row">
                    <div class="field">
                        <label for=format!("{id}-flag")>"Flag"</label>
                        <select id=format!("{id}-flag") on:change=move |ev| { let v = event_target_value(&ev); change(i, Box::new(move |p| p.flag = v)) }>
                            {keys.get_value().into_iter().map(|k| { let (k2, label) = (k.clone(), k.clone()); view! { <option value=k selected=move || p().is_some_and(|p| p.flag == k2)>{label}</option> } }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for=format!("{id}-on")>"Must be"</label>
                        <select id=format!("{id}-on") on:change=move |ev| { let on = event_target_value(&ev) == "on"; change(i, Box::new(move |p| p.enabled = on)) }>
                            <option value="on" selected=move || p().is_some_and(|p| p.enabled)>"on"</option>
                            <option value="off" selected=move || p().is_some_and(|p| !p.enabled)>"off"</option>
                        </select>
                    </div>
                    <div class="field grow">
                        <label for=format!("{id}-variants")>"Serving one of (variants, comma-separated; empty = any)"</label>
                        <input id=format!("{id}-variants") type="text" prop:value=move || p().map(|p| p.variants.join(", ")).unwrap_or_default()
                            on:change=move |ev| { let v = split_list(&event_target_value(&ev)); change(i, Box::new(move |p| p.variants = v)) }/>
                    </div>
                    <button type="button" class="button small danger" aria-label=format!("Remove prerequisite {}", i + 1)
                        on:click=move |_| edit(targeting, &env.get_value(), |t| { if i < t.prerequisites.len() { t.prerequisites.remove(i); } })>"Remove"</button>
                </div>
            }
        }).collect_view()
    };
    let add = move |_| {
        if list().len() >= MAX_PREREQUISITES {
            return;
        }
        if let Some(first) = keys.get_value().first().cloned() {
            edit(targeting, &env.get_value(), |t| {
                t.prerequisites.push(Prerequisite {
                    flag: first,
                    enabled: true,
                    variants: Vec::new(),
                })
            })
        }
    };
    view! {
        <h3>"Prerequisites"</h3>
        <p class="hint">"Other flags that must be on (and serving one of the listed variants) first; otherwise this flag serves its off variant."</p>
        {rows}
        <button type="button" class="button small" on:click=add
            disabled=move || { keys.with_value(Vec::is_empty) || list().len() >= MAX_PREREQUISITES }>"+ Add prerequisite"</button>
        <Show when=move || { list().len() >= MAX_PREREQUISITES }>
            <p class="hint">{format!("A flag can have at most {MAX_PREREQUISITES} prerequisites.")}</p>
        </Show>
    }
}
