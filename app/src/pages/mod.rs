//! One module per page: its server functions first, then its components.

pub mod account;
pub mod analysis;
pub mod audit;
pub mod changes;
pub mod deployments;
pub mod environments;
pub mod flags;
pub mod import;
pub mod login;
pub mod monitoring;
pub mod overview;
pub mod rollouts;
pub mod sandbox;
pub mod sdk_keys;
pub mod segments;
pub mod settings;
pub mod tokens;
pub mod users;

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any address that is not a page, with the status set to 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="centered">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p>"There is no page at this address."</p>
                <p><a class="button" href="/">"Go to the overview"</a></p>
            </div>
        </main>
    }
}
