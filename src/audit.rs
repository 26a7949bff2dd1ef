//! What the audit log records: a fixed vocabulary of actions, so the log can be filtered and
//! read by machines as well as people.

use serde::{Deserialize, Serialize};

/// One kind of change that is written to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    #[serde(rename = "user.create")]
    UserCreate,
    #[serde(rename = "user.change_role")]
    UserChangeRole,
    #[serde(rename = "user.disable")]
    UserDisable,
    #[serde(rename = "user.enable")]
    UserEnable,
    #[serde(rename = "user.change_password")]
    UserChangePassword,
    #[serde(rename = "token.create")]
    TokenCreate,
    #[serde(rename = "token.revoke")]
    TokenRevoke,
    #[serde(rename = "session.login")]
    SessionLogin,
    #[serde(rename = "session.login_failed")]
    SessionLoginFailed,
    #[serde(rename = "session.logout")]
    SessionLogout,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::UserCreate => "user.create",
            AuditAction::UserChangeRole => "user.change_role",
            AuditAction::UserDisable => "user.disable",
            AuditAction::UserEnable => "user.enable",
            AuditAction::UserChangePassword => "user.change_password",
            AuditAction::TokenCreate => "token.create",
            AuditAction::TokenRevoke => "token.revoke",
            AuditAction::SessionLogin => "session.login",
            AuditAction::SessionLoginFailed => "session.login_failed",
            AuditAction::SessionLogout => "session.logout",
        }
    }
}
