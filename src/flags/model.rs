//! What people author: flags, their per-environment targeting, and segments. These are the
//! shapes stored, sent over the REST API and edited in the browser; [`super::evaluate`]
//! compiles them for evaluation.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::constraint::Constraint;

/// The type of value a flag serves.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    Boolean,
    String,
    Integer,
    Float,
    Object,
}

impl ValueType {
    pub const ALL: [ValueType; 5] = [
        ValueType::Boolean,
        ValueType::String,
        ValueType::Integer,
        ValueType::Float,
        ValueType::Object,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Boolean => "boolean",
            ValueType::String => "string",
            ValueType::Integer => "integer",
            ValueType::Float => "float",
            ValueType::Object => "object",
        }
    }

    pub fn parse(s: &str) -> Option<ValueType> {
        ValueType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether `value` is of this type.
    pub fn admits(self, value: &Value) -> bool {
        match self {
            ValueType::Boolean => value.is_boolean(),
            ValueType::String => value.is_string(),
            ValueType::Integer => value.is_i64() || value.is_u64(),
            ValueType::Float => value.is_number(),
            ValueType::Object => value.is_object(),
        }
    }
}

/// How a flag's value is decided.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FlagKind {
    /// The served variant's value is the flag's value.
    #[default]
    Standard,
    /// Imported from Unleash: the value is whether the toggle is enabled for the context and
    /// the variant is Unleash's variant (`disabled` when none), its payload in metadata.
    UnleashToggle,
}

/// A variant's payload, as Unleash carries it (`{"type": "json", "value": "..."}`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// One named value a flag can serve.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::schema::ImportedName))]
    pub name: String,
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
}

/// A flag's identity and variants: everything that is the same in every environment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagSpec {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::schema::ImportedName))]
    pub key: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 120, pattern = "[^\\s\\x85]")
    )]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::tags))]
    pub tags: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 120))]
    pub owner: String,
    pub value_type: ValueType,
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub variants: Vec<Variant>,
    #[serde(default)]
    pub kind: FlagKind,
}

/// A flag's configuration in one environment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Targeting {
    pub enabled: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub rules: Vec<Rule>,
    /// Served when the flag is on and no rule matches.
    pub default_variant: String,
    /// Served when the flag is off (or a prerequisite does not hold).
    pub off_variant: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub prerequisites: Vec<Prerequisite>,
}

/// The default stickiness: `userId`, then `sessionId`, then random.
pub const DEFAULT_STICKINESS: &str = "default";

fn default_stickiness() -> String {
    DEFAULT_STICKINESS.to_owned()
}

fn full_rollout() -> u32 {
    100
}

/// One targeting rule: who it applies to and what they get.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 120))]
    pub description: String,
    /// Segment keys; every one must match.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Every one must match.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// The share of matching users (0–100) the rule applies to.
    #[serde(default = "full_rollout")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub rollout: u32,
    /// The context field users are bucketed by.
    #[serde(default = "default_stickiness")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 120, pattern = "[^\\s\\x85]")
    )]
    pub stickiness: String,
    /// Bucketing group; the flag key when absent, so flags bucket independently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub serve: Serve,
}

/// What a matching rule serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Serve {
    /// Always this variant.
    Variant(String),
    /// One of several variants, by weight.
    Split(Split),
}

/// A weighted choice between variants.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Split {
    pub variants: Vec<WeightedVariant>,
    #[serde(default = "default_stickiness")]
    pub stickiness: String,
    /// Bucketing group; the rule's group (or the flag key) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Checked before the weights: a context value in `values` gets that variant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedVariant {
    pub variant: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 2_147_483_647_i64))]
    pub weight: u32,
    /// The payload served with the variant by this split, in place of the variant's own: an
    /// Unleash strategy may give a variant name the feature also uses a payload of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Override {
    pub variant: String,
    pub context_name: String,
    pub values: Vec<String>,
}

fn enabled_by_default() -> bool {
    true
}

/// Another flag that must evaluate a certain way first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prerequisite {
    pub flag: String,
    /// When true (the default) the flag must be on — and serve one of `variants`, if any are
    /// listed; when false it must be off.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
}

/// A reusable audience.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,100}$"))]
    pub key: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 120, pattern = "[^\\s\\x85]")
    )]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: String,
    /// Every one must match.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// User ids that always match.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::user_ids))]
    pub included: Vec<String>,
    /// User ids that never match, even when included or matching.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::user_ids))]
    pub excluded: Vec<String>,
}

impl FlagSpec {
    /// The variant called `name`.
    pub fn variant(&self, name: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.name == name)
    }
}

impl Targeting {
    /// The configuration of a flag in an environment nobody has configured: off, no rules,
    /// serving its first variant either way (its second when off, for a boolean on/off pair).
    pub fn initial(spec: &FlagSpec) -> Targeting {
        if spec.kind == FlagKind::UnleashToggle
            && spec.variant(super::unleash::DISABLED_VARIANT).is_some()
        {
            let disabled = super::unleash::DISABLED_VARIANT.to_owned();
            return Targeting {
                enabled: false,
                rules: Vec::new(),
                default_variant: disabled.clone(),
                off_variant: disabled,
                prerequisites: Vec::new(),
            };
        }
        let first = spec
            .variants
            .first()
            .map(|v| v.name.clone())
            .unwrap_or_default();
        let off = spec
            .variants
            .iter()
            .find(|v| v.value == Value::Bool(false))
            .map(|v| v.name.clone())
            .unwrap_or_else(|| first.clone());
        let on = spec
            .variants
            .iter()
            .find(|v| v.value == Value::Bool(true))
            .map(|v| v.name.clone())
            .unwrap_or(first);
        Targeting {
            enabled: false,
            rules: Vec::new(),
            default_variant: on,
            off_variant: off,
            prerequisites: Vec::new(),
        }
    }
}
