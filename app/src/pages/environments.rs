//! Environments: add, rename and remove the places flags are configured. Admins only; a
//! removal is refused, saying why, while flags or SDK keys still use the environment.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{ActionResult, ErrorNote, FieldError, Timestamp};
use varai_core::error::AppError;
use varai_core::flags::Environment;
use varai_domain::Role;

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

#[leptos::server(prefix = "/rpc", endpoint = "environments/protect")]
pub async fn protect_environment(
    key: String,
    protected: Option<String>,
    direct_role: String,
    approver_role: String,
    version: i64,
) -> Result<Environment, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let protection = varai_core::changes::Protection {
        protected: protected.is_some(),
        direct_role: Role::parse_field(&direct_role, "directRole")?,
        approver_role: Role::parse_field(&approver_role, "approverRole")?,
    };
    varai_core::flags::set_protection(&services, &who, &key, protection, version).await
}

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let add = ServerAction::<AddEnvironment>::new();
    let rename = ServerAction::<RenameEnvironment>::new();
    let remove = ServerAction::<RemoveEnvironment>::new();
    let protect = ServerAction::<ProtectEnvironment>::new();
    let envs = Resource::new(
        move || {
            (
                add.version().get(),
                rename.version().get(),
                remove.version().get(),
                protect.version().get(),
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
                    Ok(list) => view! {
                        <EnvironmentTable list=list.clone() rename remove/>
                        <ProtectionTable list protect/>
                    }.into_any(),
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

/// The roles a protection policy can name: everyone above viewer.
fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Viewer)
        .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.label()}</option> })
        .collect_view()
}

#[component]
fn ProtectionTable(
    list: Vec<Environment>,
    protect: ServerAction<ProtectEnvironment>,
) -> impl IntoView {
    view! {
        <section class="card protection-card" aria-labelledby="protection-title">
            <h2 id="protection-title">"Protection"</h2>
            <p class="hint">
                "In a protected environment, people below the direct role cannot deploy or change "
                "flags themselves: they start a rollout or ask with a change request, which "
                "another person with the approver role (or above) reviews. Production starts protected."
            </p>
            <ActionResult value=protect.value() success="Protection saved."/>
            <div class="protection-list">
                {list.into_iter().map(|e| {
                    let p = e.protection;
                    let [on_id, direct_id, approver_id] =
                        ["on", "direct", "approver"].map(|what| format!("protect-{}-{what}", e.key));
                    let (on_for, direct_for, approver_for) =
                        (on_id.clone(), direct_id.clone(), approver_id.clone());
                    view! {
                        <ActionForm action=protect attr:class="protection-row">
                            <input type="hidden" name="key" value=e.key.clone()/>
                            <input type="hidden" name="version" value=e.version/>
                            <strong class="env-name">{e.name.clone()}</strong>
                            <label class="check" for=on_for>
                                <input id=on_id type="checkbox" name="protected" value="on" checked=p.protected/>
                                " Protected"
                            </label>
                            <div class="field">
                                <label for=direct_for>"Direct changes by"</label>
                                <select id=direct_id name="direct_role">{role_options(p.direct_role)}</select>
                            </div>
                            <div class="field">
                                <label for=approver_for>"Requests approved by"</label>
                                <select id=approver_id name="approver_role">{role_options(p.approver_role)}</select>
                            </div>
                            <button type="submit" class="button small">{format!("Save {}", e.name)}</button>
                        </ActionForm>
                    }
                }).collect_view()}
            </div>
        </section>
    }
}
