//! Feature flags: the list with one-click switches per environment, creating a flag, and the
//! editor (definition, variants, targeting per environment, "try it", history).

mod editor;
mod list;
mod prerequisites;
mod targeting;
mod try_it;

pub use editor::FlagEditorPage;
pub use list::{FlagsPage, NewFlagPage};

use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use varai_domain::flags::{FlagSpec, Segment, Targeting};

use varai_core::accounts::AuditPage;
use varai_core::error::AppError;
use varai_core::flags::{Environment, FlagRecord};

/// What the flag list shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagsListData {
    pub flags: Vec<FlagRecord>,
    pub environments: Vec<Environment>,
}

#[leptos::server(prefix = "/rpc", endpoint = "flags/overview")]
pub async fn flags_overview() -> Result<FlagsListData, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    Ok(FlagsListData {
        flags: varai_core::flags::list_flags(&services, &who).await?,
        environments: varai_core::flags::list_environments(&services, &who).await?,
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "flags/toggle")]
pub async fn toggle_flag(
    key: String,
    environment: String,
    enabled: bool,
) -> Result<FlagRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::toggle_flag(&services, &who, &key, &environment, enabled).await
}

#[leptos::server(prefix = "/rpc", endpoint = "flags/create")]
pub async fn create_flag(
    key: String,
    name: String,
    description: String,
    value_type: String,
    tags: String,
    owner: String,
) -> Result<FlagRecord, AppError> {
    use varai_domain::flags::ValueType;
    let (services, who) = crate::server::signed_in().await?;
    let value_type = ValueType::parse(&value_type).ok_or_else(|| AppError::Invalid {
        field: "value_type".into(),
        message: format!("unknown type '{value_type}'"),
    })?;
    let spec = FlagSpec {
        key: key.trim().to_owned(),
        name: name.trim().to_owned(),
        description: description.trim().to_owned(),
        tags: crate::editors::split_list(&tags),
        owner: owner.trim().to_owned(),
        value_type,
        variants: starter_variants(value_type),
        kind: Default::default(),
    };
    let flag = varai_core::flags::create_flag(&services, &who, spec, BTreeMap::new()).await?;
    leptos_axum::redirect(&flag_href(&flag.spec.key));
    Ok(flag)
}

/// The two variants a new flag starts with, for its type.
pub fn starter_variants(t: varai_domain::flags::ValueType) -> Vec<varai_domain::flags::Variant> {
    use serde_json::json;
    use varai_domain::flags::{ValueType, Variant};
    let (a, b) = match t {
        ValueType::Boolean => (("on", json!(true)), ("off", json!(false))),
        ValueType::String => (
            ("treatment", json!("treatment")),
            ("control", json!("control")),
        ),
        ValueType::Integer => (("treatment", json!(1)), ("control", json!(0))),
        ValueType::Float => (("treatment", json!(1.0)), ("control", json!(0.0))),
        ValueType::Object => (
            ("treatment", json!({"enabled": true})),
            ("control", json!({})),
        ),
    };
    [a, b]
        .into_iter()
        .map(|(name, value)| Variant {
            name: name.into(),
            value,
            payload: None,
        })
        .collect()
}

/// The address of a flag's page; keys are percent-encoded.
pub fn flag_href(key: &str) -> String {
    format!("/flags/{}", varai_domain::url::encode_path_segment(key))
}

/// Everything the editor needs in one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagEditorData {
    pub flag: FlagRecord,
    pub environments: Vec<Environment>,
    pub segments: Vec<Segment>,
    /// Every other flag, for prerequisites and for "try it".
    pub others: Vec<FlagRecord>,
    pub history: AuditPage,
}

#[leptos::server(prefix = "/rpc", endpoint = "flags/editor")]
pub async fn flag_editor(key: String) -> Result<FlagEditorData, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    let flag = varai_core::flags::get_flag(&services, &who, &key).await?;
    let others = varai_core::flags::list_flags(&services, &who)
        .await?
        .into_iter()
        .filter(|f| f.spec.key != key)
        .collect();
    Ok(FlagEditorData {
        history: varai_core::flags::flag_history(&services, &who, &key, None).await?,
        environments: varai_core::flags::list_environments(&services, &who).await?,
        segments: varai_core::flags::list_segments(&services, &who)
            .await?
            .into_iter()
            .map(|s| s.segment)
            .collect(),
        others,
        flag,
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "flags/save", input = Json)]
pub async fn save_flag(
    key: String,
    spec: FlagSpec,
    environments: BTreeMap<String, Targeting>,
    version: i64,
) -> Result<FlagRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::save_flag(&services, &who, &key, spec, environments, version).await
}

#[leptos::server(prefix = "/rpc", endpoint = "flags/archive")]
pub async fn archive_flag(key: String, archived: bool) -> Result<FlagRecord, AppError> {
    let (services, who) = crate::server::signed_in().await?;
    varai_core::flags::set_flag_archived(&services, &who, &key, archived).await
}
