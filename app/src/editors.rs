//! Editing pieces the flag and segment pages share: a list of constraints, a context typed
//! as JSON for "try it" checks, and the diff of a change.

use leptos::prelude::*;
use serde_json::{Map, Value};
use varai_domain::flags::{Constraint, Operator};
use varai_domain::text_diff::{DiffLine, diff_lines};

/// Now, in ms since the epoch, where the code runs (browser or server).
pub fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// Splits a typed list ("a, b, c") into its values.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// One id per line (or comma), for include and exclude lists.
pub fn split_lines(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

fn new_constraint() -> Constraint {
    Constraint {
        context_name: "userId".into(),
        operator: Operator::In,
        values: Vec::new(),
        value: None,
        inverted: false,
        case_insensitive: false,
    }
}

/// Edits a list of constraints held elsewhere: `value` reads it, `on_change` stores a new one.
#[component]
pub fn ConstraintsEditor(
    #[prop(into)] value: Signal<Vec<Constraint>>,
    on_change: Callback<Vec<Constraint>>,
    /// Unique per page, for element ids.
    #[prop(into)]
    id_prefix: String,
) -> impl IntoView {
    let edit = move |i: usize, f: Box<dyn FnOnce(&mut Constraint)>| {
        let mut list = value.get_untracked();
        if let Some(c) = list.get_mut(i) {
            f(c);
            on_change.run(list);
        }
    };
    let rows = move || {
        let prefix = id_prefix.clone();
        (0..value.with(Vec::len))
            .map(|i| {
                let id = format!("{prefix}-c{i}");
                let c = move || value.with(|l| l.get(i).cloned()).unwrap_or_else(new_constraint);
                let remove = move |_| {
                    let mut list = value.get_untracked();
                    if i < list.len() {
                        list.remove(i);
                        on_change.run(list);
                    }
                };
                view! {
                    <div class="constraint-row" role="group" aria-label=format!("Constraint {}", i + 1)>
                        <div class="field">
                            <label for=format!("{id}-field")>"Context field"</label>
                            <input id=format!("{id}-field") type="text" list="context-fields"
                                prop:value=move || c().context_name
                                on:change=move |ev| { let v = event_target_value(&ev); edit(i, Box::new(move |c| c.context_name = v.trim().to_owned())) }/>
                        </div>
                        <div class="field">
                            <label for=format!("{id}-op")>"Operator"</label>
                            <select id=format!("{id}-op")
                                on:change=move |ev| {
                                    if let Some(op) = Operator::parse(&event_target_value(&ev)) {
                                        edit(i, Box::new(move |c| {
                                            // Keep what was typed when moving between list and single-value operators.
                                            if op.takes_single_value() && c.value.is_none() {
                                                c.value = c.values.first().cloned();
                                                c.values.clear();
                                            } else if !op.takes_single_value() && c.values.is_empty() {
                                                c.values = c.value.take().into_iter().collect();
                                            }
                                            c.operator = op;
                                        }))
                                    }
                                }>
                                {Operator::ALL.into_iter().map(|op| view! {
                                    <option value=op.as_str() selected=move || c().operator == op>
                                        {format!("{} ({})", op.label(), op.as_str())}
                                    </option>
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field grow">
                            <label for=format!("{id}-values")>
                                {move || if c().operator.takes_single_value() { "Value" } else { "Values (comma-separated)" }}
                            </label>
                            <input id=format!("{id}-values") type="text"
                                prop:value=move || { let c = c(); if c.operator.takes_single_value() { c.value.unwrap_or_default() } else { c.values.join(", ") } }
                                on:change=move |ev| {
                                    let v = event_target_value(&ev);
                                    edit(i, Box::new(move |c| {
                                        if c.operator.takes_single_value() {
                                            c.value = Some(v.trim().to_owned());
                                            c.values.clear();
                                        } else {
                                            c.values = split_list(&v);
                                            c.value = None;
                                        }
                                    }))
                                }/>
                        </div>
                        <label class="check">
                            <input type="checkbox" prop:checked=move || c().inverted
                                on:change=move |ev| { let on = event_target_checked(&ev); edit(i, Box::new(move |c| c.inverted = on)) }/>
                            " Not"
                        </label>
                        <label class="check">
                            <input type="checkbox" prop:checked=move || c().case_insensitive
                                on:change=move |ev| { let on = event_target_checked(&ev); edit(i, Box::new(move |c| c.case_insensitive = on)) }/>
                            " Any case"
                        </label>
                        <button type="button" class="button small danger" on:click=remove
                            aria-label=format!("Remove constraint {}", i + 1)>"Remove"</button>
                    </div>
                }
            })
            .collect_view()
    };
    let add = move |_| {
        let mut list = value.get_untracked();
        list.push(new_constraint());
        on_change.run(list);
    };
    view! {
        <div class="constraints">
            <datalist id="context-fields">
                {["userId", "sessionId", "email", "cohort", "riskScore", "country", "plan", "appVersion", "remoteAddress", "environment", "appName", "currentTime"]
                    .into_iter().map(|f| view! { <option value=f></option> }).collect_view()}
            </datalist>
            {rows}
            <button type="button" class="button small" on:click=add>"+ Add constraint"</button>
        </div>
    }
}

/// Parses a context typed as JSON: an object whose `targetingKey` is the user id.
pub fn parse_context(text: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => {
            Err("the context must be a JSON object, like {\"targetingKey\": \"user-1\"}".into())
        }
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}

/// A unified view of what changes between two texts, with unchanged runs shortened.
#[component]
pub fn DiffView(before: String, after: String) -> impl IntoView {
    let lines = diff_lines(&before, &after);
    let changed: Vec<bool> = lines
        .iter()
        .map(|l| !matches!(l, DiffLine::Same(_)))
        .collect();
    // Show unchanged lines only within two lines of a change.
    let near = |i: usize| {
        let lo = i.saturating_sub(2);
        let hi = (i + 2).min(changed.len().saturating_sub(1));
        changed[lo..=hi].iter().any(|c| *c)
    };
    let mut out = Vec::new();
    let mut skipped = false;
    for (i, line) in lines.into_iter().enumerate() {
        let (class, mark, text) = match line {
            DiffLine::Same(t) => ("same", " ", t),
            DiffLine::Removed(t) => ("removed", "−", t),
            DiffLine::Added(t) => ("added", "+", t),
        };
        if class == "same" && !near(i) {
            if !skipped {
                out.push(view! { <div class="diff-line skip">"  …"</div> }.into_any());
                skipped = true;
            }
            continue;
        }
        skipped = false;
        out.push(view! { <div class=format!("diff-line {class}")><span class="mark" aria-hidden="true">{mark}</span>{text}</div> }.into_any());
    }
    view! { <pre class="diff" aria-label="Changes">{out}</pre> }
}
