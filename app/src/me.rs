//! The signed-in user, fetched once by the layout and read by any page that adapts to the
//! caller's role.

use leptos::prelude::*;
use varai_core::accounts::Me;
use varai_core::error::AppError;
use varai_domain::Role;

/// The signed-in user, for every page under the layout.
#[leptos::server(prefix = "/rpc", endpoint = "me")]
pub async fn get_me() -> Result<Me, AppError> {
    let (_, who) = crate::server::signed_in().await?;
    Ok(who.me())
}

/// The signed-in user's resource, provided by the layout.
pub fn use_me() -> Resource<Result<Me, AppError>> {
    expect_context()
}

/// Whether the signed-in user holds at least `role`; false while unknown.
pub fn me_allows(me: &Result<Me, AppError>, role: Role) -> bool {
    me.as_ref().map(|m| m.role.allows(role)).unwrap_or(false)
}
