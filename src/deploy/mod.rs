//! Deployment strategies as arithmetic: how many replicas each version should have at each
//! step of a Rolling, Canary, Blue-Green or Recreate deployment. The server's controller
//! observes the cluster and carries these decisions out; nothing here touches a cluster.

pub mod canary;
pub mod control;
pub mod countdown;
pub mod names;
pub mod progress;
pub mod rolling;
pub mod selector;
pub mod stage;
pub mod strategy;

pub use canary::{CanaryScale, CanaryStep, canary_scale};
pub use control::{Control, ControlEffect, Controlled, decide_control};
pub use progress::{
    Action, DeployDecision, DeploySpec, Observed, Outcome, Progress, Rollout, Stage, Workload,
    decide,
};
pub use rolling::{RollingBudget, RollingState, next_rolling_step};
pub use selector::LabelSelector;
pub use strategy::{IntOrPercent, Strategy};
