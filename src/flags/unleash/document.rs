//! The shape of Unleash's client API document (`/api/client/features`), read leniently: any
//! list or flag may be missing or `null`, and values may be strings, numbers or booleans.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::flags::model::Payload;

pub(super) fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
/// An Unleash client API document as the import reads it.
#[cfg_attr(feature = "openapi", schema(as = UnleashDocument))]
#[derive(Deserialize)]
pub struct Document {
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, value_type = u32, minimum = 1, maximum = 2)
    )]
    pub(super) version: Option<u32>,
    pub(super) features: Vec<Feature>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) segments: Vec<UnleashSegment>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Deserialize)]
pub(super) struct UnleashSegment {
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 2_147_483_647))]
    pub(super) id: i64,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) name: String,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) constraints: Vec<UnleashConstraint>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = UnleashFeature))]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Feature {
    pub(super) name: String,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) description: String,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) enabled: bool,
    #[serde(default, rename = "type", deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) kind: String,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) project: String,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) strategies: Vec<UnleashStrategy>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) variants: Vec<UnleashVariant>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) dependencies: Vec<Dependency>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Deserialize)]
pub(super) struct UnleashStrategy {
    pub(super) name: String,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) parameters: Map<String, Value>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) constraints: Vec<UnleashConstraint>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::schema::unleash_segment_ids))]
    pub(super) segments: Vec<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) variants: Vec<UnleashVariant>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UnleashConstraint {
    pub(super) context_name: String,
    pub(super) operator: String,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) values: Vec<Value>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) value: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) inverted: bool,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) case_insensitive: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UnleashVariant {
    pub(super) name: String,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable, minimum = 0, maximum = 1000))]
    pub(super) weight: i64,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) stickiness: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) payload: Option<Payload>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) overrides: Vec<UnleashOverride>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UnleashOverride {
    pub(super) context_name: String,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) values: Vec<Value>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = UnleashDependency))]
#[derive(Deserialize)]
pub(super) struct Dependency {
    pub(super) feature: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub(super) variants: Vec<String>,
}

pub(super) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
