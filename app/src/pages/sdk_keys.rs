//! SDK keys: what applications send to the OFREP endpoints. One or more per environment,
//! created (shown once) and revoked by an admin.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{ActionResult, ErrorNote, FieldError, SecretOnce, Timestamp};
use crate::pages::environments::list_environments;
use varai_core::error::AppError;
use varai_core::flags::{CreatedSdkKey, Environment, SdkKey};

#[leptos::server(prefix = "/rpc", endpoint = "sdk-keys/list")]
pub async fn list_sdk_keys() -> Result<Vec<SdkKey>, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::list_sdk_keys(&services, &who).await
}

#[leptos::server(prefix = "/rpc", endpoint = "sdk-keys/create")]
pub async fn create_sdk_key(environment: String, name: String) -> Result<CreatedSdkKey, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::create_sdk_key(&services, &who, &environment, &name).await
}

#[leptos::server(prefix = "/rpc", endpoint = "sdk-keys/revoke")]
pub async fn revoke_sdk_key(id: i64) -> Result<SdkKey, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::revoke_sdk_key(&services, &who, id).await
}

#[component]
pub fn SdkKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateSdkKey>::new();
    let revoke = ServerAction::<RevokeSdkKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_sdk_keys(),
    );
    let envs = Resource::new(|| (), |_| list_environments());
    view! {
        <Title text="SDK keys"/>
        <h1>"SDK keys"</h1>
        <p class="lede">
            "Applications evaluate flags at " <code>"/ofrep/v1/evaluate/flags"</code>
            " with an OpenFeature OFREP provider, sending a key as "
            <code>"Authorization: Bearer <key>"</code> " or " <code>"X-API-Key"</code>
            ". Each key reads one environment."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
            {move || Suspend::new(async move {
                match (keys.await, envs.await) {
                    (Ok(list), Ok(envs)) => view! {
                        <NewKeyForm create envs/>
                        <ActionResult value=revoke.value() success="SDK key revoked."/>
                        <KeyTable list revoke/>
                    }
                    .into_any(),
                    (Err(e), _) | (_, Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn NewKeyForm(create: ServerAction<CreateSdkKey>, envs: Vec<Environment>) -> impl IntoView {
    let value = create.value();
    view! {
        <section class="card" aria-labelledby="new-key-title">
            <h2 id="new-key-title">"Create an SDK key"</h2>
            <ActionForm action=create attr:class="form-grid">
                <div class="field">
                    <label for="key-env">"Environment"</label>
                    <select id="key-env" name="environment">
                        {envs
                            .into_iter()
                            .map(|e| view! { <option value=e.key.clone()>{e.name.clone()}</option> })
                            .collect_view()}
                    </select>
                    <FieldError value field="environment"/>
                </div>
                <div class="field">
                    <label for="key-name">"Name"</label>
                    <input id="key-name" name="name" type="text" required maxlength="80"
                        placeholder="e.g. storefront-web"/>
                    <FieldError value field="name"/>
                </div>
                <div class="field actions">
                    <button type="submit" class="button primary">"Create key"</button>
                </div>
            </ActionForm>
            {move || match value.get() {
                Some(Ok(created)) => Some(view! {
                    <SecretOnce what=format!("SDK key {} for {}", created.key.name, created.key.environment)
                        secret=created.secret testid="new-sdk-key"/>
                }
                .into_any()),
                Some(Err(e)) if e.field().is_none() => Some(view! { <ErrorNote error=e/> }.into_any()),
                _ => None,
            }}
        </section>
    }
}

#[component]
fn KeyTable(list: Vec<SdkKey>, revoke: ServerAction<RevokeSdkKey>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No SDK keys yet."</p> }.into_any();
    }
    view! {
        <table class="table" aria-label="SDK keys">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Environment"</th>
                    <th scope="col">"Starts with"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|k| {
                        let label = format!("Revoke {}", k.name);
                        let status = match k.revoked_at {
                            Some(ms) => view! { <span class="status off">"✕ Revoked " <Timestamp ms/></span> }.into_any(),
                            None => view! {
                                <ActionForm action=revoke attr:class="inline-form">
                                    <input type="hidden" name="id" value=k.id/>
                                    <button type="submit" class="button small danger" aria-label=label>"Revoke"</button>
                                </ActionForm>
                            }
                            .into_any(),
                        };
                        view! {
                            <tr>
                                <th scope="row">{k.name.clone()}</th>
                                <td><code>{k.environment.clone()}</code></td>
                                <td><code>{k.prefix.clone()} "…"</code></td>
                                <td><Timestamp ms=k.created_at/> <span class="muted">" by " {k.created_by.clone()}</span></td>
                                <td>{status}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
