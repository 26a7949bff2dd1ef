//! The storage port for accounts, tokens and the audit log. The server implements it over
//! sqlx for SQLite and PostgreSQL; every change it makes is written together with its audit
//! event in one transaction.

use async_trait::async_trait;
use varai_domain::{Role, Username};

use super::{Actor, ApiToken, AuditPage, User};
use crate::error::AppError;

pub type StoreResult<T> = std::result::Result<T, StoreError>;

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule refused the write; `field` names the input it concerns.
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    #[error("storage failed while trying to {op}")]
    Backend {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(what.to_owned()),
            StoreError::Conflict { field, message } => AppError::Conflict {
                field: field.to_owned(),
                message,
            },
            StoreError::Backend { .. } => {
                tracing::error!(error = ?error_chain(&e), "storage error");
                AppError::Internal
            }
        }
    }
}

/// The error and every source beneath it, one line, for the log.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

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

#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Answers when the database does: the readiness check.
    async fn ping(&self) -> StoreResult<()>;
    async fn count_users(&self) -> StoreResult<i64>;
    async fn find_user_by_name(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    async fn get_user(&self, id: i64) -> StoreResult<Option<UserRecord>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn create_user(&self, actor: &Actor, new: NewUser, now: i64) -> StoreResult<User>;
    async fn change_user(
        &self,
        actor: &Actor,
        id: i64,
        change: UserChange,
        now: i64,
    ) -> StoreResult<User>;
    /// A successful sign-in: clears the failure count and records it.
    async fn record_login(&self, user_id: i64, now: i64) -> StoreResult<()>;
    /// A wrong password for a known user: counts it and records it.
    async fn record_login_failure(&self, user_id: i64, now: i64) -> StoreResult<()>;
    async fn record_logout(&self, actor: &Actor, now: i64) -> StoreResult<()>;
    async fn create_token(&self, actor: &Actor, new: NewToken, now: i64) -> StoreResult<ApiToken>;
    async fn list_tokens(&self) -> StoreResult<Vec<ApiToken>>;
    async fn revoke_token(&self, actor: &Actor, id: i64, now: i64) -> StoreResult<ApiToken>;
    /// The active (not revoked) token with this secret hash, marking it used at `now`.
    async fn use_token(&self, secret_hash: &str, now: i64) -> StoreResult<Option<ApiToken>>;
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<AuditPage>;
    /// Every name that appears as an actor in the audit log, for the filter.
    async fn list_audit_actors(&self) -> StoreResult<Vec<String>>;
}
