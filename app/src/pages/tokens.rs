//! API tokens for CI and scripts: create one with a role (its secret shown once), list them,
//! revoke one. Admins only.

use leptos::prelude::*;
use leptos_meta::Title;
use varai_domain::Role;

use crate::components::{
    ActionResult, ErrorNote, FieldError, RoleBadge, RoleSelect, SecretOnce, Timestamp,
};
use varai_core::accounts::{ApiToken, CreatedToken};
use varai_core::error::AppError;

#[leptos::server(prefix = "/rpc", endpoint = "tokens/list")]
pub async fn list_tokens() -> Result<Vec<ApiToken>, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::accounts::list_tokens(&services, &who).await
}

#[leptos::server(prefix = "/rpc", endpoint = "tokens/create")]
pub async fn create_token(name: String, role: String) -> Result<CreatedToken, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::accounts::create_token(&services, &who, &name, &role).await
}

#[leptos::server(prefix = "/rpc", endpoint = "tokens/revoke")]
pub async fn revoke_token(id: i64) -> Result<ApiToken, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::accounts::revoke_token(&services, &who, id).await
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    view! {
        <Title text="API tokens"/>
        <h1>"API tokens"</h1>
        <p class="lede">
            "Tokens let CI pipelines and scripts call the REST API under "
            <code>"/api/v1"</code> " with " <code>"Authorization: Bearer <token>"</code>
            "; each token acts with its own role."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(list) => view! {
                        <NewTokenForm create/>
                        <ActionResult value=revoke.value() success="Token revoked."/>
                        <TokenTable list revoke/>
                    }
                    .into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn NewTokenForm(create: ServerAction<CreateToken>) -> impl IntoView {
    let value = create.value();
    view! {
        <section class="card" aria-labelledby="new-token-title">
            <h2 id="new-token-title">"Create a token"</h2>
            <ActionForm action=create attr:class="form-grid">
                <div class="field">
                    <label for="token-name">"Name"</label>
                    <input id="token-name" name="name" type="text" required maxlength="80"
                        placeholder="e.g. ci-deploy" aria-describedby="name-error"/>
                    <FieldError value field="name"/>
                </div>
                <div class="field">
                    <label for="token-role">"Role"</label>
                    <RoleSelect id="token-role" name="role" selected=Role::Developer/>
                    <FieldError value field="role"/>
                </div>
                <div class="field actions">
                    <button type="submit" class="button primary">"Create token"</button>
                </div>
            </ActionForm>
            {move || match value.get() {
                Some(Ok(created)) => Some(view! {
                    <SecretOnce what=format!("Token {}", created.token.name) secret=created.secret testid="new-token"/>
                }
                .into_any()),
                Some(Err(e)) if e.field().is_none() => Some(view! { <ErrorNote error=e/> }.into_any()),
                _ => None,
            }}
        </section>
    }
}

#[component]
fn TokenTable(list: Vec<ApiToken>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No tokens yet."</p> }.into_any();
    }
    view! {
        <table class="table" aria-label="API tokens">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Starts with"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|t| view! { <TokenRow t revoke/> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn TokenRow(t: ApiToken, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    let revoke_label = format!("Revoke {}", t.name);
    let status = match t.revoked_at {
        Some(ms) => view! {
            <span class="status off">"✕ Revoked " <Timestamp ms/></span>
        }
        .into_any(),
        None => view! {
            <ActionForm action=revoke attr:class="inline-form">
                <input type="hidden" name="id" value=t.id/>
                <button type="submit" class="button small danger"
                    aria-label=revoke_label>"Revoke"</button>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <tr>
            <th scope="row">{t.name.clone()}</th>
            <td><RoleBadge role=t.role/></td>
            <td><code>{t.prefix.clone()} "…"</code></td>
            <td><Timestamp ms=t.created_at/> <span class="muted">" by " {t.created_by.clone()}</span></td>
            <td>
                {match t.last_used_at {
                    Some(ms) => view! { <Timestamp ms/> }.into_any(),
                    None => view! { <span class="muted">"Never"</span> }.into_any(),
                }}
            </td>
            <td>{status}</td>
        </tr>
    }
}
