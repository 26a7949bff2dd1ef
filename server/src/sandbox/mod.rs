//! The sandbox cluster: the built-in Kubernetes every environment without a configured
//! cluster runs against: its object store, the Kubernetes REST API over it, the simulated
//! controllers, and the simulated traffic with its metrics.

pub mod access;
pub mod api;
pub mod cluster;
pub mod controllers;
pub mod discovery;
pub mod kind;
pub mod objects;
pub mod patch;
mod refusal;
pub mod simulation;
pub mod store;
pub mod table;
pub mod traffic;
mod watch;

pub use cluster::{Running, Sandbox};
pub use kind::Kind;
pub use simulation::{Simulation, Timings};
pub use store::{ObjectStore, Part, Refusal, WatchEvent};
