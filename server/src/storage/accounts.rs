//! Users and API tokens in the database, each change written with its audit event.

use async_trait::async_trait;
use serde::Serialize;
use sqlx::FromRow;
use varai_core::accounts::{AccountStore, NewUser, Principal, User, UserChange, UserRecord};
use varai_core::error::Result as AppResult;
use varai_domain::{AuditAction, Role};

use super::audit::{NewEvent, commit_with_event, state_json};
use super::{SqlxStore, backend_error, unique_or_backend};
use crate::error::{Error, Result};

/// The user columns, as a literal so queries stay static strings.
macro_rules! user_columns {
    () => {
        "id, username, password_hash, role, created_at, disabled_at, last_login_at, \
         failed_logins, last_failed_login_at"
    };
}

#[derive(FromRow)]
struct UserRow {
    id: i64,
    username: String,
    password_hash: String,
    role: String,
    created_at: i64,
    disabled_at: Option<i64>,
    last_login_at: Option<i64>,
    failed_logins: i64,
    last_failed_login_at: Option<i64>,
}

/// A role read back from the database; the schema's CHECK keeps it valid.
pub(crate) fn stored_role(role: &str) -> Result<Role> {
    role.parse().map_err(|e| Error::Storage {
        op: "read a role",
        source: Box::new(e),
    })
}

impl TryFrom<UserRow> for UserRecord {
    type Error = Error;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(UserRecord {
            user: User {
                id: r.id,
                username: r.username,
                role: stored_role(&r.role)?,
                disabled: r.disabled_at.is_some(),
                created_at: r.created_at,
                last_login_at: r.last_login_at,
            },
            password_hash: r.password_hash,
            failed_logins: u32::try_from(r.failed_logins).unwrap_or(u32::MAX),
            last_failed_login_at: r.last_failed_login_at,
        })
    }
}

/// What the audit log keeps of a user: never the password hash.
#[derive(Serialize)]
struct UserState<'a> {
    username: &'a str,
    role: Role,
    disabled: bool,
}

fn user_state(u: &User) -> Option<String> {
    state_json(&UserState {
        username: &u.username,
        role: u.role,
        disabled: u.disabled,
    })
}

impl SqlxStore {
    pub(super) async fn user_where(&self, key: UserKey<'_>) -> Result<Option<UserRecord>> {
        let q = match key {
            UserKey::Id(id) => sqlx::query_as::<_, UserRow>(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE id = $1"
            ))
            .bind(id),
            UserKey::Name(name) => sqlx::query_as::<_, UserRow>(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE username = $1"
            ))
            .bind(name.to_owned()),
        };
        q.fetch_optional(self.pool())
            .await
            .map_err(backend_error("read a user"))?
            .map(UserRecord::try_from)
            .transpose()
    }
}

pub(super) enum UserKey<'a> {
    Id(i64),
    Name(&'a str),
}

#[async_trait]
impl AccountStore for SqlxStore {
    async fn ping(&self) -> AppResult<()> {
        sqlx::query("SELECT 1")
            .execute(self.pool())
            .await
            .map_err(backend_error("ping the database"))?;
        Ok(())
    }

    async fn count_users(&self) -> AppResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await
            .map_err(backend_error("count users"))?)
    }

    async fn find_user_by_name(&self, username: &str) -> AppResult<Option<UserRecord>> {
        Ok(self.user_where(UserKey::Name(username)).await?)
    }

    async fn get_user(&self, id: i64) -> AppResult<Option<UserRecord>> {
        Ok(self.user_where(UserKey::Id(id)).await?)
    }

    async fn list_users(&self) -> AppResult<Vec<User>> {
        let rows = sqlx::query_as::<_, UserRow>(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users ORDER BY username"
        ))
        .fetch_all(self.pool())
        .await
        .map_err(backend_error("list users"))?;
        Ok(rows
            .into_iter()
            .map(|r| UserRecord::try_from(r).map(|u| u.user))
            .collect::<Result<_>>()?)
    }

    async fn create_user(&self, who: &Principal, new: NewUser, now: i64) -> AppResult<User> {
        let actor = &who.actor;
        let mut tx = self.begin().await?;
        let taken = format!("'{}' is already taken", new.username);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(new.username.as_str())
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_or_backend("create a user", "username", taken))?;
        let user = User {
            id,
            username: new.username.to_string(),
            role: new.role,
            disabled: false,
            created_at: now,
            last_login_at: None,
        };
        let target = format!("user:{}", user.username);
        let after = user_state(&user);
        commit_with_event(
            tx,
            NewEvent {
                actor,
                action: AuditAction::UserCreate,
                target,
                before: None,
                after,
                at: now,
            },
        )
        .await?;
        Ok(user)
    }

    async fn change_user(
        &self,
        who: &Principal,
        id: i64,
        change: UserChange,
        now: i64,
    ) -> AppResult<User> {
        let actor = &who.actor;
        let mut tx = self.begin().await?;
        let before: UserRecord = sqlx::query_as::<_, UserRow>(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend_error("read a user"))?
        .ok_or(Error::NotFound("user"))?
        .try_into()?;
        let mut after = before.user.clone();
        let (action, query) = match &change {
            UserChange::Role(role) => {
                after.role = *role;
                let q = sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
                    .bind(id)
                    .bind(role.as_str());
                (AuditAction::UserChangeRole, q)
            }
            UserChange::Disabled(true) => {
                after.disabled = true;
                let q = sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(now);
                (AuditAction::UserDisable, q)
            }
            UserChange::Disabled(false) => {
                after.disabled = false;
                let q = sqlx::query(
                    "UPDATE users SET disabled_at = NULL, failed_logins = 0 WHERE id = $1",
                )
                .bind(id);
                (AuditAction::UserEnable, q)
            }
            UserChange::PasswordHash(hash) => {
                let q = sqlx::query(
                    "UPDATE users SET password_hash = $2, failed_logins = 0 WHERE id = $1",
                )
                .bind(id)
                .bind(hash.clone());
                (AuditAction::UserChangePassword, q)
            }
        };
        // A change that may take away an admin is checked again inside the write, with the
        // enabled admins locked (PostgreSQL; SQLite's write lock is whole), so two admins
        // demoting each other at once cannot both pass and leave nobody to manage the product.
        let demotes = match &change {
            UserChange::Role(role) if *role != Role::Admin => Some("role"),
            UserChange::Disabled(true) => Some("disabled"),
            _ => None,
        };
        let lock = self.backend().row_lock();
        if demotes.is_some() && !lock.is_empty() {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL{lock}"
            )))
            .fetch_all(&mut *tx)
            .await
            .map_err(backend_error("lock the admins"))?;
        }
        query
            .execute(&mut *tx)
            .await
            .map_err(backend_error("change a user"))?;
        if let Some(field) = demotes {
            let admins: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL",
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(backend_error("count the admins"))?;
            if admins == 0 {
                tx.rollback()
                    .await
                    .map_err(backend_error("change a user"))?;
                return Err(Error::Conflict {
                    field,
                    message: "this is the last enabled admin; make another admin first".into(),
                }
                .into());
            }
        }
        if matches!(
            change,
            UserChange::PasswordHash(_) | UserChange::Disabled(true)
        ) {
            // A new password or a disabled account ends every session the user had.
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend_error("end a user's sessions"))?;
        }
        let target = format!("user:{}", after.username);
        let event = NewEvent {
            actor,
            action,
            target,
            before: user_state(&before.user),
            after: user_state(&after),
            at: now,
        };
        commit_with_event(tx, event).await?;
        Ok(after)
    }

    async fn reserve_sign_in(
        &self,
        user_id: i64,
        address: &str,
        now: i64,
    ) -> AppResult<Option<i64>> {
        Ok(self.reserve_attempt(user_id, address, now).await?)
    }

    async fn record_login(&self, user_id: i64, address: &str, now: i64) -> AppResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE user_id = $1 AND address = $2")
            .bind(user_id)
            .bind(address)
            .execute(self.pool())
            .await
            .map_err(backend_error("clear failed sign-ins"))?;
        Ok(self.record_attempt(user_id, now, true).await?)
    }

    async fn record_login_failure(&self, user_id: i64, now: i64) -> AppResult<()> {
        Ok(self.record_attempt(user_id, now, false).await?)
    }

    async fn record_logout(&self, who: &Principal, now: i64) -> AppResult<()> {
        let actor = &who.actor;
        let tx = self.begin().await?;
        let target = format!("user:{}", actor.name);
        Ok(commit_with_event(
            tx,
            NewEvent {
                actor,
                action: AuditAction::SessionLogout,
                target,
                before: None,
                after: None,
                at: now,
            },
        )
        .await?)
    }
}
