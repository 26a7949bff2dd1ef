//! What every server function starts with: the ports and the signed-in caller.

use leptos::prelude::*;
use varai_core::Services;
use varai_core::accounts::{Caller, Principal};
use varai_core::error::{AppError, Result};

/// The ports and the caller, refused unless signed in.
pub async fn signed_in() -> Result<(Services, Principal)> {
    let services = use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services missing from the server function context");
        AppError::Internal
    })?;
    let axum::Extension(Caller(principal)) = leptos_axum::extract::<axum::Extension<Caller>>()
        .await
        .map_err(|_| AppError::Unauthenticated)?;
    let principal = principal.ok_or(AppError::Unauthenticated)?;
    Ok((services, principal))
}
