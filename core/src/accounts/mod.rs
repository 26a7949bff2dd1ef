//! Accounts: users and their roles, API tokens, sign-in, and the audit log. Admins manage
//! users and tokens; everyone signed in reads the audit log.

mod dto;
pub use dto::*;

#[cfg(feature = "server")]
mod passwords;
#[cfg(feature = "server")]
mod port;
#[cfg(feature = "server")]
mod principal;
#[cfg(feature = "server")]
mod use_cases;

#[cfg(feature = "server")]
pub use passwords::{hash_password, random_secret, verify_password};
#[cfg(feature = "server")]
pub use port::*;
#[cfg(feature = "server")]
pub use principal::{Actor, Caller, Principal};
#[cfg(feature = "server")]
pub use use_cases::*;
