//! The Sandbox page: the built-in cluster's behaviour profiles per version (errors, latency,
//! CPU, memory, conversion, whether pods come up) and each app's request rate, so a bad
//! release can be rehearsed; and how to reach the sandbox with kubectl.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use varai_domain::Role;
use varai_domain::sandbox::{Behaviour, PodHealth};

use crate::components::{ActionResult, ErrorNote};
use crate::me::{me_allows, use_me};
use varai_core::deploy::{SandboxProfile, SandboxView};
use varai_core::error::AppError;

#[leptos::server(prefix = "/rpc", endpoint = "sandbox/view")]
pub async fn load_sandbox() -> Result<SandboxView, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::deploy::sandbox_view(&services, &who).await
}

#[leptos::server(prefix = "/rpc", endpoint = "sandbox/profile", input = Json)]
pub async fn save_profile(profile: SandboxProfile) -> Result<(), AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::deploy::set_behaviour(&services, &who, profile).await
}

#[leptos::server(prefix = "/rpc", endpoint = "sandbox/rate", input = Json)]
pub async fn save_rate(namespace: String, app: String, rate: f64) -> Result<(), AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::deploy::set_rate(&services, &who, &namespace, &app, rate).await
}

#[component]
pub fn SandboxPage() -> impl IntoView {
    let profile = ServerAction::<SaveProfile>::new();
    let rate = ServerAction::<SaveRate>::new();
    let data = Resource::new(
        move || (profile.version().get(), rate.version().get()),
        |_| load_sandbox(),
    );
    let me = use_me();
    view! {
        <Title text="Sandbox"/>
        <h1>"Sandbox cluster"</h1>
        <p class="lede">
            "Environments without a cluster of their own run here. Each version answers the simulated "
            "traffic as its profile says: make one slow or failing to rehearse a bad release."
        </p>
        <ActionResult value=profile.value() success="Profile saved: the traffic follows it from now on."/>
        <ActionResult value=rate.value() success="Request rate saved."/>
        <Transition fallback=|| view! { <p class="muted">"Loading the sandbox…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = me_allows(&me.await, Role::Developer);
                match data.await {
                    Ok(view) => view! { <Profiles view can_edit profile rate/> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Profiles(
    view: SandboxView,
    can_edit: bool,
    profile: ServerAction<SaveProfile>,
    rate: ServerAction<SaveRate>,
) -> impl IntoView {
    let kubeconfig = view.kubeconfig.clone();
    let kubectl = view.api_port.map(|p| {
        let how = match kubeconfig {
            Some(path) => view! {
                <p>"The sandbox speaks the Kubernetes API on loopback port " {p} ", one namespace per environment. It answers only the token the server made at start-up, written with the address to a kubeconfig only the server's user can read:"</p>
                <pre class="command">{format!("kubectl --kubeconfig {path} get deploy,rs,pods,svc -n production\nkubectl --kubeconfig {path} rollout status deploy/storefront -n production")}</pre>
            }.into_any(),
            None => view! {
                <p>"The sandbox speaks the Kubernetes API on loopback port " {p} "; it answers only the bearer token the server made at start-up."</p>
            }.into_any(),
        };
        view! {
            <section class="card">
                <h2>"kubectl"</h2>
                {how}
            </section>
        }
    });
    let rates = view
        .rates
        .iter()
        .map(|(ns, app, r)| {
            let value = RwSignal::new(format!("{r}"));
            let input_id = format!("rate-{ns}-{app}");
            let (ns2, app2) = (ns.clone(), app.clone());
            let submit = move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                // A value that does not parse is sent as -1, which the server refuses by name.
                let rate_value = value
                    .get_untracked()
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite())
                    .unwrap_or(-1.0);
                rate.dispatch(SaveRate { namespace: ns2.clone(), app: app2.clone(), rate: rate_value });
            };
            view! {
                <form class="inline-form" on:submit=submit>
                    <label for=input_id.clone()>{format!("{app} in {ns}: requests per second")}</label>
                    <input id=input_id type="text" inputmode="decimal" size="6" disabled=!can_edit
                        prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                    {can_edit.then(|| view! { <button type="submit" class="button small">"Set rate"</button> })}
                </form>
            }
        })
        .collect_view();
    let rows = view
        .profiles
        .into_iter()
        .map(|p| view! { <ProfileRow p can_edit action=profile/> })
        .collect_view();
    view! {
        <section class="card">
            <h2>"Traffic"</h2>
            <div class="stack">{rates}</div>
        </section>
        <section class="card">
            <h2>"Behaviour per version"</h2>
            <div class="table-scroll">
                <table class="table compact profiles" aria-label="Behaviour profiles">
                    <thead><tr>
                        <th scope="col">"Environment / app / version"</th>
                        <th scope="col">"Errors %"</th>
                        <th scope="col">"p50 ms"</th>
                        <th scope="col">"p99 ms"</th>
                        <th scope="col">"CPU m"</th>
                        <th scope="col">"Memory MiB"</th>
                        <th scope="col">"Conversion %"</th>
                        <th scope="col">"Pods"</th>
                        <th scope="col"><span class="visually-hidden">"Save"</span></th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
        {kubectl}
    }
}

/// A number shown with at most `places` decimals and no trailing zeros.
fn shown(v: f64, places: usize) -> String {
    let s = format!("{v:.places$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[component]
fn ProfileRow(
    p: SandboxProfile,
    can_edit: bool,
    action: ServerAction<SaveProfile>,
) -> impl IntoView {
    let b = p.behaviour;
    let errors = RwSignal::new(shown(b.error_rate * 100.0, 2));
    let p50 = RwSignal::new(shown(b.latency_p50_ms, 1));
    let p99 = RwSignal::new(shown(b.latency_p99_ms, 1));
    let cpu = RwSignal::new(shown(b.cpu_millicores, 0));
    let memory = RwSignal::new(shown(b.memory_mib, 0));
    let conversion = RwSignal::new(shown(b.conversion_rate * 100.0, 2));
    let health = RwSignal::new(b.health.key().to_owned());
    let key = format!("{}-{}-{}", p.namespace, p.app, p.version);
    let label = format!("{} / {} / {}", p.namespace, p.app, p.version);
    let cell = move |signal: RwSignal<String>, what: &str| {
        view! {
            <td><input type="text" inputmode="decimal" size="6" aria-label=format!("{what} of {label}")
                disabled=!can_edit prop:value=move || signal.get()
                on:input=move |ev| signal.set(event_target_value(&ev))/></td>
        }
    };
    let (ns, app, version) = (p.namespace.clone(), p.app.clone(), p.version.clone());
    let problem = RwSignal::new(None::<String>);
    let save = move |_| {
        let fields = [
            ("error rate", errors),
            ("median latency", p50),
            ("p99 latency", p99),
            ("CPU", cpu),
            ("memory", memory),
            ("conversion rate", conversion),
        ];
        let mut values = [0.0f64; 6];
        for (slot, (what, signal)) in values.iter_mut().zip(fields) {
            let text = signal.get_untracked();
            match text.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => *slot = v,
                _ => {
                    problem.set(Some(format!("{what}: '{text}' is not a number")));
                    return;
                }
            }
        }
        problem.set(None);
        let [e, l50, l99, c, m, conv] = values;
        let behaviour = Behaviour {
            error_rate: e / 100.0,
            latency_p50_ms: l50,
            latency_p99_ms: l99,
            cpu_millicores: c,
            memory_mib: m,
            conversion_rate: conv / 100.0,
            health: PodHealth::from_key(&health.get_untracked()).unwrap_or_default(),
        };
        action.dispatch(SaveProfile {
            profile: SandboxProfile {
                namespace: ns.clone(),
                app: app.clone(),
                version: version.clone(),
                behaviour,
            },
        });
    };
    let health_options = PodHealth::ALL
        .into_iter()
        .map(|h| view! { <option value=h.key()>{h.label()}</option> })
        .collect_view();
    view! {
        <tr data-testid=format!("profile-{key}")>
            <th scope="row">{format!("{} / {} / ", p.namespace, p.app)}<strong>{p.version.clone()}</strong></th>
            {cell(errors, "Error rate")}
            {cell(p50, "Median latency")}
            {cell(p99, "p99 latency")}
            {cell(cpu, "CPU")}
            {cell(memory, "Memory")}
            {cell(conversion, "Conversion rate")}
            <td>
                <select aria-label=format!("Pods of {}", p.version) disabled=!can_edit
                    prop:value=move || health.get() on:change=move |ev| health.set(event_target_value(&ev))>
                    {health_options}
                </select>
            </td>
            <td>
                {can_edit.then(|| view! { <button type="button" class="button small" on:click=save>"Save"</button> })}
                {move || problem.get().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
            </td>
        </tr>
    }
}
