//! Roles and what each may do. Each role can do everything the roles below it can; only an
//! admin manages users and keys.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::InvalidInput;

/// The one role a user or an API token holds, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Viewer,
    Developer,
    ProductManager,
    Operator,
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Developer,
        Role::ProductManager,
        Role::Operator,
        Role::Admin,
    ];

    /// The name used in the database, the API and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::ProductManager => "product-manager",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// A label for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Developer => "Developer",
            Role::ProductManager => "Product manager",
            Role::Operator => "Operator",
            Role::Admin => "Admin",
        }
    }

    /// Whether a holder of this role may do what `required` allows.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }

    /// Parses a role name, naming `field` when it is not one.
    pub fn parse_field(value: &str, field: &'static str) -> Result<Role, InvalidInput> {
        value.parse().map_err(|_| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            InvalidInput::new(
                field,
                format!(
                    "unknown role '{value}'; expected one of {}",
                    names.join(", ")
                ),
            )
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not a role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{0}'")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn admin_can_do_what_every_other_role_can() {
        for role in Role::ALL {
            assert!(Role::Admin.allows(role));
        }
    }

    #[test]
    fn a_developer_cannot_act_as_an_operator() {
        assert!(!Role::Developer.allows(Role::Operator));
        assert!(Role::Developer.allows(Role::Viewer));
    }

    #[test]
    fn an_unknown_role_names_the_field_and_the_choices() {
        let err = Role::parse_field("root", "role").unwrap_err();
        assert_eq!(err.field, "role");
        assert!(err.message.contains("'root'"));
        assert!(err.message.contains("product-manager"));
    }

    proptest! {
        #[test]
        fn role_names_round_trip(i in 0usize..5) {
            let role = Role::ALL[i];
            prop_assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            let json = serde_json::to_string(&role).unwrap();
            prop_assert_eq!(json, format!("\"{}\"", role.as_str()));
        }

        #[test]
        fn allows_is_the_role_order(a in 0usize..5, b in 0usize..5) {
            prop_assert_eq!(Role::ALL[a].allows(Role::ALL[b]), a >= b);
        }
    }
}
