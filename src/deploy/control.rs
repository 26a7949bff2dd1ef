//! A person's command to a deployment in progress: which command each strategy and stage
//! allows, and what an allowed one changes. Storage writes the effect; the decision is here.

use serde::{Deserialize, Serialize};

use super::{Stage, Strategy};
use crate::AuditAction;

/// An operator's command to a deployment in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Control {
    /// Canary: make the canary the new stable now. Blue-Green: switch to the preview now.
    Promote,
    /// Stop moving on until resumed.
    Pause,
    Resume,
    /// Take the new version away and give all traffic back to the old one.
    Abort,
}

impl Control {
    pub const ALL: [Control; 4] = [
        Control::Promote,
        Control::Pause,
        Control::Resume,
        Control::Abort,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Control::Promote => "Promote",
            Control::Pause => "Pause",
            Control::Resume => "Resume",
            Control::Abort => "Abort",
        }
    }
}

/// Where a deployment is, as far as a command is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Controlled<'a> {
    pub id: i64,
    pub strategy: &'a Strategy,
    pub stage: Stage,
    /// The stage in words, for a refusal.
    pub stage_label: &'a str,
    pub paused: bool,
    /// Whether it has finished (succeeded, failed, aborted or rolled back).
    pub over: bool,
}

/// What an allowed command changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlEffect {
    /// The new value of the promote request, when it changes.
    pub promote: Option<bool>,
    /// The new value of the paused flag, when it changes.
    pub paused: Option<bool>,
    /// The deployment starts aborting.
    pub abort: bool,
    pub action: AuditAction,
    /// What was done, for the timeline: "promoted", "paused"…
    pub verb: &'static str,
}

/// Decides whether `control` may be given to the deployment `d` now; the refusal says why in
/// words an operator can act on.
pub fn decide_control(d: &Controlled<'_>, control: Control) -> Result<ControlEffect, String> {
    if d.over {
        return Err(format!(
            "deployment #{} is over ({}); nothing to {}",
            d.id,
            d.stage_label,
            control.label().to_lowercase()
        ));
    }
    let two_versions = matches!(
        d.strategy,
        Strategy::Canary { .. } | Strategy::BlueGreen { .. }
    );
    let aborting = d.stage == Stage::Aborting;
    let effect = |promote, paused, abort, action, verb| ControlEffect {
        promote,
        paused,
        abort,
        action,
        verb,
    };
    match control {
        Control::Promote if !two_versions => Err(format!(
            "a {} deployment has no promotion: it finishes by itself",
            d.strategy.name()
        )),
        Control::Promote if aborting => Err("the deployment is being aborted".into()),
        Control::Promote => Ok(effect(
            Some(true),
            None,
            false,
            AuditAction::DeploymentPromote,
            "promoted",
        )),
        Control::Pause if d.paused => Err("the deployment is already paused".into()),
        Control::Pause => Ok(effect(
            None,
            Some(true),
            false,
            AuditAction::DeploymentPause,
            "paused",
        )),
        Control::Resume if !d.paused => Err("the deployment is not paused".into()),
        Control::Resume => Ok(effect(
            None,
            Some(false),
            false,
            AuditAction::DeploymentResume,
            "resumed",
        )),
        Control::Abort if !two_versions => Err(format!(
            "a {} deployment changes the app in place: roll back to its snapshot instead",
            d.strategy.name()
        )),
        Control::Abort if aborting => Err("the deployment is already being aborted".into()),
        Control::Abort => Ok(effect(
            Some(false),
            Some(false),
            true,
            AuditAction::DeploymentAbort,
            "aborted",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::Outcome;

    fn canary() -> Strategy {
        Strategy::Canary { steps: Vec::new() }
    }

    fn at(strategy: &Strategy, stage: Stage, paused: bool) -> Controlled<'_> {
        Controlled {
            id: 7,
            strategy,
            stage,
            stage_label: "Step 1",
            paused,
            over: stage.is_done(),
        }
    }

    #[test]
    fn a_running_canary_can_be_promoted_paused_and_aborted_but_not_resumed() {
        let s = canary();
        let d = at(&s, Stage::Step(0), false);
        assert_eq!(
            decide_control(&d, Control::Promote).unwrap().promote,
            Some(true)
        );
        assert_eq!(
            decide_control(&d, Control::Pause).unwrap().paused,
            Some(true)
        );
        let abort = decide_control(&d, Control::Abort).unwrap();
        assert!(abort.abort);
        assert_eq!(abort.action, AuditAction::DeploymentAbort);
        assert_eq!(
            decide_control(&d, Control::Resume).unwrap_err(),
            "the deployment is not paused"
        );
    }

    #[test]
    fn a_paused_deployment_resumes_and_cannot_be_paused_twice() {
        let s = canary();
        let d = at(&s, Stage::Step(1), true);
        assert_eq!(
            decide_control(&d, Control::Resume).unwrap().paused,
            Some(false)
        );
        assert_eq!(
            decide_control(&d, Control::Pause).unwrap_err(),
            "the deployment is already paused"
        );
    }

    #[test]
    fn rolling_and_recreate_have_neither_promotion_nor_abort() {
        let s = Strategy::Recreate;
        let d = at(&s, Stage::Promote, false);
        assert!(
            decide_control(&d, Control::Promote)
                .unwrap_err()
                .contains("finishes by itself")
        );
        assert!(
            decide_control(&d, Control::Abort)
                .unwrap_err()
                .contains("roll back to its snapshot")
        );
        assert!(decide_control(&d, Control::Pause).is_ok());
    }

    #[test]
    fn an_aborting_deployment_refuses_promotion_and_a_second_abort() {
        let s = canary();
        let d = at(&s, Stage::Aborting, false);
        assert_eq!(
            decide_control(&d, Control::Promote).unwrap_err(),
            "the deployment is being aborted"
        );
        assert_eq!(
            decide_control(&d, Control::Abort).unwrap_err(),
            "the deployment is already being aborted"
        );
    }

    #[test]
    fn a_finished_deployment_refuses_every_command_naming_its_end() {
        let s = canary();
        let mut d = at(&s, Stage::Done(Outcome::Succeeded), false);
        d.stage_label = "Succeeded";
        for c in Control::ALL {
            let why = decide_control(&d, c).unwrap_err();
            assert!(
                why.starts_with("deployment #7 is over (Succeeded)"),
                "{why}"
            );
        }
    }
}
