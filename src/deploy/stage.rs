//! Where a deployment is, and how it ended, in words people read on its page.

use serde::{Deserialize, Serialize};

use super::strategy::Strategy;

/// Where a deployment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "stage", content = "step")]
pub enum Stage {
    /// Canary and Blue-Green: create the secondary (and the preview Service).
    Prepare,
    /// Canary: carrying out step N.
    Step(usize),
    /// Blue-Green: waiting for the preview to be ready.
    AwaitPreview,
    /// Blue-Green: ready, waiting for a promotion (or the auto-promotion time).
    AwaitPromotion,
    /// Blue-Green: the active Service now selects the new version; the old one stays for the
    /// scale-down delay.
    ScaleDownDelay,
    /// The primary Deployment takes the new version (Rolling and Recreate start here).
    Promote,
    /// Remove the secondary and the preview Service.
    Cleanup,
    /// Undo: the secondary goes, the primary takes back all traffic.
    Aborting,
    Done(Outcome),
}

impl Stage {
    pub fn is_done(self) -> bool {
        matches!(self, Stage::Done(_))
    }

    /// The stage a deployment with `strategy` starts in.
    pub fn first(strategy: &Strategy) -> Stage {
        match strategy {
            Strategy::Canary { .. } | Strategy::BlueGreen { .. } => Stage::Prepare,
            Strategy::Rolling { .. } | Strategy::Recreate => Stage::Promote,
        }
    }

    /// In words, for the progress view.
    pub fn describe(self, strategy: &Strategy) -> String {
        match self {
            Stage::Prepare => "Preparing".into(),
            Stage::Step(i) => match strategy {
                Strategy::Canary { steps } => match steps.get(i) {
                    Some(s) => format!("Step {} of {}: {}", i + 1, steps.len(), s.describe()),
                    None => "Steps done".into(),
                },
                _ => format!("Step {}", i + 1),
            },
            Stage::AwaitPreview => "Starting the preview".into(),
            Stage::AwaitPromotion => "Preview ready: waiting for promotion".into(),
            Stage::ScaleDownDelay => "Promoted: old version kept for instant rollback".into(),
            Stage::Promote => match strategy {
                Strategy::Rolling { .. } => "Rolling update".into(),
                Strategy::Recreate => "Recreating".into(),
                _ => "Promoting: primary takes the new version".into(),
            },
            Stage::Cleanup => "Cleaning up".into(),
            Stage::Aborting => "Aborting".into(),
            Stage::Done(o) => o.label().into(),
        }
    }
}

/// How a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Succeeded,
    Aborted,
    Failed,
    RolledBack,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Succeeded => "Succeeded",
            Outcome::Aborted => "Aborted",
            Outcome::Failed => "Failed",
            Outcome::RolledBack => "Rolled back",
        }
    }
}
