//! Who may approve a rollout's waiting approval gate: the gate's role or above, and with four
//! eyes nobody who wrote, edited or started the rollout's plan (its template's authors and the
//! person behind a token included). The use case enforces it, Skip too; the rollout page and
//! the Overview use the same rule to say whom a rollout waits for.

use varai_domain::Role;
use varai_domain::plan::{Gate, GateStatus, Position, Stop, stop_index, stops};

use super::{RolloutRecord, RolloutStatus, RolloutView};

/// An approval gate the rollout waits for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingApproval {
    /// The gate's result row, which the approval completes.
    pub row: i64,
    /// The stop and the gate in words: "Beta: approval by a product manager".
    pub describe: String,
    /// The role it needs, or one above.
    pub role: Role,
    /// Someone who neither wrote, edited nor started the plan must give it.
    pub four_eyes: bool,
}

/// Why a caller may not give an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// The caller's role is below the gate's.
    Role { needed: Role, actual: Role },
    /// The caller wrote, edited or started the plan, and the gate asks for four eyes.
    FourEyes,
}

impl ApprovalRefusal {
    /// The refusal in words, for the page that offers the approval.
    pub fn explain(self) -> String {
        match self {
            ApprovalRefusal::Role { needed, .. } => format!(
                "Waiting for approval by {} or above.",
                varai_domain::plan::gate::with_article(needed.label())
            ),
            ApprovalRefusal::FourEyes => "Waiting for approval by someone other than you: you wrote, edited or started this plan (four eyes).".into(),
        }
    }
}

impl WaitingApproval {
    /// The approval `gate` of `stop` asks for, with its result `row`; `None` for another gate.
    fn of(row: i64, stop: &Stop<'_>, gate: &Gate) -> Option<WaitingApproval> {
        match gate {
            Gate::Approval { role, four_eyes } => Some(WaitingApproval {
                row,
                describe: format!("{}: {}", stop.label(), gate.describe()),
                role: *role,
                four_eyes: *four_eyes,
            }),
            _ => None,
        }
    }

    /// Whether a caller who is `people` (a name, and the person behind a token) with `role`
    /// may give it, for a rollout whose plan `involved` these people.
    pub fn refusal(
        &self,
        involved: &[String],
        people: &[&str],
        role: Role,
    ) -> Option<ApprovalRefusal> {
        if !role.allows(self.role) {
            Some(ApprovalRefusal::Role {
                needed: self.role,
                actual: role,
            })
        } else if self.four_eyes && people.iter().any(|p| involved.iter().any(|i| i == p)) {
            Some(ApprovalRefusal::FourEyes)
        } else {
            None
        }
    }
}

impl RolloutRecord {
    /// Everyone who may not give this rollout's four-eyes approvals.
    pub fn four_eyes_excluded(&self) -> Vec<String> {
        let mut all = self.involved.clone();
        all.extend(self.started_by.iter().cloned());
        all.push(self.created_by.clone());
        all
    }

    /// The first approval gate at the current stop that Skip would pass without its approval,
    /// and why the caller (`people` with `role`) may not give it; `None` when Skip may go on.
    /// `passed` says whether the stop's gate at an index has passed in this visit.
    pub fn approval_skip_would_pass(
        &self,
        people: &[&str],
        role: Role,
        passed: impl Fn(usize) -> bool,
    ) -> Option<(String, ApprovalRefusal)> {
        let all = stops(&self.plan);
        let stop = stop_index(&all, self.position).and_then(|i| all.get(i))?;
        let involved = self.four_eyes_excluded();
        stop.gates
            .iter()
            .enumerate()
            .filter(|(i, _)| !passed(*i))
            .find_map(|(_, gate)| {
                let waiting = WaitingApproval::of(0, stop, gate)?;
                let refusal = waiting.refusal(&involved, people, role)?;
                Some((waiting.describe, refusal))
            })
    }
}

impl RolloutView {
    /// The approval gates the rollout waits for at its current stop, in the plan's order.
    pub fn waiting_approvals(&self) -> Vec<WaitingApproval> {
        let r = &self.rollout;
        if r.status != RolloutStatus::Running {
            return Vec::new();
        }
        let all = stops(&r.plan);
        let Some(stop) = stop_index(&all, r.position).and_then(|i| all.get(i)) else {
            return Vec::new();
        };
        let here = |phase, step| Position { phase, step } == r.position;
        self.gates
            .iter()
            .filter(|g| {
                g.visit == r.visit && g.status == GateStatus::Running && here(g.phase, g.step)
            })
            .filter_map(|g| WaitingApproval::of(g.id, stop, stop.gates.get(g.gate)?))
            .collect()
    }

    /// The approval a caller who is `people` with `role` would give: the first they may give,
    /// or else the first waiting with why they may not.
    pub fn approval_for(
        &self,
        people: &[&str],
        role: Role,
    ) -> Option<(WaitingApproval, Option<ApprovalRefusal>)> {
        let involved = self.rollout.four_eyes_excluded();
        let mut first = None;
        for a in self.waiting_approvals() {
            let refusal = a.refusal(&involved, people, role);
            if refusal.is_none() {
                return Some((a, None));
            }
            first.get_or_insert((a, refusal));
        }
        first
    }
}
