//! Rollouts: plan templates, and rollouts that carry a release through a plan's phases.
//! Product managers plan and start them; operators steer running ones; an approval gate
//! names the role it needs.

mod approval;
mod dto;
pub use approval::{ApprovalRefusal, WaitingApproval};
pub use dto::*;

#[cfg(feature = "server")]
mod port;
#[cfg(feature = "server")]
mod use_cases;

#[cfg(feature = "server")]
pub use port::*;
#[cfg(feature = "server")]
pub use use_cases::*;
