//! Feature flags: environments, segments, flags with their targeting per environment, SDK
//! keys, and importing an Unleash document. Developers change flags and segments; admins
//! manage environments, SDK keys and imports.

mod dto;
pub use dto::*;

#[cfg(feature = "server")]
mod environments;
#[cfg(feature = "server")]
mod import;
#[cfg(feature = "server")]
mod port;
#[cfg(feature = "server")]
mod segments;
#[cfg(feature = "server")]
mod use_cases;

#[cfg(feature = "server")]
pub use environments::*;
#[cfg(feature = "server")]
pub use import::*;
#[cfg(feature = "server")]
pub use port::*;
#[cfg(feature = "server")]
pub use segments::*;
#[cfg(feature = "server")]
pub use use_cases::*;
