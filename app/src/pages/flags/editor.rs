//! The flag editor: definition and variants, targeting per environment, a review of the diff
//! before saving (refused, with a message, if someone else saved first), "try it", history.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use std::collections::BTreeMap;
use varai_domain::flags::{FlagKind, FlagSpec, Targeting, ValueType, Variant};

use super::targeting::TargetingEditor;
use super::try_it::TryIt;
use super::{ArchiveFlag, FlagEditorData, SaveFlag, flag_editor};
use crate::components::{ErrorNote, Timestamp};
use crate::editors::{DiffView, split_list};
use crate::pages::changes::RequestApproval;
use varai_core::accounts::AuditEvent;
use varai_core::changes::{ProposedChange, flag_document};
use varai_core::error::AppError;
use varai_core::flags::FlagRecord;

#[component]
pub fn FlagEditorPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || params.with(|p| p.get("key").unwrap_or_default());
    let data = Resource::new(key, flag_editor);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading flag…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <FlagEditor data=d/> }.into_any(),
                    Err(e) => view! { <Title text="Flag"/><h1>"Flag"</h1><ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn all_targeting(
    flag: &FlagRecord,
    envs: &[varai_core::flags::Environment],
) -> BTreeMap<String, Targeting> {
    envs.iter()
        .map(|e| (e.key.clone(), flag.targeting(&e.key)))
        .collect()
}

#[component]
fn FlagEditor(data: FlagEditorData) -> impl IntoView {
    let FlagEditorData {
        flag,
        environments,
        segments,
        others,
        history,
    } = data;
    let saved = RwSignal::new(flag.clone());
    let spec = RwSignal::new(flag.spec.clone());
    let targeting = RwSignal::new(all_targeting(&flag, &environments));
    let envs = StoredValue::new(environments);
    let save = ServerAction::<SaveFlag>::new();
    let archive = ServerAction::<ArchiveFlag>::new();
    let reviewing = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(f)) = save.value().get() {
            targeting.set(envs.with_value(|e| all_targeting(&f, e)));
            spec.set(f.spec.clone());
            saved.set(f);
            reviewing.set(false);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(f)) = archive.value().get() {
            saved.update(|s| {
                s.archived_at = f.archived_at;
                s.version = f.version;
            });
        }
    });
    let before =
        move || saved.with(|s| flag_document(&s.spec, &envs.with_value(|e| all_targeting(s, e))));
    let after = move || flag_document(&spec.get(), &targeting.get());
    let changed = move || before() != after();
    let title = move || spec.with(|s| s.name.clone());
    let do_save = move |_| {
        save.dispatch(SaveFlag {
            key: saved.with_untracked(|s| s.spec.key.clone()),
            spec: spec.get_untracked(),
            environments: targeting.get_untracked(),
            version: saved.with_untracked(|s| s.version),
        });
    };
    let proposed = Callback::new(move |()| ProposedChange::Flag {
        flag: saved.with_untracked(|s| s.spec.key.clone()),
        spec: spec.get_untracked(),
        environments: targeting.get_untracked(),
        version: saved.with_untracked(|s| s.version),
    });
    let archived = move || saved.with(|s| s.archived_at.is_some());
    view! {
        <Title text=title/>
        <p class="crumbs"><a href="/flags">"Flags"</a> " / "</p>
        <div class="page-head">
            <div>
                <h1>{title} {move || archived().then(|| view! { <span class="badge">"Archived"</span> })}</h1>
                <p class="muted">
                    <code data-testid="flag-key">{flag.spec.key.clone()}</code> " · " {flag.spec.value_type.as_str()}
                    {(flag.spec.kind == FlagKind::UnleashToggle).then_some(" · imported from Unleash")}
                    " · version " {move || saved.with(|s| s.version)}
                </p>
            </div>
            <button type="button" class="button" on:click=move |_| {
                archive.dispatch(ArchiveFlag { key: saved.with_untracked(|s| s.spec.key.clone()), archived: !archived() });
            }>{move || if archived() { "Restore flag" } else { "Archive flag" }}</button>
        </div>
        {move || archive.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e/> })}
        <Definition spec/>
        <VariantsEditor spec/>
        <TargetingEditor spec targeting envs=envs.get_value() segments=segments.clone() others=others.clone()/>
        <section class="save-bar" aria-label="Save">
            <p class="save-status" aria-live="polite">
                {move || if changed() { "● You have unsaved changes" } else { "No unsaved changes" }}
            </p>
            <div class="button-row">
                <button type="button" class="button" disabled=move || !changed()
                    aria-expanded=move || (reviewing.get() && changed()).to_string() aria-controls="review"
                    on:click=move |_| reviewing.update(|r| *r = !*r)>
                    {move || if reviewing.get() { "Hide changes" } else { "Review changes" }}
                </button>
                <button type="button" class="button primary" disabled=move || !changed() on:click=do_save>"Save flag"</button>
            </div>
        </section>
        {move || save.value().get().map(|r| match r {
            Ok(f) => view! { <div class="notice success" role="status">"✓ Saved as version " {f.version} "."</div> }.into_any(),
            Err(AppError::Protected { environment, key, message }) => view! {
                <div class="notice warn" role="alert">
                    <strong>"Needs approval"</strong>
                    <span>{format!("{environment} is protected: {message}")}</span>
                    <RequestApproval environment=key environment_name=environment
                        suggested_title=format!("Change {}", title()) change=proposed/>
                </div>
            }
            .into_any(),
            Err(e) => view! {
                <ErrorNote error=e.clone()/>
                {(e.field() == Some("version")).then(|| view! { <p><a href="" class="button small">"Reload the flag"</a></p> })}
            }
            .into_any(),
        })}
        <div id="review">
            {move || (reviewing.get() && changed()).then(|| view! {
                <section class="card" aria-labelledby="review-title">
                    <h2 id="review-title">"What saving will change"</h2>
                    <DiffView before=before() after=after()/>
                </section>
            })}
        </div>
        <TryIt spec targeting envs=envs.get_value() segments others/>
        <History events=history.events/>
    }
}

#[component]
fn Definition(spec: RwSignal<FlagSpec>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="definition-title">
            <h2 id="definition-title">"Definition"</h2>
            <div class="form-grid">
                <div class="field">
                    <label for="def-name">"Name"</label>
                    <input id="def-name" type="text" maxlength="120" prop:value=move || spec.with(|s| s.name.clone())
                        on:change=move |ev| spec.update(|s| s.name = event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="def-owner">"Owner"</label>
                    <input id="def-owner" type="text" prop:value=move || spec.with(|s| s.owner.clone())
                        on:change=move |ev| spec.update(|s| s.owner = event_target_value(&ev).trim().to_owned())/>
                </div>
                <div class="field">
                    <label for="def-tags">"Tags (comma-separated)"</label>
                    <input id="def-tags" type="text" prop:value=move || spec.with(|s| s.tags.join(", "))
                        on:change=move |ev| spec.update(|s| s.tags = split_list(&event_target_value(&ev)))/>
                </div>
            </div>
            <label for="def-description">"Description"</label>
            <textarea id="def-description" rows="2" prop:value=move || spec.with(|s| s.description.clone())
                on:change=move |ev| spec.update(|s| s.description = event_target_value(&ev))></textarea>
        </section>
    }
}

/// Reads a typed value for the flag's type.
fn parse_value(t: ValueType, text: &str) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    match t {
        ValueType::Boolean => match text.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            other => Err(format!("'{other}' is not true or false")),
        },
        ValueType::String => Ok(Value::String(text.to_owned())),
        ValueType::Integer => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("'{text}' is not a whole number")),
        ValueType::Float => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("'{text}' is not a number")),
        ValueType::Object => match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err("must be a JSON object, like {\"color\": \"blue\"}".into()),
        },
    }
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[component]
fn VariantsEditor(spec: RwSignal<FlagSpec>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let value_type = spec.with_untracked(|s| s.value_type);
    // An imported toggle's value is whether it is enabled; its variants only name the choice.
    let derived = spec.with_untracked(|s| s.kind == FlagKind::UnleashToggle);
    let rows = move || {
        (0..spec.with(|s| s.variants.len()))
            .map(|i| {
                let v = move || spec.with(|s| s.variants.get(i).cloned());
                view! {
                    <tr>
                        <td>
                            <label class="visually-hidden" for=format!("variant-name-{i}")>{format!("Variant {} name", i + 1)}</label>
                            <input id=format!("variant-name-{i}") type="text" prop:value=move || v().map(|v| v.name).unwrap_or_default()
                                on:change=move |ev| spec.update(|s| if let Some(v) = s.variants.get_mut(i) { v.name = event_target_value(&ev).trim().to_owned() })/>
                        </td>
                        <td>
                            <label class="visually-hidden" for=format!("variant-value-{i}")>{format!("Variant {} value", i + 1)}</label>
                            <input id=format!("variant-value-{i}") type="text" class="code" readonly=derived
                                prop:value=move || v().map(|v| value_text(&v.value)).unwrap_or_default()
                                on:change=move |ev| match parse_value(value_type, &event_target_value(&ev)) {
                                    Ok(value) => { error.set(None); spec.update(|s| if let Some(v) = s.variants.get_mut(i) { v.value = value }) }
                                    Err(e) => error.set(Some(format!("Variant {}: {e}", i + 1))),
                                }/>
                        </td>
                        <td class="small muted">{move || v().and_then(|v| v.payload).map(|p| format!("payload ({}) {}", p.kind, p.value))}</td>
                        <td>
                            <button type="button" class="button small danger" disabled=move || { spec.with(|s| s.variants.len() < 2) }
                                aria-label=format!("Remove variant {}", i + 1)
                                on:click=move |_| spec.update(|s| { if s.variants.len() > 1 { s.variants.remove(i); } })>"Remove"</button>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    let add = move |_| {
        spec.update(|s| {
            let n = s.variants.len() + 1;
            let value = parse_value(
                s.value_type,
                match s.value_type {
                    ValueType::Boolean => "false",
                    ValueType::Integer | ValueType::Float => "0",
                    ValueType::Object => "{}",
                    ValueType::String => "",
                },
            )
            .unwrap_or_default();
            s.variants.push(Variant {
                name: format!("variant-{n}"),
                value,
                payload: None,
            });
        })
    };
    view! {
        <section class="card" aria-labelledby="variants-title">
            <h2 id="variants-title">"Variants"</h2>
            <table class="table compact" aria-labelledby="variants-title">
                <thead><tr><th scope="col">"Name"</th><th scope="col">{format!("Value ({})", value_type.as_str())}</th><th scope="col">"Payload"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {derived.then(|| view! { <p class="hint">"Imported from Unleash: the flag's value is whether the toggle is enabled for the context; the variant and its payload say which variant Unleash would choose."</p> })}
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
            <button type="button" class="button small" on:click=add>"+ Add variant"</button>
        </section>
    }
}

#[component]
fn History(events: Vec<AuditEvent>) -> impl IntoView {
    let pretty = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_default()
    };
    view! {
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            {if events.is_empty() {
                view! { <p class="muted">"No changes recorded."</p> }.into_any()
            } else {
                view! {
                    <ol class="events" data-testid="flag-history">
                        {events.into_iter().map(|e| {
                            let (before, after) = (pretty(&e.before), pretty(&e.after));
                            view! {
                                <li>
                                    <strong>{e.action.clone()}</strong> " by " {e.actor.clone()} " · " <Timestamp ms=e.at/>
                                    <details><summary>"What changed"</summary><DiffView before after/></details>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                }
                .into_any()
            }}
        </section>
    }
}
