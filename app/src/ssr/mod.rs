//! Server-only parts of the app: the state every request shares, the ports (traits) the
//! server's adapters implement, and the account rules both the UI's server functions and the
//! REST API call, so the two can never disagree.

pub mod accounts;
pub mod caller;
pub mod deploy;
pub mod flag_ports;
pub mod flags;
pub mod monitor;
pub mod passwords;
pub mod ports;
pub mod rollouts;

pub use caller::{Actor, Caller, Principal};
pub use deploy::Deployer;
pub use flag_ports::FlagStore;
pub use monitor::Monitor;
pub use ports::{AccountStore, StoreError};
pub use rollouts::Rollouts;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What every request handler and server function reaches: built once in `main`.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub accounts: Arc<dyn AccountStore>,
    pub flags: Arc<dyn FlagStore>,
    pub deploy: Arc<dyn Deployer>,
    pub monitor: Arc<dyn Monitor>,
    pub rollouts: Arc<dyn Rollouts>,
    /// Which database holds the state, for people: "SQLite" or "PostgreSQL".
    pub storage: &'static str,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Milliseconds since the Unix epoch, the one place the app reads the clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
