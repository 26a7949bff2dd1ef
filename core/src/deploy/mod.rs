//! Apps, deployments, rollbacks, cluster bindings and the sandbox. Developers deploy and
//! rehearse in the sandbox; operators register apps, steer deployments and roll back; admins
//! bind environments to clusters.

mod dto;
pub use dto::*;

#[cfg(feature = "server")]
mod port;
#[cfg(feature = "server")]
mod use_cases;

#[cfg(feature = "server")]
pub use port::*;
#[cfg(feature = "server")]
pub use use_cases::*;
