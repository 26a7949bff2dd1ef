//! Serving flags to applications: the in-memory evaluation cache and the OFREP endpoints.

mod answers;
pub mod cache;
pub mod ofrep;

pub use cache::FlagCache;
