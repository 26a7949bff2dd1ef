//! The "Deploy version" form: the version, the strategy and its parameters (canary steps can be
//! added, changed and removed), an optional schema-version label; checked in the browser with
//! the same rules as the server before it is sent.

use leptos::prelude::*;
use varai_domain::InvalidInput;
use varai_domain::deploy::canary::Pause;
use varai_domain::deploy::names::check_version;
use varai_domain::deploy::{CanaryStep, IntOrPercent, Strategy};

use super::StartDeployment;
use crate::components::{ActionResult, FieldError};
use crate::pages::changes::RequestApproval;
use varai_core::changes::ProposedChange;
use varai_core::deploy::DeployRequest;
use varai_core::error::AppError;

#[derive(Debug, Clone, PartialEq)]
struct StepDraft {
    id: usize,
    kind: String,
    value: String,
}

fn default_steps() -> Vec<StepDraft> {
    [
        ("setWeight", "20"),
        ("pause", "30"),
        ("setWeight", "50"),
        ("pause", ""),
    ]
    .into_iter()
    .enumerate()
    .map(|(id, (k, v))| StepDraft {
        id,
        kind: k.into(),
        value: v.into(),
    })
    .collect()
}

fn number(field: &str, text: &str) -> Result<u32, InvalidInput> {
    text.trim()
        .parse()
        .map_err(|_| InvalidInput::new(field, format!("'{text}' is not a whole number")))
}

fn canary_steps(drafts: &[StepDraft]) -> Result<Vec<CanaryStep>, InvalidInput> {
    drafts
        .iter()
        .enumerate()
        .map(|(i, d)| match d.kind.as_str() {
            "setWeight" => Ok(CanaryStep::SetWeight(number(
                &format!("steps[{i}].setWeight"),
                &d.value,
            )?)),
            "pause" if d.value.trim().is_empty() => Ok(CanaryStep::Pause(Pause { duration: None })),
            "pause" => Ok(CanaryStep::Pause(Pause {
                duration: Some(number(&format!("steps[{i}].pause.duration"), &d.value)?),
            })),
            _ => Ok(CanaryStep::Analysis {
                templates: template_names(&d.value),
            }),
        })
        .collect()
}

fn template_names(text: &str) -> Vec<String> {
    text.split(',')
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The form's fields, as signals.
#[derive(Clone, Copy)]
struct DeployDraft {
    version: RwSignal<String>,
    kind: RwSignal<String>,
    steps: RwSignal<Vec<StepDraft>>,
    auto_promote: RwSignal<String>,
    scale_down: RwSignal<String>,
    surge: RwSignal<String>,
    unavailable: RwSignal<String>,
    schema: RwSignal<String>,
    background: RwSignal<String>,
}

impl DeployDraft {
    fn new() -> DeployDraft {
        DeployDraft {
            version: RwSignal::new(String::new()),
            kind: RwSignal::new("canary".to_owned()),
            steps: RwSignal::new(default_steps()),
            auto_promote: RwSignal::new(String::new()),
            scale_down: RwSignal::new("30".to_owned()),
            surge: RwSignal::new("25%".to_owned()),
            unavailable: RwSignal::new("25%".to_owned()),
            schema: RwSignal::new(String::new()),
            background: RwSignal::new(String::new()),
        }
    }

    fn strategy(self) -> Result<Strategy, InvalidInput> {
        Ok(match self.kind.get_untracked().as_str() {
            "canary" => Strategy::Canary {
                steps: canary_steps(&self.steps.get_untracked())?,
            },
            "blueGreen" => {
                let auto = self.auto_promote.get_untracked();
                Strategy::BlueGreen {
                    auto_promotion_seconds: if auto.trim().is_empty() {
                        None
                    } else {
                        Some(number("autoPromotionSeconds", &auto)?)
                    },
                    scale_down_delay_seconds: number(
                        "scaleDownDelaySeconds",
                        &self.scale_down.get_untracked(),
                    )?,
                }
            }
            "rolling" => Strategy::Rolling {
                max_surge: IntOrPercent::parse("maxSurge", &self.surge.get_untracked())?,
                max_unavailable: IntOrPercent::parse(
                    "maxUnavailable",
                    &self.unavailable.get_untracked(),
                )?,
            },
            _ => Strategy::Recreate,
        })
    }

    /// The request, checked with the server's rules.
    fn build(self) -> Result<DeployRequest, InvalidInput> {
        let v = self.version.get_untracked().trim().to_owned();
        check_version("version", &v)?;
        let strategy = self.strategy()?;
        // The app's size is only known to the server; 1 replica checks everything else.
        if !matches!(strategy, Strategy::Rolling { .. }) {
            strategy.check(1)?;
        }
        let schema = self.schema.get_untracked().trim().to_owned();
        Ok(DeployRequest {
            version: v,
            strategy,
            schema_version: (!schema.is_empty()).then_some(schema),
            analysis: template_names(&self.background.get_untracked()),
        })
    }
}

/// The problem the browser found with `field`, shown under it.
fn local_error(
    problem: RwSignal<Option<InvalidInput>>,
    field: &'static str,
) -> impl Fn() -> Option<AnyView> + Send + Sync + Copy {
    move || {
        problem.with(|p| {
            p.as_ref()
                .filter(|p| p.field == field || (field == "steps" && p.field.starts_with("steps")))
                .map(|p| {
                    view! { <p class="field-error">{format!("{}: {}", p.field, p.message)}</p> }
                        .into_any()
                })
        })
    }
}

/// A canary's steps: each a kind and a value, added, changed and removed in place.
#[component]
fn CanarySteps(
    steps: RwSignal<Vec<StepDraft>>,
    problem: RwSignal<Option<InvalidInput>>,
) -> impl IntoView {
    let next_id = StoredValue::new(100usize);
    let step_rows = move || {
        steps
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let sid = s.id;
                let label = format!("Step {}", i + 1);
                let set = move |f: Box<dyn Fn(&mut StepDraft)>| {
                    steps.update(|all| {
                        if let Some(x) = all.iter_mut().find(|x| x.id == sid) {
                            f(x)
                        }
                    })
                };
                let set_kind = set;
                let placeholder = match s.kind.as_str() {
                    "setWeight" => "percent, e.g. 25",
                    "pause" => "seconds; empty = until promoted",
                    _ => "template names, comma-separated",
                };
                view! {
                    <li class="step-row">
                        <select aria-label=format!("{label}: kind") prop:value=s.kind.clone()
                            on:change=move |ev| { let k = event_target_value(&ev); set_kind(Box::new(move |x| x.kind = k.clone())); }>
                            <option value="setWeight">"Set weight"</option>
                            <option value="pause">"Pause"</option>
                            <option value="analysis">"Analysis"</option>
                        </select>
                        <input type="text" aria-label=format!("{label}: value") placeholder=placeholder prop:value=s.value.clone()
                            on:input=move |ev| { let v = event_target_value(&ev); set(Box::new(move |x| x.value = v.clone())); }/>
                        <button type="button" class="button small ghost" aria-label=format!("Remove step {}", i + 1)
                            on:click=move |_| steps.update(|all| all.retain(|x| x.id != sid))>"Remove"</button>
                    </li>
                }
            })
            .collect_view()
    };
    let add_step = move |_| {
        let id = next_id.get_value();
        next_id.set_value(id + 1);
        steps.update(|all| {
            all.push(StepDraft {
                id,
                kind: "setWeight".into(),
                value: String::new(),
            })
        });
    };
    view! {
        <fieldset class="field">
            <legend>"Steps"</legend>
            <ol class="step-list">{step_rows}</ol>
            <button type="button" class="button small" on:click=add_step>"Add step"</button>
            {local_error(problem, "steps")}
        </fieldset>
    }
}

/// The options of the chosen strategy: Blue-Green's promotion and delay, Rolling's surge and
/// unavailability.
#[component]
fn StrategyOptions(
    draft: DeployDraft,
    problem: RwSignal<Option<InvalidInput>>,
    prefix: StoredValue<String>,
    action: ServerAction<StartDeployment>,
) -> impl IntoView {
    let DeployDraft {
        kind,
        auto_promote,
        scale_down,
        surge,
        unavailable,
        ..
    } = draft;
    let id = move |field: &str| format!("{}-{field}", prefix.get_value());
    let local = move |field: &'static str| local_error(problem, field);
    view! {
        <Show when=move || kind.get() == "blueGreen">
            <div class="form-grid">
                <div class="field">
                    <label for=id("auto")>"Promote by itself after (s)"</label>
                    <input id=id("auto") type="text" inputmode="numeric" placeholder="empty: a person promotes"
                        prop:value=move || auto_promote.get() on:input=move |ev| auto_promote.set(event_target_value(&ev))/>
                    {local("autoPromotionSeconds")}
                </div>
                <div class="field">
                    <label for=id("delay")>"Keep the old version for (s)"</label>
                    <input id=id("delay") type="text" inputmode="numeric"
                        prop:value=move || scale_down.get() on:input=move |ev| scale_down.set(event_target_value(&ev))/>
                    {local("scaleDownDelaySeconds")}
                </div>
            </div>
        </Show>
        <Show when=move || kind.get() == "rolling">
            <div class="form-grid">
                <div class="field">
                    <label for=id("surge")>"maxSurge"</label>
                    <input id=id("surge") type="text" prop:value=move || surge.get() on:input=move |ev| surge.set(event_target_value(&ev))/>
                    {local("maxSurge")}
                </div>
                <div class="field">
                    <label for=id("unavailable")>"maxUnavailable"</label>
                    <input id=id("unavailable") type="text" prop:value=move || unavailable.get() on:input=move |ev| unavailable.set(event_target_value(&ev))/>
                    {local("maxUnavailable")}
                    <FieldError value=action.value() field="maxUnavailable"/>
                </div>
            </div>
        </Show>
    }
}

#[component]
pub fn DeployForm(
    env: String,
    app: String,
    versions: Vec<String>,
    action: ServerAction<StartDeployment>,
) -> impl IntoView {
    let draft = DeployDraft::new();
    let DeployDraft {
        version,
        kind,
        steps,
        schema,
        background,
        ..
    } = draft;
    let problem = RwSignal::new(None::<InvalidInput>);
    let list_id = format!("versions-{app}");
    let prefix = StoredValue::new(format!("deploy-{app}"));
    let id = move |field: &str| format!("{}-{field}", prefix.get_value());
    let (env_v, app_v) = (env.clone(), app.clone());
    // What was last sent, for a change request when the environment is protected.
    let sent = RwSignal::new(None::<DeployRequest>);
    let app_name = StoredValue::new(app.clone());
    let proposed = Callback::new(move |()| ProposedChange::Deploy {
        app: app_name.get_value(),
        request: sent.get_untracked().unwrap_or_else(|| DeployRequest {
            version: String::new(),
            strategy: Strategy::Recreate,
            schema_version: None,
            analysis: Vec::new(),
        }),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match draft.build() {
            Ok(request) => {
                problem.set(None);
                sent.set(Some(request.clone()));
                action.dispatch(StartDeployment {
                    env: env_v.clone(),
                    app: app_v.clone(),
                    request,
                });
            }
            Err(e) => problem.set(Some(e)),
        }
    };
    let local = move |field: &'static str| local_error(problem, field);
    let options = versions
        .into_iter()
        .map(|v| view! { <option value=v.clone()></option> })
        .collect_view();
    view! {
        <details class="panel-form" data-testid="deploy-form">
            <summary class="button">"Deploy a version"</summary>
            <form class="stack" on:submit=submit novalidate>
                <div class="field">
                    <label for=id("version")>"Version (image tag)"</label>
                    <input id=id("version") type="text" list=list_id.clone() required placeholder="e.g. v2"
                        prop:value=move || version.get() on:input=move |ev| version.set(event_target_value(&ev))/>
                    <datalist id=list_id>{options}</datalist>
                    {local("version")}
                    <FieldError value=action.value() field="version"/>
                </div>
                <div class="field">
                    <label for=id("strategy")>"Strategy"</label>
                    <select id=id("strategy") prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="canary">"Canary: a share of replicas first, in steps"</option>
                        <option value="blueGreen">"Blue-Green: full preview, then switch"</option>
                        <option value="rolling">"Rolling: replace pods in place"</option>
                        <option value="recreate">"Recreate: stop all, then start"</option>
                    </select>
                </div>
                <Show when=move || kind.get() == "canary">
                    <CanarySteps steps problem/>
                </Show>
                <StrategyOptions draft problem prefix action/>
                <Show when=move || kind.get() == "recreate">
                    <p class="notice error" role="note">
                        <strong>"Recreate means downtime."</strong>
                        <span>"Every pod of the running version stops before the first pod of the new one starts; the app answers nothing in between."</span>
                    </p>
                </Show>
                <div class="field">
                    <label for=id("analysis")>"Background analysis (optional)"</label>
                    <input id=id("analysis") type="text" placeholder="template names, comma-separated, e.g. error-rate, latency-p95"
                        prop:value=move || background.get() on:input=move |ev| background.set(event_target_value(&ev))/>
                    <p class="hint">"Measured for the whole deployment: Failed rolls back by itself; Inconclusive or Error pauses for you."</p>
                    <FieldError value=action.value() field="analysis"/>
                </div>
                <div class="field">
                    <label for=id("schema")>"Schema version (optional)"</label>
                    <input id=id("schema") type="text" maxlength="100" placeholder="kept with the snapshot, e.g. 2026_11_26_orders"
                        prop:value=move || schema.get() on:input=move |ev| schema.set(event_target_value(&ev))/>
                    <FieldError value=action.value() field="schemaVersion"/>
                </div>
                <button type="submit" class="button primary">"Deploy"</button>
                {move || match action.value().get() {
                    Some(Err(AppError::Protected { environment, key, message })) => view! {
                        <div class="notice warn" role="alert">
                            <strong>"Needs approval"</strong>
                            <span>{format!("{environment} is protected: {message}")}</span>
                        </div>
                        <RequestApproval environment=key environment_name=environment
                            suggested_title=format!("Deploy {} {}", app_name.get_value(), sent.with(|r| r.as_ref().map(|r| r.version.clone()).unwrap_or_default()))
                            change=proposed/>
                    }
                    .into_any(),
                    _ => view! { <ActionResult value=action.value() success="Deployment started."/> }.into_any(),
                }}
            </form>
        </details>
    }
}
