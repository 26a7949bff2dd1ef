//! User administration: list, create, change a role, disable or enable. Admins only; the
//! server refuses everyone else whatever the page shows.

use leptos::prelude::*;
use leptos_meta::Title;
use varai_domain::Role;

use crate::components::{ActionResult, ErrorNote, FieldError, RoleBadge, RoleSelect, Timestamp};
use varai_core::accounts::User;
use varai_core::error::AppError;

#[leptos::server(prefix = "/rpc", endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<User>, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::accounts::list_users(&services, &who).await
}

#[leptos::server(prefix = "/rpc", endpoint = "users/create")]
pub async fn create_user(
    username: String,
    password: String,
    role: String,
) -> Result<User, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::accounts::create_user(&services, &who, &username, &password, &role).await
}

#[leptos::server(prefix = "/rpc", endpoint = "users/change-role")]
pub async fn change_user_role(id: i64, role: String) -> Result<User, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::accounts::change_role(&services, &who, id, &role).await
}

#[leptos::server(prefix = "/rpc", endpoint = "users/set-disabled")]
pub async fn set_user_disabled(id: i64, disabled: bool) -> Result<User, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::accounts::set_disabled(&services, &who, id, disabled).await
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let change_role = ServerAction::<ChangeUserRole>::new();
    let set_disabled = ServerAction::<SetUserDisabled>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                change_role.version().get(),
                set_disabled.version().get(),
            )
        },
        |_| list_users(),
    );
    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        <p class="lede">"People who can sign in, and the role each one holds."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => view! {
                        <NewUserForm create/>
                        <ActionResult value=change_role.value() success="Role changed."/>
                        <ActionResult value=set_disabled.value() success="Account updated."/>
                        <UserTable list change_role set_disabled/>
                    }
                    .into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn NewUserForm(create: ServerAction<CreateUser>) -> impl IntoView {
    let value = create.value();
    let invalid =
        move |field: &str| matches!(value.get(), Some(Err(ref e)) if e.field() == Some(field));
    view! {
        <section class="card" aria-labelledby="new-user-title">
            <h2 id="new-user-title">"Add a user"</h2>
            <ActionForm action=create attr:class="form-grid">
                <div class="field">
                    <label for="new-username">"Username"</label>
                    <input id="new-username" name="username" type="text" required
                        autocomplete="off" aria-invalid=move || invalid("username").to_string()
                        aria-describedby="username-error"/>
                    <FieldError value field="username"/>
                </div>
                <div class="field">
                    <label for="new-password">"Initial password"</label>
                    <input id="new-password" name="password" type="password" required
                        autocomplete="new-password" minlength="12"
                        aria-invalid=move || invalid("password").to_string()
                        aria-describedby="password-error password-hint"/>
                    <p class="hint" id="password-hint">"At least 12 characters."</p>
                    <FieldError value field="password"/>
                </div>
                <div class="field">
                    <label for="new-role">"Role"</label>
                    <RoleSelect id="new-role" name="role" selected=Role::Viewer/>
                    <FieldError value field="role"/>
                </div>
                <div class="field actions">
                    <button type="submit" class="button primary">"Create user"</button>
                </div>
            </ActionForm>
            {move || match value.get() {
                Some(Err(e)) if e.field().is_none() => Some(view! { <ErrorNote error=e/> }),
                _ => None,
            }}
            {move || match value.get() {
                Some(Ok(u)) => Some(view! {
                    <div class="notice success" role="status">
                        "✓ Created " <strong>{u.username}</strong> " as " {u.role.label()} "."
                    </div>
                }),
                _ => None,
            }}
        </section>
    }
}

#[component]
fn UserTable(
    list: Vec<User>,
    change_role: ServerAction<ChangeUserRole>,
    set_disabled: ServerAction<SetUserDisabled>,
) -> impl IntoView {
    view! {
        <table class="table" aria-label="Users">
            <thead>
                <tr>
                    <th scope="col">"Username"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Last sign-in"</th>
                    <th scope="col">"Change role"</th>
                    <th scope="col"><span class="visually-hidden">"Enable or disable"</span></th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|user| view! { <UserRow user change_role set_disabled/> })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn UserRow(
    user: User,
    change_role: ServerAction<ChangeUserRole>,
    set_disabled: ServerAction<SetUserDisabled>,
) -> impl IntoView {
    let select_id = format!("role-{}", user.id);
    let toggle_text = if user.disabled { "Enable" } else { "Disable" };
    let toggle_label = format!("{toggle_text} {}", user.username);
    let role_label = format!("Role for {}", user.username);
    let name = user.username;
    view! {
        <tr data-username=name.clone() class:disabled=user.disabled>
            <th scope="row">{name.clone()}</th>
            <td><RoleBadge role=user.role/></td>
            <td>
                {if user.disabled {
                    view! { <span class="status off">"⏸ Disabled"</span> }
                } else {
                    view! { <span class="status on">"● Active"</span> }
                }}
            </td>
            <td>
                {match user.last_login_at {
                    Some(ms) => view! { <Timestamp ms/> }.into_any(),
                    None => view! { <span class="muted">"Never"</span> }.into_any(),
                }}
            </td>
            <td>
                <ActionForm action=change_role attr:class="inline-form">
                    <input type="hidden" name="id" value=user.id/>
                    <label class="visually-hidden" for=select_id.clone()>
                        {role_label}
                    </label>
                    <RoleSelect id=select_id name="role" selected=user.role/>
                    <button type="submit" class="button small">"Save role"</button>
                </ActionForm>
            </td>
            <td>
                <ActionForm action=set_disabled attr:class="inline-form">
                    <input type="hidden" name="id" value=user.id/>
                    <input type="hidden" name="disabled" value=(!user.disabled).to_string()/>
                    <button type="submit" class="button small"
                        class:danger=!user.disabled
                        aria-label=toggle_label>
                        {toggle_text}
                    </button>
                </ActionForm>
            </td>
        </tr>
    }
}
