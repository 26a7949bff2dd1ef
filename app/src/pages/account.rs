//! The signed-in user's own account: change the password.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{ErrorNote, FieldError};
use varai_core::error::AppError;

#[leptos::server(prefix = "/rpc", endpoint = "account/change-password")]
pub async fn change_password(current: String, new_password: String) -> Result<(), AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::accounts::change_own_password(&services, &who, &current, &new_password).await?;
    // The new password ended every session of this user; this browser stays signed in, under
    // a new session id.
    if let Ok(session) = leptos_axum::extract::<tower_sessions::Session>().await {
        session.cycle_id().await.map_err(|e| {
            tracing::error!(error = %e, "could not renew the session after a password change");
            AppError::Internal
        })?;
    }
    Ok(())
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let value = change.value();
    view! {
        <Title text="Your account"/>
        <h1>"Your account"</h1>
        <section class="card narrow" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <ActionForm action=change attr:class="stack">
                <label for="current">"Current password"</label>
                <input id="current" name="current" type="password" required
                    autocomplete="current-password" aria-describedby="current-error"/>
                <FieldError value field="current"/>
                <label for="new_password">"New password"</label>
                <input id="new_password" name="new_password" type="password" required
                    minlength="12" autocomplete="new-password"
                    aria-describedby="password-error new-password-hint"/>
                <p class="hint" id="new-password-hint">"At least 12 characters."</p>
                <FieldError value field="password"/>
                <button type="submit" class="button primary">"Change password"</button>
            </ActionForm>
            {move || match value.get() {
                Some(Ok(())) => Some(view! {
                    <div class="notice success" role="status">"✓ Password changed."</div>
                }.into_any()),
                Some(Err(e)) if e.field().is_none() => Some(view! { <ErrorNote error=e/> }.into_any()),
                _ => None,
            }}
        </section>
    }
}
