//! Small pieces every page uses: error notes, role badges, timestamps, form fields.

use leptos::prelude::*;
use varai_domain::Role;
use varai_domain::clock::{format_rfc3339, format_utc};

use varai_core::error::AppError;

/// An error as a notice a user can read; announced to screen readers.
#[component]
pub fn ErrorNote(error: AppError) -> impl IntoView {
    let title = match &error {
        AppError::Forbidden { .. } => "Not allowed",
        AppError::Protected { .. } => "Needs approval",
        AppError::Unauthenticated => "Signed out",
        AppError::NotFound(_) => "Not found",
        AppError::Invalid { .. } | AppError::Unprocessable { .. } | AppError::Conflict { .. } => {
            "Please check the form"
        }
        _ => "Something went wrong",
    };
    view! {
        <div class="notice error" role="alert">
            <strong>{title}</strong>
            <span>{error.to_string()}</span>
        </div>
    }
}

/// The outcome of the last submission of a form: an error, or a confirmation.
#[component]
pub fn ActionResult<T: Clone + Send + Sync + 'static>(
    #[prop(into)] value: Signal<Option<Result<T, AppError>>>,
    #[prop(into)] success: Signal<String>,
) -> impl IntoView {
    move || match value.get() {
        Some(Err(e)) => Some(view! { <ErrorNote error=e/> }.into_any()),
        Some(Ok(_)) => Some(
            view! { <div class="notice success" role="status">"✓ " {success.get()}</div> }
                .into_any(),
        ),
        None => None,
    }
}

/// A secret just created: shown once, with the advice to copy it now. `what` names it
/// ("Token ci-deploy", "Key web for production").
#[component]
pub fn SecretOnce(
    #[prop(into)] what: String,
    secret: String,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="notice success secret" role="status">
            <p>{format!("✓ {what} created. Copy it now: it will not be shown again.")}</p>
            <code class="secret-value" data-testid=testid>{secret}</code>
        </div>
    }
}

/// A role name with a badge shape, so it never relies on colour alone.
#[component]
pub fn RoleBadge(role: Role) -> impl IntoView {
    view! { <span class=format!("badge role-{}", role.as_str())>{role.label()}</span> }
}

/// An instant in UTC, machine-readable in `datetime`.
#[component]
pub fn Timestamp(ms: i64) -> impl IntoView {
    let text = format_utc(ms);
    let machine = format_rfc3339(ms);
    view! { <time datetime=machine>{text}</time> }
}

/// A select listing every role, with `selected` chosen.
#[component]
pub fn RoleSelect(
    #[prop(into)] id: String,
    #[prop(into)] name: String,
    selected: Role,
) -> impl IntoView {
    view! {
        <select id=id name=name>
            {Role::ALL
                .into_iter()
                .map(|r| {
                    view! {
                        <option value=r.as_str() selected=r == selected>
                            {r.label()}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// The message under a field when the last submission was refused because of it.
#[component]
pub fn FieldError<T: Clone + Send + Sync + 'static>(
    #[prop(into)] value: Signal<Option<Result<T, AppError>>>,
    field: &'static str,
) -> impl IntoView {
    let id = format!("{field}-error");
    move || match value.get() {
        Some(Err(e)) if e.field() == Some(field) => {
            Some(view! { <p class="field-error" id=id.clone()>{e.message()}</p> })
        }
        _ => None,
    }
}
