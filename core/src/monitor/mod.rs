//! Monitoring: where each environment's metrics come from, live charts per version, analysis
//! templates and runs, alert rules, alerts received from Alertmanager, and saved queries.

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
