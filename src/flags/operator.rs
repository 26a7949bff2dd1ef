//! The comparisons a constraint can make, in Unleash's names, with what each one needs.

use serde::{Deserialize, Serialize};

/// The comparison a constraint makes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operator {
    In,
    NotIn,
    StrStartsWith,
    StrEndsWith,
    StrContains,
    NumEq,
    NumGt,
    NumGte,
    NumLt,
    NumLte,
    DateAfter,
    DateBefore,
    SemverEq,
    SemverGt,
    SemverGte,
    SemverLt,
    SemverLte,
    Regex,
    InCidr,
}

impl Operator {
    pub const ALL: [Operator; 19] = [
        Operator::In,
        Operator::NotIn,
        Operator::StrStartsWith,
        Operator::StrEndsWith,
        Operator::StrContains,
        Operator::NumEq,
        Operator::NumGt,
        Operator::NumGte,
        Operator::NumLt,
        Operator::NumLte,
        Operator::DateAfter,
        Operator::DateBefore,
        Operator::SemverEq,
        Operator::SemverGt,
        Operator::SemverGte,
        Operator::SemverLt,
        Operator::SemverLte,
        Operator::Regex,
        Operator::InCidr,
    ];

    /// The wire name, e.g. `STR_STARTS_WITH`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "IN",
            Operator::NotIn => "NOT_IN",
            Operator::StrStartsWith => "STR_STARTS_WITH",
            Operator::StrEndsWith => "STR_ENDS_WITH",
            Operator::StrContains => "STR_CONTAINS",
            Operator::NumEq => "NUM_EQ",
            Operator::NumGt => "NUM_GT",
            Operator::NumGte => "NUM_GTE",
            Operator::NumLt => "NUM_LT",
            Operator::NumLte => "NUM_LTE",
            Operator::DateAfter => "DATE_AFTER",
            Operator::DateBefore => "DATE_BEFORE",
            Operator::SemverEq => "SEMVER_EQ",
            Operator::SemverGt => "SEMVER_GT",
            Operator::SemverGte => "SEMVER_GTE",
            Operator::SemverLt => "SEMVER_LT",
            Operator::SemverLte => "SEMVER_LTE",
            Operator::Regex => "REGEX",
            Operator::InCidr => "IN_CIDR",
        }
    }

    /// How the operator reads in a sentence: `email` *ends with* `@example.com`.
    pub fn label(self) -> &'static str {
        match self {
            Operator::In => "is one of",
            Operator::NotIn => "is not one of",
            Operator::StrStartsWith => "starts with",
            Operator::StrEndsWith => "ends with",
            Operator::StrContains => "contains",
            Operator::NumEq => "equals (number)",
            Operator::NumGt => "is more than",
            Operator::NumGte => "is at least",
            Operator::NumLt => "is less than",
            Operator::NumLte => "is at most",
            Operator::DateAfter => "is a date after",
            Operator::DateBefore => "is a date before",
            Operator::SemverEq => "is version",
            Operator::SemverGt => "is a version after",
            Operator::SemverGte => "is version or later than",
            Operator::SemverLt => "is a version before",
            Operator::SemverLte => "is version or earlier than",
            Operator::Regex => "matches the pattern",
            Operator::InCidr => "is in the network",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// Whether the operator compares with one `value` rather than a list of `values`.
    pub fn takes_single_value(self) -> bool {
        !matches!(
            self,
            Operator::In
                | Operator::NotIn
                | Operator::StrStartsWith
                | Operator::StrEndsWith
                | Operator::StrContains
                | Operator::InCidr
        )
    }
}
