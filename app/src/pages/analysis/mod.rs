//! The Analysis templates page: every template with its metrics (query, cadence, conditions,
//! limits), and an editor that checks a template with the same rules as the server before it
//! is saved. Operators edit; everyone signed in reads.

mod editor;

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use varai_domain::Role;
use varai_domain::analysis::AnalysisTemplate;

use crate::components::{ActionResult, ErrorNote, Timestamp};
use varai_core::error::AppError;
use varai_core::monitor::TemplateRecord;

#[leptos::server(prefix = "/rpc", endpoint = "analysis/templates")]
pub async fn load_templates() -> Result<(Vec<TemplateRecord>, Role), AppError> {
    let (services, who) = crate::server::signed_in().await?;
    Ok((
        varai_core::monitor::list_templates(&services, &who).await?,
        who.role,
    ))
}

#[leptos::server(prefix = "/rpc", endpoint = "analysis/save", input = Json)]
pub async fn save_template(template: AnalysisTemplate) -> Result<TemplateRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::monitor::save_template(&services, &who, template).await
}

#[leptos::server(prefix = "/rpc", endpoint = "analysis/delete")]
pub async fn delete_template(name: String) -> Result<(), AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::monitor::delete_template(&services, &who, &name).await
}

#[component]
pub fn AnalysisPage() -> impl IntoView {
    let query = use_query_map();
    let editing = move || query.with(|q| q.get("edit"));
    let save = ServerAction::<SaveTemplate>::new();
    let delete = ServerAction::<DeleteTemplate>::new();
    let templates = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| load_templates(),
    );
    view! {
        <Title text="Analysis templates"/>
        <h1>"Analysis templates"</h1>
        <p class="lede">"The checks a deployment must pass: PromQL metrics measured at an interval and judged against a threshold. A canary's analysis step and a deployment's background analysis use them; Failed rolls back, Inconclusive or Error pauses for a person."</p>
        <ActionResult value=delete.value() success="Template deleted."/>
        <Transition fallback=|| view! { <p class="muted">"Loading templates…"</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Ok((list, role)) => {
                        let can_edit = role.allows(Role::Operator);
                        let current = editing().and_then(|name| {
                            if name == "new" { Some(None) } else {
                                list.iter().find(|t| t.template.name == name).map(|t| Some(t.template.clone()))
                            }
                        });
                        view! {
                            {can_edit.then(|| view! { <p><a class="button primary" href="/analysis?edit=new">"New template"</a></p> })}
                            {match (can_edit, current) {
                                (true, Some(t)) => Some(view! { <editor::TemplateEditor template=t action=save/> }),
                                _ => None,
                            }}
                            <div class="stack">
                                {list.into_iter().map(|t| view! { <TemplateCard t can_edit delete/> }).collect_view()}
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TemplateCard(
    t: TemplateRecord,
    can_edit: bool,
    delete: ServerAction<DeleteTemplate>,
) -> impl IntoView {
    let name = t.template.name.clone();
    let rows = t
        .template
        .metrics
        .iter()
        .map(|m| {
            let conditions = [
                m.success_condition.map(|c| format!("passes when {c}")),
                m.failure_condition.map(|c| format!("fails when {c}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ");
            view! {
                <tr>
                    <th scope="row">{m.name.clone()}{(!m.unit.is_empty()).then(|| format!(" ({})", m.unit))}</th>
                    <td><code class="small query">{m.query.clone()}</code></td>
                    <td class="small">{format!("every {} s × {}, first after {} s", m.interval, m.count, m.initial_delay)}</td>
                    <td class="small">{conditions}</td>
                    <td class="small">{format!("failures {}, inconclusive {}, errors in a row {}", m.failure_limit, m.inconclusive_limit, m.consecutive_error_limit)}</td>
                </tr>
            }
        })
        .collect_view();
    let (edit_href, delete_name) = (format!("/analysis?edit={name}"), name.clone());
    view! {
        <section class="card" data-testid=format!("template-{name}") aria-labelledby=format!("t-{name}")>
            <header class="page-head">
                <div>
                    <h2 id=format!("t-{name}")>{name.clone()}</h2>
                    <p class="hint">{t.template.description.clone()}" · changed by "{t.updated_by.clone()}" "<Timestamp ms=t.updated_at/></p>
                </div>
                {can_edit.then(|| view! {
                    <div class="button-row">
                        <a class="button small" href=edit_href>"Edit"</a>
                        <button type="button" class="button small danger" aria-label=format!("Delete template {name}")
                            on:click=move |_| { delete.dispatch(DeleteTemplate { name: delete_name.clone() }); }>"Delete"</button>
                    </div>
                })}
            </header>
            <table class="table compact" aria-label=format!("Metrics of {}", t.template.name)>
                <thead><tr><th scope="col">"Metric"</th><th scope="col">"Query"</th><th scope="col">"Cadence"</th>
                    <th scope="col">"Conditions"</th><th scope="col">"Tolerated"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
