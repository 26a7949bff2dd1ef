//! "Try it": evaluates the flag as edited (before saving) for a typed context, in the browser,
//! with the same evaluator the OFREP endpoint uses.

use leptos::prelude::*;
use std::collections::BTreeMap;
use varai_domain::flags::{Context, FlagSet, FlagSpec, Segment, Targeting};

use crate::editors::{now_ms, parse_context};
use varai_core::flags::{Environment, FlagRecord};

#[component]
pub fn TryIt(
    spec: RwSignal<FlagSpec>,
    targeting: RwSignal<BTreeMap<String, Targeting>>,
    envs: Vec<Environment>,
    segments: Vec<Segment>,
    others: Vec<FlagRecord>,
) -> impl IntoView {
    let env = RwSignal::new(envs.first().map(|e| e.key.clone()).unwrap_or_default());
    let context = RwSignal::new(
        r#"{"targetingKey": "user-42", "cohort": "beta", "email": "ann@example.com"}"#.to_owned(),
    );
    let segments = StoredValue::new(segments);
    let others = StoredValue::new(others);
    let result = move || {
        let env_key = env.get();
        let text = context.get();
        let map = match parse_context(&text) {
            Ok(m) => m,
            Err(e) => return view! { <p class="field-error" role="alert">{e}</p> }.into_any(),
        };
        let spec = spec.get();
        let mine = targeting
            .with(|t| t.get(&env_key).cloned())
            .unwrap_or_else(|| Targeting::initial(&spec));
        let rules = mine.rules.clone();
        let flags = others
            .get_value()
            .into_iter()
            .filter(|f| f.archived_at.is_none())
            .map(|f| {
                let t = f.targeting(&env_key);
                (f.spec, t)
            })
            .chain(std::iter::once((spec.clone(), mine)));
        let set = segments.with_value(|s| FlagSet::build(flags, s.iter()));
        let ctx = Context::new(&map, now_ms(), 0).in_environment(&env_key);
        let Some(e) = set.evaluate(&spec.key, &ctx) else {
            return view! { <p class="field-error">"The flag has no variants to serve."</p> }
                .into_any();
        };
        let matched = match e.rule {
            Some(i) => {
                let d = rules
                    .get(i)
                    .map(|r| r.description.clone())
                    .filter(|d| !d.is_empty());
                format!(
                    "Rule {}{}",
                    i + 1,
                    d.map(|d| format!(" ({d})")).unwrap_or_default()
                )
            }
            None if e.prerequisite_failed.is_some() => format!(
                "Prerequisite {} does not hold",
                e.prerequisite_failed.unwrap_or_default()
            ),
            None if !e.on => "None: the flag is off here".into(),
            None => "None: the default variant".into(),
        };
        view! {
            <dl class="result" data-testid="try-result">
                <dt>"Value"</dt><dd><code data-testid="try-value">{e.value.to_string()}</code></dd>
                <dt>"Variant"</dt><dd data-testid="try-variant">{e.variant.to_owned()}</dd>
                <dt>"Reason"</dt><dd data-testid="try-reason">{e.reason.as_str()}</dd>
                <dt>"Rule matched"</dt><dd data-testid="try-rule">{matched}</dd>
            </dl>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-labelledby="try-title">
            <h2 id="try-title">"Try it"</h2>
            <p class="hint">"Evaluates the flag as edited above, unsaved changes included, exactly as applications will get it."</p>
            <div class="form-grid">
                <div class="field">
                    <label for="try-env">"Environment"</label>
                    <select id="try-env" on:change=move |ev| env.set(event_target_value(&ev))>
                        {envs.into_iter().map(|e| view! { <option value=e.key.clone()>{e.name.clone()}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            <label for="try-context">"Context (JSON, as applications send it; targetingKey is the user id)"</label>
            <textarea id="try-context" rows="4" class="code" prop:value=move || context.get()
                on:input=move |ev| context.set(event_target_value(&ev))></textarea>
            <div aria-live="polite">{result}</div>
        </section>
    }
}
