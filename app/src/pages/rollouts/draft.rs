//! The planning form's state: the plan being edited, kept outside the reactive graph so that
//! typing never redraws the form, with two counters — `shape` when phases, steps or gates are
//! added, removed or moved (the form redraws), `edits` on every change (checks and the
//! estimate run again) — and the inputs that read and write it.

use leptos::prelude::*;
use std::collections::BTreeMap;
use varai_domain::InvalidInput;
use varai_domain::plan::{Plan, Release};

/// The plan being edited and the release it is for.
#[derive(Clone, Copy)]
pub struct Draft {
    plan: StoredValue<Plan>,
    pub shape: RwSignal<u64>,
    pub edits: RwSignal<u64>,
    /// Inputs that do not parse (field → message), so a typo is named before the plan's checks.
    bad: RwSignal<BTreeMap<String, String>>,
    pub release: RwSignal<Release>,
}

impl Draft {
    pub fn new(plan: Plan, release: Release) -> Draft {
        Draft {
            plan: StoredValue::new(plan),
            shape: RwSignal::new(0),
            edits: RwSignal::new(0),
            bad: RwSignal::new(BTreeMap::new()),
            release: RwSignal::new(release),
        }
    }

    pub fn read<T>(&self, f: impl FnOnce(&Plan) -> T) -> T {
        self.plan.with_value(f)
    }

    /// Changes a value: the checks and the estimate follow, the form stays as it is.
    pub fn edit(&self, f: impl FnOnce(&mut Plan)) {
        self.plan.update_value(f);
        self.edits.update(|e| *e += 1);
    }

    /// Changes the plan's shape: the form is drawn again.
    pub fn reshape(&self, f: impl FnOnce(&mut Plan)) {
        self.edit(f);
        self.bad.update(BTreeMap::clear);
        self.shape.update(|s| *s += 1);
    }

    /// The plan as it stands, for sending.
    pub fn plan(&self) -> Plan {
        self.plan.get_value()
    }

    fn mark(&self, field: &str, problem: Option<String>) {
        self.bad.update(|b| match problem {
            Some(p) => {
                b.insert(field.to_owned(), p);
            }
            None => {
                b.remove(field);
            }
        });
        self.edits.update(|e| *e += 1);
    }

    /// The first problem with the plan: an input that does not parse, else the domain's
    /// checks of the release and the plan (the same the server runs).
    pub fn problem(&self) -> Memo<Option<InvalidInput>> {
        let d = *self;
        Memo::new(move |_| {
            d.edits.track();
            if let Some((f, m)) = d
                .bad
                .with(|b| b.iter().next().map(|(f, m)| (f.clone(), m.clone())))
            {
                return Some(InvalidInput::new(f, m));
            }
            let release = d.release.get();
            release
                .check()
                .err()
                .or_else(|| d.read(|p| p.check(&release).err()))
        })
    }
}

/// The message under an input when the first problem is about its field.
#[component]
pub fn FieldNote(
    #[prop(into)] field: String,
    problem: Memo<Option<InvalidInput>>,
) -> impl IntoView {
    move || {
        problem
            .get()
            .filter(|p| p.field == field)
            .map(|p| view! { <p class="field-error" role="alert">{p.message}</p> })
    }
}

/// A text input bound to a value of the plan.
#[component]
pub fn TextIn(
    d: Draft,
    #[prop(into)] id: String,
    label: &'static str,
    #[prop(into)] field: String,
    problem: Memo<Option<InvalidInput>>,
    get: impl Fn(&Plan) -> String + 'static,
    set: impl Fn(&mut Plan, String) + Send + Sync + 'static,
    #[prop(optional)] wide: bool,
) -> impl IntoView {
    let value = d.read(|p| get(p));
    let f = field.clone();
    let invalid = move || problem.get().is_some_and(|p| p.field == f);
    view! {
        <div class=if wide { "field wide" } else { "field" }>
            <label for=id.clone()>{label}</label>
            <input id=id type="text" value=value aria-invalid=move || invalid().to_string()
                on:input=move |ev| { let v = event_target_value(&ev); d.edit(|p| set(p, v)) }/>
            <FieldNote field problem/>
        </div>
    }
}

/// A whole-number input bound to a value of the plan; empty means `None` when `optional`.
#[component]
pub fn NumberIn(
    d: Draft,
    #[prop(into)] id: String,
    label: &'static str,
    #[prop(into)] field: String,
    problem: Memo<Option<InvalidInput>>,
    get: impl Fn(&Plan) -> Option<u32> + 'static,
    set: impl Fn(&mut Plan, Option<u32>) + Send + Sync + 'static,
    #[prop(optional)] optional: bool,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let value = d
        .read(|p| get(p))
        .map(|v| v.to_string())
        .unwrap_or_default();
    let (f, mark) = (field.clone(), field.clone());
    let invalid = move || problem.get().is_some_and(|p| p.field == f);
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type="text" inputmode="numeric" value=value aria-invalid=move || invalid().to_string()
                placeholder=if optional { "unchanged" } else { "" }
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    let text = text.trim();
                    match text.parse::<u32>() {
                        Ok(n) => { d.mark(&mark, None); d.edit(|p| set(p, Some(n))) }
                        Err(_) if text.is_empty() && optional => { d.mark(&mark, None); d.edit(|p| set(p, None)) }
                        Err(_) => d.mark(&mark, Some(format!("'{text}' is not a whole number"))),
                    }
                }/>
            {hint.map(|h| view! { <p class="hint">{h}</p> })}
            <FieldNote field problem/>
        </div>
    }
}

/// A decimal input bound to a value of the plan.
#[component]
pub fn DecimalIn(
    d: Draft,
    #[prop(into)] id: String,
    label: &'static str,
    #[prop(into)] field: String,
    problem: Memo<Option<InvalidInput>>,
    get: impl Fn(&Plan) -> f64 + 'static,
    set: impl Fn(&mut Plan, f64) + Send + Sync + 'static,
) -> impl IntoView {
    let value = d.read(|p| get(p)).to_string();
    let mark = field.clone();
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type="text" inputmode="decimal" value=value
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    match text.trim().parse::<f64>() {
                        Ok(n) if n.is_finite() => { d.mark(&mark, None); d.edit(|p| set(p, n)) }
                        _ => d.mark(&mark, Some(format!("'{}' is not a number", text.trim()))),
                    }
                }/>
            <FieldNote field problem/>
        </div>
    }
}

/// A duration in words: "45 s", "10 min", "4 h", "1 d 2 h".
pub fn duration_text(seconds: u64) -> String {
    match seconds {
        0 => "0 s".into(),
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => {
            let (h, m) = (s / 3600, (s % 3600) / 60);
            if m == 0 {
                format!("{h} h")
            } else {
                format!("{h} h {m} min")
            }
        }
        s => {
            let (d, h) = (s / 86_400, (s % 86_400) / 3600);
            if h == 0 {
                format!("{d} d")
            } else {
                format!("{d} d {h} h")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::duration_text;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_text(45), "45 s");
        assert_eq!(duration_text(600), "10 min");
        assert_eq!(duration_text(4 * 3600), "4 h");
        assert_eq!(duration_text(26 * 3600), "26 h");
        assert_eq!(duration_text(3 * 86_400 + 3600), "3 d 1 h");
    }
}
