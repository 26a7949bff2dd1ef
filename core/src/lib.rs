//! VARAi Rollout's application layer, between the pure domain (`varai_domain`) and its two
//! faces, the dashboard (`varai_app`) and the server (`varai_server`). Arranged by capability:
//! each folder holds the shapes its callers exchange (`dto`), and behind the `server` feature
//! the port its adapters implement and the use cases with their role and input rules. The
//! dashboard's server functions and the REST API call the same use cases, so they cannot
//! disagree.

pub mod accounts;
pub mod changes;
pub mod deploy;
pub mod error;
pub mod flags;
pub mod monitor;
pub mod rollouts;
pub mod timeline;

#[cfg(feature = "server")]
pub mod clock;
#[cfg(feature = "server")]
mod services;
#[cfg(feature = "server")]
pub mod turns;

pub use error::{AppError, Result};
#[cfg(feature = "server")]
pub use services::Services;
