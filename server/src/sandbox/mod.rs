//! The sandbox cluster: the built-in Kubernetes every environment without a configured
//! cluster runs against. This module holds its object store; the API surface and the
//! simulated controllers build on it.

pub mod store;

pub use store::{Kind, ObjectStore, StoreError, WatchEvent};
