//! Protected environments and change requests. Each environment has a protection policy
//! (on by default for `production`): below its direct role, people change flags and deploy
//! there through a rollout or a change request that another person, of the approver role,
//! reviews with a diff and approves or rejects; an approved request is applied at once, in the
//! same transaction as its decision, and both are audited.

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
