//! Change requests: what people asked to change in protected environments, each with the diff
//! a reviewer reads; approve (which applies it at once), reject, or withdraw your own. The
//! request form other pages show when a protected environment refuses a direct change is here
//! too.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::{ErrorNote, Timestamp};
use crate::editors::DiffView;
use varai_core::changes::{ChangeRequest, ChangeState, Decision, NewChangeRequest, ProposedChange};
use varai_core::error::AppError;

/// A request as its reviewer sees it: what this caller may do with it, and why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reviewable {
    pub request: ChangeRequest,
    pub environment_name: String,
    /// Why this caller may not approve or reject it; `None` when they may.
    pub review_refusal: Option<String>,
    pub may_withdraw: bool,
}

#[cfg(feature = "ssr")]
pub async fn reviewable(
    services: &varai_core::Services,
    who: &varai_core::accounts::Principal,
    requests: Vec<ChangeRequest>,
) -> Result<Vec<Reviewable>, AppError> {
    let envs = varai_core::flags::list_environments(services, who).await?;
    Ok(requests
        .into_iter()
        .map(|request| {
            let env = envs.iter().find(|e| e.key == request.environment);
            let review_refusal = env
                .and_then(|e| varai_core::changes::approval_refusal(who, e, &request))
                .map(|e| e.message());
            let may_withdraw = who.actor.people().any(|p| p == request.created_by);
            Reviewable {
                environment_name: env.map_or(request.environment.clone(), |e| e.name.clone()),
                review_refusal,
                may_withdraw,
                request,
            }
        })
        .collect())
}

#[leptos::server(prefix = "/rpc", endpoint = "changes/list")]
pub async fn list_changes(open_only: bool) -> Result<Vec<Reviewable>, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let state = open_only.then_some(ChangeState::Open);
    let requests = varai_core::changes::list_change_requests(&services, &who, state).await?;
    reviewable(&services, &who, requests).await
}

#[leptos::server(prefix = "/rpc", endpoint = "changes/request", input = server_fn::codec::Json)]
pub async fn request_change(new: NewChangeRequest) -> Result<ChangeRequest, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::changes::request_change(&services, &who, new).await
}

#[leptos::server(prefix = "/rpc", endpoint = "changes/decide")]
pub async fn decide_change(
    id: i64,
    decision: Decision,
    comment: Option<String>,
) -> Result<ChangeRequest, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::changes::decide_change_request(&services, &who, id, decision, comment).await
}

#[component]
pub fn ChangesPage() -> impl IntoView {
    let open_only = RwSignal::new(true);
    let decide = ServerAction::<DecideChange>::new();
    let list = Resource::new(
        move || (open_only.get(), decide.version().get()),
        |(open, _)| list_changes(open),
    );
    view! {
        <Title text="Change requests"/>
        <h1>"Change requests"</h1>
        <p class="lede">
            "Protected environments take changes from most people through a rollout or a change "
            "request. A request shows exactly what it would change; another person with the "
            "environment's approver role approves it, which applies it at once, or rejects it."
        </p>
        <div class="tabs" role="group" aria-label="Which requests">
            <button type="button" class="tab" aria-pressed=move || open_only.get().to_string()
                on:click=move |_| open_only.set(true)>"Waiting for review"</button>
            <button type="button" class="tab" aria-pressed=move || (!open_only.get()).to_string()
                on:click=move |_| open_only.set(false)>"All"</button>
        </div>
        {move || decide.value().get().and_then(|r| r.err()).map(|e| view! { <ErrorNote error=e/> })}
        <Transition fallback=|| view! { <p class="muted">"Loading change requests…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(items) if items.is_empty() => view! {
                        <div class="card empty"><p>{if open_only.get_untracked() {
                            "Nothing is waiting for review."
                        } else {
                            "No change requests yet. They appear here when someone asks to change a protected environment."
                        }}</p></div>
                    }.into_any(),
                    Ok(items) => items.into_iter().map(|item| view! { <RequestCard item decide/> }).collect_view().into_any(),
                    Err(e) => view! { <ErrorNote error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn state_class(state: ChangeState) -> &'static str {
    match state {
        ChangeState::Open => "badge warn",
        ChangeState::Applied => "badge ok",
        ChangeState::Rejected => "badge bad",
        ChangeState::Withdrawn => "badge",
    }
}

#[component]
fn RequestCard(item: Reviewable, decide: ServerAction<DecideChange>) -> impl IntoView {
    let Reviewable {
        request: r,
        environment_name,
        review_refusal,
        may_withdraw,
    } = item;
    let id = r.id;
    let comment = RwSignal::new(String::new());
    let send = move |decision: Decision| {
        let text = comment.get_untracked();
        decide.dispatch(DecideChange {
            id,
            decision,
            comment: (!text.trim().is_empty()).then_some(text),
        });
    };
    let open = r.state == ChangeState::Open;
    let link = match &r.change {
        ProposedChange::Flag { flag, .. } => crate::pages::flags::flag_href(flag),
        ProposedChange::Deploy { .. } => format!("/deployments?env={}", r.environment),
    };
    view! {
        <article class="card change" id=format!("change-{id}") aria-labelledby=format!("change-{id}-title")>
            <header class="change-head">
                <h2 id=format!("change-{id}-title")>{r.title.clone()}</h2>
                <span class=state_class(r.state)>{r.state.label()}</span>
            </header>
            <p class="muted">
                "#" {id} " · " <a href=link>{r.change.subject()}</a> " in " <strong>{environment_name}</strong>
                " · asked by " {r.created_by.clone()} " " <Timestamp ms=r.created_at/>
            </p>
            <DiffView before=r.before.clone() after=r.after.clone()/>
            {r.decided_by.clone().map(|by| view! {
                <p>
                    {r.state.label()} " by " <strong>{by}</strong> " "
                    {r.decided_at.map(|ms| view! { <Timestamp ms/> })}
                    {r.outcome.clone().map(|o| format!(" — {o}"))}
                </p>
                {r.comment.clone().map(|c| view! { <blockquote class="comment">{c}</blockquote> })}
            })}
            {open.then(|| view! {
                <div class="change-actions">
                    {(review_refusal.is_none() || may_withdraw).then(|| view! {
                        <div class="field">
                            <label for=format!("comment-{id}")>"Comment (optional)"</label>
                            <textarea id=format!("comment-{id}") rows="2" maxlength="2000"
                                prop:value=move || comment.get()
                                on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
                        </div>
                    })}
                    <div class="button-row">
                        {review_refusal.is_none().then(|| view! {
                            <button type="button" class="button primary" on:click=move |_| send(Decision::Approve)>"Approve and apply"</button>
                            <button type="button" class="button danger" on:click=move |_| send(Decision::Reject)>"Reject"</button>
                        })}
                        {may_withdraw.then(|| view! {
                            <button type="button" class="button" on:click=move |_| send(Decision::Withdraw)>"Withdraw"</button>
                        })}
                    </div>
                    {review_refusal.map(|why| view! { <p class="hint">"You cannot review this one: " {why}</p> })}
                </div>
            })}
        </article>
    }
}

/// Offered where a protected environment refused a direct change: asks for it instead.
/// `change` builds the request from what the page holds when the button is pressed.
#[component]
pub fn RequestApproval(
    environment: String,
    environment_name: String,
    #[prop(into)] suggested_title: String,
    change: Callback<(), ProposedChange>,
) -> impl IntoView {
    let request = ServerAction::<RequestChange>::new();
    let title = RwSignal::new(suggested_title);
    let field_id = format!("request-title-{environment}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        request.dispatch(RequestChange {
            new: NewChangeRequest {
                environment: environment.clone(),
                title: title.get_untracked(),
                change: change.run(()),
            },
        });
    };
    view! {
        <form class="request-approval" on:submit=submit>
            <p><strong>{format!("Ask for approval to change {environment_name}")}</strong></p>
            <div class="field">
                <label for=field_id.clone()>"What is it for?"</label>
                <input id=field_id type="text" required maxlength="200"
                    prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
            </div>
            <button type="submit" class="button primary">"Request approval"</button>
            {move || request.value().get().map(|r| match r {
                Ok(created) => view! {
                    <p class="notice success" role="status">
                        "✓ Change request #" {created.id} " is waiting for review. "
                        <a href=format!("/changes#change-{}", created.id)>"See it"</a>
                    </p>
                }.into_any(),
                Err(e) => view! { <ErrorNote error=e/> }.into_any(),
            })}
        </form>
    }
}
