//! Users, API tokens and the audit log as the UI and the REST API exchange them. Database rows
//! are separate (`XRow` in the server); these are what a client sees.

use serde::{Deserialize, Serialize};
use varai_domain::Role;

/// A user account as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub username: String,
    #[cfg_attr(feature = "server", schema(value_type = String, example = "developer"))]
    pub role: Role,
    pub disabled: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// The signed-in person (or token) making a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Me {
    /// Set for a person; `None` for an API token.
    pub user_id: Option<i64>,
    /// The username, or `token:NAME` for an API token.
    pub name: String,
    #[cfg_attr(feature = "server", schema(value_type = String, example = "operator"))]
    pub role: Role,
}

/// An API token's description; the secret itself is never stored or shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    #[cfg_attr(feature = "server", schema(value_type = String, example = "operator"))]
    pub role: Role,
    /// The first characters of the secret, to tell tokens apart.
    pub prefix: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A token just created: the only time its secret is available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreatedToken {
    pub token: ApiToken,
    /// Send as `Authorization: Bearer <secret>`. Shown once.
    pub secret: String,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    /// Who acted: a username, `token:NAME`, `system` or `cli`.
    pub actor: String,
    /// What was done, e.g. `user.create` or `token.revoke`.
    pub action: String,
    /// What it was done to, e.g. `user:alice`.
    pub target: String,
    /// The state before, as JSON text, when there was one.
    pub before: Option<String>,
    /// The state after, as JSON text, when there is one.
    pub after: Option<String>,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `before` to read the next, older page; absent on the last page.
    pub next_before: Option<i64>,
}

/// A role as the API names it, for the OpenAPI document: one of [`Role::ALL`].
#[cfg(feature = "server")]
pub struct RoleName;

/// A role that may change something: developer or above (a policy naming viewer is refused).
#[cfg(feature = "server")]
pub struct ChangerRoleName;

#[cfg(feature = "server")]
fn role_schema(lowest: Role) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    let names = Role::ALL
        .iter()
        .filter(|r| r.allows(lowest))
        .map(|r| r.as_str());
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(names))
        .into()
}

#[cfg(feature = "server")]
impl utoipa::PartialSchema for RoleName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        role_schema(Role::Viewer)
    }
}

#[cfg(feature = "server")]
impl utoipa::ToSchema for RoleName {}

#[cfg(feature = "server")]
impl utoipa::PartialSchema for ChangerRoleName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        role_schema(Role::Developer)
    }
}

#[cfg(feature = "server")]
impl utoipa::ToSchema for ChangerRoleName {}
