//! Why the sandbox's Kubernetes API refuses an operation: the `Status` reasons and codes a
//! real API server answers with, so clients (the `kube` crate, kubectl) react as they would.

/// Why the sandbox's API refused an operation, in the terms of Kubernetes' `Status` reasons.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{kind} \"{name}\" not found")]
    NotFound { kind: &'static str, name: String },
    #[error("{kind} \"{name}\" already exists")]
    AlreadyExists { kind: &'static str, name: String },
    #[error(
        "Operation cannot be fulfilled on {kind} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
    )]
    Conflict { kind: &'static str, name: String },
    #[error("{kind} is invalid: {message}")]
    Invalid { kind: &'static str, message: String },
    #[error("too old resource version: {asked} ({oldest})")]
    Gone { asked: u64, oldest: u64 },
}

impl Refusal {
    /// The HTTP status Kubernetes answers with.
    pub fn code(&self) -> u16 {
        match self {
            Refusal::NotFound { .. } => 404,
            Refusal::AlreadyExists { .. } | Refusal::Conflict { .. } => 409,
            Refusal::Invalid { .. } => 422,
            Refusal::Gone { .. } => 410,
        }
    }

    /// The `reason` of a Kubernetes `Status`.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::NotFound { .. } => "NotFound",
            Refusal::AlreadyExists { .. } => "AlreadyExists",
            Refusal::Conflict { .. } => "Conflict",
            Refusal::Invalid { .. } => "Invalid",
            Refusal::Gone { .. } => "Expired",
        }
    }
}

/// Refuses a body that is not a JSON object, as the API server does.
pub(super) fn require_object(
    kind: super::kind::Kind,
    obj: &serde_json::Value,
) -> Result<(), Refusal> {
    if obj.is_object() {
        Ok(())
    } else {
        Err(Refusal::Invalid {
            kind: kind.name(),
            message: "the body must be a JSON object".into(),
        })
    }
}
