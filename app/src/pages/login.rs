//! The sign-in page. It is a plain HTML form posted to `/login`, so it works the same with
//! or without JavaScript; the server answers with a redirect.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The message for an `?error=` code the server redirected with.
fn login_message(code: &str, retry: Option<String>) -> Option<(&'static str, String)> {
    match code {
        "invalid" => Some((
            "error",
            "Wrong username or password, or the account is disabled.".into(),
        )),
        "throttled" => Some((
            "error",
            format!(
                "Too many failed sign-ins for this account. Try again in {} seconds.",
                retry.unwrap_or_else(|| "a few".into())
            ),
        )),
        "signed_out" => Some(("success", "You have signed out.".into())),
        "expired" => Some(("info", "Please sign in to continue.".into())),
        _ => None,
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let notice = move || {
        let q = query.read();
        let code = q.get("error").or_else(|| q.get("notice"))?;
        login_message(&code, q.get("retry"))
    };
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <Title text="Sign in"/>
        <main class="centered">
            <div class="card narrow login-card">
                <p class="brand large">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    " VARAi Rollout"
                </p>
                <h1>"Sign in"</h1>
                {move || {
                    notice()
                        .map(|(kind, text)| {
                            let role = if kind == "error" { "alert" } else { "status" };
                            view! { <div class=format!("notice {kind}") role=role>{text}</div> }
                        })
                }}
                <form method="post" action="/login" class="stack">
                    <input type="hidden" name="next" prop:value=next value=next/>
                    <label for="username">"Username"</label>
                    <input id="username" name="username" type="text" autocomplete="username"
                        required autofocus/>
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password"
                        autocomplete="current-password" required/>
                    <button type="submit" class="button primary">"Sign in"</button>
                </form>
            </div>
        </main>
    }
}
