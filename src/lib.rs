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
pub mod json;
pub mod plan;
pub mod recheck;
pub mod role;
pub mod sandbox;
#[cfg(feature = "openapi")]
pub mod schema;
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
    /// Whether the value is wrong alone or only against something else.
    pub refusal: Refusal,
}

/// Why a value was refused, which decides how the API answers (400, 422 or 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Refusal {
    /// Wrong on its own: a length, a pattern, a range, a count. The API document states each
    /// such rule in its schema.
    #[default]
    Malformed,
    /// Well-formed, but breaking a rule JSON Schema cannot state: fields that contradict each
    /// other or the path (a default variant that is not among the variants), a value its
    /// operator cannot read, a pattern that does not compile. The document lists these in
    /// words.
    Unprocessable,
    /// Names something that does not exist (a segment, a flag): it clashes with what is
    /// stored, like a taken name.
    Unknown,
}

impl InvalidInput {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            refusal: Refusal::Malformed,
        }
    }

    /// A well-formed value breaking a rule the schema cannot state.
    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            refusal: Refusal::Unprocessable,
            ..Self::new(field, message)
        }
    }

    /// The same refusal, as a rule the schema cannot state: a check that is a plain format
    /// rule in one place and depends on another field in another (a flag's key is a key only
    /// when created here).
    pub fn unprocessable_here(self) -> Self {
        Self {
            refusal: Refusal::Unprocessable,
            ..self
        }
    }

    /// A value naming something that does not exist.
    pub fn unknown(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            refusal: Refusal::Unknown,
            ..Self::new(field, message)
        }
    }
}
