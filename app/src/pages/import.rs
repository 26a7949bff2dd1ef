//! Importing Unleash toggles: paste an export of Unleash's client API
//! (`/api/client/features`) and pick the environment whose targeting it sets.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{ErrorNote, FieldError};
use crate::pages::environments::list_environments;
use varai_core::error::AppError;
use varai_core::flags::ImportReport;

#[leptos::server(prefix = "/rpc", endpoint = "import/unleash")]
pub async fn import_unleash(
    environment: String,
    document: String,
) -> Result<ImportReport, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::import_unleash(&services, &who, &environment, &document).await
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let import = ServerAction::<ImportUnleash>::new();
    let envs = Resource::new(|| (), |_| list_environments());
    let value = import.value();
    view! {
        <Title text="Import from Unleash"/>
        <h1>"Import from Unleash"</h1>
        <p class="lede">
            "Paste the JSON of Unleash's client API (" <code>"GET /api/client/features"</code>
            ", version 1 or 2). Every toggle becomes a flag that evaluates as Unleash would, users keep "
            "their buckets, and anything that cannot be carried over is listed below."
        </p>
        <section class="card">
            <ActionForm action=import attr:class="stack">
                <label for="import-env">"Environment"</label>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match envs.await {
                            Ok(list) => view! {
                                <select id="import-env" name="environment">
                                    {list.into_iter().map(|e| view! { <option value=e.key.clone()>{e.name.clone()}</option> }).collect_view()}
                                </select>
                            }
                            .into_any(),
                            Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                        }
                    })}
                </Transition>
                <label for="import-document">"Unleash document (JSON)"</label>
                <textarea id="import-document" name="document" rows="14" required class="code"
                    placeholder="{\"version\": 2, \"features\": [...], \"segments\": [...]}"></textarea>
                <FieldError value field="document"/>
                <FieldError value field="version"/>
                <div><button type="submit" class="button primary">"Import"</button></div>
            </ActionForm>
        </section>
        {move || match value.get() {
            Some(Ok(report)) => Some(view! { <ImportSummary report/> }.into_any()),
            Some(Err(e)) if e.field().is_none() || e.field() == Some("environment") => {
                Some(view! { <ErrorNote error=e/> }.into_any())
            }
            _ => None,
        }}
    }
}

#[component]
fn ImportSummary(report: ImportReport) -> impl IntoView {
    let list = |title: &'static str, items: Vec<String>| {
        (!items.is_empty()).then(|| {
            view! {
                <h3>{title}</h3>
                <ul>{items.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul>
            }
        })
    };
    let headline = format!(
        "✓ Imported into {}: {} created, {} updated, {} segments.",
        report.environment,
        report.created.len(),
        report.updated.len(),
        report.segments.len()
    );
    view! {
        <section class="card" role="status" aria-live="polite">
            <p class="notice success">{headline}</p>
            {list("Created", report.created)}
            {list("Updated", report.updated)}
            {list("Not imported", report.skipped)}
            {list("Not represented exactly", report.notes)}
            {list("Evaluates as in Unleash, but worth a look", report.warnings)}
        </section>
    }
}
