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

#[derive(Deserialize)]
pub(super) struct Document {
    pub(super) version: Option<u32>,
    pub(super) features: Vec<Feature>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) segments: Vec<UnleashSegment>,
}

#[derive(Deserialize)]
pub(super) struct UnleashSegment {
    pub(super) id: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) constraints: Vec<UnleashConstraint>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Feature {
    pub(super) name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) description: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) enabled: bool,
    #[serde(default, rename = "type", deserialize_with = "nullable")]
    pub(super) kind: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) project: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) strategies: Vec<UnleashStrategy>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) variants: Vec<UnleashVariant>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) dependencies: Vec<Dependency>,
}

#[derive(Deserialize)]
pub(super) struct UnleashStrategy {
    pub(super) name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) parameters: Map<String, Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) constraints: Vec<UnleashConstraint>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) segments: Vec<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) variants: Vec<UnleashVariant>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UnleashConstraint {
    pub(super) context_name: String,
    pub(super) operator: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) values: Vec<Value>,
    #[serde(default)]
    pub(super) value: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) inverted: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) case_insensitive: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UnleashVariant {
    pub(super) name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) weight: i64,
    #[serde(default)]
    pub(super) stickiness: Option<String>,
    #[serde(default)]
    pub(super) payload: Option<Payload>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) overrides: Vec<UnleashOverride>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UnleashOverride {
    pub(super) context_name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) values: Vec<Value>,
}

#[derive(Deserialize)]
pub(super) struct Dependency {
    pub(super) feature: String,
    #[serde(default)]
    pub(super) enabled: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
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
