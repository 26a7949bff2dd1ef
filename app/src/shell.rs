//! The document around every page and the signed-in layout: navigation, who is signed in,
//! and the routes.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Outlet, ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::{ErrorNote, RoleBadge};
use crate::me::get_me;
use crate::pages::{
    NotFoundPage,
    account::AccountPage,
    analysis::AnalysisPage,
    audit::AuditLogPage,
    changes::ChangesPage,
    deployments::DeploymentsPage,
    environments::EnvironmentsPage,
    flags::{FlagEditorPage, FlagsPage, NewFlagPage},
    import::ImportPage,
    login::LoginPage,
    monitoring::MonitoringPage,
    overview::OverviewPage,
    rollouts::{RolloutsPage, plan::PlanningPage, view::RolloutPage},
    sandbox::SandboxPage,
    sdk_keys::SdkKeysPage,
    segments::{SegmentEditorPage, SegmentsPage},
    settings::SettingsPage,
    tokens::TokensPage,
    users::UsersPage,
};
use varai_core::accounts::Me;

/// The HTML document the server sends; the router fills its body.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// A page's Content-Security-Policy: scripts come from this site, inline ones only with this
/// response's nonce (the hydration script carries it), WebAssembly is compiled from this site's
/// files, and nothing is loaded from or sent to anywhere else. Styles may be inline (bars and
/// charts size themselves with `style`).
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Every page is rendered whole on the server (`SsrMode::Async`), so it reads and works
/// before, or without, the WASM: streamed fragments would need JavaScript to be placed.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/varai.css"/>
        <Title formatter=|page: String| format!("{page} · VARAi Rollout")/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=SignedInLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("rollouts") view=RolloutsPage ssr=SsrMode::Async/>
                    <Route path=path!("rollouts/new") view=PlanningPage ssr=SsrMode::Async/>
                    <Route path=path!("rollouts/:id") view=RolloutPage ssr=SsrMode::Async/>
                    <Route path=path!("rollouts/:id/edit") view=PlanningPage ssr=SsrMode::Async/>
                    <Route path=path!("flags") view=FlagsPage ssr=SsrMode::Async/>
                    <Route path=path!("flags/new") view=NewFlagPage ssr=SsrMode::Async/>
                    <Route path=path!("flags/:key") view=FlagEditorPage ssr=SsrMode::Async/>
                    <Route path=path!("segments") view=SegmentsPage ssr=SsrMode::Async/>
                    <Route path=path!("deployments") view=DeploymentsPage ssr=SsrMode::Async/>
                    <Route path=path!("sandbox") view=SandboxPage ssr=SsrMode::Async/>
                    <Route path=path!("monitoring") view=MonitoringPage ssr=SsrMode::Async/>
                    <Route path=path!("analysis") view=AnalysisPage ssr=SsrMode::Async/>
                    <Route path=path!("segments/:key") view=SegmentEditorPage ssr=SsrMode::Async/>
                    <Route path=path!("audit") view=AuditLogPage ssr=SsrMode::Async/>
                    <Route path=path!("changes") view=ChangesPage ssr=SsrMode::Async/>
                    <Route path=path!("settings") view=SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("settings/users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("settings/tokens") view=TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("settings/environments") view=EnvironmentsPage ssr=SsrMode::Async/>
                    <Route path=path!("settings/sdk-keys") view=SdkKeysPage ssr=SsrMode::Async/>
                    <Route path=path!("settings/import") view=ImportPage ssr=SsrMode::Async/>
                    <Route path=path!("settings/account") view=AccountPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Navigation, the signed-in user, and the page.
#[component]
fn SignedInLayout() -> impl IntoView {
    let me = Resource::new_blocking(|| (), |_| get_me());
    provide_context(me);
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="layout">
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    " VARAi Rollout"
                </a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        me.await.ok().map(|me| view! { <UserMenu me/> })
                    })}
                </Suspense>
            </header>
            <nav class="sidebar" aria-label="Main">
                <ul>
                    <li><A href="/" exact=true>"Overview"</A></li>
                    <li><A href="/rollouts">"Rollouts"</A></li>
                    <li><A href="/flags">"Flags"</A></li>
                    <li><A href="/segments">"Segments"</A></li>
                    <li><A href="/deployments">"Deployments"</A></li>
                    <li><A href="/changes">"Changes"</A></li>
                    <li><A href="/monitoring">"Monitoring"</A></li>
                    <li><A href="/analysis">"Analysis"</A></li>
                    <li><A href="/sandbox">"Sandbox"</A></li>
                    <li><A href="/audit">"Audit"</A></li>
                    <li><A href="/settings">"Settings"</A></li>
                </ul>
            </nav>
            <main id="main" class="content">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match me.await {
                            Ok(_) => view! { <Outlet/> }.into_any(),
                            Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                        }
                    })}
                </Suspense>
            </main>
        </div>
    }
}

#[component]
fn UserMenu(me: Me) -> impl IntoView {
    view! {
        <div class="user-menu">
            <span class="user-name" data-testid="signed-in-user">{me.name.clone()}</span>
            <RoleBadge role=me.role/>
            <form method="post" action="/logout">
                <button type="submit" class="button ghost">"Sign out"</button>
            </form>
        </div>
    }
}
