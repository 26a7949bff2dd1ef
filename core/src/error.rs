//! The one error type our server functions and REST handlers return. It crosses the network
//! intact, so the browser shows the same message the API would, naming the field at fault.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};
use varai_domain::{InvalidInput, Refusal, Role};

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// What went wrong, in terms a user can act on. Internal details never appear here: they go
/// to the log once, where the error is first met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A value was refused; `field` names the input or JSON property.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A well-formed value breaking a rule the API document states in words rather than in its
    /// schema (fields that contradict each other or the path); answered 422.
    #[error("{field}: {message}")]
    Unprocessable { field: String, message: String },
    /// The value clashes with one already stored (a taken username, say).
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
    #[error("sign in to continue")]
    Unauthenticated,
    #[error("this needs the {required} role; you have {actual}")]
    Forbidden { required: Role, actual: Role },
    /// The environment is protected: this caller's change needs another person's approval
    /// (a change request) or a rollout.
    #[error("{environment} is protected: {message}")]
    Protected {
        /// The environment's name, for people; `key` identifies it.
        environment: String,
        key: String,
        message: String,
    },
    #[error("{0} not found")]
    NotFound(String),
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the server could not complete the request; the details are in its log")]
    Internal,
    /// Something we depend on (a cluster, Prometheus) did not answer; the message says what.
    #[error("{0}")]
    Unavailable(String),
    /// The request never reached our code, or its answer could not be read.
    #[error("{0}")]
    Transport(String),
}

impl AppError {
    /// A well-formed value naming an environment that does not exist: it clashes with what is
    /// stored (409), like a taken name, rather than being malformed.
    pub fn unknown_environment(field: &str, key: &str) -> AppError {
        AppError::Conflict {
            field: field.into(),
            message: format!("there is no environment '{key}'"),
        }
    }

    /// A stable machine-readable code for the REST API.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid { .. } => "invalid",
            AppError::Unprocessable { .. } => "unprocessable",
            AppError::Conflict { .. } => "conflict",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden { .. } => "forbidden",
            AppError::Protected { .. } => "protected",
            AppError::NotFound(_) => "not_found",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Internal => "internal",
            AppError::Unavailable(_) => "unavailable",
            AppError::Transport(_) => "bad_request",
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid { .. } | AppError::Transport(_) => 400,
            AppError::Unauthenticated => 401,
            AppError::Forbidden { .. } | AppError::Protected { .. } => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict { .. } => 409,
            AppError::Unprocessable { .. } => 422,
            AppError::TooManyRequests { .. } => 429,
            AppError::Internal => 500,
            AppError::Unavailable(_) => 503,
        }
    }

    /// The field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. }
            | AppError::Unprocessable { field, .. }
            | AppError::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The message without the field prefix, for showing next to the field itself.
    pub fn message(&self) -> String {
        match self {
            AppError::Invalid { message, .. }
            | AppError::Unprocessable { message, .. }
            | AppError::Conflict { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

impl From<InvalidInput> for AppError {
    fn from(e: InvalidInput) -> Self {
        let (field, message) = (e.field, e.message);
        match e.refusal {
            Refusal::Malformed => AppError::Invalid { field, message },
            Refusal::Unprocessable => AppError::Unprocessable { field, message },
            Refusal::Unknown => AppError::Conflict { field, message },
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(msg) => AppError::Invalid {
                field: "form".into(),
                message: msg,
            },
            other => AppError::Transport(other.to_string()),
        }
    }
}
