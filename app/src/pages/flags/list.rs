//! The flag list: search and filters (a GET form, so it works without JavaScript), and a
//! switch per environment that turns a flag on or off in one click.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use std::collections::BTreeSet;
use varai_domain::flags::ValueType;

use super::{CreateFlag, FlagsListData, ToggleFlag, flag_href, flags_overview};
use crate::components::{ErrorNote, FieldError, Timestamp};
use crate::pages::changes::RequestApproval;
use varai_core::changes::ProposedChange;
use varai_core::error::AppError;
use varai_core::flags::{Environment, FlagRecord};

#[component]
pub fn FlagsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| flags_overview());
    view! {
        <Title text="Flags"/>
        <div class="page-head">
            <div>
                <h1>"Feature flags"</h1>
                <p class="lede">"Switch a flag per environment here; open one to edit its variants and targeting."</p>
            </div>
            <a class="button primary" href="/flags/new">"New flag"</a>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading flags…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(overview) => view! { <FlagList overview/> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn FlagList(overview: FlagsListData) -> impl IntoView {
    let query = use_query_map();
    let q = move |name: &str| query.with(|m| m.get(name).unwrap_or_default());
    let tags: BTreeSet<String> = overview
        .flags
        .iter()
        .flat_map(|f| f.spec.tags.clone())
        .collect();
    let owners: BTreeSet<String> = overview
        .flags
        .iter()
        .map(|f| f.spec.owner.clone())
        .filter(|o| !o.is_empty())
        .collect();
    let flags = StoredValue::new(overview.flags);
    let envs = StoredValue::new(overview.environments);
    let shown = move || {
        let text = q("q").to_lowercase();
        let (tag, owner, archived) = (q("tag"), q("owner"), q("archived") == "on");
        flags.with_value(|all| {
            all.iter()
                .filter(|f| archived || f.archived_at.is_none())
                .filter(|f| tag.is_empty() || f.spec.tags.contains(&tag))
                .filter(|f| owner.is_empty() || f.spec.owner == owner)
                .filter(|f| {
                    text.is_empty()
                        || f.spec.key.to_lowercase().contains(&text)
                        || f.spec.name.to_lowercase().contains(&text)
                        || f.spec.description.to_lowercase().contains(&text)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let option = |value: String, current: String| {
        let selected = value == current;
        let label = value.clone();
        view! { <option value=value selected=selected>{label}</option> }
    };
    view! {
        <Form method="GET" action="" attr:class="filter-bar" attr:role="search">
            <label class="visually-hidden" for="flag-search">"Search flags"</label>
            <input id="flag-search" type="search" name="q" placeholder="Search key, name, description"
                prop:value=move || q("q")/>
            <label for="flag-tag">"Tag"</label>
            <select id="flag-tag" name="tag">
                <option value="">"Any"</option>
                {move || tags.iter().map(|t| option(t.clone(), q("tag"))).collect_view()}
            </select>
            <label for="flag-owner">"Owner"</label>
            <select id="flag-owner" name="owner">
                <option value="">"Anyone"</option>
                {move || owners.iter().map(|o| option(o.clone(), q("owner"))).collect_view()}
            </select>
            <label class="check"><input type="checkbox" name="archived" prop:checked=move || q("archived") == "on"/>" Archived"</label>
            <button type="submit" class="button">"Filter"</button>
        </Form>
        {move || {
            let list = shown();
            if list.is_empty() {
                return view! { <p class="muted" data-testid="no-flags">"No flags match."</p> }.into_any();
            }
            let envs = envs.get_value();
            view! {
                <table class="table flags" aria-label="Flags">
                    <thead>
                        <tr>
                            <th scope="col">"Flag"</th>
                            <th scope="col">"Tags"</th>
                            <th scope="col">"Owner"</th>
                            {envs.iter().map(|e| view! { <th scope="col">{e.name.clone()}</th> }).collect_view()}
                            <th scope="col">"Updated"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list.into_iter().map(|f| view! { <FlagRow flag=f envs=envs.clone()/> }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        }}
    }
}

#[component]
fn FlagRow(flag: FlagRecord, envs: Vec<Environment>) -> impl IntoView {
    let href = flag_href(&flag.spec.key);
    let archived = flag.archived_at.is_some();
    view! {
        <tr class:disabled=archived>
            <th scope="row">
                <a href=href>{flag.spec.name.clone()}</a>
                {archived.then(|| view! { <span class="badge">"Archived"</span> })}
                <div class="muted small"><code>{flag.spec.key.clone()}</code></div>
            </th>
            <td>{flag.spec.tags.iter().map(|t| view! { <span class="badge tag">{t.clone()}</span> " " }).collect_view()}</td>
            <td>{flag.spec.owner.clone()}</td>
            {envs.into_iter().map(|e| {
                view! { <td><FlagSwitch flag=flag.clone() env=e disabled=archived/></td> }
            }).collect_view()}
            <td class="small"><Timestamp ms=flag.updated_at/><div class="muted">{flag.updated_by.clone()}</div></td>
        </tr>
    }
}

/// A flag's on/off switch in one environment. With JavaScript it flips at once and reverts,
/// with a message, if the server refuses; without, it posts the form and the page reloads.
///
/// Where the environment is protected and the caller must ask, the refusal offers a change
/// request for the same switch.
#[component]
fn FlagSwitch(flag: FlagRecord, env: Environment, disabled: bool) -> impl IntoView {
    let key = flag.spec.key.clone();
    let on = RwSignal::new(flag.targeting(&env.key).enabled);
    let toggle = ServerAction::<ToggleFlag>::new();
    let error = RwSignal::new(None::<String>);
    let protected = RwSignal::new(false);
    let env_key = env.key.clone();
    Effect::new(move |_| match toggle.value().get() {
        Some(Ok(flag)) => {
            error.set(None);
            protected.set(false);
            on.set(flag.targeting(&env_key).enabled);
        }
        Some(Err(e)) => {
            on.update(|v| *v = !*v);
            protected.set(matches!(e, AppError::Protected { .. }));
            error.set(Some(e.to_string()));
        }
        None => {}
    });
    let wanted = StoredValue::new(flag);
    let (request_env, request_env_name) = (env.key.clone(), env.name.clone());
    let change = Callback::new(move |()| {
        wanted.with_value(|f| {
            let mut targeting = f.targeting(&request_env);
            targeting.enabled = !on.get_untracked();
            ProposedChange::Flag {
                flag: f.spec.key.clone(),
                spec: f.spec.clone(),
                environments: [(request_env.clone(), targeting)].into(),
                version: f.version,
            }
        })
    });
    let suggested = move || {
        let verb = if on.get_untracked() {
            "Switch off"
        } else {
            "Switch on"
        };
        format!(
            "{verb} {} in {}",
            wanted.with_value(|f| f.spec.key.clone()),
            request_env_name
        )
    };
    let label = format!("{} in {}", key, env.name);
    let (key_value, env_value) = (key.clone(), env.key.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let next = !on.get_untracked();
        on.set(next);
        error.set(None);
        toggle.dispatch(ToggleFlag {
            key: key_value.clone(),
            environment: env_value.clone(),
            enabled: next,
        });
    };
    view! {
        <form method="post" action=ToggleFlag::url() class="switch-form" on:submit=submit>
            <input type="hidden" name="key" value=key/>
            <input type="hidden" name="environment" value=env.key.clone()/>
            <input type="hidden" name="enabled" value=move || (!on.get()).to_string()/>
            <button type="submit" class="switch" role="switch" aria-checked=move || on.get().to_string()
                aria-label=label disabled=disabled>
                <span class="switch-track" aria-hidden="true"><span class="switch-thumb"></span></span>
                <span class="switch-text">{move || if on.get() { "On" } else { "Off" }}</span>
            </button>
            {move || error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </form>
        {move || protected.get().then(|| view! {
            <RequestApproval environment=env.key.clone() environment_name=env.name.clone()
                suggested_title=suggested() change/>
        })}
    }
}

#[component]
pub fn NewFlagPage() -> impl IntoView {
    let create = ServerAction::<CreateFlag>::new();
    let value = create.value();
    view! {
        <Title text="New flag"/>
        <p class="crumbs"><a href="/flags">"Flags"</a> " / "</p>
        <h1>"New flag"</h1>
        <section class="card">
            <ActionForm action=create attr:class="stack">
                <div class="form-grid">
                    <div class="field">
                        <label for="flag-key">"Key"</label>
                        <input id="flag-key" name="key" type="text" required maxlength="100"
                            pattern="[A-Za-z0-9._\\-]+" placeholder="e.g. new-checkout"
                            aria-describedby="flag-key-hint"/>
                        <p class="hint" id="flag-key-hint">"What applications ask for. Letters, digits, - _ and . — it cannot change later."</p>
                        <FieldError value field="key"/>
                    </div>
                    <div class="field">
                        <label for="flag-name">"Name"</label>
                        <input id="flag-name" name="name" type="text" required maxlength="120" placeholder="e.g. New checkout"/>
                        <FieldError value field="name"/>
                    </div>
                    <div class="field">
                        <label for="flag-type">"Type"</label>
                        <select id="flag-type" name="value_type">
                            {ValueType::ALL.into_iter().map(|t| view! { <option value=t.as_str()>{t.as_str()}</option> }).collect_view()}
                        </select>
                    </div>
                </div>
                <label for="flag-description">"Description"</label>
                <textarea id="flag-description" name="description" rows="2"></textarea>
                <div class="form-grid">
                    <div class="field">
                        <label for="flag-tags">"Tags (comma-separated)"</label>
                        <input id="flag-tags" name="tags" type="text" placeholder="e.g. checkout, web"/>
                        <FieldError value field="tags"/>
                    </div>
                    <div class="field">
                        <label for="flag-owner-input">"Owner"</label>
                        <input id="flag-owner-input" name="owner" type="text" placeholder="e.g. payments team"/>
                    </div>
                </div>
                <p class="hint">"The flag starts off in every environment, with two variants you can rename and change."</p>
                <div><button type="submit" class="button primary">"Create flag"</button></div>
            </ActionForm>
            {move || match value.get() {
                Some(Err(e)) if e.field().is_none() || e.field() == Some("variants") => Some(view! { <ErrorNote error=e/> }),
                _ => None,
            }}
        </section>
    }
}
