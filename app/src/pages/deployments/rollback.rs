//! One-click rollback, for operators: the confirmation says exactly what will change (the
//! snapshot's objects, the pinned Service, the extra workloads removed, the flags switched
//! back), asks why, and then shows each object's result and how long it took.

use leptos::prelude::*;

use super::{RollBack, app_snapshots};
use crate::components::{ErrorNote, Timestamp};
use varai_core::deploy::{RollbackRequest, SnapshotRecord};

#[component]
pub fn RollbackForm(env: String, app: String, action: ServerAction<RollBack>) -> impl IntoView {
    let open = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let (env_r, app_r) = (env.clone(), app.clone());
    // Read when the confirmation opens (and after each rollback), in the browser.
    let snapshots = RwSignal::new(None::<Result<Vec<SnapshotRecord>, varai_core::error::AppError>>);
    Effect::new(move |_| {
        let (open, _) = (open.get(), action.version().get());
        let (env, app) = (env_r.clone(), app_r.clone());
        if open {
            leptos::task::spawn_local(async move {
                let fresh = app_snapshots(env, app).await;
                if !snapshots.is_disposed() {
                    snapshots.set(Some(fresh));
                }
            });
        }
    });
    let reason_id = format!("rollback-reason-{app}");
    let result = move || {
        action.value().get().map(|r| match r {
            Ok(done) => {
                let items = done
                    .results
                    .iter()
                    .map(|o| {
                        view! {
                            <li class=if o.ok { "ok" } else { "failed" }>
                                {if o.ok { "✓ " } else { "✗ " }}<strong>{format!("{} {}", o.kind, o.name)}</strong>": "{o.message.clone()}
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="notice success" role="status" data-testid="rollback-result">
                        <strong>{format!("Rolled back to snapshot #{} in {} ms.", done.snapshot_id, done.duration_ms)}</strong>
                        <ul class="results">{items}</ul>
                    </div>
                }
                .into_any()
            }
            Err(e) => view! { <ErrorNote error=e/> }.into_any(),
        })
    };
    view! {
        <details class="panel-form danger-zone" data-testid="rollback">
            // The snapshot is read when the confirmation opens, not before.
            <summary class="button danger" on:click=move |_| open.update(|o| *o = !*o)>"Roll back…"</summary>
            {move || {
                let (env, app, reason_id) = (env.clone(), app.clone(), reason_id.clone());
                match snapshots.get() {
                    None if open.get() => view! { <p class="muted">"Reading the snapshot…"</p> }.into_any(),
                    None => ().into_any(),
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p class="muted">"There is no snapshot yet: one is taken when a deployment starts."</p>
                    }.into_any(),
                    Some(Ok(list)) => view! { <Choose list env app reason reason_id action/> }.into_any(),
                    Some(Err(e)) => view! { <ErrorNote error=e/> }.into_any(),
                }
            }}
            {result}
        </details>
    }
}

/// The app's snapshots, newest first, with what each holds; the chosen one is confirmed below.
#[component]
fn Choose(
    list: Vec<SnapshotRecord>,
    env: String,
    app: String,
    reason: RwSignal<String>,
    reason_id: String,
    action: ServerAction<RollBack>,
) -> impl IntoView {
    let chosen = RwSignal::new(0usize);
    let options = (list.len() > 1).then(|| {
        let items = list
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let held: Vec<String> = s
                    .objects
                    .iter()
                    .map(|o| format!("{} {}", o.kind, o.name))
                    .collect();
                view! {
                    <label class="check">
                        <input type="radio" name=format!("snapshot-{}", s.app) prop:checked=move || chosen.get() == i
                            on:change=move |_| chosen.set(i)/>
                        {format!(" #{} · version {}{} · {} · ", s.id, s.version,
                            s.schema_version.as_ref().map(|v| format!(" (schema {v})")).unwrap_or_default(),
                            held.join(", "))}
                        <Timestamp ms=s.created_at/>
                    </label>
                }
            })
            .collect_view();
        view! { <fieldset class="field snapshots"><legend>"Snapshot to restore"</legend>{items}</fieldset> }
    });
    let list = StoredValue::new(list);
    view! {
        {options}
        {move || {
            let s = list.with_value(|l| l[chosen.get().min(l.len() - 1)].clone());
            view! { <Confirm s env=env.clone() app=app.clone() reason reason_id=reason_id.clone() action/> }
        }}
    }
}

#[component]
fn Confirm(
    s: SnapshotRecord,
    env: String,
    app: String,
    reason: RwSignal<String>,
    reason_id: String,
    action: ServerAction<RollBack>,
) -> impl IntoView {
    let objects = s
        .objects
        .iter()
        .map(|o| {
            let change = if o.kind == "Service" {
                format!(
                    "{} (and only version {} until the next deployment)",
                    o.summary, s.version
                )
            } else {
                o.summary.clone()
            };
            view! { <li><strong>{format!("{} {}", o.kind, o.name)}</strong>" → "{change}</li> }
        })
        .collect_view();
    let flags = (!s.flags.is_empty()).then(|| {
        view! { <li>{format!("Flags in {} set back where they differ: {}", s.environment, s.flags.join(", "))}</li> }
    });
    let version = s.version.clone();
    let id = s.id;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(RollBack {
            env: env.clone(),
            app: app.clone(),
            request: RollbackRequest {
                snapshot_id: Some(id),
                reason: reason.get_untracked(),
            },
        });
    };
    view! {
        <form class="stack" on:submit=submit>
            <p>
                {format!("Restore snapshot #{} of {} (version {}", s.id, s.app, s.version)}
                {s.schema_version.clone().map(|v| format!(", schema {v}"))}
                "), taken " <Timestamp ms=s.created_at/> {format!(" by {}. This will:", s.created_by)}
            </p>
            <ul class="changes" data-testid="rollback-changes">
                {objects}
                <li>{format!("Delete {0}-canary, {0}-preview and the preview Service if they exist", s.app)}</li>
                {flags}
                <li>"End the deployment in progress, if any, as rolled back"</li>
            </ul>
            <label for=reason_id.clone()>"Why are you rolling back?"</label>
            <input id=reason_id type="text" required maxlength="500" placeholder="e.g. checkout errors since v3"
                prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
            <button type="submit" class="button danger">{format!("Roll back to {version}")}</button>
        </form>
    }
}
