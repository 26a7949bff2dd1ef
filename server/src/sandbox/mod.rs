//! The sandbox cluster: the built-in Kubernetes every environment without a configured
//! cluster runs against: its object store and the Kubernetes REST API over it; the simulated
//! controllers build on these.

pub mod api;
pub mod discovery;
pub mod kind;
pub mod store;

pub use kind::Kind;
pub use store::{ObjectStore, Part, StoreError, WatchEvent};
