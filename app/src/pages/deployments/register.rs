//! Registering an app in an environment, for operators: either by naming the Deployment,
//! Service and container it already has in the cluster, or by generating them from an image,
//! a port, a replica count and resources.

use leptos::prelude::*;

use super::RegisterApp;
use crate::components::{ActionResult, FieldError};
use varai_core::deploy::{NewApp, NewWorkload};

/// A text field with its label.
#[component]
fn TextInput(
    id: &'static str,
    label: &'static str,
    signal: RwSignal<String>,
    hint: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="text" placeholder=hint prop:value=move || signal.get()
                on:input=move |ev| signal.set(event_target_value(&ev))/>
        </div>
    }
}

/// The value of an optional field, when one was typed.
fn optional(s: RwSignal<String>) -> Option<String> {
    let v = s.get_untracked().trim().to_owned();
    (!v.is_empty()).then_some(v)
}

/// What a generated app runs, as typed.
#[derive(Clone, Copy)]
struct WorkloadDraft {
    version: RwSignal<String>,
    port: RwSignal<String>,
    replicas: RwSignal<String>,
    cpu: RwSignal<String>,
    memory: RwSignal<String>,
}

impl WorkloadDraft {
    fn new() -> WorkloadDraft {
        let field = |initial: &str| RwSignal::new(initial.to_owned());
        WorkloadDraft {
            version: field("v1"),
            port: field("8080"),
            replicas: field("2"),
            cpu: field("100m"),
            memory: field("128Mi"),
        }
    }

    fn build(self) -> Result<NewWorkload, String> {
        let (Ok(port), Ok(replicas)) = (
            self.port.get_untracked().trim().parse::<u16>(),
            self.replicas.get_untracked().trim().parse::<u32>(),
        ) else {
            return Err("Port and replicas must be whole numbers".into());
        };
        Ok(NewWorkload {
            version: self.version.get_untracked().trim().to_owned(),
            port,
            replicas,
            cpu: optional(self.cpu),
            memory: optional(self.memory),
        })
    }
}

#[component]
pub fn RegisterForm(env: String, action: ServerAction<RegisterApp>) -> impl IntoView {
    let field = |initial: &str| RwSignal::new(initial.to_owned());
    let (name, image, deployment, service, container) =
        (field(""), field(""), field(""), field(""), field(""));
    let generate = RwSignal::new(true);
    let workload = WorkloadDraft::new();
    let WorkloadDraft {
        version,
        port,
        replicas,
        cpu,
        memory,
    } = workload;
    let problem = RwSignal::new(None::<String>);
    // A registered app gets its own panel: load the page again, scrolled to it.
    let env_key = env.clone();
    Effect::new(move |_| {
        if let Some(Ok(app)) = action.value().get() {
            let _ = window().location().set_href(&format!(
                "/deployments?env={env_key}&registered={0}#app-{0}",
                app.name
            ));
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let create = if generate.get_untracked() {
            match workload.build() {
                Ok(w) => Some(w),
                Err(why) => {
                    problem.set(Some(why));
                    return;
                }
            }
        } else {
            None
        };
        problem.set(None);
        action.dispatch(RegisterApp {
            env: env.clone(),
            app: NewApp {
                name: name.get_untracked(),
                deployment: optional(deployment),
                service: optional(service),
                container: optional(container),
                image: image.get_untracked(),
                create,
            },
        });
    };
    let input = |id, label, signal, hint| view! { <TextInput id label signal hint/> };
    view! {
        <details class="panel-form" data-testid="register-app">
            <summary class="button">"Register an app"</summary>
            <form class="stack" on:submit=submit novalidate>
                <div class="form-grid">
                    {input("app-name", "Name", name, "e.g. checkout")}
                    {input("app-image", "Image repository (no tag)", image, "e.g. registry.example.com/checkout")}
                </div>
                <FieldError value=action.value() field="name"/>
                <FieldError value=action.value() field="image"/>
                <fieldset class="field">
                    <legend>"Objects"</legend>
                    <label class="check">
                        <input type="radio" name="register-mode" prop:checked=move || generate.get()
                            on:change=move |_| generate.set(true)/>
                        " Generate a Deployment and a Service"
                    </label>
                    <label class="check">
                        <input type="radio" name="register-mode" prop:checked=move || !generate.get()
                            on:change=move |_| generate.set(false)/>
                        " Use the ones already in the cluster"
                    </label>
                </fieldset>
                <div class="form-grid">
                    {input("app-deployment", "Deployment", deployment, "default: the name")}
                    {input("app-service", "Service", service, "default: the name")}
                    {input("app-container", "Container", container, "default: the name")}
                </div>
                <FieldError value=action.value() field="deployment"/>
                <FieldError value=action.value() field="service"/>
                <FieldError value=action.value() field="container"/>
                <Show when=move || generate.get()>
                    <div class="form-grid">
                        {input("app-version", "First version (tag)", version, "e.g. v1")}
                        {input("app-port", "Container port", port, "e.g. 8080")}
                        {input("app-replicas", "Replicas", replicas, "e.g. 2")}
                        {input("app-cpu", "CPU request", cpu, "e.g. 100m")}
                        {input("app-memory", "Memory request", memory, "e.g. 128Mi")}
                    </div>
                </Show>
                <FieldError value=action.value() field="create.version"/>
                <FieldError value=action.value() field="create.port"/>
                <FieldError value=action.value() field="create.replicas"/>
                {move || problem.get().map(|p| view! { <p class="field-error" role="alert">{p}</p> })}
                <button type="submit" class="button primary">"Register"</button>
                <ActionResult value=action.value() success="App registered."/>
            </form>
        </details>
    }
}
