//! Settings: the sections a user's role can open.

use leptos::prelude::*;
use leptos_meta::Title;
use varai_domain::Role;

use crate::me::{me_allows, use_me};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let me = use_me();
    view! {
        <Title text="Settings"/>
        <h1>"Settings"</h1>
        <div class="grid two">
            <a class="card link-card" href="/settings/account">
                <h2>"Your account"</h2>
                <p>"Change your password."</p>
            </a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let me = me.await;
                    me_allows(&me, Role::Admin).then(|| view! {
                        <a class="card link-card" href="/settings/users">
                            <h2>"Users"</h2>
                            <p>"Add people, change their roles, disable accounts."</p>
                        </a>
                        <a class="card link-card" href="/settings/tokens">
                            <h2>"API tokens"</h2>
                            <p>"Create and revoke tokens for CI and scripts."</p>
                        </a>
                        <a class="card link-card" href="/settings/environments">
                            <h2>"Environments"</h2>
                            <p>"Add, rename and remove environments."</p>
                        </a>
                        <a class="card link-card" href="/settings/sdk-keys">
                            <h2>"SDK keys"</h2>
                            <p>"Keys applications use to evaluate flags over OFREP."</p>
                        </a>
                        <a class="card link-card" href="/settings/import">
                            <h2>"Import from Unleash"</h2>
                            <p>"Bring toggles, segments and variants over from Unleash."</p>
                        </a>
                    })
                })}
            </Suspense>
        </div>
    }
}
