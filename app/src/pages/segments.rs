//! Segments: reusable audiences. The list shows each one's definition and where it is used;
//! the editor changes it, with a "who matches" check for a typed context.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde::{Deserialize, Serialize};
use varai_domain::flags::{Context, Segment, segment_matches};

use crate::components::ErrorNote;
use crate::editors::{ConstraintsEditor, now_ms, parse_context, split_lines};
use varai_core::error::AppError;
use varai_core::flags::SegmentRecord;

/// A segment and the flag rules that use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentUse {
    pub record: SegmentRecord,
    pub used_by: Vec<String>,
}

#[leptos::server(prefix = "/rpc", endpoint = "segments/list")]
pub async fn list_segments() -> Result<Vec<SegmentUse>, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let segments = varai_core::flags::list_segments(&services, &who).await?;
    let flags = varai_core::flags::list_flags(&services, &who).await?;
    Ok(segments
        .into_iter()
        .map(|record| SegmentUse {
            used_by: varai_core::flags::uses_of_segment(&flags, &record.segment.key),
            record,
        })
        .collect())
}

#[leptos::server(prefix = "/rpc", endpoint = "segments/save", input = Json)]
pub async fn save_segment(
    segment: Segment,
    version: Option<i64>,
) -> Result<SegmentRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    match version {
        Some(v) => {
            let key = segment.key.clone();
            varai_core::flags::update_segment(&services, &who, &key, segment, v).await
        }
        None => varai_core::flags::create_segment(&services, &who, segment).await,
    }
}

#[leptos::server(prefix = "/rpc", endpoint = "segments/delete")]
pub async fn delete_segment(key: String) -> Result<(), AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::delete_segment(&services, &who, &key).await
}

#[component]
pub fn SegmentsPage() -> impl IntoView {
    let segments = Resource::new(|| (), |_| list_segments());
    view! {
        <Title text="Segments"/>
        <div class="page-head">
            <div>
                <h1>"Segments"</h1>
                <p class="lede">"Reusable audiences for flag rules and rollout phases: constraints on the context applications send, plus lists of user ids."</p>
            </div>
            <a class="button primary" href="/segments/new">"New segment"</a>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading segments…"</p> }>
            {move || Suspend::new(async move {
                match segments.await {
                    Ok(list) => view! { <SegmentTable list/> }.into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SegmentTable(list: Vec<SegmentUse>) -> impl IntoView {
    view! {
        <table class="table" aria-label="Segments">
            <thead>
                <tr>
                    <th scope="col">"Segment"</th>
                    <th scope="col">"Who is in it"</th>
                    <th scope="col">"Used by"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|s| {
                    let seg = s.record.segment;
                    let href = format!("/segments/{}", seg.key);
                    let mut who: Vec<String> = seg.constraints.iter().map(|c| c.describe()).collect();
                    if who.is_empty() && seg.included.is_empty() {
                        who.push("Everyone".into());
                    }
                    if !seg.included.is_empty() {
                        who.push(format!("{} listed users", seg.included.len()));
                    }
                    if !seg.excluded.is_empty() {
                        who.push(format!("except {} listed users", seg.excluded.len()));
                    }
                    let used = if s.used_by.is_empty() { "Not used".to_owned() } else { s.used_by.join(", ") };
                    view! {
                        <tr>
                            <th scope="row">
                                <a href=href>{seg.name.clone()}</a>
                                <div class="muted small"><code>{seg.key.clone()}</code></div>
                            </th>
                            <td>
                                <ul class="plain">{who.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                            </td>
                            <td class="small">{used}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn blank_segment() -> Segment {
    Segment {
        key: String::new(),
        name: String::new(),
        description: String::new(),
        constraints: Vec::new(),
        included: Vec::new(),
        excluded: Vec::new(),
    }
}

#[component]
pub fn SegmentEditorPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || params.with(|p| p.get("key").unwrap_or_default());
    let data = Resource::new(key, |key| async move {
        let all = list_segments().await?;
        if key == "new" {
            return Ok(None);
        }
        all.into_iter()
            .find(|s| s.record.segment.key == key)
            .map(Some)
            .ok_or_else(|| AppError::NotFound("segment".into()))
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading segment…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(existing) => view! { <SegmentEditor existing/> }.into_any(),
                    Err(e) => view! { <Title text="Segment"/><h1>"Segment"</h1><ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SegmentEditor(existing: Option<SegmentUse>) -> impl IntoView {
    let is_new = existing.is_none();
    let version = RwSignal::new(existing.as_ref().map(|e| e.record.version));
    let used_by = existing
        .as_ref()
        .map(|e| e.used_by.clone())
        .unwrap_or_default();
    let draft = RwSignal::new(
        existing
            .map(|e| e.record.segment)
            .unwrap_or_else(blank_segment),
    );
    let save = ServerAction::<SaveSegment>::new();
    let delete = ServerAction::<DeleteSegment>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            version.set(Some(saved.version));
            if is_new {
                navigate(
                    &format!("/segments/{}", saved.segment.key),
                    Default::default(),
                );
            }
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/segments", Default::default());
        }
    });
    let title = move || {
        draft.with(|d| {
            if d.name.is_empty() {
                "New segment".to_owned()
            } else {
                d.name.clone()
            }
        })
    };
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveSegment {
            segment: draft.get_untracked(),
            version: version.get_untracked(),
        });
    };
    view! {
        <Title text=title/>
        <p class="crumbs"><a href="/segments">"Segments"</a> " / "</p>
        <h1>{title}</h1>
        <form class="card stack" on:submit=on_save aria-label="Segment">
            <div class="form-grid">
                <div class="field">
                    <label for="seg-key">"Key"</label>
                    <input id="seg-key" type="text" required maxlength="100" disabled=!is_new
                        prop:value=move || draft.with(|d| d.key.clone())
                        on:change=move |ev| draft.update(|d| d.key = event_target_value(&ev).trim().to_owned())/>
                </div>
                <div class="field">
                    <label for="seg-name">"Name"</label>
                    <input id="seg-name" type="text" required maxlength="120"
                        prop:value=move || draft.with(|d| d.name.clone())
                        on:change=move |ev| draft.update(|d| d.name = event_target_value(&ev))/>
                </div>
            </div>
            <label for="seg-description">"Description"</label>
            <textarea id="seg-description" rows="2"
                prop:value=move || draft.with(|d| d.description.clone())
                on:change=move |ev| draft.update(|d| d.description = event_target_value(&ev))></textarea>
            <h2>"Constraints " <span class="muted small">"(all must hold)"</span></h2>
            <p class="hint">"With no constraints the segment matches everyone — or, when users are listed below, only them."</p>
            <ConstraintsEditor id_prefix="seg"
                value=Signal::derive(move || draft.with(|d| d.constraints.clone()))
                on_change=Callback::new(move |list| draft.update(|d| d.constraints = list))/>
            <div class="form-grid">
                <div class="field">
                    <label for="seg-included">"Always included (user ids, one per line)"</label>
                    <textarea id="seg-included" rows="4"
                        prop:value=move || draft.with(|d| d.included.join("\n"))
                        on:change=move |ev| draft.update(|d| d.included = split_lines(&event_target_value(&ev)))></textarea>
                </div>
                <div class="field">
                    <label for="seg-excluded">"Never included (user ids, one per line)"</label>
                    <textarea id="seg-excluded" rows="4"
                        prop:value=move || draft.with(|d| d.excluded.join("\n"))
                        on:change=move |ev| draft.update(|d| d.excluded = split_lines(&event_target_value(&ev)))></textarea>
                </div>
            </div>
            {move || save.value().get().map(|r| match r {
                Ok(s) => view! { <div class="notice success" role="status">"✓ Saved (version " {s.version} ")."</div> }.into_any(),
                Err(e) => view! { <ErrorNote error=e/> }.into_any(),
            })}
            <div class="button-row">
                <button type="submit" class="button primary">{if is_new { "Create segment" } else { "Save segment" }}</button>
                {(!is_new).then(|| view! {
                    <button type="button" class="button danger"
                        on:click=move |_| { delete.dispatch(DeleteSegment { key: draft.get_untracked().key }); }>"Delete segment"</button>
                })}
            </div>
            {move || delete.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e/> })}
        </form>
        <div class="grid two">
            <WhoMatches draft/>
            <section class="card" aria-labelledby="used-title">
                <h2 id="used-title">"Used by"</h2>
                {if used_by.is_empty() {
                    view! { <p class="muted">"No flag rule uses this segment."</p> }.into_any()
                } else {
                    view! { <ul>{used_by.into_iter().map(|u| view! { <li>{u}</li> }).collect_view()}</ul> }.into_any()
                }}
            </section>
        </div>
    }
}

/// Checks the segment being edited against a typed context, in the browser.
#[component]
fn WhoMatches(draft: RwSignal<Segment>) -> impl IntoView {
    let context = RwSignal::new(r#"{"targetingKey": "user-1", "email": "ann@example.com", "cohort": "beta", "riskScore": 20}"#.to_owned());
    let result = move || {
        let text = context.get();
        match parse_context(&text) {
            Ok(map) => {
                let ctx = Context::new(&map, now_ms(), 0);
                if draft.with(|s| segment_matches(s, &ctx)) {
                    view! { <p class="verdict yes" data-testid="segment-verdict">"✓ This context is in the segment"</p> }.into_any()
                } else {
                    view! { <p class="verdict no" data-testid="segment-verdict">"✕ This context is not in the segment"</p> }.into_any()
                }
            }
            Err(e) => view! { <p class="field-error">{e}</p> }.into_any(),
        }
    };
    view! {
        <section class="card" aria-labelledby="who-title">
            <h2 id="who-title">"Who matches?"</h2>
            <label for="who-context">"Context (JSON, as applications send it)"</label>
            <textarea id="who-context" rows="4" class="code"
                prop:value=move || context.get()
                on:input=move |ev| context.set(event_target_value(&ev))></textarea>
            <div aria-live="polite">{result}</div>
            <p class="hint">"Checks the segment as edited above, before saving."</p>
        </section>
    }
}
