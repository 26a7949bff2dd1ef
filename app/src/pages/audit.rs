//! The audit log: every change, who made it and when, with the state before and after;
//! newest first, filterable by who acted.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::components::{ErrorNote, Timestamp};
use varai_core::accounts::{AuditEvent, AuditPage};
use varai_core::error::AppError;
use varai_domain::url::encode_query_value;

#[leptos::server(prefix = "/rpc", endpoint = "audit/list")]
pub async fn list_audit(actor: Option<String>, before: Option<i64>) -> Result<AuditPage, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::accounts::list_audit(&services, &who, actor, before, None).await
}

#[leptos::server(prefix = "/rpc", endpoint = "audit/actors")]
pub async fn list_audit_actors() -> Result<Vec<String>, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::accounts::list_audit_actors(&services, &who).await
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let actor = move || query.read().get("actor").filter(|a| !a.is_empty());
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let page = Resource::new(move || (actor(), before()), |(a, b)| list_audit(a, b));
    let actors = Resource::new(|| (), |_| list_audit_actors());
    view! {
        <Title text="Audit log"/>
        <h1>"Audit log"</h1>
        <p class="lede">"Every change made in VARAi Rollout, newest first."</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let names = actors.await.unwrap_or_default();
                view! { <ActorFilter names selected=actor()/> }
            })}
        </Transition>
        <Transition fallback=|| view! { <p class="muted">"Loading events…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <AuditTable page=p actor=actor()/> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ActorFilter(names: Vec<String>, selected: Option<String>) -> impl IntoView {
    view! {
        <Form method="GET" action="" attr:class="filter-bar">
            <label for="actor">"Who acted"</label>
            <select id="actor" name="actor">
                <option value="" selected=selected.is_none()>"Everyone"</option>
                {names
                    .into_iter()
                    .map(|n| {
                        let is = selected.as_deref() == Some(n.as_str());
                        view! { <option value=n.clone() selected=is>{n.clone()}</option> }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="button small">"Filter"</button>
        </Form>
    }
}

#[component]
fn AuditTable(page: AuditPage, actor: Option<String>) -> impl IntoView {
    if page.events.is_empty() {
        return view! { <p class="muted">"No events match."</p> }.into_any();
    }
    let older = page.next_before.map(|b| {
        let href = match &actor {
            Some(a) => format!("/audit?actor={}&before={b}", encode_query_value(a)),
            None => format!("/audit?before={b}"),
        };
        view! { <p><a class="button" href=href>"Older events →"</a></p> }
    });
    view! {
        <table class="table audit" aria-label="Audit events">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                    <th scope="col">"Target"</th>
                    <th scope="col">"Change"</th>
                </tr>
            </thead>
            <tbody>
                {page.events.into_iter().map(|e| view! { <AuditRow e/> }).collect_view()}
            </tbody>
        </table>
        {older}
    }
    .into_any()
}

#[component]
fn AuditRow(e: AuditEvent) -> impl IntoView {
    let has_change = e.before.is_some() || e.after.is_some();
    view! {
        <tr>
            <td><Timestamp ms=e.at/></td>
            <td>{e.actor}</td>
            <td><code>{e.action}</code></td>
            <td>{e.target}</td>
            <td>
                {has_change.then(|| view! {
                    <details>
                        <summary>"Before and after"</summary>
                        <dl class="diff">
                            <dt>"Before"</dt>
                            <dd><pre>{e.before.unwrap_or_else(|| "—".into())}</pre></dd>
                            <dt>"After"</dt>
                            <dd><pre>{e.after.unwrap_or_else(|| "—".into())}</pre></dd>
                        </dl>
                    </details>
                })}
            </td>
        </tr>
    }
}
