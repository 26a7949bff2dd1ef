//! The template editor: name, description and each metric's fields, checked in the browser
//! with the domain's rules (the server checks again) and errors named by field.

use leptos::prelude::*;
use varai_domain::InvalidInput;
use varai_domain::analysis::{AnalysisTemplate, Condition, Metric};

use super::SaveTemplate;
use crate::components::ActionResult;

#[derive(Debug, Clone, PartialEq)]
struct MetricDraft {
    id: usize,
    fields: [RwSignal<String>; 11],
}

/// Field names in the order `fields` holds them, with their labels.
const FIELDS: [(&str, &str); 11] = [
    ("name", "Metric name"),
    ("query", "PromQL"),
    ("interval", "Every (s)"),
    ("initialDelay", "First after (s)"),
    ("count", "Measurements"),
    ("successCondition", "Passes when"),
    ("failureCondition", "Fails when"),
    ("failureLimit", "Failures tolerated"),
    ("inconclusiveLimit", "Inconclusive tolerated"),
    ("consecutiveErrorLimit", "Errors in a row tolerated"),
    ("unit", "Unit"),
];

fn draft(id: usize, m: &Metric) -> MetricDraft {
    let cond = |c: Option<Condition>| c.map(|c| c.to_string()).unwrap_or_default();
    let values = [
        m.name.clone(),
        m.query.clone(),
        m.interval.to_string(),
        m.initial_delay.to_string(),
        m.count.to_string(),
        cond(m.success_condition),
        cond(m.failure_condition),
        m.failure_limit.to_string(),
        m.inconclusive_limit.to_string(),
        m.consecutive_error_limit.to_string(),
        m.unit.clone(),
    ];
    MetricDraft {
        id,
        fields: values.map(RwSignal::new),
    }
}

fn blank() -> Metric {
    Metric {
        name: String::new(),
        query: String::new(),
        interval: 5,
        initial_delay: 0,
        count: 5,
        success_condition: None,
        failure_condition: None,
        failure_limit: 0,
        inconclusive_limit: 3,
        consecutive_error_limit: 4,
        unit: String::new(),
    }
}

fn build_metric(i: usize, d: &MetricDraft) -> Result<Metric, InvalidInput> {
    let v = |k: usize| d.fields[k].get_untracked().trim().to_owned();
    let field = |k: usize| format!("metrics[{i}].{}", FIELDS[k].0);
    let number = |k: usize| -> Result<u32, InvalidInput> {
        v(k).parse()
            .map_err(|_| InvalidInput::new(field(k), format!("'{}' is not a whole number", v(k))))
    };
    let condition = |k: usize| -> Result<Option<Condition>, InvalidInput> {
        let text = v(k);
        if text.is_empty() {
            Ok(None)
        } else {
            Condition::parse(&field(k), &text).map(Some)
        }
    };
    Ok(Metric {
        name: v(0),
        query: v(1),
        interval: number(2)?,
        initial_delay: number(3)?,
        count: number(4)?,
        success_condition: condition(5)?,
        failure_condition: condition(6)?,
        failure_limit: number(7)?,
        inconclusive_limit: number(8)?,
        consecutive_error_limit: number(9)?,
        unit: v(10),
    })
}

#[component]
pub fn TemplateEditor(
    template: Option<AnalysisTemplate>,
    action: ServerAction<SaveTemplate>,
) -> impl IntoView {
    let is_new = template.is_none();
    let t = template.unwrap_or_else(|| AnalysisTemplate {
        name: String::new(),
        description: String::new(),
        metrics: vec![blank()],
    });
    let name = RwSignal::new(t.name.clone());
    let description = RwSignal::new(t.description.clone());
    let metrics = RwSignal::new(
        t.metrics
            .iter()
            .enumerate()
            .map(|(i, m)| draft(i, m))
            .collect::<Vec<_>>(),
    );
    let next = StoredValue::new(t.metrics.len());
    let problem = RwSignal::new(None::<InvalidInput>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let built = metrics
            .get_untracked()
            .iter()
            .enumerate()
            .map(|(i, d)| build_metric(i, d))
            .collect::<Result<Vec<_>, _>>()
            .map(|metrics| AnalysisTemplate {
                name: name.get_untracked().trim().to_owned(),
                description: description.get_untracked().trim().to_owned(),
                metrics,
            })
            .and_then(|t| t.check().map(|()| t));
        match built {
            Ok(template) => {
                problem.set(None);
                action.dispatch(SaveTemplate { template });
            }
            Err(e) => problem.set(Some(e)),
        }
    };
    let add = move |_| {
        let id = next.get_value();
        next.set_value(id + 1);
        metrics.update(|m| m.push(draft(id, &blank())));
    };
    let rows = move || {
        metrics
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let id = d.id;
                let inputs = FIELDS
                    .iter()
                    .enumerate()
                    .map(|(k, (key, label))| {
                        let signal = d.fields[k];
                        let input_id = format!("metric-{id}-{key}");
                        let input = if *key == "query" {
                            view! { <textarea id=input_id.clone() rows="3" class="mono" prop:value=move || signal.get()
                                on:input=move |ev| signal.set(event_target_value(&ev))></textarea> }.into_any()
                        } else {
                            view! { <input id=input_id.clone() type="text" prop:value=move || signal.get()
                                on:input=move |ev| signal.set(event_target_value(&ev))/> }.into_any()
                        };
                        let class = if *key == "query" { "field wide" } else { "field" };
                        view! { <div class=class><label for=input_id>{*label}</label>{input}</div> }
                    })
                    .collect_view();
                view! {
                    <fieldset class="metric-edit">
                        <legend>{format!("Metric {}", i + 1)}</legend>
                        <div class="form-grid">{inputs}</div>
                        <button type="button" class="button small ghost" aria-label=format!("Remove metric {}", i + 1)
                            on:click=move |_| metrics.update(|m| m.retain(|x| x.id != id))>"Remove metric"</button>
                    </fieldset>
                }
            })
            .collect_view()
    };
    view! {
        <form class="card stack" on:submit=submit novalidate data-testid="template-editor" aria-labelledby="editor-h">
            <h2 id="editor-h">{if is_new { "New template".to_owned() } else { format!("Edit {}", t.name) }}</h2>
            <div class="form-grid">
                <div class="field"><label for="template-name">"Name"</label>
                    <input id="template-name" type="text" readonly=!is_new prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></div>
                <div class="field wide"><label for="template-description">"Description"</label>
                    <input id="template-description" type="text" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))/></div>
            </div>
            <p class="hint">"Queries may use {{app}}, {{version}} (the new version), {{stable}} (the one before), {{namespace}} and {{environment}}. Conditions compare the result: result < 1, result >= 90."</p>
            {rows}
            <button type="button" class="button small" on:click=add>"Add metric"</button>
            {move || problem.get().map(|p| view! { <p class="notice error" role="alert">{format!("{}: {}", p.field, p.message)}</p> })}
            <button type="submit" class="button primary">"Save template"</button>
            <ActionResult value=action.value() success="Template saved."/>
        </form>
    }
}
