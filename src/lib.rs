//! VARAi Rollout's domain: the decisions the product makes, as pure functions over plain data.
//!
//! Nothing here does IO, reads the clock or draws random numbers: time and randomness are
//! passed in. The crate builds for `wasm32-unknown-unknown`, so the browser can run the same
//! rules (a form can validate exactly as the server will).

pub mod account;
pub mod analysis;
pub mod audit;
pub mod clock;
pub mod deploy;
pub mod flags;
pub mod plan;
pub mod recheck;
pub mod role;
pub mod sandbox;
pub mod text_diff;
pub mod throttle;
pub mod timeline;
pub mod url;

pub use account::{Password, Username};
pub use audit::AuditAction;
pub use recheck::Recheck;
pub use role::Role;

/// A problem with a value someone typed or sent, naming the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInput {
    /// The field (form input or JSON property) that holds the bad value.
    pub field: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl InvalidInput {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
