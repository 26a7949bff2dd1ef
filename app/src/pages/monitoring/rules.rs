//! The lower half of the Monitoring page, refreshed every two seconds: alerts, the alert rules
//! with their state and a form to add one, and the saved queries charted as business panels.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use varai_domain::Role;
use varai_domain::analysis::AlertState;

use super::{AlertList, MonitoringNow, read_monitoring_now};
use crate::components::{ActionResult, ErrorNote, FieldError};
use varai_core::error::AppError;
use varai_core::monitor::{AlertRuleRecord, NewAlertRule, NewSavedQuery, SavedQuery};

#[leptos::server(prefix = "/rpc", endpoint = "monitoring/rule", input = Json)]
pub async fn add_rule(env: String, rule: NewAlertRule) -> Result<AlertRuleRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::monitor::save_rule(&services, &who, &env, rule).await
}

#[leptos::server(prefix = "/rpc", endpoint = "monitoring/rule-delete")]
pub async fn remove_rule(env: String, name: String) -> Result<(), AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::monitor::delete_rule(&services, &who, &env, &name).await
}

#[leptos::server(prefix = "/rpc", endpoint = "monitoring/query", input = Json)]
pub async fn add_query(env: String, query: NewSavedQuery) -> Result<SavedQuery, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::monitor::save_query(&services, &who, &env, query).await
}

#[leptos::server(prefix = "/rpc", endpoint = "monitoring/query-delete")]
pub async fn remove_query(env: String, id: i64) -> Result<(), AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::monitor::delete_query(&services, &who, &env, id).await
}

fn state_text(s: AlertState) -> (&'static str, &'static str) {
    match s {
        AlertState::Inactive => ("status on", "○ inactive"),
        AlertState::Pending(_) => ("status pending", "◐ pending"),
        AlertState::Firing(_) => ("status alert", "▲ firing"),
    }
}

#[component]
pub fn Lists(env: String, apps: Vec<String>, role: Role) -> impl IntoView {
    let lists = RwSignal::new(None::<Result<MonitoringNow, AppError>>);
    let add = ServerAction::<AddRule>::new();
    let remove = ServerAction::<RemoveRule>::new();
    let add_q = ServerAction::<AddQuery>::new();
    let remove_q = ServerAction::<RemoveQuery>::new();
    let env_v = StoredValue::new(env.clone());
    let tick = crate::pages::deployments::every_second();
    let seen = StoredValue::new((0, 0, 0, 0));
    // Every two seconds, and at once after any change made here.
    Effect::new(move |_| {
        let t = tick.get();
        let changed = (
            add.version().get(),
            remove.version().get(),
            add_q.version().get(),
            remove_q.version().get(),
        );
        let fresh = changed != seen.get_value();
        seen.set_value(changed);
        if !t.is_multiple_of(2) && !fresh && lists.with_untracked(Option::is_some) {
            return;
        }
        let env = env_v.get_value();
        leptos::task::spawn_local(async move {
            let fresh = read_monitoring_now(env).await;
            if !lists.is_disposed() {
                lists.set(Some(fresh));
            }
        });
    });
    let can_operate = role.allows(Role::Operator);
    let can_query = role.allows(Role::Developer);
    view! {
        {move || match lists.get() {
            None => view! { <p class="muted">"Reading alerts…"</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
            Some(Ok(l)) => view! {
                <section class="card" aria-labelledby="alerts-h">
                    <h2 id="alerts-h">"Alerts"</h2>
                    <AlertList alerts=l.alerts/>
                </section>
                <section class="card" aria-labelledby="rules-h">
                    <h2 id="rules-h">"Alert rules"</h2>
                    <p class="hint">"Evaluated at every scrape. A rule that fires rolls its app's deployment in progress back to its snapshot, and says why on the deployment's timeline."</p>
                    <RuleTable rules=l.rules env=env_v.get_value() can_operate remove/>
                </section>
                <section class="card" aria-labelledby="queries-h">
                    <h2 id="queries-h">"Saved queries"</h2>
                    <p class="hint">"Each is charted above as a business panel for every app of this environment; {{app}} and {{namespace}} are filled in."</p>
                    <QueryList queries=l.queries env=env_v.get_value() can_query remove=remove_q/>
                </section>
            }.into_any(),
        }}
        <div class="grid two">
            {can_operate.then(|| view! { <RuleForm env=env.clone() apps=apps.clone() action=add/> })}
            {can_query.then(|| view! { <QueryForm env=env.clone() action=add_q/> })}
        </div>
        <ActionResult value=remove.value() success="Rule deleted."/>
        <ActionResult value=remove_q.value() success="Query deleted."/>
    }
}

#[component]
fn RuleTable(
    rules: Vec<AlertRuleRecord>,
    env: String,
    can_operate: bool,
    remove: ServerAction<RemoveRule>,
) -> impl IntoView {
    if rules.is_empty() {
        return view! { <p class="muted">"No rule yet."</p> }.into_any();
    }
    let rows = rules
        .into_iter()
        .map(|r| {
            let (class, text) = state_text(r.state);
            let (env, name) = (env.clone(), r.name.clone());
            let value = match (r.last_value, &r.last_error) {
                (Some(v), _) => format!("{}", (v * 1000.0).round() / 1000.0),
                (None, Some(e)) => e.clone(),
                (None, None) => "not evaluated yet".into(),
            };
            view! {
                <tr data-testid=format!("rule-{}", r.name)>
                    <td><strong>{r.name.clone()}</strong><br/><span class="small muted">{r.app.clone()}</span></td>
                    <td><code class="small query">{r.query.clone()}</code></td>
                    <td>{r.condition.clone()}{(r.for_seconds > 0).then(|| format!(" for {} s", r.for_seconds))}</td>
                    <td><span class=class>{text}</span></td>
                    <td class="small">{value}</td>
                    <td>{can_operate.then(|| view! {
                        <button type="button" class="button small ghost" aria-label=format!("Delete rule {name}")
                            on:click=move |_| { remove.dispatch(RemoveRule { env: env.clone(), name: name.clone() }); }>"Delete"</button>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table compact" aria-label="Alert rules">
            <thead><tr><th scope="col">"Rule"</th><th scope="col">"Query"</th><th scope="col">"Fires when"</th>
                <th scope="col">"State"</th><th scope="col">"Last value"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn RuleForm(env: String, apps: Vec<String>, action: ServerAction<AddRule>) -> impl IntoView {
    let (name, app, query, condition, hold) = (
        RwSignal::new(String::new()),
        RwSignal::new(apps.first().cloned().unwrap_or_default()),
        RwSignal::new(r#"100 * (sum(rate(http_requests_total{namespace="{{namespace}}",app="{{app}}",version="{{version}}",code=~"5.."}[30s])) or vector(0)) / sum(rate(http_requests_total{namespace="{{namespace}}",app="{{app}}",version="{{version}}"}[30s]))"#.to_owned()),
        RwSignal::new("result > 5".to_owned()),
        RwSignal::new("0".to_owned()),
    );
    let env = StoredValue::new(env);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(AddRule {
            env: env.get_value(),
            rule: NewAlertRule {
                name: name.get_untracked(),
                app: app.get_untracked(),
                query: query.get_untracked(),
                condition: condition.get_untracked(),
                for_seconds: hold.get_untracked().trim().parse().unwrap_or(u32::MAX),
            },
        });
    };
    let options = apps
        .into_iter()
        .map(|a| view! { <option value=a.clone()>{a.clone()}</option> })
        .collect_view();
    view! {
        <form class="card stack" on:submit=submit aria-labelledby="rule-form-h" novalidate>
            <h3 id="rule-form-h">"Add an alert rule"</h3>
            <div class="field"><label for="rule-name">"Name"</label>
                <input id="rule-name" type="text" placeholder="e.g. canary-errors" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <FieldError value=action.value() field="name"/></div>
            <div class="field"><label for="rule-app">"App"</label>
                <select id="rule-app" prop:value=move || app.get() on:change=move |ev| app.set(event_target_value(&ev))>{options}</select>
                <FieldError value=action.value() field="app"/></div>
            <div class="field"><label for="rule-query">"PromQL"</label>
                <textarea id="rule-query" rows="4" class="mono" prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))></textarea>
                <p class="hint">"{{version}} is the version being deployed and {{stable}} the one before: a rule using them is evaluated only during a deployment."</p>
                <FieldError value=action.value() field="query"/></div>
            <div class="form-grid">
                <div class="field"><label for="rule-condition">"Fires when"</label>
                    <input id="rule-condition" type="text" prop:value=move || condition.get() on:input=move |ev| condition.set(event_target_value(&ev))/>
                    <FieldError value=action.value() field="condition"/></div>
                <div class="field"><label for="rule-for">"For (seconds)"</label>
                    <input id="rule-for" type="text" inputmode="numeric" prop:value=move || hold.get() on:input=move |ev| hold.set(event_target_value(&ev))/>
                    <FieldError value=action.value() field="forSeconds"/></div>
            </div>
            <button type="submit" class="button primary">"Add rule"</button>
            <ActionResult value=action.value() success="Rule saved; it is evaluated at the next scrape."/>
        </form>
    }
}

#[component]
fn QueryList(
    queries: Vec<SavedQuery>,
    env: String,
    can_query: bool,
    remove: ServerAction<RemoveQuery>,
) -> impl IntoView {
    if queries.is_empty() {
        return view! { <p class="muted">"No saved query yet."</p> }.into_any();
    }
    let items = queries
        .into_iter()
        .map(|q| {
            let (env, id, name) = (env.clone(), q.id, q.name.clone());
            view! {
                <li><strong>{q.name.clone()}</strong>" "<span class="muted small">{q.unit.clone()}</span><br/><code class="small query">{q.query.clone()}</code>
                    {can_query.then(|| view! {
                        <button type="button" class="button small ghost" aria-label=format!("Delete query {name}")
                            on:click=move |_| { remove.dispatch(RemoveQuery { env: env.clone(), id }); }>"Delete"</button>
                    })}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="plain-list">{items}</ul> }.into_any()
}

#[component]
fn QueryForm(env: String, action: ServerAction<AddQuery>) -> impl IntoView {
    let (name, query, unit) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let env = StoredValue::new(env);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(AddQuery {
            env: env.get_value(),
            query: NewSavedQuery {
                name: name.get_untracked(),
                query: query.get_untracked(),
                unit: unit.get_untracked(),
            },
        });
    };
    view! {
        <form class="card stack" on:submit=submit aria-labelledby="query-form-h" novalidate>
            <h3 id="query-form-h">"Save a query"</h3>
            <div class="field"><label for="query-name">"Name"</label>
                <input id="query-name" type="text" placeholder="e.g. Orders per second" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <FieldError value=action.value() field="name"/></div>
            <div class="field"><label for="query-promql">"PromQL"</label>
                <textarea id="query-promql" rows="3" class="mono" placeholder=r#"sum by (version) (rate(checkout_conversions_total{app="{{app}}"}[1m]))"#
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))></textarea>
                <FieldError value=action.value() field="query"/></div>
            <div class="field"><label for="query-unit">"Unit"</label>
                <input id="query-unit" type="text" placeholder="e.g. orders/s" prop:value=move || unit.get() on:input=move |ev| unit.set(event_target_value(&ev))/>
                <FieldError value=action.value() field="unit"/></div>
            <button type="submit" class="button primary">"Save query"</button>
            <ActionResult value=action.value() success="Query saved; its chart appears above."/>
        </form>
    }
}
