//! Protection policies and change requests as the UI and the REST API exchange them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use varai_domain::Role;
use varai_domain::flags::{FlagSpec, Targeting};

use crate::deploy::DeployRequest;

/// Who may change an environment directly, and who approves everyone else's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Protection {
    /// Whether the policy applies at all; off, every role changes the environment as usual.
    pub protected: bool,
    /// The lowest role that still deploys and changes flags here directly.
    #[cfg_attr(feature = "server", schema(value_type = crate::accounts::ChangerRoleName, example = "operator"))]
    pub direct_role: Role,
    /// The lowest role that may approve another person's change request here.
    #[cfg_attr(feature = "server", schema(value_type = crate::accounts::ChangerRoleName, example = "operator"))]
    pub approver_role: Role,
}

impl Protection {
    /// The policy a new environment starts with: protected when it is called `production`.
    pub fn default_for(key: &str) -> Protection {
        Protection {
            protected: key == "production",
            direct_role: Role::Operator,
            approver_role: Role::Operator,
        }
    }

    /// Whether a holder of `role` must go through a change request or a rollout here.
    pub fn blocks(&self, role: Role) -> bool {
        self.protected && !role.allows(self.direct_role)
    }
}

/// A flag's definition and its targeting in some environments, as one document for diffs.
pub fn flag_document(spec: &FlagSpec, environments: &BTreeMap<String, Targeting>) -> String {
    serde_json::to_string_pretty(&serde_json::json!({ "flag": spec, "environments": environments }))
        .unwrap_or_default()
}

/// What a change request would do once approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ProposedChange {
    /// Save a flag: its definition and its targeting in the environments listed (the
    /// protected one among them), as the flag editor saves it.
    #[serde(rename_all = "camelCase")]
    Flag {
        flag: String,
        spec: FlagSpec,
        environments: BTreeMap<String, Targeting>,
        /// The flag's version the change was made against; applying refuses if it moved on.
        #[cfg_attr(
            feature = "server",
            schema(minimum = 0, maximum = 999_999_999_999_999_i64)
        )]
        version: i64,
    },
    /// Deploy a version of an app.
    #[serde(rename_all = "camelCase")]
    Deploy { app: String, request: DeployRequest },
}

impl ProposedChange {
    /// What the change is about, for lists: `flag checkout-v2`, `app storefront`.
    pub fn subject(&self) -> String {
        match self {
            ProposedChange::Flag { flag, .. } => format!("flag {flag}"),
            ProposedChange::Deploy { app, .. } => format!("app {app}"),
        }
    }
}

/// Where a change request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ChangeState {
    /// Waiting for a review.
    Open,
    /// Approved and applied.
    Applied,
    Rejected,
    /// Taken back by the person who asked.
    Withdrawn,
}

impl ChangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeState::Open => "open",
            ChangeState::Applied => "applied",
            ChangeState::Rejected => "rejected",
            ChangeState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeState> {
        [
            ChangeState::Open,
            ChangeState::Applied,
            ChangeState::Rejected,
            ChangeState::Withdrawn,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            ChangeState::Open => "Waiting for review",
            ChangeState::Applied => "Approved and applied",
            ChangeState::Rejected => "Rejected",
            ChangeState::Withdrawn => "Withdrawn",
        }
    }
}

/// A change someone asked for in a protected environment, with its review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangeRequest {
    pub id: i64,
    pub environment: String,
    /// What the change is for, in the requester's words.
    pub title: String,
    pub change: ProposedChange,
    /// What the change replaces, as it stood when requested, and what it would become: the
    /// two texts the review's diff compares.
    pub before: String,
    pub after: String,
    pub state: ChangeState,
    pub created_by: String,
    /// The requester and, when a token asked, the person behind it: none of them may approve.
    pub requesters: Vec<String>,
    pub created_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    /// The reviewer's words.
    pub comment: Option<String>,
    /// What applying it produced: `flag version 7`, `deployment #12`.
    pub outcome: Option<String>,
}

/// A new change request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewChangeRequest {
    #[cfg_attr(feature = "server", schema(pattern = "^[A-Za-z0-9._-]{1,100}$"))]
    pub environment: String,
    /// What the change is for: up to 200 characters, not blank, no control characters but
    /// line breaks.
    #[cfg_attr(
        feature = "server",
        schema(
            max_length = 200,
            pattern = "^[^\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f]*$"
        )
    )]
    pub title: String,
    pub change: ProposedChange,
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    Approve,
    Reject,
    Withdraw,
}
