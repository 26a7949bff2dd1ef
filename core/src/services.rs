//! The ports every use case reaches, built once in `main`.

use std::sync::Arc;

use crate::accounts::AccountStore;
use crate::changes::ChangeRequestStore;
use crate::deploy::Deployer;
use crate::flags::FlagStore;
use crate::monitor::Monitor;
use crate::rollouts::Rollouts;

/// The adapters behind each capability's port; cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub accounts: Arc<dyn AccountStore>,
    pub flags: Arc<dyn FlagStore>,
    pub changes: Arc<dyn ChangeRequestStore>,
    pub deploy: Arc<dyn Deployer>,
    pub monitor: Arc<dyn Monitor>,
    pub rollouts: Arc<dyn Rollouts>,
    /// Which database holds the state, for people: "SQLite" or "PostgreSQL".
    pub storage: &'static str,
}
