//! Environments: add, rename and remove the places flags are configured. Admins only; a
//! removal is refused, saying why, while flags or SDK keys still use the environment.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{ActionResult, ErrorNote, FieldError, Timestamp};
use varai_core::error::AppError;
use varai_core::flags::Environment;

#[leptos::server(prefix = "/rpc", endpoint = "environments/list")]
pub async fn list_environments() -> Result<Vec<Environment>, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::list_environments(&services, &who).await
}

#[leptos::server(prefix = "/rpc", endpoint = "environments/add")]
pub async fn add_environment(key: String, name: String) -> Result<Environment, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::create_environment(&services, &who, &key, &name).await
}

#[leptos::server(prefix = "/rpc", endpoint = "environments/rename")]
pub async fn rename_environment(
    key: String,
    name: String,
    version: i64,
) -> Result<Environment, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::rename_environment(&services, &who, &key, &name, version).await
}

#[leptos::server(prefix = "/rpc", endpoint = "environments/remove")]
pub async fn remove_environment(key: String) -> Result<(), AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::delete_environment(&services, &who, &key).await
}

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let add = ServerAction::<AddEnvironment>::new();
    let rename = ServerAction::<RenameEnvironment>::new();
    let remove = ServerAction::<RemoveEnvironment>::new();
    let envs = Resource::new(
        move || {
            (
                add.version().get(),
                rename.version().get(),
                remove.version().get(),
            )
        },
        |_| list_environments(),
    );
    let add_value = add.value();
    view! {
        <Title text="Environments"/>
        <h1>"Environments"</h1>
        <p class="lede">
            "Each environment has its own flag targeting and its own SDK keys. The key is used in "
            "URLs and by applications and never changes; the name can."
        </p>
        <section class="card" aria-labelledby="new-env-title">
            <h2 id="new-env-title">"Add an environment"</h2>
            <ActionForm action=add attr:class="form-grid">
                <div class="field">
                    <label for="env-key">"Key"</label>
                    <input id="env-key" name="key" type="text" required maxlength="100"
                        pattern="[A-Za-z0-9._\\-]+" placeholder="e.g. qa"/>
                    <FieldError value=add_value field="key"/>
                </div>
                <div class="field">
                    <label for="env-name">"Name"</label>
                    <input id="env-name" name="name" type="text" required maxlength="80" placeholder="e.g. QA"/>
                    <FieldError value=add_value field="name"/>
                </div>
                <div class="field actions">
                    <button type="submit" class="button primary">"Add environment"</button>
                </div>
            </ActionForm>
            <ActionResult value=add_value success="Environment added."/>
        </section>
        <ActionResult value=rename.value() success="Environment renamed."/>
        <ActionResult value=remove.value() success="Environment removed."/>
        <Transition fallback=|| view! { <p class="muted">"Loading environments…"</p> }>
            {move || Suspend::new(async move {
                match envs.await {
                    Ok(list) => view! { <EnvironmentTable list rename remove/> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EnvironmentTable(
    list: Vec<Environment>,
    rename: ServerAction<RenameEnvironment>,
    remove: ServerAction<RemoveEnvironment>,
) -> impl IntoView {
    view! {
        <table class="table" aria-label="Environments">
            <thead>
                <tr>
                    <th scope="col">"Key"</th>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|e| {
                        let input_id = format!("env-name-{}", e.key);
                        let rename_label = format!("New name for {}", e.key);
                        let remove_label = format!("Remove {}", e.name);
                        let (rename_key, remove_key) = (e.key.clone(), e.key.clone());
                        let (name, version) = (e.name.clone(), e.version);
                        view! {
                            <tr>
                                <th scope="row"><code>{e.key.clone()}</code></th>
                                <td>
                                    <ActionForm action=rename attr:class="inline-form">
                                        <input type="hidden" name="key" value=rename_key/>
                                        <input type="hidden" name="version" value=version/>
                                        <label class="visually-hidden" for=input_id.clone()>{rename_label}</label>
                                        <input id=input_id name="name" type="text" required maxlength="80"
                                            value=name/>
                                        <button type="submit" class="button small">"Rename"</button>
                                    </ActionForm>
                                </td>
                                <td><Timestamp ms=e.created_at/></td>
                                <td>
                                    <ActionForm action=remove attr:class="inline-form">
                                        <input type="hidden" name="key" value=remove_key/>
                                        <button type="submit" class="button small danger"
                                            aria-label=remove_label>"Remove"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
