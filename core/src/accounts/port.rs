//! The storage port for accounts, tokens and the audit log. The server implements it over
//! sqlx for SQLite and PostgreSQL; every change it makes is written together with its audit
//! event in one transaction.

use async_trait::async_trait;
use varai_domain::{Role, Username};

use super::{ApiToken, AuditPage, Principal, User};
use crate::error::Result;

/// A user with the secrets and counters only the server sees.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
    pub failed_logins: u32,
    pub last_failed_login_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub password_hash: String,
    pub role: Role,
}

/// One change to an existing user.
#[derive(Debug, Clone)]
pub enum UserChange {
    Role(Role),
    Disabled(bool),
    PasswordHash(String),
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub prefix: String,
    /// SHA-256 of the secret, hex; the secret itself is never stored.
    pub secret_hash: String,
}

/// Which audit events to read: newest first, older than `before` (an event id).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Only events about this target, e.g. `flag:checkout`.
    pub target: Option<String>,
    pub before: Option<i64>,
    pub limit: u32,
}

/// Users and sign-in, with the token and audit ports the same store also serves.
#[async_trait]
pub trait AccountStore: TokenStore + AuditLog {
    /// Answers when the database does: the readiness check.
    async fn ping(&self) -> Result<()>;
    async fn count_users(&self) -> Result<i64>;
    async fn find_user_by_name(&self, username: &str) -> Result<Option<UserRecord>>;
    async fn get_user(&self, id: i64) -> Result<Option<UserRecord>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn create_user(&self, who: &Principal, new: NewUser, now: i64) -> Result<User>;
    async fn change_user(&self, who: &Principal, id: i64, to: UserChange, now: i64)
    -> Result<User>;
    /// Before a password is checked: the milliseconds `address` must still wait before it may
    /// try this account again, or `None` after counting this attempt as a failure in advance
    /// (atomically, so parallel guesses cannot all pass a count read before any was written).
    async fn reserve_sign_in(&self, user_id: i64, address: &str, now: i64) -> Result<Option<i64>>;
    /// A successful sign-in from `address`: clears its failure count and records it.
    async fn record_login(&self, user_id: i64, address: &str, now: i64) -> Result<()>;
    /// A wrong password for a known user: records it (the attempt was counted when reserved).
    async fn record_login_failure(&self, user_id: i64, now: i64) -> Result<()>;
    async fn record_logout(&self, who: &Principal, now: i64) -> Result<()>;
}

/// API tokens: only their hashes are kept.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    async fn create_token(&self, who: &Principal, new: NewToken, now: i64) -> Result<ApiToken>;
    async fn list_tokens(&self) -> Result<Vec<ApiToken>>;
    async fn revoke_token(&self, who: &Principal, id: i64, now: i64) -> Result<ApiToken>;
    /// The active (not revoked) token with this secret hash, marking it used at `now`.
    async fn use_token(&self, secret_hash: &str, now: i64) -> Result<Option<ApiToken>>;
}

/// Reading the audit log; every change writes its own event with it.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    async fn list_audit(&self, filter: &AuditFilter) -> Result<AuditPage>;
    /// Every name that appears as an actor in the audit log, for the filter.
    async fn list_audit_actors(&self) -> Result<Vec<String>>;
}
