//! Who may approve a rollout's waiting approval gate: the gate's role or above, and with four
//! eyes not the person who started the rollout. The use case enforces it; the rollout page and
//! the Overview use the same rule to say whom a rollout waits for.

use varai_domain::Role;
use varai_domain::plan::{Gate, GateStatus, Position, stop_index, stops};

use super::{RolloutStatus, RolloutView};

/// An approval gate the rollout waits for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingApproval {
    /// The gate's result row, which the approval completes.
    pub row: i64,
    /// The stop and the gate in words: "Beta: approval by a product manager".
    pub describe: String,
    /// The role it needs, or one above.
    pub role: Role,
    /// Someone other than the person who started the rollout must give it.
    pub four_eyes: bool,
}

/// Why a caller may not give an approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// The caller's role is below the gate's.
    Role { needed: Role, actual: Role },
    /// The caller started the rollout and the gate asks for four eyes.
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
            ApprovalRefusal::FourEyes => "Waiting for approval by someone other than you: you started this rollout (four eyes).".into(),
        }
    }
}

impl WaitingApproval {
    /// Whether the caller `name` with `role` may give it, for a rollout `started_by`.
    pub fn refusal(
        &self,
        started_by: Option<&str>,
        name: &str,
        role: Role,
    ) -> Option<ApprovalRefusal> {
        if !role.allows(self.role) {
            Some(ApprovalRefusal::Role {
                needed: self.role,
                actual: role,
            })
        } else if self.four_eyes && started_by == Some(name) {
            Some(ApprovalRefusal::FourEyes)
        } else {
            None
        }
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
            .filter_map(|g| match stop.gates.get(g.gate) {
                Some(gate @ Gate::Approval { role, four_eyes }) => Some(WaitingApproval {
                    row: g.id,
                    describe: format!("{}: {}", stop.label(), gate.describe()),
                    role: *role,
                    four_eyes: *four_eyes,
                }),
                _ => None,
            })
            .collect()
    }

    /// The approval the caller `name` with `role` would give: the first they may give, or else
    /// the first waiting with why they may not.
    pub fn approval_for(
        &self,
        name: &str,
        role: Role,
    ) -> Option<(WaitingApproval, Option<ApprovalRefusal>)> {
        let started_by = self.rollout.started_by.as_deref();
        let mut first = None;
        for a in self.waiting_approvals() {
            let refusal = a.refusal(started_by, name, role);
            if refusal.is_none() {
                return Some((a, None));
            }
            first.get_or_insert((a, refusal));
        }
        first
    }
}
