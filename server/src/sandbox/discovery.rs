//! API discovery, as clients such as kubectl read it before anything else: `/version`, the
//! core and named API groups, and each group version's resources with their verbs.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::api::Failure;
use super::kind::Kind;

/// The discovery routes (stateless).
pub fn router() -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/api", get(core_versions))
        .route("/api/v1", get(core_resources))
        .route("/apis", get(groups))
        .route("/apis/{group}/{version}", get(group_resources))
}

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "get",
    "list",
    "patch",
    "update",
    "watch",
    "deletecollection",
];

fn resources(group_version: &str) -> Vec<Value> {
    Kind::ALL
        .into_iter()
        .filter(|k| k.api_version() == group_version)
        .flat_map(|k| {
            let categories: &[&str] = if matches!(k, Kind::ConfigMap | Kind::Endpoints) {
                &[]
            } else {
                &["all"]
            };
            let main = json!({"name": k.plural(), "singularName": k.name().to_lowercase(), "namespaced": true,
                "kind": k.name(), "verbs": VERBS, "shortNames": k.short_names(), "categories": categories});
            let status = json!({"name": format!("{}/status", k.plural()), "singularName": "", "namespaced": true,
                "kind": k.name(), "verbs": ["get", "patch", "update"]});
            [main, status]
        })
        .collect()
}

async fn version() -> Json<Value> {
    Json(
        json!({"major": "1", "minor": "35", "gitVersion": "v1.35.0-varai-sandbox", "platform": "linux/amd64"}),
    )
}

async fn core_versions() -> Json<Value> {
    Json(json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}))
}

async fn core_resources() -> Json<Value> {
    Json(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": resources("v1")}),
    )
}

async fn groups() -> Json<Value> {
    let group = |name: &str| {
        let gv = format!("{name}/v1");
        json!({"name": name, "versions": [{"groupVersion": gv, "version": "v1"}],
               "preferredVersion": {"groupVersion": gv, "version": "v1"}})
    };
    Json(
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [group("apps"), group("batch")]}),
    )
}

async fn group_resources(Path((group, version)): Path<(String, String)>) -> Response {
    let gv = format!("{group}/{version}");
    let list = resources(&gv);
    if list.is_empty() {
        return Failure::not_found(format!(
            "the server could not find the requested resource ({gv})"
        ))
        .into_response();
    }
    Json(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": list})).into_response()
}
