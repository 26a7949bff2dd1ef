//! Who is making a request. The server resolves the session cookie or bearer token once per
//! request into a [`Caller`]; everything after that asks it for a role.

use varai_domain::Role;

use super::Me;
use crate::error::{AppError, Result};

/// The name written to the audit log for a change, and the user behind it if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    /// For an API token, the person who created it: they act through it.
    pub behind: Option<String>,
}

impl Actor {
    /// The person behind a token created by `created_by`: none when the command line or the
    /// server itself created it (whoever ran the command is not known).
    pub fn person_behind(created_by: String) -> Option<String> {
        (!matches!(created_by.as_str(), "cli" | "system")).then_some(created_by)
    }

    /// The actor's name, and the person behind it when a token acts.
    pub fn people(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.behind.as_deref())
    }
}

/// Who acts: a signed-in user or an API token with its role, or the product itself (a rollout,
/// an analysis, the first start), which the ports record under its own name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub actor: Actor,
    pub role: Role,
}

impl Principal {
    /// The product acting by itself, recorded in the audit log as `name` (`rollout #3`,
    /// `analysis`). Its role is never checked: use cases are for callers, and automation
    /// reaches the ports directly.
    pub fn automation(name: impl Into<String>) -> Principal {
        Principal {
            actor: Actor {
                user_id: None,
                name: name.into(),
                behind: None,
            },
            role: Role::Admin,
        }
    }

    /// The server itself, e.g. creating the first admin.
    pub fn system() -> Principal {
        Principal::automation("system")
    }

    /// The `varai admin` command line, which writes the database directly.
    pub fn cli() -> Principal {
        Principal::automation("cli")
    }

    /// Refuses unless this caller's role allows what `required` allows.
    pub fn require(&self, required: Role) -> Result<()> {
        if self.role.allows(required) {
            Ok(())
        } else {
            Err(AppError::Forbidden {
                required,
                actual: self.role,
            })
        }
    }

    pub fn me(&self) -> Me {
        Me {
            user_id: self.actor.user_id,
            name: self.actor.name.clone(),
            role: self.role,
        }
    }
}

/// The caller of one request, as resolved by the server's middleware.
#[derive(Debug, Clone, Default)]
pub struct Caller(pub Option<Principal>);
