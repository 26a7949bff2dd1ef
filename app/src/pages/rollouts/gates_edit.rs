//! Editing a phase's (or a Gradual step's) gates: each gate's own fields, removing one, and
//! adding one of the six kinds with sensible values to start from.

use leptos::prelude::*;
use varai_domain::InvalidInput;
use varai_domain::Role;
use varai_domain::plan::{Gate, Plan, SmokeRequest};

use super::draft::{DecimalIn, Draft, NumberIn, TextIn};

/// Where a list of gates lives: a phase, or a step of a Gradual phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatesAt {
    pub phase: usize,
    pub step: Option<usize>,
}

impl GatesAt {
    pub fn prefix(self) -> String {
        match self.step {
            Some(s) => format!("phases[{}].steps[{s}].gates", self.phase),
            None => format!("phases[{}].gates", self.phase),
        }
    }

    fn id(self) -> String {
        match self.step {
            Some(s) => format!("p{}-s{s}", self.phase),
            None => format!("p{}", self.phase),
        }
    }

    fn list(self, p: &Plan) -> Vec<Gate> {
        let phase = p.phases.get(self.phase);
        match self.step {
            Some(s) => phase.and_then(|x| x.steps.get(s)).map(|s| s.gates.clone()),
            None => phase.map(|x| x.gates.clone()),
        }
        .unwrap_or_default()
    }

    fn list_mut(self, p: &mut Plan) -> Option<&mut Vec<Gate>> {
        let phase = p.phases.get_mut(self.phase)?;
        match self.step {
            Some(s) => phase.steps.get_mut(s).map(|s| &mut s.gates),
            None => Some(&mut phase.gates),
        }
    }

    fn gate_mut(self, p: &mut Plan, g: usize) -> Option<&mut Gate> {
        self.list_mut(p)?.get_mut(g)
    }
}

const KINDS: [(&str, &str); 6] = [
    ("healthCheck", "Health check"),
    ("smokeTest", "Smoke test"),
    ("integrationTest", "Integration test (Job)"),
    ("loadTest", "Load test"),
    ("analysis", "Analysis"),
    ("approval", "Manual approval"),
];

fn new_gate(kind: &str, analysis: &[(String, u32)]) -> Gate {
    match kind {
        "smokeTest" => Gate::SmokeTest {
            requests: vec![SmokeRequest {
                path: "/".into(),
                status: 200,
                body_contains: Some("ok".into()),
                json: None,
            }],
        },
        "integrationTest" => Gate::IntegrationTest {
            image: "registry.example.com/integration-tests:latest".into(),
            command: vec!["sh".into(), "-c".into(), "./run-tests".into()],
            timeout_seconds: 300,
        },
        "loadTest" => Gate::LoadTest {
            rate: 50,
            concurrency: 10,
            duration_seconds: 60,
            max_error_percent: 1.0,
            max_p95_ms: 300,
        },
        "analysis" => Gate::Analysis {
            templates: analysis
                .first()
                .map(|(n, _)| vec![n.clone()])
                .unwrap_or_default(),
        },
        "approval" => Gate::Approval {
            role: Role::ProductManager,
            four_eyes: false,
        },
        _ => Gate::HealthCheck {
            path: "/healthz".into(),
            times: 3,
            timeout_seconds: 60,
        },
    }
}

/// The shell command of an integration test, as typed: `sh -c` around it.
fn command_text(command: &[String]) -> String {
    match command {
        [sh, c, script] if sh == "sh" && c == "-c" => script.clone(),
        other => other.join(" "),
    }
}

/// The gates at `at`, each editable, with a way to add one.
#[component]
pub fn GatesEditor(
    d: Draft,
    at: GatesAt,
    problem: Memo<Option<InvalidInput>>,
    analysis: StoredValue<Vec<(String, u32)>>,
) -> impl IntoView {
    let gates = d.read(|p| at.list(p));
    let items = gates
        .iter()
        .enumerate()
        .map(|(g, gate)| {
            let field = format!("{}[{g}]", at.prefix());
            let id = format!("{}-g{g}", at.id());
            let prefix = field.clone();
            let note = move || {
                problem
                    .get()
                    .filter(|p| p.field.starts_with(&prefix))
                    .map(|p| view! { <p class="field-error" role="alert">{format!("{}: {}", p.field.rsplit('.').next().unwrap_or(""), p.message)}</p> })
            };
            view! {
                <li class="gate-edit" data-testid=format!("gate-{id}")>
                    <div class="gate-head">
                        <strong>{gate.describe()}</strong>
                        <button type="button" class="button small ghost" aria-label=format!("Remove gate: {}", gate.describe())
                            on:click=move |_| d.reshape(|p| { if let Some(l) = at.list_mut(p) && g < l.len() { l.remove(g); } })>"Remove"</button>
                    </div>
                    <div class="form-grid">{gate_fields(d, at, g, gate, &id, &field, problem, analysis)}</div>
                    {note}
                </li>
            }
        })
        .collect_view();
    let choice = RwSignal::new("healthCheck".to_owned());
    let select_id = format!("{}-add", at.id());
    view! {
        <div class="gates-edit">
            <ul class="plain">{items}</ul>
            <div class="inline-form">
                <label for=select_id.clone()>"Add a gate"</label>
                <select id=select_id on:change=move |ev| choice.set(event_target_value(&ev))>
                    {KINDS.iter().map(|(k, label)| view! { <option value=*k>{*label}</option> }).collect_view()}
                </select>
                <button type="button" class="button small" on:click=move |_| {
                    let gate = new_gate(&choice.get_untracked(), &analysis.get_value());
                    d.reshape(|p| { if let Some(l) = at.list_mut(p) { l.push(gate) } })
                }>"Add gate"</button>
            </div>
        </div>
    }
}

/// Runs `$body` on gate `$g` of the list `$at` in plan `$p`, when the gate has the pattern's kind.
macro_rules! gate {
    ($at:expr, $g:expr, $p:ident, $pat:pat => $body:expr) => {
        if let Some($pat) = $at.gate_mut($p, $g) {
            $body
        }
    };
}

#[allow(clippy::too_many_arguments)]
fn gate_fields(
    d: Draft,
    at: GatesAt,
    g: usize,
    gate: &Gate,
    id: &str,
    field: &str,
    problem: Memo<Option<InvalidInput>>,
    analysis: StoredValue<Vec<(String, u32)>>,
) -> AnyView {
    let f = |name: &str| format!("{field}.{name}");
    let i = |name: &str| format!("{id}-{name}");
    match gate {
        Gate::HealthCheck { .. } => view! {
            <TextIn d id=i("path") label="Path" field=f("path") problem
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::HealthCheck { path, .. }) => path.clone(), _ => String::new() }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::HealthCheck { path, .. } => *path = v.trim().to_owned())/>
            <NumberIn d id=i("times") label="2xx in a row" field=f("times") problem
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::HealthCheck { times, .. }) => Some(*times), _ => None }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::HealthCheck { times, .. } => *times = v.unwrap_or(0))/>
            <NumberIn d id=i("timeout") label="Within (s)" field=f("timeoutSeconds") problem
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::HealthCheck { timeout_seconds, .. }) => Some(*timeout_seconds), _ => None }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::HealthCheck { timeout_seconds, .. } => *timeout_seconds = v.unwrap_or(0))/>
        }.into_any(),
        Gate::SmokeTest { requests } => {
            let mut rows: Vec<AnyView> = requests
                .iter()
                .enumerate()
                .map(|(r, _)| smoke_request(d, at, g, r, id, field, problem))
                .collect();
            rows.push(view! {
                <div class="field">
                    <button type="button" class="button small ghost" on:click=move |_| d.reshape(|p| gate!(at, g, p, Gate::SmokeTest { requests } => requests.push(SmokeRequest {
                        path: "/".into(), status: 200, body_contains: None, json: None,
                    })))>"Add request"</button>
                </div>
            }.into_any());
            rows.into_iter().collect_view().into_any()
        }
        Gate::IntegrationTest { .. } => view! {
            <TextIn d id=i("image") label="Image" field=f("image") problem wide=true
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::IntegrationTest { image, .. }) => image.clone(), _ => String::new() }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::IntegrationTest { image, .. } => *image = v.trim().to_owned())/>
            <TextIn d id=i("command") label="Command (run with sh -c)" field=f("command") problem wide=true
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::IntegrationTest { command, .. }) => command_text(command), _ => String::new() }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::IntegrationTest { command, .. } => *command = if v.trim().is_empty() { Vec::new() } else { vec!["sh".into(), "-c".into(), v] })/>
            <NumberIn d id=i("timeout") label="Within (s)" field=f("timeoutSeconds") problem
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::IntegrationTest { timeout_seconds, .. }) => Some(*timeout_seconds), _ => None }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::IntegrationTest { timeout_seconds, .. } => *timeout_seconds = v.unwrap_or(0))/>
        }.into_any(),
        Gate::LoadTest { .. } => view! {
            <NumberIn d id=i("rate") label="Requests/s" field=f("rate") problem
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::LoadTest { rate, .. }) => Some(*rate), _ => None }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::LoadTest { rate, .. } => *rate = v.unwrap_or(0))/>
            <NumberIn d id=i("concurrency") label="In flight at most" field=f("concurrency") problem
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::LoadTest { concurrency, .. }) => Some(*concurrency), _ => None }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::LoadTest { concurrency, .. } => *concurrency = v.unwrap_or(0))/>
            <NumberIn d id=i("duration") label="For (s)" field=f("durationSeconds") problem
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::LoadTest { duration_seconds, .. }) => Some(*duration_seconds), _ => None }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::LoadTest { duration_seconds, .. } => *duration_seconds = v.unwrap_or(0))/>
            <DecimalIn d id=i("errors") label="Errors at most (%)" field=f("maxErrorPercent") problem
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::LoadTest { max_error_percent, .. }) => *max_error_percent, _ => 0.0 }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::LoadTest { max_error_percent, .. } => *max_error_percent = v)/>
            <NumberIn d id=i("p95") label="p95 at most (ms)" field=f("maxP95Ms") problem
                get=move |p: &Plan| match at.list(p).get(g) { Some(Gate::LoadTest { max_p95_ms, .. }) => Some(*max_p95_ms), _ => None }
                set=move |p: &mut Plan, v| gate!(at, g, p, Gate::LoadTest { max_p95_ms, .. } => *max_p95_ms = v.unwrap_or(0))/>
        }.into_any(),
        Gate::Approval { role, four_eyes } => approval_fields(d, at, g, *role, *four_eyes, &i("role"), &i("eyes")),
        Gate::Analysis { templates } => analysis_fields(d, at, g, templates, id, analysis),
    }
}

/// An approval gate's role and four eyes.
fn approval_fields(
    d: Draft,
    at: GatesAt,
    g: usize,
    role: Role,
    four_eyes: bool,
    role_id: &str,
    eyes_id: &str,
) -> AnyView {
    let (role_id, eyes_id) = (role_id.to_owned(), eyes_id.to_owned());
    view! {
        <div class="field">
            <label for=role_id.clone()>"Approver's role (at least)"</label>
            <select id=role_id on:change=move |ev| {
                if let Ok(r) = event_target_value(&ev).parse::<Role>() {
                    d.edit(|p| gate!(at, g, p, Gate::Approval { role, .. } => *role = r))
                }
            }>
                {Role::ALL.into_iter().filter(|r| *r != Role::Viewer).map(|r| view! {
                    <option value=r.as_str() selected=r == role>{r.label()}</option>
                }).collect_view()}
            </select>
        </div>
        <div class="field checkbox">
            <input id=eyes_id.clone() type="checkbox" checked=four_eyes on:change=move |ev| {
                let on = event_target_checked(&ev);
                d.edit(|p| gate!(at, g, p, Gate::Approval { four_eyes, .. } => *four_eyes = on))
            }/>
            <label for=eyes_id>"Four eyes: not the person who started the rollout"</label>
        </div>
    }
    .into_any()
}

/// An analysis gate's templates, each with how long it measures.
fn analysis_fields(
    d: Draft,
    at: GatesAt,
    g: usize,
    templates: &[String],
    id: &str,
    analysis: StoredValue<Vec<(String, u32)>>,
) -> AnyView {
    let chosen = templates;
    let boxes = analysis
        .get_value()
        .into_iter()
        .map(|(name, seconds)| {
            let box_id = format!("{id}-t-{name}");
            let checked = chosen.contains(&name);
            let n = name.clone();
            view! {
                <span class="check">
                    <input id=box_id.clone() type="checkbox" checked=checked on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        let n = n.clone();
                        d.edit(|p| gate!(at, g, p, Gate::Analysis { templates } => {
                            templates.retain(|t| *t != n);
                            if on { templates.push(n) }
                        }))
                    }/>
                    <label for=box_id>{format!("{name} (~{seconds} s)")}</label>
                </span>
            }
        })
        .collect_view();
    view! { <fieldset class="field wide checks"><legend>"Analysis templates"</legend>{boxes}</fieldset> }.into_any()
}

fn smoke_request(
    d: Draft,
    at: GatesAt,
    g: usize,
    r: usize,
    id: &str,
    field: &str,
    problem: Memo<Option<InvalidInput>>,
) -> AnyView {
    let rf = |name: &str| format!("{field}.requests[{r}].{name}");
    let ri = |name: &str| format!("{id}-r{r}-{name}");
    let req = move |p: &Plan| match at.list(p).get(g) {
        Some(Gate::SmokeTest { requests }) => requests.get(r).cloned(),
        _ => None,
    };
    let with = move |p: &mut Plan, f: &dyn Fn(&mut SmokeRequest)| {
        if let Some(Gate::SmokeTest { requests }) = at.gate_mut(p, g)
            && let Some(x) = requests.get_mut(r)
        {
            f(x)
        }
    };
    view! {
        <TextIn d id=ri("path") label="GET path" field=rf("path") problem
            get=move |p: &Plan| req(p).map(|x| x.path).unwrap_or_default()
            set=move |p: &mut Plan, v| with(p, &|x| x.path = v.trim().to_owned())/>
        <NumberIn d id=ri("status") label="Expected status" field=rf("status") problem
            get=move |p: &Plan| req(p).map(|x| u32::from(x.status))
            set=move |p: &mut Plan, v| with(p, &|x| x.status = u16::try_from(v.unwrap_or(0)).unwrap_or(0))/>
        <TextIn d id=ri("contains") label="Body contains" field=rf("bodyContains") problem
            get=move |p: &Plan| req(p).and_then(|x| x.body_contains).unwrap_or_default()
            set=move |p: &mut Plan, v| with(p, &|x| x.body_contains = Some(v.clone()).filter(|v| !v.is_empty()))/>
    }
    .into_any()
}
